// Bicubic resizing by integer factors: the chroma upscaler of espcn-cli, the
// "bicubic" baseline of the benchmarks, and the downscaler that makes LR
// test content.
//
// Both directions use Keys' cubic convolution with a = −0.5 and pixel-centre
// alignment: output pixel X samples the input at u = (X + 0.5)·s − 0.5, with
// s = 1/r when upscaling by r and s = r when downscaling by r (MATLAB
// imresize's convention). Upscaling interpolates (4 taps); downscaling
// antialiases as imresize does (the kernel stretched r times, 4r + 2 taps,
// weights normalized to sum 1). Beyond the edges the input is extended by
// replicating the edge pixel, or by mirroring it (imresize's "symmetric").
#pragma once

#include <array>

#include "../core/status.hpp"
#include "image.hpp"

namespace espcn {

enum class EdgeMode { replicate, mirror };

// Largest factor accepted, either way.
inline constexpr int kMaxResizeFactor = 64;

// Keys' cubic convolution kernel with a = −0.5 (support (−2, 2)).
double keys_cubic(double t);

// The weights an x`scale` upscale gives the five input pixels at offsets
// −2..+2 from input pixel x0 when computing output pixel x0·scale + phase.
// They sum to 1; the bicubic model of espcn-make-model is built from them.
std::array<double, 5> bicubic_upscale_taps(int scale, int phase);

// Output: scale·width × scale·height.
[[nodiscard]] Result<FloatPlane> bicubic_upscale(const FloatPlane &in, int scale,
                                                 EdgeMode edge = EdgeMode::replicate);
// Output: ceil(width / factor) × ceil(height / factor), as imresize.
[[nodiscard]] Result<FloatPlane> bicubic_downscale(const FloatPlane &in, int factor,
                                                   EdgeMode edge = EdgeMode::replicate);

// Every channel of an integer image, resampled in floats and rounded back
// (quantize_sample) to out_bits (upscale) or to the input's depth (downscale).
[[nodiscard]] Result<Image> bicubic_upscale(const Image &in, int scale, int out_bits,
                                            EdgeMode edge = EdgeMode::replicate);
[[nodiscard]] Result<Image> bicubic_downscale(const Image &in, int factor,
                                              EdgeMode edge = EdgeMode::replicate);

}  // namespace espcn
