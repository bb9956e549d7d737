// Integer planes <-> float tensors on the CPU, using the shared formulas of
// sample_codec.hpp and shuffle_index.hpp.
#pragma once

#include <cstddef>

#include "../core/sample_codec.hpp"
#include "../core/shuffle_index.hpp"
#include "espcn/espcn.h"

namespace espcn {

// Rows [first, first + rows) of a plane, as a plane of its own.
inline espcn_plane plane_rows(const espcn_plane &p, int first, int rows) {
    espcn_plane q = p;
    q.data = static_cast<unsigned char *>(p.data) + static_cast<ptrdiff_t>(first) * p.stride;
    q.height = rows;
    return q;
}

// Decodes an 8..16-bit plane into floats at dst[y·row_stride + x·pixel_stride]
// (strides in floats). Rows are split over `threads` OpenMP threads.
void decode_plane(const espcn_plane &in, SampleRange range, float *dst, ptrdiff_t row_stride,
                  ptrdiff_t pixel_stride, int threads);

// Strides of an LR tensor, in floats, so any plain layout (NCHW, NHWC) or a
// channel-blocked one (nChw8c: channel_block 8) can be read in place.
struct LrTensorView {
    const float *data;
    ptrdiff_t channel_stride;
    ptrdiff_t row_stride;
    ptrdiff_t pixel_stride;
    int channel_block = 1 << 30;  // channels per block; plain layouts: one block
    ptrdiff_t block_stride = 0;   // floats between consecutive channel blocks

    ptrdiff_t channel_offset(int c) const {
        return (c / channel_block) * block_stride + (c % channel_block) * channel_stride;
    }
};

// Image channel c of C (its position in the shuffle order).
struct ShuffleChannel {
    int channel = 0;
    int channels = 1;
};

// The fused output step: image channel c of the periodic shuffle of a
// C·r²-channel LR tensor into the HR plane `out`, with range mapping,
// rounding and clamping. residual (the decoded network input's channel c;
// NULL: none) is added nearest-upsampled: HR (c, Y, X) adds residual
// (Y div r, X div r), in network values, before the mapping
// (Network::residual == nearest).
void shuffle_encode_plane(const LrTensorView &lr, int scale, ShuffleOrder order,
                          SampleRange range, const espcn_plane &out, int threads,
                          const LrTensorView *residual = nullptr, ShuffleChannel channel = {});

}  // namespace espcn
