#include "plane_resample.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

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
    // Input rows resampled horizontally are kept for one band of output rows
    // at a time: at most kMaxScratchBytes (or the few rows one output row needs).
    const auto rows_of = [&](int y) {  // input rows output row y reads
        const ResampleTaps t = resample_taps(kind, y, scale);
        return std::pair<int, int>{clamp_index(t.first, in.height),
                                   clamp_index(t.first + t.count - 1, in.height)};
    };
    const size_t row_bytes = static_cast<size_t>(row_len) * sizeof(float);
    const int max_rows = static_cast<int>(std::max<size_t>(4, kMaxScratchBytes / row_bytes));
    for (int y0 = 0; y0 < out.height;) {
        const int first = rows_of(y0).first;
        int y1 = y0 + 1;
        while (y1 < out.height && rows_of(y1).second - first < max_rows) ++y1;
        const int last = rows_of(y1 - 1).second;
        rows_.resize(static_cast<size_t>(last - first + 1) * row_len);

        // Horizontal pass: the band's input rows to the output width, in float.
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int y = first; y <= last; ++y) {
            float *dst = rows_.data() + static_cast<size_t>(y - first) * row_len;
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
        for (int y = y0; y < y1; ++y) {
            const ResampleTaps t = resample_taps(kind, y, scale);
            uint8_t *row = sample_row(out.data, out.stride, y);
            for (int i = 0; i < row_len; ++i) {
                float acc = 0.0f;
                for (int k = 0; k < t.count; ++k)
                    acc += t.weight[k] *
                           rows_[static_cast<size_t>(clamp_index(t.first + k, in.height) - first) *
                                     row_len + i];
                store_sample(row, i, out.bit_depth, out.shift, round_resampled(acc, maxv));
            }
        }
        y0 = y1;
    }
}

}  // namespace espcn
