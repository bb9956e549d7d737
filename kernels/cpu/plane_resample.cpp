#include "plane_resample.hpp"

#include <cstdint>

#include "../core/sample_access.hpp"
#include "../core/sample_codec.hpp"

namespace espcn {

namespace {

float load(const espcn_plane &p, int x, int y, int c, int components, uint32_t maxv) {
    return static_cast<float>(
        load_sample(sample_row(p.data, p.stride, y), x * components + c, p.bit_depth, p.shift, maxv));
}

}  // namespace

void PlaneResampler::upscale(const espcn_plane &in, const espcn_plane &out, int components,
                             int scale, ResampleKind kind, int threads) {
    const uint32_t maxv = max_sample(in.bit_depth);
    const int row_len = out.width * components;
    column_taps_.resize(static_cast<size_t>(out.width));
    for (int x = 0; x < out.width; ++x) column_taps_[x] = resample_taps(kind, x, scale);
    rows_.resize(static_cast<size_t>(in.height) * row_len);

    // Horizontal pass: every input row to the output width, in float.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int y = 0; y < in.height; ++y) {
        float *dst = rows_.data() + static_cast<size_t>(y) * row_len;
        for (int x = 0; x < out.width; ++x) {
            const ResampleTaps &t = column_taps_[x];
            for (int c = 0; c < components; ++c) {
                float acc = 0.0f;
                for (int k = 0; k < t.count; ++k)
                    acc += t.weight[k] * load(in, clamp_index(t.first + k, in.width), y, c,
                                              components, maxv);
                dst[x * components + c] = acc;
            }
        }
    }
    // Vertical pass, rounding half up and clamping to the sample range.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int y = 0; y < out.height; ++y) {
        const ResampleTaps t = resample_taps(kind, y, scale);
        uint8_t *row = sample_row(out.data, out.stride, y);
        for (int i = 0; i < row_len; ++i) {
            float acc = 0.0f;
            for (int k = 0; k < t.count; ++k)
                acc += t.weight[k] *
                       rows_[static_cast<size_t>(clamp_index(t.first + k, in.height)) * row_len + i];
            store_sample(row, i, out.bit_depth, out.shift, round_resampled(acc, maxv));
        }
    }
}

}  // namespace espcn
