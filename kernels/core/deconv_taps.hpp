// Index math of "a transposed convolution is an LR convolution plus a periodic
// shuffle" (Shi et al., "Is the deconvolution layer the same as a
// convolutional layer?", 2016), along one axis.
//
// A transposed conv with stride r, kernel K, padding p writes input pixel h
// with tap k into output position y = h·r − p + k. Split y = Y·r + a (phase a
// in [0, r)). Then k = (Y − h)·r + a + p: output phase a of LR position Y sees
// input h = Y − d through deconv tap k = d·r + a + p, for every d with
// 0 <= k < K. That is an ordinary ("same"-padded, cross-correlation) conv in
// LR space whose tap t reads h = Y + t − R, i.e. d = R − t, with radius
//   R = max(d_max, −d_min),  d_max = floor((K−1−p)/r),  d_min = ceil((−(r−1)−p)/r),
// so the LR kernel is 2R+1 wide (zeros where no deconv tap exists; that is the
// "alignment" that keeps LR padding symmetric).
#pragma once

#include "host_device.hpp"

namespace espcn {

ESPCN_HD int floor_div(int a, int b) {  // b > 0
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
ESPCN_HD int ceil_div(int a, int b) {  // b > 0
    return -floor_div(-a, b);
}

// Radius R of the LR kernel equivalent to a (K, r, p) transposed conv axis.
ESPCN_HD int deconv_lr_radius(int kernel, int stride, int pad) {
    const int d_max = floor_div(kernel - 1 - pad, stride);
    const int d_min = ceil_div(-(stride - 1) - pad, stride);
    const int a = d_max > 0 ? d_max : 0;
    const int b = d_min < 0 ? -d_min : 0;
    return a > b ? a : b;
}

// Deconv tap k feeding LR tap t (of a 2R+1 kernel) at phase a; −1 if none.
ESPCN_HD int deconv_tap_for_lr_tap(int lr_tap, int radius, int phase, int kernel, int stride,
                                   int pad) {
    const int k = (radius - lr_tap) * stride + phase + pad;
    return (k >= 0 && k < kernel) ? k : -1;
}

}  // namespace espcn
