// Files, format dispatch and binary PNM. PNG lives in png_codec.cpp.
#include "image_io.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace espcn {

namespace {

// --- PNM header parsing ----------------------------------------------------

class PnmHeaderParser {
public:
    PnmHeaderParser(const uint8_t *data, size_t size) : data_(data), size_(size) {}

    // Skips whitespace and '#' comments (to end of line), then reads a
    // decimal number of at most `limit`.
    Status number(const char *what, uint32_t limit, uint32_t &out) {
        skip_space_and_comments();
        ESPCN_RETURN_IF(pos_ >= size_ || !std::isdigit(data_[pos_]), ESPCN_ERROR_IO,
                        "PNM: expected the ", what, pos_ >= size_ ? " (header is truncated)" : "");
        uint64_t v = 0;
        while (pos_ < size_ && std::isdigit(data_[pos_])) {
            v = v * 10 + (data_[pos_++] - '0');
            ESPCN_RETURN_IF(v > limit, ESPCN_ERROR_IO, "PNM: ", what, " is larger than ", limit);
        }
        out = static_cast<uint32_t>(v);
        return Status::ok();
    }

    // After maxval comes exactly one whitespace byte, then the raster.
    Status end_of_header() {
        ESPCN_RETURN_IF(pos_ >= size_ || !std::isspace(data_[pos_]), ESPCN_ERROR_IO,
                        "PNM: no whitespace after maxval");
        ++pos_;
        return Status::ok();
    }

    size_t position() const { return pos_; }

private:
    void skip_space_and_comments() {
        while (pos_ < size_) {
            if (std::isspace(data_[pos_])) {
                ++pos_;
            } else if (data_[pos_] == '#') {
                while (pos_ < size_ && data_[pos_] != '\n' && data_[pos_] != '\r') ++pos_;
            } else {
                break;
            }
        }
    }

    const uint8_t *data_;
    size_t size_;
    size_t pos_ = 2;  // after the magic number
};

// Smallest bit depth (at least 8) whose range holds maxval.
int depth_for_maxval(uint32_t maxval) {
    int bits = 8;
    while ((1u << bits) - 1u < maxval) ++bits;
    return bits;
}

std::string lowercase_extension(const std::string &path) {
    const size_t dot = path.find_last_of('.');
    const size_t slash = path.find_last_of('/');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    std::string ext = path.substr(dot);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return ext;
}

}  // namespace

Status validate_image(const Image &image) {
    ESPCN_RETURN_IF(image.channels != 1 && image.channels != 3, ESPCN_ERROR_INVALID_ARGUMENT,
                    "image has ", image.channels, " channels (1 or 3 supported)");
    ESPCN_RETURN_IF(image.bit_depth < 8 || image.bit_depth > 16, ESPCN_ERROR_INVALID_ARGUMENT,
                    "image bit depth ", image.bit_depth, " is outside [8, 16]");
    ESPCN_RETURN_IF(image.width < 1 || image.height < 1 || image.width > kMaxImageSide ||
                        image.height > kMaxImageSide,
                    ESPCN_ERROR_INVALID_ARGUMENT, "image is ", image.width, "x", image.height,
                    "; each side must be in [1, ", kMaxImageSide, "]");
    ESPCN_RETURN_IF(image.samples.size() !=
                        static_cast<size_t>(image.width) * image.height * image.channels,
                    ESPCN_ERROR_INVALID_ARGUMENT, "image has ", image.samples.size(),
                    " samples, expected ", image.width, "x", image.height, "x", image.channels);
    const uint32_t max_value = image.max_value();
    const bool in_range = std::all_of(image.samples.begin(), image.samples.end(),
                                      [&](uint16_t v) { return v <= max_value; });
    ESPCN_RETURN_IF(!in_range, ESPCN_ERROR_INVALID_ARGUMENT, "image has samples above ",
                    max_value, " (its ", image.bit_depth, "-bit maximum)");
    return Status::ok();
}

