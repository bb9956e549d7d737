// Image quality as the super-resolution literature measures it: on the Y of
// MATLAB's rgb2ycbcr (BT.601, limited range) of 8-bit images, after
// cropping the ground truth to a multiple of the scale ("modcrop") and
// shaving `shave` pixels (the scale) off every border.
//
// PSNR: 10 log10(255² / MSE) over the shaved planes; +infinity when equal.
// SSIM: Wang et al. 2004 as their ssim_index.m computes it (what SR papers
// run): an 11×11 Gaussian window with σ = 1.5 (normalized), K1 = 0.01,
// K2 = 0.03, L = 255, filtered over the "valid" region only, mean of the map.
#pragma once

#include "../core/status.hpp"
#include "image.hpp"

namespace espcn {

// MATLAB rgb2ycbcr on uint8 RGB: round(16 + (65.481 R + 128.553 G + 24.966 B)/255)
// computed in double. A gray image is its own Y (as the SR test sets treat
// their gray images). 8-bit input only.
[[nodiscard]] Result<Image> luma_bt601_u8(const Image &image);

// The top-left (width − width mod r) × (height − height mod r) of an image.
[[nodiscard]] Image modcrop(const Image &image, int r);

// a and b: one 8-bit channel each, the same size, larger than 2·shave both ways
// (SSIM: at least 11 pixels left after shaving).
[[nodiscard]] Result<double> psnr_u8(const Image &a, const Image &b, int shave);
[[nodiscard]] Result<double> ssim_u8(const Image &a, const Image &b, int shave);

}  // namespace espcn
