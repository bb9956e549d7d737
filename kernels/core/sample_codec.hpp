// How integer samples become network values and back, shared with CUDA.
//
// Decode: v in [0, 2^bits - 1]  ->  lo + (hi - lo) · v / (2^bits - 1)
// Encode: y  ->  t = (y - lo) / (hi - lo), clamped to [0, 1] (NaN -> 0),
//                 floor(t · (2^bits - 1) + 0.5)   (round half up)
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace espcn {

struct SampleRange {
    float lo = 0.0f;  // network value of the darkest sample
    float hi = 1.0f;  // network value of the brightest sample
};

ESPCN_HD uint32_t max_sample(int bits) { return (1u << bits) - 1u; }

ESPCN_HD float decode_sample(uint32_t v, uint32_t max_value, SampleRange range) {
    return range.lo + (range.hi - range.lo) * (static_cast<float>(v) / static_cast<float>(max_value));
}

ESPCN_HD uint32_t encode_sample(float y, uint32_t max_value, SampleRange range) {
    float t = (y - range.lo) / (range.hi - range.lo);
    // Written so that NaN fails both comparisons and lands on 0.
    t = t > 0.0f ? (t < 1.0f ? t : 1.0f) : 0.0f;
    return static_cast<uint32_t>(t * static_cast<float>(max_value) + 0.5f);
}

}  // namespace espcn
