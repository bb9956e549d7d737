#include "plane_convert.hpp"

#include <cstdint>

namespace espcn {

namespace {

const uint8_t *row_ptr(const espcn_plane &p, int y) {
    return static_cast<const uint8_t *>(p.data) + static_cast<ptrdiff_t>(y) * p.stride;
}

}  // namespace

void decode_plane(const espcn_plane &in, SampleRange range, float *dst, ptrdiff_t row_stride,
                  ptrdiff_t pixel_stride, int threads) {
    const uint32_t maxv = max_sample(in.bit_depth);
    const int w = in.width;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int y = 0; y < in.height; ++y) {
        float *d = dst + y * row_stride;
        if (in.bit_depth == 8) {
            const uint8_t *s = row_ptr(in, y);
            for (int x = 0; x < w; ++x) d[x * pixel_stride] = decode_sample(s[x], maxv, range);
        } else {
            const uint16_t *s = reinterpret_cast<const uint16_t *>(row_ptr(in, y));
            // Bits outside the value are not ours to interpret: mask them off.
            const int shift = in.shift;
            for (int x = 0; x < w; ++x)
                d[x * pixel_stride] = decode_sample((s[x] >> shift) & maxv, maxv, range);
        }
    }
}

void shuffle_encode_plane(const LrTensorView &lr, int r, ShuffleOrder order, SampleRange range,
                          const espcn_plane &out, int threads, const LrTensorView *residual) {
    const uint32_t maxv = max_sample(out.bit_depth);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int hy = 0; hy < out.height; ++hy) {
        uint8_t *row = static_cast<uint8_t *>(out.data) + static_cast<ptrdiff_t>(hy) * out.stride;
        for (int hx = 0; hx < out.width; ++hx) {
            const ShuffleSource s = shuffle_source(order, 0, hy, hx, r, 1);
            float v = lr.data[lr.channel_offset(s.channel) + s.y * lr.row_stride +
                              s.x * lr.pixel_stride];
            if (residual)
                v += residual->data[s.y * residual->row_stride + s.x * residual->pixel_stride];
            const uint32_t q = encode_sample(v, maxv, range);
            if (out.bit_depth == 8) row[hx] = static_cast<uint8_t>(q);
            else reinterpret_cast<uint16_t *>(row)[hx] = static_cast<uint16_t>(q << out.shift);
        }
    }
}

}  // namespace espcn