Result<Image> decode_pnm(const uint8_t *data, size_t size) {
    ESPCN_RETURN_IF(!data || size < 2 || data[0] != 'P', ESPCN_ERROR_IO,
                    "not a PNM file (bad magic number)");
    const char kind = static_cast<char>(data[1]);
    ESPCN_RETURN_IF(kind == '1' || kind == '2' || kind == '3' || kind == '4' || kind == '7',
                    ESPCN_ERROR_UNSUPPORTED, "PNM type P", kind,
                    " is not supported (binary P5 gray and P6 RGB are)");
    ESPCN_RETURN_IF(kind != '5' && kind != '6', ESPCN_ERROR_IO, "not a PNM file (bad magic number)");

    PnmHeaderParser header(data, size);
    uint32_t width = 0, height = 0, maxval = 0;
    ESPCN_RETURN_IF_ERROR(header.number("width", kMaxImageSide, width));
    ESPCN_RETURN_IF_ERROR(header.number("height", kMaxImageSide, height));
    ESPCN_RETURN_IF_ERROR(header.number("maxval", 65535, maxval));
    ESPCN_RETURN_IF(width == 0 || height == 0 || maxval == 0, ESPCN_ERROR_IO, "PNM: width ",
                    width, ", height ", height, ", maxval ", maxval, " must all be positive");
    ESPCN_RETURN_IF(static_cast<int64_t>(width) * height > kMaxImagePixels, ESPCN_ERROR_IO,
                    "PNM is ", width, "x", height, ", more than ", kMaxImagePixels, " pixels");
    ESPCN_RETURN_IF_ERROR(header.end_of_header());

    Image image;
    image.width = static_cast<int>(width);
    image.height = static_cast<int>(height);
    image.channels = kind == '5' ? 1 : 3;
    image.bit_depth = depth_for_maxval(maxval);
    const size_t count = static_cast<size_t>(width) * height * image.channels;
    const size_t bytes_per_sample = maxval > 255 ? 2 : 1;
    const size_t raster = size - header.position();
    ESPCN_RETURN_IF(raster < count * bytes_per_sample, ESPCN_ERROR_IO, "PNM: file is truncated (",
                    raster, " raster bytes, ", count * bytes_per_sample, " needed)");

    // Trailing bytes (a further image of a multi-image file) are ignored.
    const uint8_t *p = data + header.position();
    const uint32_t to_max = image.max_value();
    const bool rescale = to_max != maxval;
    image.samples.resize(count);
    for (size_t k = 0; k < count; ++k) {
        // 16-bit PNM samples are big-endian.
        const uint32_t v = bytes_per_sample == 2 ? (uint32_t{p[2 * k]} << 8 | p[2 * k + 1]) : p[k];
        ESPCN_RETURN_IF(v > maxval, ESPCN_ERROR_IO, "PNM: sample ", v, " exceeds maxval ", maxval);
        image.samples[k] = static_cast<uint16_t>(rescale ? (v * to_max + maxval / 2) / maxval : v);
    }
    return image;
}

Result<std::vector<uint8_t>> encode_pnm(const Image &image) {
    ESPCN_RETURN_IF_ERROR(validate_image(image));
    const std::string header = concat(image.channels == 1 ? "P5" : "P6", "\n", image.width, " ",
                                      image.height, "\n", image.max_value(), "\n");
    const bool wide = image.bit_depth > 8;
    std::vector<uint8_t> out(header.begin(), header.end());
    out.reserve(out.size() + image.samples.size() * (wide ? 2 : 1));
    for (const uint16_t v : image.samples) {
        if (wide) out.push_back(static_cast<uint8_t>(v >> 8));
        out.push_back(static_cast<uint8_t>(v & 0xff));
    }
    return out;
}

