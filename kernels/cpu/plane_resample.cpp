#include "plane_resample.hpp"

#include <algorithm>
#include <cstdint>

#include "../core/sample_codec.hpp"

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
    rows_.resize(static_cast<size_t>(in.height) * row_len);

    // Horizontal pass: every input row to the output width, in float.
    parallel_rows(in.height, [&](int begin, int end) {
        for (int y = begin; y < end; ++y) {
            float *dst = rows_.data() + static_cast<size_t>(y) * row_len;
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
    const float top = static_cast<float>(maxv);
    parallel_rows(out.height, [&](int begin, int end) {
        for (int y = begin; y < end; ++y) {
            const ResampleTaps t = resample_taps(kind, y, scale);
            const float *rows[4] = {};
            for (int k = 0; k < t.count; ++k)
                rows[k] = rows_.data() + static_cast<size_t>(clamp_index(t.first + k, in.height)) * row_len;
            uint8_t *row = static_cast<uint8_t *>(out.data) + static_cast<ptrdiff_t>(y) * out.stride;
            if (out.bit_depth == 8)
                vertical_row_any(t, rows, row_len, top, 0, row);
            else
                vertical_row_any(t, rows, row_len, top, out.shift, reinterpret_cast<uint16_t *>(row));
        }
    });
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
