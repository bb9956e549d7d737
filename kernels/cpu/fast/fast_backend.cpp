#include "fast_backend.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include <omp.h>

#include "../../core/model_loader.hpp"

namespace espcn {

using fast::KernelTable;

namespace {

constexpr int kMaxCpuIsaNameLength = 16;

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
    if (v == "avx512") return CpuIsa::avx512;
    if (v == "avx2") return CpuIsa::avx2;
    if (v == "baseline") return CpuIsa::baseline;
    return Status(ESPCN_ERROR_INVALID_ARGUMENT,
                  concat("ESPCN_CPU_ISA='", std::string(v.substr(0, kMaxCpuIsaNameLength)),
                         "' is not one of avx512, avx2, baseline"));
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
    int32_t *encode_scratch = nullptr;
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

FastBackend::FastBackend(std::shared_ptr<const Network> net, const BackendConfig &cfg,
                         const KernelTable *kernels)
    : net_(std::move(net)), log_(cfg.log), kernels_(kernels),
      pool_(cfg.pool ? cfg.pool
                     : std::make_shared<WorkerPool>(cfg.threads > 0 ? cfg.threads : omp_get_num_procs())),
      threads_(pool_->threads()), lanes_(kernels->lanes), cancel_(cfg.cancel),
      worker_budget_(cfg.memory_budget ? std::min(kWorkerBudgetBytes, cfg.memory_budget / static_cast<size_t>(threads_))
                                       : kWorkerBudgetBytes) {
    const int nl = static_cast<int>(net_->convs.size());
    stages_.resize(static_cast<size_t>(nl) + 1);
    stages_[0].pixel_stride = net_->in_channels;
    int max_pad = 0;
    for (int l = 0; l < nl; ++l) {
        const ConvLayer &c = net_->convs[static_cast<size_t>(l)];
        Layer L;
        L.conv = &c;
        L.pad = c.pad();
        max_pad = std::max(max_pad, L.pad);
        // Winograd needs its input channels vectorised (not the raw plane).
        const int in_stride = stages_[static_cast<size_t>(l)].pixel_stride;
        L.winograd = c.kernel == 3 && in_stride % lanes_ == 0;
        // A few output maps (the last layer's r²) on activations: dot products.
        L.dot = !L.winograd && fast::dot_row_applies(c.out_channels, c.in_channels, in_stride, lanes_);
        L.chunk_rows = L.winograd ? fast::kWinoOut : 1;
        L.out_vectors = (c.out_channels + lanes_ - 1) / lanes_;
        L.weights = L.winograd ? fast::pack_winograd_weights(c, lanes_, kernels_->max_group_vectors)
                    : L.dot    ? fast::pack_dot_weights(c, in_stride)
                               : fast::pack_direct_weights(c, lanes_, kernels_->max_group_vectors);
        const size_t padded = static_cast<size_t>(L.out_vectors) * lanes_;
        L.bias.assign(padded, 0.0f);
        std::copy(c.bias.begin(), c.bias.end(), L.bias.begin());
        if (c.activation == Activation::prelu) {
            L.slope.assign(padded, 0.0f);
            std::copy(c.prelu_slope.begin(), c.prelu_slope.end(), L.slope.begin());
        }
        Stage &out = stages_[static_cast<size_t>(l) + 1];
        out.pixel_stride = static_cast<int>(padded);
        out.chunk_rows = L.chunk_rows;
        layers_.push_back(std::move(L));
    }
    // Ring depth of stage s: its consumer's window (the consumer's chunk plus
    // 2·pad rows) plus what one producer step may run ahead.
    for (int s = 0; s <= nl; ++s) {
        Stage &S = stages_[static_cast<size_t>(s)];
        if (s == nl) {
            S.ring_rows = S.chunk_rows;  // the encoder takes one row at a time
        } else {
            const Layer &consumer = layers_[static_cast<size_t>(s)];
            S.ring_rows = consumer.chunk_rows + 2 * consumer.pad + S.chunk_rows - 1;
        }
    }
    // Winograd tiles of layer l start on a fixed grid, the same for every work
    // item (so no output depends on the tiling). With work items starting at
    // multiples of 4, layer l's output begins Σ (pads of the layers after it)
    // before the item: putting the grid there makes the tiles fit exactly.
    int after = 0;
    for (int l = nl - 1; l >= 0; --l) {
        Layer &L = layers_[static_cast<size_t>(l)];
        L.grid = ((-after) % fast::kWinoOut + fast::kWinoOut) % fast::kWinoOut;
        after += L.pad;
    }
    // Columns to spare right of every ring row: a direct block may run up to
    // block_rows − 1 pixels past what it reads for its last valid pixel.
    margin_ = kernels_->block_rows;
    tile_batch_ = kernels_->block_rows;
}

FastBackend::~FastBackend() = default;

std::vector<bool> FastBackend::winograd_layers() const {
    std::vector<bool> w;
    for (const Layer &L : layers_) w.push_back(L.winograd);
    return w;
}

std::vector<bool> FastBackend::dot_layers() const {
    std::vector<bool> d;
    for (const Layer &L : layers_) d.push_back(L.dot);
    return d;
}

void FastBackend::set_tiling(const FastTiling &t) {
    tiling_ = t;
    plan_ = Plan{};
    workers_.clear();
}

namespace {

// The grid point at or before v, of the grid {grid + 4k}.
int grid_floor(int v, int grid) {
    const int q = fast::kWinoOut;
    return v - (((v - grid) % q) + q) % q;
}

}  // namespace

void FastBackend::stage_spans(int begin, int end, int limit, std::vector<Span> &read,
                              std::vector<Span> &computed) const {
    const int nl = static_cast<int>(layers_.size());
    read.resize(static_cast<size_t>(nl) + 1);
    computed.resize(static_cast<size_t>(nl) + 1);
    read[static_cast<size_t>(nl)] = computed[static_cast<size_t>(nl)] = {begin, end};
    for (int s = nl - 1; s >= 0; --s) {
        const Layer &consumer = layers_[static_cast<size_t>(s)];
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

std::vector<int> FastBackend::buffer_widths(int strip_width) const {
    // An item in the middle of an unbounded row, starting on a multiple of 4.
    const int x0 = 1 << 20;
    std::vector<Span> read, computed;
    stage_spans(x0, x0 + strip_width, 1 << 30, read, computed);
    std::vector<int> widths;
    for (const Span &r : read) widths.push_back(r.end - r.begin + margin_);
    return widths;
}

size_t FastBackend::worker_floats(const std::vector<int> &buffer_width) const {
    size_t floats = 0;
    size_t zero = 0;
    int k_max = 0, n_max = 0;
    for (size_t s = 0; s < stages_.size(); ++s) {
        const Stage &S = stages_[s];
        const size_t row = static_cast<size_t>(round_up(buffer_width[s] * S.pixel_stride, 16));
        floats += row * static_cast<size_t>(S.ring_rows);
        zero = std::max(zero, row);
    }
    for (const Layer &L : layers_)
        if (L.winograd) {
            k_max = std::max(k_max, round_up(L.conv->in_channels, lanes_));
            n_max = std::max(n_max, L.out_vectors * lanes_);
        }
    floats += zero;
    floats += static_cast<size_t>(fast::kWinoPositions) * tile_batch_ * (k_max + n_max);
    floats += fast::winograd_input_scratch_floats(tile_batch_, lanes_);
    // The encoder's int32 scratch (the size of a float), one row of the strip.
    floats += static_cast<size_t>(buffer_width.back()) * stages_.back().pixel_stride;
    floats += static_cast<size_t>(buffer_width.back());  // the residual's input row
    return floats + 16 * (stages_.size() + 8);  // alignment slack
}

FastBackend::Plan FastBackend::make_plan(int width, int height) const {
    Plan p;
    p.width = width;
    p.height = height;
    const int q = fast::kWinoOut;
    int strip = tiling_.strip_width;
    if (strip <= 0) {
        // Strips of about kStripWidth, at most 4 per thread (a thread slowed
        // by a neighbour's load is compensated by the others), narrower when
        // their buffers would not fit the budget (kWorkerBudgetBytes, or the
        // context's memory budget shared by the threads); multiples of 4.
        const int strips = std::clamp(ceil_div(width, kStripWidth), 1, 4 * threads_);
        strip = round_up(ceil_div(width, strips), q);
        while (strip > kMinStripWidth &&
               worker_floats(buffer_widths(strip)) * sizeof(float) > worker_budget_)
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
    p.buffer_width = buffer_widths(p.strip_width);
    std::vector<Span> read, computed;
    for (const Item &it : p.items) {
        stage_spans(it.x0, it.x1, width, read, computed);
        for (size_t s = 0; s < read.size(); ++s)
            p.buffer_width[s] = std::max(p.buffer_width[s], read[s].end - read[s].begin + margin_);
    }
    p.worker_floats = worker_floats(p.buffer_width);
    return p;
}

Status FastBackend::configure(int width, int height) {
    if (plan_.width == width && plan_.height == height && !workers_.empty()) return Status::ok();
    workers_.clear();
    plan_ = make_plan(width, height);
    for (int t = 0; t < threads_; ++t) {
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
        for (size_t s = 0; s < stages_.size(); ++s) {
            const Stage &S = stages_[s];
            const int bw = plan_.buffer_width[s];
            const size_t row = static_cast<size_t>(round_up(bw * S.pixel_stride, 16));
            w->buffer_width.push_back(bw);
            w->row_floats.push_back(row);
            w->ring.push_back(take(row * static_cast<size_t>(S.ring_rows)));
            zero = std::max(zero, row);
        }
        w->zero_row = take(zero);
        int k_max = 0, n_max = 0;
        for (const Layer &L : layers_)
            if (L.winograd) {
                k_max = std::max(k_max, round_up(L.conv->in_channels, lanes_));
                n_max = std::max(n_max, L.out_vectors * lanes_);
            }
        w->wino_v = take(static_cast<size_t>(fast::kWinoPositions) * tile_batch_ * k_max);
        w->wino_m = take(static_cast<size_t>(fast::kWinoPositions) * tile_batch_ * n_max);
        w->wino_scratch = take(fast::winograd_input_scratch_floats(tile_batch_, lanes_));
        w->encode_scratch = reinterpret_cast<int32_t *>(
            take(static_cast<size_t>(plan_.buffer_width.back()) * stages_.back().pixel_stride));
        w->residual_row = take(static_cast<size_t>(plan_.buffer_width.back()));
        ESPCN_RETURN_IF(p > w->memory.get() + plan_.worker_floats, ESPCN_ERROR_INTERNAL,
                        "cpu-fast: worker buffers overrun their allocation");
        w->st.resize(stages_.size());
        w->read_spans.resize(stages_.size());  // no allocation inside the parallel region
        w->computed_spans.resize(stages_.size());
        workers_.push_back(std::move(w));
    }
    log_.debug(concat("cpu-fast (", kernels_->target_name, "): ", width, "x", height, " in ",
                      plan_.items.size(), " items of ", plan_.strip_width, " columns x ",
                      plan_.band_rows, " rows, ", plan_.worker_floats * sizeof(float) / 1024,
                      " KiB per thread"));
    return Status::ok();
}

std::optional<FrameMemory> FastBackend::frame_memory(int width, int height) const {
    const Plan p = make_plan(width, height);
    return FrameMemory{p.worker_floats * sizeof(float) * static_cast<size_t>(threads_), true};
}

void FastBackend::decode_row(Worker &w, int y, const espcn_plane &in) const {
    Worker::StageState &s = w.st[0];
    decode_samples(in, y, s.col_begin, s.col_end - s.col_begin,
                   w.slot(0, y, stages_[0].ring_rows) + (s.col_begin - s.origin));
}

void FastBackend::decode_samples(const espcn_plane &in, int y, int x0, int n, float *dst) const {
    const uint8_t *row = static_cast<const uint8_t *>(in.data) + static_cast<ptrdiff_t>(y) * in.stride;
    const uint32_t maxv = max_sample(in.bit_depth);
    if (in.bit_depth == 8) {
        const uint8_t *src = row + x0;
        for (int x = 0; x < n; ++x) dst[x] = decode_lut_[src[x]];
    } else {
        const uint16_t *src = reinterpret_cast<const uint16_t *>(row) + x0;
        const int shift = in.shift;
        if (in.bit_depth == decode_lut_bits_) {
            for (int x = 0; x < n; ++x) dst[x] = decode_lut_[(src[x] >> shift) & maxv];
        } else {
            for (int x = 0; x < n; ++x) dst[x] = decode_sample((src[x] >> shift) & maxv, maxv, net_->range);
        }
    }
}

void FastBackend::run_direct(Worker &w, int layer, int y) const {
    const Layer &L = layers_[static_cast<size_t>(layer)];
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
    a.weights = L.weights.data();
    a.out_vectors = L.out_vectors;
    a.out_channels = L.conv->out_channels;
    a.epilogue = {L.bias.data(), L.slope.empty() ? nullptr : L.slope.data(), L.conv->activation};
    const Stage &SO = stages_[static_cast<size_t>(out_stage)];
    a.out = w.slot(out_stage, y, SO.ring_rows) +
            static_cast<ptrdiff_t>(so.col_begin - so.origin) * SO.pixel_stride;
    a.out_pixel_stride = SO.pixel_stride;
    a.width = so.col_end - so.col_begin;
    if (L.dot) kernels_->dot_row(a);
    else kernels_->direct_row(a);
}

void FastBackend::run_winograd(Worker &w, int layer, int y) const {
    const Layer &L = layers_[static_cast<size_t>(layer)];
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
    const int k_vectors = ceil_div(L.conv->in_channels, lanes_);
    const ptrdiff_t k_stride = static_cast<ptrdiff_t>(k_vectors) * lanes_;
    const ptrdiff_t n_stride = static_cast<ptrdiff_t>(L.out_vectors) * lanes_;
    // Tile-major: each tile's 36 positions are contiguous, so the transforms
    // stream through memory and only the GEMM strides across tiles.
    const fast::WinogradLayout v_layout{fast::kWinoPositions * k_stride, k_stride};
    const fast::WinogradLayout m_layout{fast::kWinoPositions * n_stride, n_stride};
    for (int t0 = 0; t0 < tiles; t0 += tile_batch_) {
        const int n = std::min(tile_batch_, tiles - t0);
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
        kernels_->winograd_input(in);

        fast::WinogradGemmArgs g;
        g.v = w.wino_v;
        g.v_layout = v_layout;
        g.tiles = n;
        g.in_channels = L.conv->in_channels;
        g.u = L.weights.data();
        g.out_vectors = L.out_vectors;
        g.m = w.wino_m;
        g.m_layout = m_layout;
        kernels_->winograd_gemm(g);

        fast::WinogradOutputArgs o;
        o.m = w.wino_m;
        o.m_layout = m_layout;
        o.out_vectors = L.out_vectors;
        o.tiles = n;
        o.epilogue = {L.bias.data(), L.slope.empty() ? nullptr : L.slope.data(), L.conv->activation};
        for (int i = 0; i < fast::kWinoOut; ++i)
            o.rows[i] = out_rows[i] ? out_rows[i] + static_cast<ptrdiff_t>(4 * t0) * SO.pixel_stride : nullptr;
        o.out_pixel_stride = SO.pixel_stride;
        o.col_begin = first - 4 * t0;
        o.col_end = end - 4 * t0;
        kernels_->winograd_output(o);
    }
}

void FastBackend::produce(Worker &w, int stage, int until, const espcn_plane &in) const {
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
        const Layer &L = layers_[static_cast<size_t>(layer)];
        // The input rows this step reads: [y − pad, y + chunk + pad).
        produce(w, stage - 1, y + L.chunk_rows + L.pad, in);
        if (L.winograd) run_winograd(w, layer, y);
        else run_direct(w, layer, y);
        s.next_row += L.chunk_rows;
    }
}

void FastBackend::encode_row(Worker &w, int y, const Item &item, const espcn_plane &in,
                             const espcn_plane &out) const {
    const int r = net_->scale;
    const int nl = static_cast<int>(layers_.size());
    const Stage &S = stages_.back();
    const Worker::StageState &s = w.st.back();
    const int bytes = out.bit_depth > 8 ? 2 : 1;
    uint8_t *rows[kMaxScale];
    for (int i = 0; i < r; ++i)
        rows[i] = static_cast<uint8_t *>(out.data) + static_cast<ptrdiff_t>(r * y + i) * out.stride +
                  static_cast<ptrdiff_t>(r) * item.x0 * bytes;
    fast::EncodeRowArgs a;
    a.lr = w.row(nl, y, S.ring_rows) + static_cast<ptrdiff_t>(item.x0 - s.origin) * S.pixel_stride;
    a.pixel_stride = S.pixel_stride;
    a.width = item.x1 - item.x0;
    a.scale = r;
    a.range = net_->range;
    a.bit_depth = out.bit_depth;
    a.shift = out.shift;
    a.out_rows = rows;
    a.scratch = w.encode_scratch;
    if (net_->residual == Residual::nearest) {
        // The input row is not kept in stage 0's ring this late (it holds
        // the rows the first layer reads): decode it again, as the reference
        // backend's residual reads the decoded input.
        decode_samples(in, y, item.x0, item.x1 - item.x0, w.residual_row);
        a.residual = w.residual_row;
    }
    kernels_->encode_row(a);
}

void FastBackend::run_item(Worker &w, const Item &item, const espcn_plane &in, const espcn_plane &out,
                           bool asks_cancel, std::atomic<bool> &stop) const {
    // What each stage must compute, from the output back to the input: a
    // direct layer reads its window (± pad); a Winograd layer computes whole
    // tiles of its fixed grid and reads their 6×6 footprints. Every value is
    // then computed by the same operations whatever the work items are, so
    // the output does not depend on the tiling or the thread count.
    std::vector<Span> &read = w.read_spans, &computed = w.computed_spans;
    stage_spans(item.y0, item.y1, plan_.height, read, computed);
    for (size_t s = 0; s < stages_.size(); ++s) {
        w.st[s].row_begin = computed[s].begin;
        w.st[s].row_end = computed[s].end;
    }
    stage_spans(item.x0, item.x1, plan_.width, read, computed);
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

Status FastBackend::process(const espcn_plane &in, const espcn_plane &out) {
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
    Status ran = pool_->run(static_cast<int>(plan_.items.size()), [&](int item, int worker) {
        run_item(*workers_[static_cast<size_t>(worker)], plan_.items[static_cast<size_t>(item)], in, out,
                 worker == 0, stop);
    });
    ESPCN_RETURN_IF_ERROR(ran);
    return stop.load() ? cancelled() : Status::ok();
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
    ESPCN_RETURN_IF(net->in_channels != 1, ESPCN_ERROR_UNSUPPORTED, "cpu-fast: the network reads ",
                    net->in_channels, " planes; one is supported");
    for (const ConvLayer &c : net->convs)
        ESPCN_RETURN_IF(c.kernel > 63, ESPCN_ERROR_UNSUPPORTED, "cpu-fast: kernel ", c.kernel,
                        " is larger than 63");
    const KernelTable *kernels = fast::best_kernel_table(max_isa);
    auto backend = std::make_unique<FastBackend>(std::move(net), cfg, kernels);
    const size_t worst = backend->frame_memory(kMinStripWidth, 1)->bytes / static_cast<size_t>(backend->threads());
    ESPCN_RETURN_IF(worst > kMaxWorkerBytes, ESPCN_ERROR_UNSUPPORTED, "cpu-fast: the network needs ",
                    worst >> 20, " MiB per thread even in ", kMinStripWidth,
                    "-column strips (limit ", kMaxWorkerBytes >> 20, " MiB)");
    cfg.log.debug(concat("cpu-fast: ", kernels->target_name, " kernels (", kernels->lanes,
                         " floats per vector)"));
    return std::unique_ptr<CpuBackend>(std::move(backend));
}

}  // namespace espcn
