#include "row_tiles.hpp"

#include <algorithm>

namespace espcn {

namespace {

// One past the last LR row band i computes exactly.
int exact_end(const RowTilePlan &p, int start) {
    return start + p.rows >= p.height ? p.height : start + p.rows - p.radius;
}

int band_start(const RowTilePlan &p, int i) {
    const int step = p.rows - 2 * p.radius;
    return std::min(i * step, p.height - p.rows);
}

}  // namespace

RowTile RowTilePlan::tile(int i) const {
    if (count <= 1) return RowTile{0, height, 0, height};
    const int start = band_start(*this, i);
    RowTile t;
    t.in_begin = start;
    t.in_end = start + rows;
    t.out_begin = i == 0 ? 0 : exact_end(*this, band_start(*this, i - 1));
    t.out_end = exact_end(*this, start);
    return t;
}

RowTilePlan plan_row_tiles(int height, int radius, int max_rows) {
    RowTilePlan p;
    p.height = height;
    p.radius = radius;
    if (max_rows >= height) {
        p.rows = height;
        p.count = 1;
        return p;
    }
    // count bands of `rows` rows cover the plane when
    // rows + (count − 1)(rows − 2R) >= H; take the fewest bands the limit
    // allows, then the smallest equal height that still covers.
    const int64_t step = max_rows - 2 * int64_t{radius};  // >= 1: max_rows >= 2R + 1
    const int64_t count = 1 + (height - max_rows + step - 1) / step;
    const int64_t need = height + 2 * int64_t{radius} * (count - 1);
    p.count = static_cast<int>(count);
    p.rows = static_cast<int>((need + count - 1) / count);
    return p;
}

int responsive_row_cap(const Network &net, int width) {
    double layer = 0.0;  // MACs per LR pixel of the largest layer
    for (const ConvLayer &c : net.convs)
        layer = std::max(layer, static_cast<double>(c.kernel) * c.kernel * c.in_channels * c.out_channels);
    const double rows = kCancelLayerMacs / (std::max(layer, 1.0) * std::max(width, 1));
    const int floor_rows = 16 * net.receptive_radius();
    return std::max({floor_rows, 1, static_cast<int>(std::min(rows, 1e9))});
}

Result<RowTilePlan> plan_for_budget(RowTiled &backend, int width, int height, int radius,
                                    size_t budget, int row_cap) {
    return plan_for_budget([&](int rows) { return backend.tile_working_bytes(width, rows); }, width,
                           height, radius, budget, row_cap);
}

Result<RowTilePlan> plan_for_budget(const std::function<Result<size_t>(int rows)> &bytes_for, int width,
                                    int height, int radius, size_t budget, int row_cap) {
    const int min_rows = static_cast<int>(std::min<int64_t>(height, 2 * int64_t{radius} + 1));
    row_cap = std::max(row_cap, min_rows);
    // The largest band allowed (the whole plane unless capped) may fit at once.
    Result<size_t> largest = bytes_for(std::min(height, row_cap));
    ESPCN_RETURN_IF_ERROR(largest.status());
    if (largest.value() <= budget && row_cap < height) {
        RowTilePlan p = plan_row_tiles(height, radius, row_cap);
        Result<size_t> used = bytes_for(p.rows);
        ESPCN_RETURN_IF_ERROR(used.status());
        p.working_bytes = used.value();
        return p;
    }
    if (largest.value() <= budget) {
        RowTilePlan p = plan_row_tiles(height, radius, height);
        p.working_bytes = largest.value();
        return p;
    }
    Result<size_t> smallest = bytes_for(min_rows);
    ESPCN_RETURN_IF_ERROR(smallest.status());
    ESPCN_RETURN_IF(smallest.value() > budget, ESPCN_ERROR_OUT_OF_MEMORY, "a ", width, "x",
                    height, " plane needs ", smallest.value(),
                    " bytes of working memory for its smallest band of rows (", min_rows,
                    " rows: the network's receptive radius is ", radius,
                    "), over the memory budget of ", budget,
                    " bytes; raise the budget (memory_budget)");
    // Largest band that fits: bytes grow with rows.
    int lo = min_rows, hi = std::min(height, row_cap) - 1;
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        Result<size_t> b = bytes_for(mid);
        ESPCN_RETURN_IF_ERROR(b.status());
        if (b.value() <= budget) lo = mid;
        else hi = mid - 1;
    }
    RowTilePlan p = plan_row_tiles(height, radius, lo);
    Result<size_t> used = bytes_for(p.rows);
    ESPCN_RETURN_IF_ERROR(used.status());
    p.working_bytes = used.value();
    return p;
}

Status run_row_tiles(RowTiled &backend, const RowTilePlan &plan, Planes in, Planes out,
                     const CancelCheck &cancel) {
    for (int i = 0; i < plan.count; ++i) {
        if (cancel.requested()) return cancelled();
        const RowTile t = plan.tile(i);
        if (t.out_end <= t.out_begin) continue;
        ESPCN_RETURN_IF_ERROR(backend.process_tile(in, out, t, cancel));
    }
    return Status::ok();
}

}  // namespace espcn
