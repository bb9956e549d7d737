// Where an integer sample of an espcn_plane lives and how its bits are laid
// out, shared with CUDA: 8-bit samples are bytes; 9..16-bit samples are
// 16-bit words holding `bit_depth` bits shifted left by `shift` (P010: 6).
// Bits outside the value are not ours to interpret and are masked off on
// load; a store writes the value's bits and zeros below them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "host_device.hpp"

namespace espcn {

ESPCN_HD const uint8_t *sample_row(const void *data, ptrdiff_t stride, int y) {
    return static_cast<const uint8_t *>(data) + static_cast<ptrdiff_t>(y) * stride;
}
ESPCN_HD uint8_t *sample_row(void *data, ptrdiff_t stride, int y) {
    return static_cast<uint8_t *>(data) + static_cast<ptrdiff_t>(y) * stride;
}

// One 16-bit word <-> its value.
ESPCN_HD uint32_t unpack_sample(uint16_t word, int shift, uint32_t max_value) {
    return (static_cast<uint32_t>(word) >> shift) & max_value;
}
ESPCN_HD uint16_t pack_sample(uint32_t v, int shift) { return static_cast<uint16_t>(v << shift); }

// Sample x of a row (x counts samples: a UV pair is two).
ESPCN_HD uint32_t load_sample(const uint8_t *row, int x, int bit_depth, int shift, uint32_t max_value) {
    if (bit_depth == 8) return row[x];
    return unpack_sample(reinterpret_cast<const uint16_t *>(row)[x], shift, max_value);
}
ESPCN_HD void store_sample(uint8_t *row, int x, int bit_depth, int shift, uint32_t v) {
    if (bit_depth == 8) row[x] = static_cast<uint8_t>(v);
    else reinterpret_cast<uint16_t *>(row)[x] = pack_sample(v, shift);
}

}  // namespace espcn
