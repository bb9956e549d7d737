// The cpu-fast backend: our own SIMD kernels (fast_kernels.hpp), the whole
// network streamed over row bands of column strips so that a strip's
// activations stay in the L2 cache, the work items spread over a WorkerPool.
//
// Per layer: a 3×3 conv whose input is an activation tensor runs as Winograd
// F(4×4, 3×3) (4 rows at a time: input transform → 36 small matrix products
// over channels → output transform + bias + activation); every other conv
// (the 1-channel first layer, 1×1, 5×5, …) runs as a direct convolution, one
// row at a time, with bias and activation fused; one with at most 4 output
// maps on activations (LRNet's last 5×5 layer) as dot products along the
// channels instead, which fills the vectors its 4 outputs would not. The last layer's rows go
// straight into the periodic shuffle (+ the global residual, the input row
// decoded again) + rounding + clamping of the output plane.
//
// Work item = output rows [y0, y1) × columns [x0, x1). Layer l computes its
// rows and columns widened by the radii of the layers after it (the halo,
// recomputed by neighbouring items), into a ring of rows just deep enough for
// its consumer; rows and columns outside the image read as zeros. Items run on
// a WorkerPool (threads that sleep between frames, unlike OpenMP's).
//
// Which kernels run each layer is measured, not guessed (fast_tuner.hpp):
// every instruction set this CPU runs (at most $ESPCN_CPU_ISA) is a candidate
// for every layer, and all candidates compute the same bits (same arithmetic
// in the same order), so the choice changes only the speed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <hwy/aligned_allocator.h>

#include "../../core/worker_pool.hpp"
#include "../cpu_backend.hpp"
#include "fast_kernels.hpp"
#include "fast_tuner.hpp"

namespace espcn {

struct FastTiling {
    int strip_width = 0;  // LR columns per work item; 0: chosen from the cache budget
    int band_rows = 0;    // LR rows per work item; 0: enough items for the threads
};

class FastBackend final : public CpuBackend {
public:
    // `tables`: the candidate kernel tables, best first, not empty; a layout
    // (pixel strides, margins) that every one of them can run is used.
    FastBackend(std::shared_ptr<const Network> net, const BackendConfig &cfg,
                std::vector<const fast::KernelTable *> tables);
    ~FastBackend() override;

    espcn_backend kind() const override { return ESPCN_BACKEND_CPU_FAST; }
    espcn_precision precision() const override { return bf16_ ? ESPCN_PRECISION_BF16 : ESPCN_PRECISION_FP32; }
    using CpuBackend::process;
    Status process(Planes in, Planes out) override;
    std::optional<FrameMemory> frame_memory(int width, int height) const override;
    size_t state_bytes() const override;
    std::string details() const override;

    // The best candidate table (what a single-table backend runs).
    const fast::KernelTable &kernels() const { return *layout_->tables.front(); }
    // Every candidate of the layout in use (after a frame: the one that fit).
    const std::vector<const fast::KernelTable *> &candidate_tables() const { return layout_->tables; }
    int threads() const { return threads_; }
    // For benchmarks: fixes the work-item shape (rebuilt on the next frame).
    void set_tiling(const FastTiling &t);
    // For tests and benchmarks: per layer, the candidate table to run
    // (tuning off; an index past the candidates means the last one), or,
    // with an empty list, back to tuning.
    void force_tables(std::vector<int> per_layer);
    // Per layer, the candidate index it runs on now.
    std::vector<int> layer_tables() const;
    // What the tuner has decided (empty until it has), for logs and --info.
    std::string plan_description() const;
    bool tuned() const { return tuner_.done(); }
    // How the last frame was split (after process()).
    int strip_width() const { return plan_.strip_width; }
    int band_rows() const { return plan_.band_rows; }
    int work_items() const { return static_cast<int>(plan_.items.size()); }
    // Which layers run as Winograd (the others run direct).
    std::vector<bool> winograd_layers() const;
    // Which layers run as dot products (fast_kernels.hpp, kMaxDotOutputs).
    std::vector<bool> dot_layers() const;

