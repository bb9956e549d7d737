#include "raw_plane.hpp"

#include "imaging/image_io.hpp"

namespace espcn {

Result<Image> read_raw_plane(const std::string &path, const RawPlaneFormat &format) {
    const size_t bytes_per_sample = format.bits > 8 ? 2 : 1;
    const size_t count = static_cast<size_t>(format.width) * format.height;
    const std::string expected = concat(" (a ", format.width, "x", format.height, " plane of ",
                                        format.bits, "-bit samples is ",
                                        count * bytes_per_sample, " bytes)");
    Result<std::vector<uint8_t>> bytes = read_file(path, count * bytes_per_sample);
    if (!bytes.is_ok()) return Status(bytes.status().code(), bytes.status().message() + expected);
    const std::vector<uint8_t> &b = bytes.value();
    ESPCN_RETURN_IF(b.size() != count * bytes_per_sample, ESPCN_ERROR_IO, path, ": ", b.size(),
                    " bytes", expected);
    Image gray{format.width, format.height, 1, format.bits, std::vector<uint16_t>(count)};
    const uint32_t max_value = gray.max_value();
    for (size_t k = 0; k < count; ++k) {
        // Little-endian whatever the host, so files move between machines.
        const uint32_t v = bytes_per_sample == 2 ? (b[2 * k] | uint32_t{b[2 * k + 1]} << 8) : b[k];
        ESPCN_RETURN_IF(v > max_value, ESPCN_ERROR_IO, path, ": sample ", k, " is ", v,
                        ", above the ", format.bits, "-bit maximum ", max_value);
        gray.samples[k] = static_cast<uint16_t>(v);
    }
    return gray;
}

Result<std::vector<uint8_t>> encode_raw_plane(const Image &gray) {
    ESPCN_RETURN_IF(gray.channels != 1, ESPCN_ERROR_INVALID_ARGUMENT,
                    "a raw plane has one channel, not ", gray.channels);
    const bool wide = gray.bit_depth > 8;
    std::vector<uint8_t> bytes;
    bytes.reserve(gray.samples.size() * (wide ? 2 : 1));
    for (const uint16_t v : gray.samples) {
        bytes.push_back(static_cast<uint8_t>(v & 0xff));
        if (wide) bytes.push_back(static_cast<uint8_t>(v >> 8));
    }
    return bytes;
}

Status write_raw_plane(const std::string &path, const Image &gray) {
    Result<std::vector<uint8_t>> bytes = encode_raw_plane(gray);
    ESPCN_RETURN_IF_ERROR(bytes.status());
    return write_file(path, bytes.value());
}

}  // namespace espcn
