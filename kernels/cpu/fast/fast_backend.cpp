#include "fast_backend.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include <omp.h>

#include "../../core/model_loader.hpp"
#include "flush_denormals.hpp"

namespace espcn {

using fast::KernelTable;

namespace {

constexpr int kMaxCpuIsaNameLength = 16;
// Timed calls kept per layer, candidate and worker in a tuning frame (a
// 640x360 frame makes ~90 calls per layer per strip).
constexpr size_t kRateSamples = 256;

// Work items are full-height strips by default: a strip recomputes only a
// few halo columns, while a split into bands of rows recomputes halo rows at
// every layer (measured on the paper's x2 network, 640x360, 2 threads: 4
// strips of 160 columns 64 ms of CPU per frame, 4 bands of 92 rows 72 ms,
// one item 64 ms). Strips narrower than this lose more to halos than they
// gain in balance.
constexpr int kStripWidth = 160;
// A thread's rings need not fit its L2 cache: measured the same, 640 columns
// wide (2 MiB) or 160 (0.5 MiB), the L3 cache serves them. This bounds them
// for wide frames and wide networks.
constexpr size_t kWorkerBudgetBytes = size_t{16} << 20;
// LR rows of a work item between two questions to the cancel callback (8
// rows of a 160-column strip of the paper's x2 network: ~0.4 ms of one core,
// from the 64 CPU-ms per 640x360 frame measured above).
constexpr int kCancelRows = 8;
constexpr int kMinStripWidth = 32;
// Networks whose per-thread working set would exceed this even in the
// narrowest strip are left to the oneDNN backend (absurd channel counts or
// kernels); see make_cpu_fast_backend.
constexpr size_t kMaxWorkerBytes = size_t{256} << 20;

int round_up(int v, int m) { return (v + m - 1) / m * m; }
int ceil_div(int a, int b) { return (a + b - 1) / b; }

Result<CpuIsa> isa_from_environment() {
    const char *env = std::getenv("ESPCN_CPU_ISA");
    if (!env || !*env) return CpuIsa::avx512;
    const std::string_view v(env, strnlen(env, kMaxCpuIsaNameLength + 1));
    for (const CpuIsa isa : {CpuIsa::avx512, CpuIsa::avx2, CpuIsa::sse4, CpuIsa::neon, CpuIsa::baseline})
        if (v == fast::isa_name(isa)) return isa;
    return Status(ESPCN_ERROR_INVALID_ARGUMENT,
                  concat("ESPCN_CPU_ISA='", std::string(v.substr(0, kMaxCpuIsaNameLength)),
                         "' is not one of avx512, avx2, sse4, neon, baseline"));
}

// $ESPCN_CPU_TUNE=0: no measuring; every layer on the best table.
bool tuning_enabled() {
    const char *env = std::getenv("ESPCN_CPU_TUNE");
    return !(env && env[0] == '0' && env[1] == '\0');
}

}  // namespace

// Per-thread buffers, allocated once per frame size, and the streaming state
// of the work item being run.
struct FastBackend::Worker {
    hwy::AlignedFreeUniquePtr<float[]> memory;
    std::vector<float *> ring;        // per stage
    std::vector<size_t> row_floats;   // per stage: floats per ring row
    std::vector<int> buffer_width;    // per stage: columns per ring row
    float *zero_row = nullptr;
    float *wino_v = nullptr;
    float *wino_m = nullptr;
    float *wino_scratch = nullptr;
    float *residual_row = nullptr;  // the decoded input of the row being encoded
    // Streaming state, per stage.
    struct StageState {
        int row_begin = 0, row_end = 0;  // rows computed
        int col_begin = 0, col_end = 0;  // columns computed (image coordinates)
        int origin = 0;                  // image column of ring column 0
        int next_row = 0;
        int zeroed_left = -1, zeroed_right = -1;  // ring columns known to be zero outside
    };
    std::vector<StageState> st;
    std::vector<FastBackend::Span> read_spans, computed_spans;  // run_item's, kept for their capacity
    // Tuning frames: per layer, the calls made (candidates take turns) and
    // per [layer][candidate] the time of each call per column-row computed
    // (capacity reserved by configure(): nothing is allocated while running).
    std::vector<int> calls;
    std::vector<double> column_rows;  // per layer, computed in the frame
    std::vector<std::vector<std::vector<float>>> rates;

