#include "plane_resample.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "sample_access.hpp"
#include "sample_codec.hpp"

namespace espcn {

namespace {

// Samples of one row as floats: 8-bit, or 9..16 bits in the low (or shifted)
// bits of a uint16_t.
struct Row8 {
    const uint8_t *p;
    float operator[](int i) const { return p[i]; }
};
struct Row16 {
    const uint16_t *p;
    int shift;
    uint32_t maxv;
    float operator[](int i) const { return static_cast<float>((p[i] >> shift) & maxv); }
};

// Horizontal pass of one row: taps already clamped to the plane. The sum runs
// in tap order from 0, as the CUDA kernel does (bit-exact with it).
template <class Row>
void resample_row(const Row &src, const std::vector<ResampleTaps> &taps, int width,
                  int components, float *dst) {
    for (int x = 0; x < width; ++x) {
        const ResampleTaps &t = taps[static_cast<size_t>(x)];
        for (int c = 0; c < components; ++c) {
            float acc = 0.0f;
            for (int k = 0; k < t.count; ++k) acc += t.weight[k] * src[t.clamped[k] * components + c];
            dst[x * components + c] = acc;
        }
    }
}

// Vertical pass of one output row from up to 4 horizontally resampled rows,
// rounded half up and clamped; a plain loop over the row the compiler
// vectorises (same operations in the same order as the scalar definition).
template <int Count, class T>
void vertical_row(const float *const *rows, const float *w, int n, float top, int shift, T *out) {
    for (int i = 0; i < n; ++i) {
        float acc = 0.0f;
        for (int k = 0; k < Count; ++k) acc += w[k] * rows[k][i];
        acc = acc > 0.0f ? (acc < top ? acc : top) : 0.0f;
        out[i] = static_cast<T>(static_cast<uint32_t>(acc + 0.5f) << shift);
    }
}

template <class T>
void vertical_row_any(const ResampleTaps &t, const float *const *rows, int n, float top, int shift,
                      T *out) {
    switch (t.count) {
    case 1: vertical_row<1>(rows, t.weight, n, top, shift, out); break;
    case 2: vertical_row<2>(rows, t.weight, n, top, shift, out); break;
    default: vertical_row<4>(rows, t.weight, n, top, shift, out); break;
    }
}

}  // namespace

template <class ParallelRows>
void PlaneResampler::upscale_with(const espcn_plane &in, const espcn_plane &out, int components,
                                  int scale, ResampleKind kind, ParallelRows &&parallel_rows) {
    const uint32_t maxv = max_sample(in.bit_depth);
    const int row_len = out.width * components;
    column_taps_.resize(static_cast<size_t>(out.width));
    for (int x = 0; x < out.width; ++x) {
        ResampleTaps t = resample_taps(kind, x, scale);
        for (int k = 0; k < t.count; ++k) t.clamped[k] = clamp_index(t.first + k, in.width);
        column_taps_[static_cast<size_t>(x)] = t;
    }
    // Input rows resampled horizontally are kept for one band of output rows
    // at a time: at most kMaxScratchBytes (or the few rows one output row needs).
    const auto rows_of = [&](int y) {  // input rows output row y reads
        const ResampleTaps t = resample_taps(kind, y, scale);
        return std::pair<int, int>{clamp_index(t.first, in.height),
                                   clamp_index(t.first + t.count - 1, in.height)};
    };
    const size_t row_bytes = static_cast<size_t>(row_len) * sizeof(float);
    const int max_rows = static_cast<int>(std::max<size_t>(4, kMaxScratchBytes / row_bytes));
    const float top = static_cast<float>(maxv);
    for (int y0 = 0; y0 < out.height;) {
        const int first = rows_of(y0).first;
        int y1 = y0 + 1;
        while (y1 < out.height && rows_of(y1).second - first < max_rows) ++y1;
        const int last = rows_of(y1 - 1).second;
        rows_.resize(static_cast<size_t>(last - first + 1) * row_len);

        // Horizontal pass: the band's input rows to the output width, in float.
        parallel_rows(last - first + 1, [&](int begin, int end) {
            for (int i = begin; i < end; ++i) {
                const int y = first + i;
                float *dst = rows_.data() + static_cast<size_t>(i) * row_len;
                const uint8_t *row =
                    static_cast<const uint8_t *>(in.data) + static_cast<ptrdiff_t>(y) * in.stride;
                if (in.bit_depth == 8)
                    resample_row(Row8{row}, column_taps_, out.width, components, dst);
                else
                    resample_row(Row16{reinterpret_cast<const uint16_t *>(row), in.shift, maxv},
                                 column_taps_, out.width, components, dst);
            }
        });
        // Vertical pass, rounding half up and clamping to the sample range.
        parallel_rows(y1 - y0, [&](int begin, int end) {
            for (int y = y0 + begin; y < y0 + end; ++y) {
                const ResampleTaps t = resample_taps(kind, y, scale);
                const float *rows[4] = {};
                for (int k = 0; k < t.count; ++k)
                    rows[k] = rows_.data() +
                              static_cast<size_t>(clamp_index(t.first + k, in.height) - first) * row_len;
                uint8_t *row = static_cast<uint8_t *>(out.data) + static_cast<ptrdiff_t>(y) * out.stride;
                if (out.bit_depth == 8)
                    vertical_row_any(t, rows, row_len, top, 0, row);
                else
                    vertical_row_any(t, rows, row_len, top, out.shift, reinterpret_cast<uint16_t *>(row));
            }
        });
        y0 = y1;
    }
}

Status PlaneResampler::upscale(const espcn_plane &in, const espcn_plane &out, int components,
                               int scale, ResampleKind kind, WorkerPool &pool) {
    Status status;
    // Two row ranges per thread: enough to even out, few wake-ups.
    const int parts = 2 * pool.threads();
    upscale_with(in, out, components, scale, kind, [&](int rows, const auto &fn) {
        if (!status.is_ok()) return;
        const int n = std::min(parts, rows);
        status = pool.run(n, [&](int part, int) {
            fn(static_cast<int>(static_cast<int64_t>(rows) * part / n),
               static_cast<int>(static_cast<int64_t>(rows) * (part + 1) / n));
        });
    });
    return status;
}

void PlaneResampler::upscale(const espcn_plane &in, const espcn_plane &out, int components,
                             int scale, ResampleKind kind, int threads) {
    upscale_with(in, out, components, scale, kind, [threads](int rows, const auto &fn) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int y = 0; y < rows; ++y) fn(y, y + 1);
    });
}

}  // namespace espcn
