// Bounded per-frame memory: a plane runs through the network in bands of
// rows ("row tiles"), each with the halo the receptive field needs, so the
// output is bit-identical to one pass over the whole plane.
//
// A network of receptive radius R (the sum of its kernels' radii) computes
// LR row y from input rows y − R .. y + R. Run on a band of rows as if it
// were the whole plane, it is exact on every row at least R rows from a band
// edge that is not the plane's own edge (zero padding is only right at the
// plane's edges). Bands here all have the same height, so a backend builds
// its kernels once per frame size: band i starts at min(i·step, H − rows),
// step = rows − 2R, and writes the rows no earlier band wrote.
#pragma once

#include <climits>
#include <cstddef>
#include <functional>

#include "backend.hpp"
#include "logger.hpp"
#include "status.hpp"

namespace espcn {

// A band of rows of one plane. The network runs on input rows
// [in_begin, in_end) as if they were the whole plane (zero padding at their
// edges), and the tile writes the output of LR rows [out_begin, out_end) —
// HR rows [out_begin·r, out_end·r) — which lie far enough inside the band
// (receptive radius) or at the plane's own edge to be exact.
struct RowTile {
    int in_begin = 0;
    int in_end = 0;
    int out_begin = 0;
    int out_end = 0;
    int in_rows() const { return in_end - in_begin; }
};

// What a backend that runs row tiles implements (reference, onednn): the CPU
// frame adapter (cpu/cpu_frames.hpp) plans the bands of a plane within the
// context's memory budget and runs them through these two functions.
class RowTiled {
public:
    // Host bytes process_tile() holds for tiles of `rows` input rows of
    // `width` pixels: activations and scratch, not the weights. Must not
    // decrease as rows grow. Errors: shapes the backend cannot build.
    [[nodiscard]] virtual Result<size_t> tile_working_bytes(int width, int rows) = 0;
    // One tile of the pass `in` into `out` (whole planes, in channel order,
    // Backend::process's); `cancel` is asked between layers
    // (ESPCN_ERROR_CANCELLED, output undefined).
    [[nodiscard]] virtual Status process_tile(Planes in, Planes out, const RowTile &tile,
                                              const CancelCheck &cancel) = 0;

protected:
    ~RowTiled() = default;
};

struct RowTilePlan {
    int height = 0;  // of the plane
    int radius = 0;  // R
    int rows = 0;    // input rows of every band (the whole plane when count == 1)
    int count = 0;   // bands
    size_t working_bytes = 0;  // what the backend holds for one band

    RowTile tile(int i) const;
};

// The fewest, then smallest, equal bands of at most max_rows rows covering a
// plane of `height` rows for a network of radius R; max_rows must be at least
// min(height, 2R + 1).
RowTilePlan plan_row_tiles(int height, int radius, int max_rows);

// The plan for a width × height plane whose bands fit `budget` bytes of the
// backend's working memory (tile_working_bytes) and have at most row_cap
// rows (but never fewer than 2R + 1), or ESPCN_ERROR_OUT_OF_MEMORY naming
// what the smallest band needs.
[[nodiscard]] Result<RowTilePlan> plan_for_budget(RowTiled &backend, int width, int height,
                                                  int radius, size_t budget,
                                                  int row_cap = INT_MAX);
// The same with the bytes of a band of `rows` rows given by a function (the
// cuda backend's device memory, cuda/device_memory.hpp).
[[nodiscard]] Result<RowTilePlan> plan_for_budget(const std::function<Result<size_t>(int rows)> &bytes_for,
                                                  int width, int height, int radius, size_t budget,
                                                  int row_cap = INT_MAX);

// With a cancel callback, a band's largest layer should take ~50 ms (2 GMAC,
// 2 cores of this project's CI machine at ~40 GMAC/s), so that a cancel
// takes effect within about 0.1 s: bands are capped at this many rows, but
// kept at least 16R rows (the halo then costs at most 2R/16R = 12.5%).
inline constexpr double kCancelLayerMacs = 2e9;
int responsive_row_cap(const Network &net, int width);

// Runs the plane band by band, asking `cancel` before each.
[[nodiscard]] Status run_row_tiles(RowTiled &backend, const RowTilePlan &plan, Planes in,
                                   Planes out, const CancelCheck &cancel);

}  // namespace espcn