    struct Worker;  // per-thread buffers and streaming state

private:
    // One layer packed for one candidate table.
    struct LayerKernel {
        const fast::KernelTable *table = nullptr;
        int out_vectors = 0;         // padded output channels / the table's lanes
        std::vector<float> weights;  // packed for the table's kernels
    };
    struct Layer {
        const ConvLayer *conv = nullptr;
        bool winograd = false;
        bool dot = false;      // direct, as dot products (fast_kernels.hpp, kMaxDotOutputs)
        int grid = 0;          // Winograd: tiles start at rows/columns ≡ grid (mod 4)
        int pad = 0;
        int chunk_rows = 1;    // rows produced per step (4 for Winograd)
        std::vector<float> bias, slope;  // padded to the output stage's pixel stride
        std::vector<LayerKernel> kernels;  // one per candidate table
    };
    // Stage 0 is the decoded input plane; stage l + 1 is layer l's output.
    struct Stage {
        int pixel_stride = 1;  // floats per pixel
        int ring_rows = 1;     // rows kept
        int chunk_rows = 1;
    };
    // Everything that depends on the set of candidate tables: pixel strides
    // (channels padded to the widest vector), margins, packed weights.
    struct Layout {
        std::vector<const fast::KernelTable *> tables;
        int stride_lanes = 1;  // every pixel stride is a multiple of this
        int margin = 0;        // spare columns right of every ring row (direct blocks overrun)
        int max_tile_batch = 0;  // Winograd tiles per batch, the largest of the tables'
        std::vector<Layer> layers;
        std::vector<Stage> stages;
        bool bf16 = false;                // ESPCN_PRECISION_BF16
        // The layers' own copies where they differ from the network's
        // (Layer::conv points here; empty: it points at the network's): bf16
        // rounds the weights; a DCR network of several image channels has its
        // last layer's outputs reordered to CRD (each image channel's r²
        // maps contiguous, what the encoder reads: exact, channels are lanes).
        std::vector<ConvLayer> own_convs;
    };
    // [begin, end) along one axis.
    struct Span {
        int begin = 0, end = 0;
    };
    struct Item {
        int x0, x1, y0, y1;
    };
    struct Plan {
        int width = 0, height = 0;
        int strip_width = 0, band_rows = 0;
        std::vector<Item> items;
        std::vector<int> buffer_width;  // per stage, columns (with the margin)
        size_t worker_floats = 0;
        int workers = 0;                // workers that get items
    };

    static Layout make_layout(const Network &net, std::vector<const fast::KernelTable *> tables, bool bf16);
    // Per stage, what must be read (the span the consumer reads, unclamped)
    // and computed (that span clipped to [0, limit)), for an item [begin, end).
    static void stage_spans(const Layout &lay, int begin, int end, int limit, std::vector<Span> &read,
                            std::vector<Span> &computed);
    static std::vector<int> buffer_widths(const Layout &lay, int strip_width);
    static size_t worker_floats(const Layout &lay, const std::vector<int> &buffer_width);
    Plan make_plan(const Layout &lay, int width, int height, int strip_width) const;
    // The first layout whose plan fits the budget (or the last one).
    const Layout &layout_for(int width, int height) const;
    // One strip per thread, the tuner's other strip width, where it differs
    // from the rule's and fits the budget; else 0.
    int wide_strip(const Layout &lay, int width, int height) const;
    [[nodiscard]] Status configure(int width, int height);
    // Stops early (setting `stop`) when `asks_cancel` and the cancel callback
    // says so, or when another worker did.
    void run_item(Worker &w, const Item &item, Planes in, Planes out,
                  bool asks_cancel, std::atomic<bool> &stop) const;
    void produce(Worker &w, int stage, int until, Planes in) const;
    // Stage 0's row y: the input planes' samples interleaved (channel c of
    // pixel x at x · in_channels + c).
    void decode_row(Worker &w, int y, Planes in) const;
    // Input samples [x0, x0 + n) of row y as network values.
    // Input samples [x0, x0 + n) of row y as network values, at dst[x · stride].
    void decode_samples(const espcn_plane &in, int y, int x0, int n, float *dst, int stride = 1) const;
    void run_direct(Worker &w, int layer, int y, int candidate) const;
    void run_winograd(Worker &w, int layer, int y, int candidate) const;
    void encode_row(Worker &w, int y, const Item &item, Planes in, Planes out) const;
    // Plans work items of strip_width columns (0: the rule's) and allocates
    // the buffers of the workers that get items.
    [[nodiscard]] Status allocate_workers(int width, int height, int strip_width);
    // Applies the tuner's choice for the next frame.
    [[nodiscard]] Status apply(const FastTuner::Choice &c);

    std::shared_ptr<const Network> net_;
    Logger log_;
    std::shared_ptr<WorkerPool> pool_;
    int threads_ = 1;
    CancelCheck cancel_;
    size_t worker_budget_ = 0;  // bytes of buffers per thread, at most
    // The full candidate set first; then, when the CPU has wider vectors
    // than 8 floats, a layout of only the narrower tables (smaller strides and
    // margins) for budgets the full one does not fit.
    std::vector<Layout> layouts_;
    const Layout *layout_ = nullptr;  // in use
    FastTiling tiling_;
    std::vector<int> forced_;   // per layer, or empty: tuned
    bool measure_ = true;       // $ESPCN_CPU_TUNE at creation: 0 turns measuring off
    bool bf16_ = false;         // ESPCN_PRECISION_BF16
    std::vector<int> chosen_;   // per layer: candidate index
    int chosen_strip_ = 0;      // 0: the budget rule's
    bool timing_ = false;       // this frame: every call timed (the tuner measures)
    bool rotating_ = false;     // and the candidates take turns per call
    FastTuner tuner_;
    Plan plan_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<float> decode_lut_;  // sample → network value, for depths ≤ 12
    int decode_lut_bits_ = 0;
};

}  // namespace espcn
