// Gray/RGB images <-> float planes, and RGB <-> YCbCr as MATLAB's
// rgb2ycbcr/ycbcr2rgb (ITU-R BT.601, limited "studio" range), the convention
// of the super-resolution literature: PSNR on Y, the network on Y only.
//
// Float planes hold code value / (2^bits - 1), so one formula serves every
// bit depth: for R, G, B in [0, 1]
//   Y  = (16  +  65.481 R + 128.553 G +  24.966 B) / 255
//   Cb = (128 -  37.797 R -  74.203 G + 112.000 B) / 255
//   Cr = (128 + 112.000 R -  93.786 G -  18.214 B) / 255
// which at 16 bits puts black at 16·257, as MATLAB does for uint16.
#pragma once

#include "../core/sample_codec.hpp"
#include "../core/status.hpp"
#include "image.hpp"

namespace espcn {

struct YCbCrPlanes {
    FloatPlane y;
    FloatPlane cb;
    FloatPlane cr;
};

// The rounding quantizer, the engine's own output rule: floor(clamp(v, 0, 1)
// · (2^bits − 1) + 0.5), NaN → 0.
inline uint16_t quantize_sample(float v, int bits) {
    return static_cast<uint16_t>(encode_sample(v, max_sample(bits), SampleRange{}));
}

// One channel of an image as code value / (2^bit_depth − 1).
[[nodiscard]] Result<FloatPlane> normalized_channel(const Image &image, int channel);

// A one-channel image of `bits` bits from a plane, with quantize_sample.
[[nodiscard]] Result<Image> quantize_plane(const FloatPlane &plane, int bits);

void rgb_to_ycbcr(float r, float g, float b, float &y, float &cb, float &cr);
void ycbcr_to_rgb(float y, float cb, float cr, float &r, float &g, float &b);

[[nodiscard]] Result<YCbCrPlanes> rgb_to_ycbcr(const Image &rgb);
// Converts back and quantizes to a 3-channel image of `bits` bits; the three
// planes must have the same size.
[[nodiscard]] Result<Image> ycbcr_to_rgb(const YCbCrPlanes &planes, int bits);

}  // namespace espcn
