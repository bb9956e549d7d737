// Separable upscaling of planes that bypass the network (chroma), with the
// taps of core/resample_taps.hpp. Owns its scratch buffers so the per-frame
// path allocates nothing once a size has been seen; they hold at most
// kMaxScratchBytes of horizontally resampled rows (bands of output rows, so
// an 8K 4:4:4 chroma plane does not need a 265 MB buffer).
#pragma once

#include <cstddef>
#include <vector>

#include "resample_taps.hpp"
#include "status.hpp"
#include "espcn/espcn.h"
#include "worker_pool.hpp"

namespace espcn {

class PlaneResampler {
public:
    static constexpr size_t kMaxScratchBytes = size_t{8} << 20;

    // Validated by the caller: same depth/shift, components 1 or 2, scale >= 1.
    // Rows are spread over `pool`'s threads.
    [[nodiscard]] Status upscale(const espcn_plane &in, const espcn_plane &out, int components,
                                 int scale, ResampleKind kind, WorkerPool &pool);
    // The same on `threads` OpenMP threads.
    void upscale(const espcn_plane &in, const espcn_plane &out, int components, int scale,
                 ResampleKind kind, int threads);

private:
    // parallel_rows(n, fn) calls fn(begin, end) over a split of [0, n).
    template <class ParallelRows>
    void upscale_with(const espcn_plane &in, const espcn_plane &out, int components, int scale,
                      ResampleKind kind, ParallelRows &&parallel_rows);

    std::vector<ResampleTaps> column_taps_;  // one per output column
    std::vector<float> rows_;                // input rows resampled horizontally
};

}  // namespace espcn
