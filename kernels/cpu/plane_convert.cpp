#include "plane_convert.hpp"

#include <cstdint>

#include "../core/sample_access.hpp"

namespace espcn {

void decode_plane(const espcn_plane &in, SampleRange range, float *dst, ptrdiff_t row_stride,
                  ptrdiff_t pixel_stride, int threads) {
    const uint32_t maxv = max_sample(in.bit_depth);
    const int w = in.width;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int y = 0; y < in.height; ++y) {
        float *d = dst + y * row_stride;
        if (in.bit_depth == 8) {
            const uint8_t *s = sample_row(in.data, in.stride, y);
            for (int x = 0; x < w; ++x) d[x * pixel_stride] = decode_sample(s[x], maxv, range);
        } else {
            // The word layout of core/sample_access.hpp (the CUDA kernels' too).
            const uint16_t *s = reinterpret_cast<const uint16_t *>(sample_row(in.data, in.stride, y));
            const int shift = in.shift;
            for (int x = 0; x < w; ++x)
                d[x * pixel_stride] = decode_sample(unpack_sample(s[x], shift, maxv), maxv, range);
        }
    }
}

void shuffle_encode_plane(const LrTensorView &lr, int r, ShuffleOrder order, SampleRange range,
                          const espcn_plane &out, int threads, const LrTensorView *residual,
                          ShuffleChannel channel) {
    const uint32_t maxv = max_sample(out.bit_depth);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int hy = 0; hy < out.height; ++hy) {
        uint8_t *row = sample_row(out.data, out.stride, hy);
        for (int hx = 0; hx < out.width; ++hx) {
            const ShuffleSource s = shuffle_source(order, channel.channel, hy, hx, r, channel.channels);
            float v = lr.data[lr.channel_offset(s.channel) + s.y * lr.row_stride +
                              s.x * lr.pixel_stride];
            if (residual)
                v += residual->data[s.y * residual->row_stride + s.x * residual->pixel_stride];
            store_sample(row, hx, out.bit_depth, out.shift, encode_sample(v, maxv, range));
        }
    }
}

}  // namespace espcn