    const float *row(int stage, int y, int ring_rows) const {
        const StageState &s = st[static_cast<size_t>(stage)];
        if (y < s.row_begin || y >= s.row_end) return zero_row;
        return ring[static_cast<size_t>(stage)] +
               static_cast<size_t>((y - s.row_begin) % ring_rows) * row_floats[static_cast<size_t>(stage)];
    }
    float *slot(int stage, int y, int ring_rows) {
        const StageState &s = st[static_cast<size_t>(stage)];
        return ring[static_cast<size_t>(stage)] +
               static_cast<size_t>((y - s.row_begin) % ring_rows) * row_floats[static_cast<size_t>(stage)];
    }
};

FastBackend::Layout FastBackend::make_layout(const Network &net,
                                             std::vector<const fast::KernelTable *> tables, bool bf16) {
    Layout lay;
    lay.tables = std::move(tables);
    lay.bf16 = bf16;
    const bool reorder = net.order == kShuffleDCR && net.out_channels > 1;
    if (bf16 || reorder) lay.own_convs = net.convs;
    if (bf16) {
        // The weights rounded to bfloat16 once, packed from these copies.
        for (ConvLayer &c : lay.own_convs)
            for (float &w : c.weight) w = fast::round_to_bf16(w);
    }
    if (reorder) {
        // Output channel c·r² + i·r + j (CRD) computes what the network's
        // (i·r + j)·C + c (DCR) does: the same sums, another lane.
        const ConvLayer &dcr = net.convs.back();
        ConvLayer &crd = lay.own_convs.back();
        const int r = net.scale, C = net.out_channels;
        const size_t per_output = static_cast<size_t>(dcr.in_channels) * dcr.kernel * dcr.kernel;
        const std::vector<float> weights = crd.weight;  // bf16-rounded if so
        for (int c = 0; c < C; ++c)
            for (int i = 0; i < r; ++i)
                for (int j = 0; j < r; ++j) {
                    const size_t to = static_cast<size_t>(shuffle_channel(kShuffleCRD, c, i, j, r, C));
                    const size_t from = static_cast<size_t>(shuffle_channel(kShuffleDCR, c, i, j, r, C));
                    std::copy_n(weights.begin() + static_cast<ptrdiff_t>(from * per_output), per_output,
                                crd.weight.begin() + static_cast<ptrdiff_t>(to * per_output));
                    crd.bias[to] = dcr.bias[from];
                    if (dcr.activation == Activation::prelu) crd.prelu_slope[to] = dcr.prelu_slope[from];
                }
    }
    for (const KernelTable *t : lay.tables) {
        lay.stride_lanes = std::max(lay.stride_lanes, t->lanes);
        // Columns to spare right of every ring row: a direct block may run up
        // to block_rows − 1 pixels past what it reads for its last valid pixel.
        lay.margin = std::max(lay.margin, t->block_rows);
        lay.max_tile_batch = std::max(lay.max_tile_batch, t->block_rows);
    }
    const int nl = static_cast<int>(net.convs.size());
    const int lanes = lay.stride_lanes;
    lay.stages.resize(static_cast<size_t>(nl) + 1);
    lay.stages[0].pixel_stride = net.in_channels;
    for (int l = 0; l < nl; ++l) {
        const ConvLayer &c = lay.own_convs.empty() ? net.convs[static_cast<size_t>(l)]
                                                   : lay.own_convs[static_cast<size_t>(l)];
        Layer L;
        L.conv = &c;
        L.pad = c.pad();
        // Winograd needs its input channels vectorised (not the raw plane).
        // bf16 runs every layer direct: its rounded transforms would cost
        // more precision than the bound allows (and vdpbf16ps's pairs are
        // along the channels).
        const int in_stride = lay.stages[static_cast<size_t>(l)].pixel_stride;
        L.winograd = !bf16 && c.kernel == 3 && in_stride % lanes == 0;
        // A few output maps (the last layer's r²) on activations: dot products.
        L.dot = !bf16 && !L.winograd && fast::dot_row_applies(c.out_channels, c.in_channels, in_stride, lanes);
        L.chunk_rows = L.winograd ? fast::kWinoOut : 1;
        // Channels padded to the widest candidate's vector: every candidate
        // reads and writes the same layout (its own lanes divide it).
        const size_t padded = static_cast<size_t>((c.out_channels + lanes - 1) / lanes * lanes);
        for (const KernelTable *t : lay.tables) {
            LayerKernel k;
            k.table = t;
            k.out_vectors = static_cast<int>(padded) / t->lanes;
            const int po = static_cast<int>(padded);
            k.weights = L.winograd ? fast::pack_winograd_weights(c, t->lanes, t->max_group_vectors, po)
                        : L.dot    ? fast::pack_dot_weights(c, in_stride)
                                   : fast::pack_direct_weights(c, t->lanes, t->max_group_vectors, po);
            L.kernels.push_back(std::move(k));
        }
        L.bias.assign(padded, 0.0f);
        std::copy(c.bias.begin(), c.bias.end(), L.bias.begin());
        if (c.activation == Activation::prelu) {
            L.slope.assign(padded, 0.0f);
            std::copy(c.prelu_slope.begin(), c.prelu_slope.end(), L.slope.begin());
        }
        Stage &out = lay.stages[static_cast<size_t>(l) + 1];
        out.pixel_stride = static_cast<int>(padded);
        out.chunk_rows = L.chunk_rows;
        lay.layers.push_back(std::move(L));
    }
    // Ring depth of stage s: its consumer's window (the consumer's chunk plus
    // 2·pad rows) plus what one producer step may run ahead.
    for (int s = 0; s <= nl; ++s) {
        Stage &S = lay.stages[static_cast<size_t>(s)];
        if (s == nl) {
            S.ring_rows = S.chunk_rows;  // the encoder takes one row at a time
        } else {
            const Layer &consumer = lay.layers[static_cast<size_t>(s)];
            S.ring_rows = consumer.chunk_rows + 2 * consumer.pad + S.chunk_rows - 1;
        }
    }
    // Winograd tiles of layer l start on a fixed grid, the same for every work
    // item (so no output depends on the tiling). With work items starting at
    // multiples of 4, layer l's output begins Σ (pads of the layers after it)
    // before the item: putting the grid there makes the tiles fit exactly.
    int after = 0;
    for (int l = nl - 1; l >= 0; --l) {
        Layer &L = lay.layers[static_cast<size_t>(l)];
        L.grid = ((-after) % fast::kWinoOut + fast::kWinoOut) % fast::kWinoOut;
        after += L.pad;
    }
    return lay;
}

FastBackend::FastBackend(std::shared_ptr<const Network> net, const BackendConfig &cfg,
                         std::vector<const KernelTable *> tables)
    : net_(std::move(net)), log_(cfg.log),
      pool_(cfg.pool ? cfg.pool
                     : std::make_shared<WorkerPool>(cfg.threads > 0 ? cfg.threads : omp_get_num_procs())),
      threads_(pool_->threads()), cancel_(cfg.cancel),
      worker_budget_(cfg.memory_budget ? std::min(kWorkerBudgetBytes, cfg.memory_budget / static_cast<size_t>(threads_))
                                       : kWorkerBudgetBytes) {
    bf16_ = cfg.precision == ESPCN_PRECISION_BF16;
    layouts_.push_back(make_layout(*net_, tables, bf16_));
    // A budget the full layout does not fit may fit the narrower tables'
    // (8-float strides and 12-column margins instead of 16 and 24): the same
    // bits, a little slower, rather than a refusal where an AVX2 CPU runs.
    std::vector<const KernelTable *> narrow;
    for (const KernelTable *t : tables)
        if (t->lanes <= 8 && t->block_rows <= 12) narrow.push_back(t);
    if (!narrow.empty() && narrow.size() < tables.size()) layouts_.push_back(make_layout(*net_, narrow, bf16_));
    layout_ = &layouts_.front();
    chosen_.assign(net_->convs.size(), 0);
    measure_ = tuning_enabled();
}

FastBackend::~FastBackend() = default;

std::vector<bool> FastBackend::winograd_layers() const {
    std::vector<bool> w;
    for (const Layer &L : layout_->layers) w.push_back(L.winograd);
    return w;
}

std::vector<bool> FastBackend::dot_layers() const {
    std::vector<bool> d;
    for (const Layer &L : layout_->layers) d.push_back(L.dot);
    return d;
}

void FastBackend::set_tiling(const FastTiling &t) {
    tiling_ = t;
    plan_ = Plan{};
    workers_.clear();
}

void FastBackend::force_tables(std::vector<int> per_layer) {
    forced_ = std::move(per_layer);
    plan_ = Plan{};  // re-tune (or not) on the next frame
    workers_.clear();
}

std::vector<int> FastBackend::layer_tables() const { return chosen_; }

std::string FastBackend::details() const {
    std::string s = "kernels ";
    for (const KernelTable *t : layout_->tables)
        s += concat(t == layout_->tables.front() ? "" : ", ", t->name, " (", t->lanes, " floats, ",
                    t->block_rows, " accumulators)");
    s += concat("; ", bf16_ ? "bf16" : "fp32", "; ", threads_, " thread(s)");
    if (plan_.width > 0)
        s += concat("; ", plan_.width, "x", plan_.height, ": ",
                    tuner_.done() ? tuner_.description() : std::string("measuring its candidates on its first frames"),
                    "; ", plan_.items.size(), " work items of ", plan_.strip_width, " columns");
    return s;
}

std::string FastBackend::plan_description() const { return tuner_.description(); }

size_t FastBackend::state_bytes() const {
    size_t floats = decode_lut_.size();
    for (const Layout &lay : layouts_)
        for (const Layer &L : lay.layers) {
            floats += L.bias.size() + L.slope.size();
            for (const LayerKernel &k : L.kernels) floats += k.weights.size();
        }
    return floats * sizeof(float);
}

namespace {

// The grid point at or before v, of the grid {grid + 4k}.
int grid_floor(int v, int grid) {
    const int q = fast::kWinoOut;
    return v - (((v - grid) % q) + q) % q;
}

}  // namespace

void FastBackend::stage_spans(const Layout &lay, int begin, int end, int limit,
                              std::vector<Span> &read, std::vector<Span> &computed) {
    const int nl = static_cast<int>(lay.layers.size());
    read.resize(static_cast<size_t>(nl) + 1);
    computed.resize(static_cast<size_t>(nl) + 1);
    read[static_cast<size_t>(nl)] = computed[static_cast<size_t>(nl)] = {begin, end};
    for (int s = nl - 1; s >= 0; --s) {
        const Layer &consumer = lay.layers[static_cast<size_t>(s)];
        const Span out = computed[static_cast<size_t>(s) + 1];
        Span in;
        if (consumer.winograd) {
            // Whole tiles of the layer's grid, and their 6-wide footprints.
            in.begin = grid_floor(out.begin, consumer.grid) - 1;
            in.end = grid_floor(out.end + fast::kWinoOut - 1, consumer.grid) + 1;
        } else {
            in = {out.begin - consumer.pad, out.end + consumer.pad};
        }
        read[static_cast<size_t>(s)] = in;
        computed[static_cast<size_t>(s)] = {std::max(0, in.begin), std::min(limit, in.end)};
    }
}

std::vector<int> FastBackend::buffer_widths(const Layout &lay, int strip_width) {
    // An item in the middle of an unbounded row, starting on a multiple of 4.
    const int x0 = 1 << 20;
    std::vector<Span> read, computed;
    stage_spans(lay, x0, x0 + strip_width, 1 << 30, read, computed);
    std::vector<int> widths;
    for (const Span &r : read) widths.push_back(r.end - r.begin + lay.margin);
    return widths;
}

size_t FastBackend::worker_floats(const Layout &lay, const std::vector<int> &buffer_width) {
    size_t floats = 0;
    size_t zero = 0;
    int k_max = 0, n_max = 0;
    for (size_t s = 0; s < lay.stages.size(); ++s) {
        const Stage &S = lay.stages[s];
        const size_t row = static_cast<size_t>(round_up(buffer_width[s] * S.pixel_stride, 16));
        floats += row * static_cast<size_t>(S.ring_rows);
        zero = std::max(zero, row);
    }
    for (size_t l = 0; l < lay.layers.size(); ++l)
        if (lay.layers[l].winograd) {
            k_max = std::max(k_max, lay.stages[l].pixel_stride);
            n_max = std::max(n_max, lay.stages[l + 1].pixel_stride);
        }
    floats += zero;
    floats += static_cast<size_t>(fast::kWinoPositions) * lay.max_tile_batch * (k_max + n_max);
    floats += fast::winograd_input_scratch_floats(lay.max_tile_batch, lay.stride_lanes);
    floats += static_cast<size_t>(buffer_width.back());  // the residual's input row
    return floats + 16 * (lay.stages.size() + 8);  // alignment slack
}

FastBackend::Plan FastBackend::make_plan(const Layout &lay, int width, int height, int strip) const {
    Plan p;
    p.width = width;
    p.height = height;
    const int q = fast::kWinoOut;
    if (strip <= 0) {
        // Strips of about kStripWidth, at most 4 per thread (a thread slowed
        // by a neighbour's load is compensated by the others), narrower when
        // their buffers would not fit the budget (kWorkerBudgetBytes, or the
        // context's memory budget shared by the threads); multiples of 4.
        const int strips = std::clamp(ceil_div(width, kStripWidth), 1, 4 * threads_);
        strip = round_up(ceil_div(width, strips), q);
        while (strip > kMinStripWidth &&
               worker_floats(lay, buffer_widths(lay, strip)) * sizeof(float) > worker_budget_)
            strip = std::max(kMinStripWidth, round_up(strip * 3 / 4, q));
        strip = round_up(ceil_div(width, ceil_div(width, strip)), q);
    }
    p.strip_width = std::min(strip, width);
    const int strips = ceil_div(width, p.strip_width);
    int band = tiling_.band_rows;
    if (band <= 0) {
        // Bands only when there are too few strips for the threads.
        const int bands = strips >= 2 * threads_ ? 1 : ceil_div(2 * threads_, strips);
        band = std::max(32, round_up(ceil_div(height, bands), q));
    }
    p.band_rows = std::min(band, height);
    for (int y = 0; y < height; y += p.band_rows)
        for (int x = 0; x < width; x += p.strip_width)
            p.items.push_back({x, std::min(width, x + p.strip_width), y, std::min(height, y + p.band_rows)});
    // Buffers as wide as the widest item needs (items off the grid of 4, from
    // a forced tiling, need a few columns more than buffer_widths says).
    p.buffer_width = buffer_widths(lay, p.strip_width);
    std::vector<Span> read, computed;
    for (const Item &it : p.items) {
        stage_spans(lay, it.x0, it.x1, width, read, computed);
        for (size_t s = 0; s < read.size(); ++s)
            p.buffer_width[s] = std::max(p.buffer_width[s], read[s].end - read[s].begin + lay.margin);
    }
    p.worker_floats = worker_floats(lay, p.buffer_width);
    // Only the workers that get items hold buffers (WorkerPool::run).
    p.workers = pool_->workers_for(static_cast<int>(p.items.size()));
    return p;
}

const FastBackend::Layout &FastBackend::layout_for(int width, int height) const {
    for (const Layout &lay : layouts_) {
        const Plan p = make_plan(lay, width, height, tiling_.strip_width);
        if (p.worker_floats * sizeof(float) <= worker_budget_) return lay;
    }
    return layouts_.back();
}

Status FastBackend::allocate_workers(int width, int height, int strip_width) {
    workers_.clear();
    const Layout &lay = *layout_;
    plan_ = make_plan(lay, width, height, strip_width);
    const int nl = static_cast<int>(lay.layers.size());
    const int candidates = static_cast<int>(lay.tables.size());
    for (int t = 0; t < plan_.workers; ++t) {
        auto w = std::make_unique<Worker>();
        w->memory = hwy::AllocateAligned<float>(plan_.worker_floats);
        ESPCN_RETURN_IF(!w->memory, ESPCN_ERROR_OUT_OF_MEMORY, "cpu-fast: cannot allocate ",
                        plan_.worker_floats * sizeof(float), " bytes of buffers for thread ", t);
        std::memset(w->memory.get(), 0, plan_.worker_floats * sizeof(float));
        float *p = w->memory.get();
        auto take = [&p](size_t n) {
            float *q = p;
            p += (n + 15) / 16 * 16;
            return q;
        };
        size_t zero = 0;
        for (size_t s = 0; s < lay.stages.size(); ++s) {
            const Stage &S = lay.stages[s];
            const int bw = plan_.buffer_width[s];
            const size_t row = static_cast<size_t>(round_up(bw * S.pixel_stride, 16));
            w->buffer_width.push_back(bw);
            w->row_floats.push_back(row);
            w->ring.push_back(take(row * static_cast<size_t>(S.ring_rows)));
            zero = std::max(zero, row);
        }
        w->zero_row = take(zero);
        int k_max = 0, n_max = 0;
        for (size_t l = 0; l < lay.layers.size(); ++l)
            if (lay.layers[l].winograd) {
                k_max = std::max(k_max, lay.stages[l].pixel_stride);
                n_max = std::max(n_max, lay.stages[l + 1].pixel_stride);
            }
        w->wino_v = take(static_cast<size_t>(fast::kWinoPositions) * lay.max_tile_batch * k_max);
        w->wino_m = take(static_cast<size_t>(fast::kWinoPositions) * lay.max_tile_batch * n_max);
        w->wino_scratch = take(fast::winograd_input_scratch_floats(lay.max_tile_batch, lay.stride_lanes));
        w->residual_row = take(static_cast<size_t>(plan_.buffer_width.back()));
        ESPCN_RETURN_IF(p > w->memory.get() + plan_.worker_floats, ESPCN_ERROR_INTERNAL,
                        "cpu-fast: worker buffers overrun their allocation");
        w->st.resize(lay.stages.size());
        w->read_spans.resize(lay.stages.size());  // no allocation inside the parallel region
        w->computed_spans.resize(lay.stages.size());
        w->calls.assign(static_cast<size_t>(nl), 0);
        w->column_rows.assign(static_cast<size_t>(nl), 0.0);
        w->rates.assign(static_cast<size_t>(nl), std::vector<std::vector<float>>(static_cast<size_t>(candidates)));
        for (auto &per_layer : w->rates)
            for (auto &samples : per_layer) samples.reserve(kRateSamples);
        workers_.push_back(std::move(w));
    }
    log_.debug(concat("cpu-fast: ", width, "x", height, " in ", plan_.items.size(), " items of ",
                      plan_.strip_width, " columns x ", plan_.band_rows, " rows, ",
                      plan_.worker_floats * sizeof(float) / 1024, " KiB per thread, ", plan_.workers,
                      " thread(s)"));
    return Status::ok();
}

Status FastBackend::configure(int width, int height) {
    if (plan_.width == width && plan_.height == height && !workers_.empty()) return Status::ok();
    const Layout &lay = layout_for(width, height);
    if (&lay != layout_) {
        layout_ = &lay;
        chosen_.assign(layout_->layers.size(), 0);
    }
    const int nl = static_cast<int>(lay.layers.size());
    const int candidates = static_cast<int>(lay.tables.size());
    std::string names;
    for (const KernelTable *t : lay.tables) names += concat(names.empty() ? "" : ",", t->name);
    TuneKey key;
    key.model = fingerprint_network(*net_);
    key.width = width;
    key.height = height;
    key.threads = threads_;
    key.budget = worker_budget_;
    key.tables = names + (lay.bf16 ? "+bf16" : "");
    key.layers = nl;
    // A wider strip (one per thread) halves the halo columns each layer
    // recomputes but leaves no items to balance a slowed thread: the tuner
    // measures it, where it fits the budget and differs from the rule's.
    key.wide_strip = wide_strip(lay, width, height);
    if (!forced_.empty()) {
        tuner_.reset(key, 1, false, log_);
        rotating_ = timing_ = false;
        chosen_.assign(static_cast<size_t>(nl), 0);
        for (size_t l = 0; l < chosen_.size() && l < forced_.size(); ++l)
            chosen_[l] = std::clamp(forced_[l], 0, candidates - 1);
        chosen_strip_ = 0;
    } else {
        tuner_.reset(key, candidates, measure_, log_);
        chosen_strip_ = tuner_.next().strip_width;
    }
    ESPCN_RETURN_IF_ERROR(allocate_workers(width, height, tiling_.strip_width ? tiling_.strip_width : chosen_strip_));
    if (forced_.empty()) {
        ESPCN_RETURN_IF_ERROR(apply(tuner_.next()));
        if (tuner_.done()) log_.info(concat("cpu-fast: ", width, "x", height, ": ", tuner_.description()));
    }
    log_.debug(concat("cpu-fast candidates ", names));
    return Status::ok();
}

Status FastBackend::apply(const FastTuner::Choice &c) {
    rotating_ = c.rotate;
    timing_ = !tuner_.done();
    if (!c.rotate) chosen_ = c.tables;
    if (tiling_.strip_width <= 0 && c.strip_width != chosen_strip_) {
        chosen_strip_ = c.strip_width;
        ESPCN_RETURN_IF_ERROR(allocate_workers(plan_.width, plan_.height, chosen_strip_));
    }
    if (timing_)
        for (auto &w : workers_) {
            std::fill(w->calls.begin(), w->calls.end(), 0);
            std::fill(w->column_rows.begin(), w->column_rows.end(), 0.0);
            for (auto &per_layer : w->rates)
                for (auto &samples : per_layer) samples.clear();
        }
    return Status::ok();
}

int FastBackend::wide_strip(const Layout &lay, int width, int height) const {
    if (tiling_.strip_width > 0) return 0;
    const int wide = round_up(ceil_div(width, threads_), fast::kWinoOut);
    if (wide >= width || wide <= make_plan(lay, width, height, 0).strip_width ||
        make_plan(lay, width, height, wide).worker_floats * sizeof(float) > worker_budget_)
        return 0;
    return wide;
}

std::optional<FrameMemory> FastBackend::frame_memory(int width, int height) const {
    // The rule's plan, or the wide strips the tuner may choose (the larger).
    const Layout &lay = layout_for(width, height);
    Plan p = make_plan(lay, width, height, tiling_.strip_width);
    if (const int wide = wide_strip(lay, width, height)) {
        const Plan w = make_plan(lay, width, height, wide);
        if (w.worker_floats * static_cast<size_t>(w.workers) > p.worker_floats * static_cast<size_t>(p.workers))
            p = w;
    }
    return FrameMemory{p.worker_floats * sizeof(float) * static_cast<size_t>(p.workers), true, p.workers};
}

void FastBackend::decode_row(Worker &w, int y, Planes in) const {
    Worker::StageState &s = w.st[0];
    const int channels = static_cast<int>(in.size());
    float *dst = w.slot(0, y, layout_->stages[0].ring_rows) +
                 static_cast<ptrdiff_t>(s.col_begin - s.origin) * channels;
    const int n = s.col_end - s.col_begin;
    for (int c = 0; c < channels; ++c)
        decode_samples(in[static_cast<size_t>(c)], y, s.col_begin, n, dst + c, channels);
    // bf16: the network's input too (the residual decodes again, in fp32).
    if (layout_->bf16)
        for (int x = 0; x < n * channels; ++x) dst[x] = fast::round_to_bf16(dst[x]);
}

void FastBackend::decode_samples(const espcn_plane &in, int y, int x0, int n, float *dst, int stride) const {
    const uint8_t *row = static_cast<const uint8_t *>(in.data) + static_cast<ptrdiff_t>(y) * in.stride;
    const uint32_t maxv = max_sample(in.bit_depth);
    const ptrdiff_t step = stride;
    if (in.bit_depth == 8) {
        const uint8_t *src = row + x0;
        for (int x = 0; x < n; ++x) dst[x * step] = decode_lut_[src[x]];
    } else {
        const uint16_t *src = reinterpret_cast<const uint16_t *>(row) + x0;
        const int shift = in.shift;
        if (in.bit_depth == decode_lut_bits_) {
            for (int x = 0; x < n; ++x) dst[x * step] = decode_lut_[(src[x] >> shift) & maxv];
        } else {
            for (int x = 0; x < n; ++x) dst[x * step] = decode_sample((src[x] >> shift) & maxv, maxv, net_->range);
        }
    }
}

void FastBackend::run_direct(Worker &w, int layer, int y, int candidate) const {
    const std::vector<Stage> &stages_ = layout_->stages;
    const Layer &L = layout_->layers[static_cast<size_t>(layer)];
    const LayerKernel &K = L.kernels[static_cast<size_t>(candidate)];
    const int in_stage = layer, out_stage = layer + 1;
    const Stage &SI = stages_[static_cast<size_t>(in_stage)];
    const Worker::StageState &si = w.st[static_cast<size_t>(in_stage)];
    const Worker::StageState &so = w.st[static_cast<size_t>(out_stage)];
    const float *rows[64];
    const int k = L.conv->kernel;
    const ptrdiff_t col = static_cast<ptrdiff_t>(so.col_begin - L.pad - si.origin) * SI.pixel_stride;
    for (int ky = 0; ky < k; ++ky) rows[ky] = w.row(in_stage, y + ky - L.pad, SI.ring_rows) + col;
    fast::DirectRowArgs a;
    a.rows = rows;
    a.in_pixel_stride = SI.pixel_stride;
    a.in_channels = L.conv->in_channels;
    a.kernel = k;
    a.weights = K.weights.data();
    a.out_vectors = K.out_vectors;
    a.out_channels = L.conv->out_channels;
    a.bf16 = layout_->bf16;
    // bf16: every activation a later layer reads is rounded; the last
    // layer's sums go to the encoder in fp32.
    a.epilogue = {L.bias.data(), L.slope.empty() ? nullptr : L.slope.data(), L.conv->activation,
                  layout_->bf16 && layer + 1 < static_cast<int>(layout_->layers.size())};
    const Stage &SO = stages_[static_cast<size_t>(out_stage)];
    a.out = w.slot(out_stage, y, SO.ring_rows) +
            static_cast<ptrdiff_t>(so.col_begin - so.origin) * SO.pixel_stride;
    a.out_pixel_stride = SO.pixel_stride;
    a.width = so.col_end - so.col_begin;
    if (L.dot) K.table->dot_row(a);
    else K.table->direct_row(a);
}

void FastBackend::run_winograd(Worker &w, int layer, int y, int candidate) const {
    const std::vector<Stage> &stages_ = layout_->stages;
    const Layer &L = layout_->layers[static_cast<size_t>(layer)];
    const LayerKernel &K = L.kernels[static_cast<size_t>(candidate)];
    const int lanes = K.table->lanes, tile_batch = K.table->block_rows;
    const int in_stage = layer, out_stage = layer + 1;
    const Stage &SI = stages_[static_cast<size_t>(in_stage)];
    const Stage &SO = stages_[static_cast<size_t>(out_stage)];
    const Worker::StageState &si = w.st[static_cast<size_t>(in_stage)];
    const Worker::StageState &so = w.st[static_cast<size_t>(out_stage)];
    // Tiles on the layer's grid: the first starts at or left of col_begin.
    const int grid_col = grid_floor(so.col_begin, L.grid);
    const ptrdiff_t in_col = static_cast<ptrdiff_t>(grid_col - 1 - si.origin) * SI.pixel_stride;
    const ptrdiff_t out_col = static_cast<ptrdiff_t>(grid_col - so.origin) * SO.pixel_stride;
    const float *in_rows[fast::kWinoTile];
    float *out_rows[fast::kWinoOut];
    for (int j = 0; j < fast::kWinoTile; ++j) in_rows[j] = w.row(in_stage, y - 1 + j, SI.ring_rows) + in_col;
    for (int i = 0; i < fast::kWinoOut; ++i)
        out_rows[i] = y + i >= so.row_begin && y + i < so.row_end
                          ? w.slot(out_stage, y + i, SO.ring_rows) + out_col
                          : nullptr;
    const int first = so.col_begin - grid_col, end = so.col_end - grid_col;
    const int tiles = ceil_div(end, fast::kWinoOut);
    // Buffer strides from the layout (the same for every candidate).
    const int k_vectors = ceil_div(L.conv->in_channels, lanes);
    const ptrdiff_t k_stride = SI.pixel_stride;
    const ptrdiff_t n_stride = SO.pixel_stride;
    // V tile-major: each tile's 36 positions are contiguous, so the input
    // transform streams through memory and the GEMM strides across tiles.
    const fast::WinogradLayout v_layout{fast::kWinoPositions * k_stride, k_stride};
    // M position-major (a position's tiles contiguous): the GEMM's stores of
    // a block go to one run of memory (AVX-512, 16 maps: 9.3 ns per
    // column-row instead of 12.2 tile-major); the output transform reads it.
    const fast::WinogradLayout m_layout{n_stride, layout_->max_tile_batch * n_stride};
    for (int t0 = 0; t0 < tiles; t0 += tile_batch) {
        const int n = std::min(tile_batch, tiles - t0);
        const float *rows[fast::kWinoTile];
        for (int j = 0; j < fast::kWinoTile; ++j)
            rows[j] = in_rows[j] + static_cast<ptrdiff_t>(4 * t0) * SI.pixel_stride;
        fast::WinogradInputArgs in;
        in.rows = rows;
        in.in_pixel_stride = SI.pixel_stride;
        in.channel_vectors = k_vectors;
        in.tiles = n;
        in.v = w.wino_v;
        in.v_layout = v_layout;
        in.scratch = w.wino_scratch;
        K.table->winograd_input(in);

        fast::WinogradGemmArgs g;
        g.v = w.wino_v;
        g.v_layout = v_layout;
        g.tiles = n;
        g.in_channels = L.conv->in_channels;
        g.u = K.weights.data();
        g.out_vectors = K.out_vectors;
        g.m = w.wino_m;
        g.m_layout = m_layout;
        K.table->winograd_gemm(g);

        fast::WinogradOutputArgs o;
        o.m = w.wino_m;
        o.m_layout = m_layout;
        o.out_vectors = K.out_vectors;
        o.tiles = n;
        o.epilogue = {L.bias.data(), L.slope.empty() ? nullptr : L.slope.data(), L.conv->activation};
        for (int i = 0; i < fast::kWinoOut; ++i)
            o.rows[i] = out_rows[i] ? out_rows[i] + static_cast<ptrdiff_t>(4 * t0) * SO.pixel_stride : nullptr;
        o.out_pixel_stride = SO.pixel_stride;
        o.col_begin = first - 4 * t0;
        o.col_end = end - 4 * t0;
        K.table->winograd_output(o);
    }
}

void FastBackend::produce(Worker &w, int stage, int until, Planes in) const {
    Worker::StageState &s = w.st[static_cast<size_t>(stage)];
    until = std::min(until, s.row_end);
    while (s.next_row < until) {
        const int y = s.next_row;
        if (stage == 0) {
            decode_row(w, y, in);
            s.next_row += 1;
            continue;
        }
        const int layer = stage - 1;
        const Layer &L = layout_->layers[static_cast<size_t>(layer)];
        // The input rows this step reads: [y − pad, y + chunk + pad).
        produce(w, stage - 1, y + L.chunk_rows + L.pad, in);
        if (!timing_) {
            const int c = chosen_[static_cast<size_t>(layer)];
            if (L.winograd) run_winograd(w, layer, y, c);
            else run_direct(w, layer, y, c);
        } else {
            // A tuning frame: each call timed per column-row it computes
            // (short calls: a preempted one is an outlier the median drops);
            // in the first, the candidates take turns (the same bits).
            const int candidates = static_cast<int>(L.kernels.size());
            const int c = rotating_ ? w.calls[static_cast<size_t>(layer)]++ % candidates
                                    : chosen_[static_cast<size_t>(layer)];
            const auto t0 = std::chrono::steady_clock::now();
            if (L.winograd) run_winograd(w, layer, y, c);
            else run_direct(w, layer, y, c);
            const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
            const double column_rows = static_cast<double>(s.col_end - s.col_begin) * L.chunk_rows;
            w.column_rows[static_cast<size_t>(layer)] += column_rows;
            std::vector<float> &samples = w.rates[static_cast<size_t>(layer)][static_cast<size_t>(c)];
            if (column_rows > 0 && samples.size() < samples.capacity())
                samples.push_back(static_cast<float>(ns / column_rows));
        }
        s.next_row += L.chunk_rows;
    }
}

void FastBackend::encode_row(Worker &w, int y, const Item &item, Planes in, Planes out) const {
    const int r = net_->scale;
    const int nl = static_cast<int>(layout_->layers.size());
    const Stage &S = layout_->stages.back();
    const Worker::StageState &s = w.st.back();
    const float *lr = w.row(nl, y, S.ring_rows) + static_cast<ptrdiff_t>(item.x0 - s.origin) * S.pixel_stride;
    // Image channel c's r² maps are LR channels [c·r², (c + 1)·r²) (CRD, or
    // made so by the layout): each is a one-channel encode of its own plane.
    for (size_t c = 0; c < out.size(); ++c) {
        const espcn_plane &o = out[c];
        const int bytes = o.bit_depth > 8 ? 2 : 1;
        uint8_t *rows[kMaxScale];
        for (int i = 0; i < r; ++i)
            rows[i] = static_cast<uint8_t *>(o.data) + static_cast<ptrdiff_t>(r * y + i) * o.stride +
                      static_cast<ptrdiff_t>(r) * item.x0 * bytes;
        fast::EncodeRowArgs a;
        a.lr = lr + static_cast<ptrdiff_t>(c) * r * r;
        a.pixel_stride = S.pixel_stride;
        a.width = item.x1 - item.x0;
        a.scale = r;
        a.range = net_->range;
        a.bit_depth = o.bit_depth;
        a.shift = o.shift;
        a.out_rows = rows;
        if (net_->residual == Residual::nearest) {
            // The input row is not kept in stage 0's ring this late (it holds
            // the rows the first layer reads): decode it again, as the reference
            // backend's residual reads the decoded input.
            decode_samples(in[c], y, item.x0, item.x1 - item.x0, w.residual_row);
            a.residual = w.residual_row;
        }
        // Every table encodes with the same operations: the best one's.
        layout_->tables.front()->encode_row(a);
    }
}

void FastBackend::run_item(Worker &w, const Item &item, Planes in, Planes out,
                           bool asks_cancel, std::atomic<bool> &stop) const {
    // What each stage must compute, from the output back to the input: a
    // direct layer reads its window (± pad); a Winograd layer computes whole
    // tiles of its fixed grid and reads their 6×6 footprints. Every value is
    // then computed by the same operations whatever the work items are, so
    // the output does not depend on the tiling or the thread count.
    const std::vector<Stage> &stages_ = layout_->stages;
    const std::vector<Layer> &layers_ = layout_->layers;
    std::vector<Span> &read = w.read_spans, &computed = w.computed_spans;
    stage_spans(*layout_, item.y0, item.y1, plan_.height, read, computed);
    for (size_t s = 0; s < stages_.size(); ++s) {
        w.st[s].row_begin = computed[s].begin;
        w.st[s].row_end = computed[s].end;
    }
    stage_spans(*layout_, item.x0, item.x1, plan_.width, read, computed);
    for (size_t s = 0; s < stages_.size(); ++s) {
        const Stage &S = stages_[s];
        Worker::StageState &st = w.st[s];
        st.col_begin = computed[s].begin;
        st.col_end = computed[s].end;
        st.origin = read[s].begin;
        // A Winograd layer steps through rows on its grid.
        st.next_row = s > 0 && layers_[s - 1].winograd ? grid_floor(st.row_begin, layers_[s - 1].grid)
                                                       : st.row_begin;
        // Columns outside [col_begin, col_end) must read as zeros (the image's
        // zero padding; beyond the strip they only feed discarded outputs).
        // Layers write only inside, so a ring stays clean until the strip's
        // geometry changes.
        const int left = st.col_begin - st.origin, right = st.col_end - st.origin;
        if (left != st.zeroed_left || right != st.zeroed_right) {
            const size_t ps = static_cast<size_t>(S.pixel_stride);
            const size_t bw = static_cast<size_t>(w.buffer_width[s]);
            for (int r = 0; r < S.ring_rows; ++r) {
                float *row = w.ring[s] + static_cast<size_t>(r) * w.row_floats[s];
                std::memset(row, 0, static_cast<size_t>(left) * ps * sizeof(float));
                std::memset(row + static_cast<size_t>(right) * ps, 0,
                            (bw - static_cast<size_t>(right)) * ps * sizeof(float));
            }
            st.zeroed_left = left;
            st.zeroed_right = right;
        }
    }
    const int last = static_cast<int>(layers_.size());
    for (int y = item.y0; y < item.y1; ++y) {
        // The caller's cancel callback, every kCancelRows output rows, asked
        // only on the calling thread (worker 0: espcn.h promises the thread
        // processing the plane); the other workers see its answer in `stop`.
        if ((y - item.y0) % kCancelRows == 0) {
            if (stop.load(std::memory_order_relaxed)) return;
            if (asks_cancel && cancel_.requested()) {  // asked no more once it said stop
                stop.store(true, std::memory_order_relaxed);
                return;
            }
        }
        produce(w, last, y + 1, in);
        encode_row(w, y, item, in, out);
    }
}

Status FastBackend::process(Planes planes_in, Planes out) {
    const espcn_plane &in = planes_in.front();
    ESPCN_RETURN_IF(planes_in.size() != static_cast<size_t>(net_->in_channels) ||
                        out.size() != static_cast<size_t>(net_->out_channels),
                    ESPCN_ERROR_INTERNAL, "cpu-fast: a pass of ", planes_in.size(), " -> ", out.size(),
                    " planes for a network of ", net_->in_channels, " -> ", net_->out_channels);
    for (const espcn_plane &p : planes_in)
        ESPCN_RETURN_IF(p.bit_depth != in.bit_depth || p.width != in.width || p.height != in.height,
                        ESPCN_ERROR_INVALID_ARGUMENT, "cpu-fast: the input planes of a pass differ in size or depth");
    ESPCN_RETURN_IF_ERROR(configure(in.width, in.height));
    // Samples of up to 12 bits decode through a table (exactly decode_sample).
    const int lut_bits = in.bit_depth <= 12 ? in.bit_depth : 0;
    if (lut_bits != decode_lut_bits_ || decode_lut_.empty()) {
        decode_lut_.clear();
        if (lut_bits) {
            const uint32_t maxv = max_sample(lut_bits);
            decode_lut_.resize(static_cast<size_t>(maxv) + 1);
            for (uint32_t v = 0; v <= maxv; ++v) decode_lut_[v] = decode_sample(v, maxv, net_->range);
        }
        decode_lut_bits_ = lut_bits;
    }
    std::atomic<bool> stop{false};
    const auto t0 = std::chrono::steady_clock::now();
    Status ran = pool_->run(static_cast<int>(plan_.items.size()), [&](int item, int worker) {
        const fast::FlushDenormals bf16_mode(layout_->bf16);
        run_item(*workers_[static_cast<size_t>(worker)], plan_.items[static_cast<size_t>(item)], planes_in, out,
                 worker == 0, stop);
    });
    ESPCN_RETURN_IF_ERROR(ran);
    if (stop.load()) return cancelled();
    if (!tuner_.done()) {
        FastTuner::FrameTimes times;
        times.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // Per layer and candidate, the median over every worker's calls.
        times.rates.assign(layout_->layers.size(), std::vector<double>(layout_->tables.size(), -1.0));
        times.column_rows.assign(layout_->layers.size(), 0.0);
        std::vector<float> all;
        for (size_t l = 0; l < times.rates.size(); ++l) {
            for (const auto &w : workers_) times.column_rows[l] += w->column_rows[l];
            for (size_t c = 0; c < times.rates[l].size(); ++c) {
                all.clear();
                for (const auto &w : workers_) all.insert(all.end(), w->rates[l][c].begin(), w->rates[l][c].end());
                if (all.empty()) continue;
                std::nth_element(all.begin(), all.begin() + static_cast<ptrdiff_t>(all.size() / 2), all.end());
                times.rates[l][c] = all[all.size() / 2];
            }
        }
        tuner_.record(times);
        ESPCN_RETURN_IF_ERROR(apply(tuner_.next()));
        if (tuner_.done())
            log_.info(concat("cpu-fast: ", in.width, "x", in.height, ": ", tuner_.description()));
    }
    return Status::ok();
}

bool cpu_fast_preferred() {
    return fast::best_kernel_table(CpuIsa::avx512)->vector_unit;
}

Result<std::unique_ptr<CpuBackend>> make_cpu_fast_backend(std::shared_ptr<const Network> net,
                                                          const BackendConfig &cfg) {
    CpuIsa max_isa;
    if (cfg.max_cpu_isa) {
        max_isa = *cfg.max_cpu_isa;
    } else {
        Result<CpuIsa> env = isa_from_environment();
        ESPCN_RETURN_IF_ERROR(env.status());
        max_isa = env.value();
    }
    ESPCN_RETURN_IF(net->in_channels != net->out_channels || net->in_channels > kMaxPassPlanes,
                    ESPCN_ERROR_UNSUPPORTED, "cpu-fast: the network maps ", net->in_channels, " to ",
                    net->out_channels, " planes; it runs networks of as many planes out as in");
    for (const ConvLayer &c : net->convs)
        ESPCN_RETURN_IF(c.kernel > 63, ESPCN_ERROR_UNSUPPORTED, "cpu-fast: kernel ", c.kernel,
                        " is larger than 63");
    // The candidates: every table this CPU runs, at most max_isa; the
    // portable baseline only where there is no vector unit.
    const std::vector<const KernelTable *> tables = fast::candidate_kernel_tables(max_isa);
    auto backend = std::make_unique<FastBackend>(std::move(net), cfg, tables);
    // One narrow item: one worker's buffers.
    const size_t worst = backend->frame_memory(kMinStripWidth, 1)->bytes;
    ESPCN_RETURN_IF(worst > kMaxWorkerBytes, ESPCN_ERROR_UNSUPPORTED, "cpu-fast: the network needs ",
                    worst >> 20, " MiB per thread even in ", kMinStripWidth,
                    "-column strips (limit ", kMaxWorkerBytes >> 20, " MiB)");
    std::string names;
    for (const KernelTable *t : tables)
        names += concat(names.empty() ? "" : ", ", t->name, " (", t->lanes, " floats, ", t->block_rows,
                        " accumulators)");
    cfg.log.debug(concat("cpu-fast: candidate kernels ", names));
    return std::unique_ptr<CpuBackend>(std::move(backend));
}

}  // namespace espcn
