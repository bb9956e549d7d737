// Reading and writing images: PNG (libpng) and binary PNM (P5 gray, P6 RGB).
//
// Whatever the file holds, a decoded Image has 1 or 3 channels and a bit
// depth of 8..16: alpha is dropped, palettes are expanded to RGB, 1/2/4-bit
// gray is widened to 8 bits. A corrupt or truncated file gives an error
// Status, never a crash. Allocation failure throws std::bad_alloc, as
// everywhere in the internals; callers at a boundary catch it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/status.hpp"
#include "file_io.hpp"
#include "image.hpp"

namespace espcn {

// Keep a hostile header from asking for an absurd allocation.
inline constexpr int kMaxImageSide = 1 << 16;
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 28;
inline constexpr size_t kMaxImageFileBytes = size_t{1} << 31;

enum class ImageFormat { png, pnm };

// Checks channels, bit depth, size and that every sample fits the bit depth.
[[nodiscard]] Status validate_image(const Image &image);

// PNG of any colour type; 8- or 16-bit output (other depths are written as
// 16-bit, rescaled with rounding).
[[nodiscard]] Result<Image> decode_png(const uint8_t *data, size_t size);
[[nodiscard]] Result<std::vector<uint8_t>> encode_png(const Image &image);

// Binary PNM: P5 (gray) and P6 (RGB), maxval 1..65535. A maxval of
// 2^b - 1 gives bit depth max(b, 8) (values below 8 bits are rescaled);
// any other maxval is rescaled, with rounding, to the next such depth.
// Encoding writes P5 for one channel, P6 for three, maxval 2^bit_depth - 1.
[[nodiscard]] Result<Image> decode_pnm(const uint8_t *data, size_t size);
[[nodiscard]] Result<std::vector<uint8_t>> encode_pnm(const Image &image);

// The format a path's extension asks for (.png; .pgm/.ppm/.pnm), checking
// that it can hold `channels` channels (.pgm gray only, .ppm RGB only).
[[nodiscard]] Result<ImageFormat> format_for_path(const std::string &path, int channels);

// read_image recognises the format by content, not by name: a file that
// starts as neither PNG nor PNM is refused after its first 64 KiB (so
// /dev/zero is refused at once), and a PNM is read no further than its
// header says.
[[nodiscard]] Result<Image> read_image(const std::string &path);
// The encoded image (format by the path's extension).
[[nodiscard]] Result<std::vector<uint8_t>> encode_image(const std::string &path, const Image &image);
// encode_image + write_file (all or nothing).
[[nodiscard]] Status write_image(const std::string &path, const Image &image);

}  // namespace espcn
