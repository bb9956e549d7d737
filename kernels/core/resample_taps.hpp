// Upscaling taps for the planes that bypass the network (chroma), shared
// with CUDA. Output sample j of a factor-r upscale reads input position
// u = (j + 0.5) / r − 0.5 (centres aligned); taps falling outside the plane
// are clamped to its edge by the caller.
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace espcn {

enum ResampleKind : int { kResampleBicubic = 0, kResampleBilinear = 1, kResampleNearest = 2 };

struct ResampleTaps {
    int first;    // input index of weight[0] (may be outside [0, size))
    int count;    // 1, 2 or 4
    float weight[4];
    int clamped[4];  // first + k clamped to the plane; filled by users that cache taps
};

// Keys' cubic convolution kernel with a = −0.5 (as MATLAB, Pillow, swscale's
// default bicubic differ: this is the one SR papers' "bicubic" means).
ESPCN_HD float keys_cubic(float x) {
    const float a = -0.5f;
    x = x < 0.0f ? -x : x;
    if (x <= 1.0f) return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
    if (x < 2.0f) return ((a * x - 5.0f * a) * x + 8.0f * a) * x - 4.0f * a;
    return 0.0f;
}

ESPCN_HD ResampleTaps resample_taps(ResampleKind kind, int j, int r) {
    const float u = (static_cast<float>(j) + 0.5f) / static_cast<float>(r) - 0.5f;
    // floor() without <cmath> so the same code compiles for the device.
    int base = static_cast<int>(u);
    if (static_cast<float>(base) > u) --base;
    const float t = u - static_cast<float>(base);
    ResampleTaps taps{};
    switch (kind) {
    case kResampleBicubic:
        taps.first = base - 1;
        taps.count = 4;
        taps.weight[0] = keys_cubic(1.0f + t);
        taps.weight[1] = keys_cubic(t);
        taps.weight[2] = keys_cubic(1.0f - t);
        taps.weight[3] = keys_cubic(2.0f - t);
        break;
    case kResampleBilinear:
        taps.first = base;
        taps.count = 2;
        taps.weight[0] = 1.0f - t;
        taps.weight[1] = t;
        break;
    case kResampleNearest:
        taps.first = t < 0.5f ? base : base + 1;
        taps.count = 1;
        taps.weight[0] = 1.0f;
        break;
    }
    return taps;
}

ESPCN_HD int clamp_index(int i, int size) { return i < 0 ? 0 : (i >= size ? size - 1 : i); }

// A resampled value as a sample: clamped to [0, max_value] (NaN -> 0) and
// rounded half up.
ESPCN_HD uint32_t round_resampled(float acc, uint32_t max_value) {
    const float top = static_cast<float>(max_value);
    acc = acc > 0.0f ? (acc < top ? acc : top) : 0.0f;
    return static_cast<uint32_t>(acc + 0.5f);
}

}  // namespace espcn