Result<ImageFormat> format_for_path(const std::string &path, int channels) {
    const std::string ext = lowercase_extension(path);
    if (ext == ".png") return ImageFormat::png;
    if (ext == ".pnm") return ImageFormat::pnm;
    ESPCN_RETURN_IF(ext == ".pgm" && channels != 1, ESPCN_ERROR_INVALID_ARGUMENT, path,
                    ": a .pgm file holds gray images; this one has ", channels,
                    " channels (use .ppm, .pnm or .png)");
    ESPCN_RETURN_IF(ext == ".ppm" && channels != 3, ESPCN_ERROR_INVALID_ARGUMENT, path,
                    ": a .ppm file holds RGB images; this one is gray (use .pgm, .pnm or .png)");
    if (ext == ".pgm" || ext == ".ppm") return ImageFormat::pnm;
    return Status(ESPCN_ERROR_INVALID_ARGUMENT,
                  concat(path, ": unknown image extension '", ext,
                         "' (use .png, .ppm, .pgm or .pnm)"));
}

namespace {

// The file's first bytes: PNG or PNM, else refused; a PNM's header bounds
// how much of the file is read.
Status sniff_image(const uint8_t *data, size_t size, bool, size_t &max_bytes) {
    if (size >= 4 && data[0] == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G')
        return Status::ok();
    const bool pnm = size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7';
    ESPCN_RETURN_IF(!pnm, ESPCN_ERROR_UNSUPPORTED, "not a PNG or binary PNM (P5/P6) file");
    if (data[1] != '5' && data[1] != '6') return Status::ok();  // decode_pnm names the type
    PnmHeaderParser header(data, size);
    uint32_t width = 0, height = 0, maxval = 0;
    if (!header.number("width", kMaxImageSide, width).is_ok() ||
        !header.number("height", kMaxImageSide, height).is_ok() ||
        !header.number("maxval", 65535, maxval).is_ok() || !header.end_of_header().is_ok())
        return Status::ok();  // incomplete or bad here: decode_pnm reports it
    const uint64_t raster =
        uint64_t{width} * height * (data[1] == '5' ? 1 : 3) * (maxval > 255 ? 2 : 1);
    max_bytes = static_cast<size_t>(std::min<uint64_t>(max_bytes, header.position() + raster));
    return Status::ok();
}

}  // namespace

Result<Image> read_image(const std::string &path) {
    Result<std::vector<uint8_t>> bytes = read_file(path, kMaxImageFileBytes, sniff_image);
    if (!bytes.is_ok()) {
        // read_file names the path; a refusal by the sniffer does not.
        const Status failed = bytes.status();
        const std::string prefix = path + ":";
        if (failed.message().compare(0, prefix.size(), prefix) == 0) return failed;
        return Status(failed.code(), concat(path, ": ", failed.message()));
    }
    const std::vector<uint8_t> &b = bytes.value();
    Result<Image> image = Status(ESPCN_ERROR_UNSUPPORTED,
                                 "not a PNG or binary PNM (P5/P6) file");
    if (b.size() >= 8 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G')
        image = decode_png(b.data(), b.size());
    else if (b.size() >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7')
        image = decode_pnm(b.data(), b.size());
    if (!image.is_ok()) return std::move(image.status()).with_context(path + ": ");
    return image;
}

Result<std::vector<uint8_t>> encode_image(const std::string &path, const Image &image) {
    Result<ImageFormat> format = format_for_path(path, image.channels);
    ESPCN_RETURN_IF_ERROR(format.status());
    Result<std::vector<uint8_t>> encoded =
        format.value() == ImageFormat::png ? encode_png(image) : encode_pnm(image);
    if (!encoded.is_ok()) return std::move(encoded.status()).with_context(path + ": ");
    return encoded;
}

Status write_image(const std::string &path, const Image &image) {
    Result<std::vector<uint8_t>> encoded = encode_image(path, image);
    ESPCN_RETURN_IF_ERROR(encoded.status());
    return write_file(path, encoded.value());
}

}  // namespace espcn
