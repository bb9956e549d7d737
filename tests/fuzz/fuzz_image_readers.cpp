// libFuzzer target: the PNG and PNM readers of the tools (kernels/imaging).
// Every input is either refused with a message or decodes into a valid image
// that survives an encode/decode round trip unchanged. A small file must not
// make the readers allocate much (-rss_limit_mb / -malloc_limit_mb).
#include <cstddef>
#include <cstdint>

#include "imaging/image_io.hpp"

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

void check(espcn::Result<espcn::Image> r, bool png) {
    if (!r.is_ok()) {
        require(!r.status().message().empty());
        require(r.status().code() != ESPCN_ERROR_INTERNAL);
        return;
    }
    const espcn::Image &im = r.value();
    require(espcn::validate_image(im).is_ok());
    // What we decoded, we can write and read back exactly (PNG rescales
    // 9..15-bit images to 16; the readers only produce 8 or 16 from PNG).
    espcn::Result<std::vector<uint8_t>> again = png ? espcn::encode_png(im) : espcn::encode_pnm(im);
    require(again.is_ok());
    espcn::Result<espcn::Image> back = png ? espcn::decode_png(again.value().data(), again.value().size())
                                           : espcn::decode_pnm(again.value().data(), again.value().size());
    require(back.is_ok());
    require(back.value().width == im.width && back.value().height == im.height &&
            back.value().channels == im.channels && back.value().bit_depth == im.bit_depth &&
            back.value().samples == im.samples);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // Large pictures are the readers' job too, but a round trip of 2^28
    // pixels per input would only slow the search down.
    if (size > (size_t{1} << 20)) return 0;
    check(espcn::decode_png(size ? data : nullptr, size), true);
    check(espcn::decode_pnm(size ? data : nullptr, size), false);
    return 0;
}
