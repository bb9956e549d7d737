// MATLAB's imresize(A, scale, 'bicubic') on uint8 planes, in double precision:
// the degradation and the bicubic baseline of the super-resolution protocol
// (espcn-eval), matching weights/matlab_imresize.py (the training data)
// operation for operation.
//
// Why a second bicubic next to bicubic_resize.hpp: that one is the engine's
// float32 resampler with one rounding at the end. MATLAB on a uint8 image
// computes in double, resizes the rows axis (the height) first and rounds
// (half away from zero) and saturates to uint8 after *each* pass; the
// published SR numbers are measured against that, so the evaluation uses it.
//
// Kernel: Keys' cubic, a = −0.5; shrinking antialiases (kernel stretched by
// 1/scale, weights × scale); output pixel x (1-based) samples the input at
// u = x/scale + 0.5(1 − 1/scale); ceil(width) + 2 taps from floor(u − width/2),
// normalized; out-of-range indices mirrored with the edge pixel repeated
// (MATLAB's "symmetric").
#pragma once

#include "../core/status.hpp"
#include "image.hpp"

namespace espcn {

// imresize(gray, 1/factor, 'bicubic'): ceil(width/factor) × ceil(height/factor).
// `gray` must be one 8-bit channel.
[[nodiscard]] Result<Image> matlab_downscale_u8(const Image &gray, int factor);

// imresize(gray, factor, 'bicubic'): factor·width × factor·height.
[[nodiscard]] Result<Image> matlab_upscale_u8(const Image &gray, int factor);

}  // namespace espcn
