// The cpu-fast backend: our own SIMD kernels (fast_kernels.hpp), the whole
// network streamed over row bands of column strips so that a strip's
// activations stay in the L2 cache, the work items spread over OpenMP threads.
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
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <hwy/aligned_allocator.h>

#include "../../core/worker_pool.hpp"
#include "../cpu_backend.hpp"
#include "fast_kernels.hpp"

namespace espcn {

struct FastTiling {
    int strip_width = 0;  // LR columns per work item; 0: chosen from the cache budget
    int band_rows = 0;    // LR rows per work item; 0: enough items for the threads
};

class FastBackend final : public CpuBackend {
public:
    FastBackend(std::shared_ptr<const Network> net, const BackendConfig &cfg,
                const fast::KernelTable *kernels);
    ~FastBackend() override;

    espcn_backend kind() const override { return ESPCN_BACKEND_CPU_FAST; }
    Status process(const espcn_plane &in, const espcn_plane &out) override;
    std::optional<FrameMemory> frame_memory(int width, int height) const override;

    const fast::KernelTable &kernels() const { return *kernels_; }
    int threads() const { return threads_; }
    // For benchmarks: fixes the work-item shape (rebuilt on the next frame).
    void set_tiling(const FastTiling &t);
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
    struct Layer {
        const ConvLayer *conv = nullptr;
        bool winograd = false;
        bool dot = false;      // direct, as dot products (fast_kernels.hpp, kMaxDotOutputs)
        int grid = 0;          // Winograd: tiles start at rows/columns ≡ grid (mod 4)
        int pad = 0;
        int chunk_rows = 1;    // rows produced per step (4 for Winograd)
        int out_vectors = 0;   // padded output channels / lanes
        std::vector<float> weights;  // packed for the kernel
        std::vector<float> bias, slope;  // padded to out_vectors · lanes
    };
    // Stage 0 is the decoded input plane; stage l + 1 is layer l's output.
    struct Stage {
        int pixel_stride = 1;  // floats per pixel
        int ring_rows = 1;     // rows kept
        int chunk_rows = 1;
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
    };

    // Per stage, what must be read (the span the consumer reads, unclamped)
    // and computed (that span clipped to [0, limit)), for an item [begin, end).
    void stage_spans(int begin, int end, int limit, std::vector<Span> &read,
                     std::vector<Span> &computed) const;
    std::vector<int> buffer_widths(int strip_width) const;
    [[nodiscard]] Status configure(int width, int height);
    Plan make_plan(int width, int height) const;
    size_t worker_floats(const std::vector<int> &buffer_width) const;
    // Stops early (setting `stop`) when `asks_cancel` and the cancel callback
    // says so, or when another worker did.
    void run_item(Worker &w, const Item &item, const espcn_plane &in, const espcn_plane &out,
                  bool asks_cancel, std::atomic<bool> &stop) const;
    void produce(Worker &w, int stage, int until, const espcn_plane &in) const;
    void decode_row(Worker &w, int y, const espcn_plane &in) const;
    // Input samples [x0, x0 + n) of row y as network values.
    void decode_samples(const espcn_plane &in, int y, int x0, int n, float *dst) const;
    void run_direct(Worker &w, int layer, int y) const;
    void run_winograd(Worker &w, int layer, int y) const;
    void encode_row(Worker &w, int y, const Item &item, const espcn_plane &in, const espcn_plane &out) const;

    std::shared_ptr<const Network> net_;
    Logger log_;
    const fast::KernelTable *kernels_;
    std::shared_ptr<WorkerPool> pool_;
    int threads_ = 1;
    int lanes_ = 1;
    CancelCheck cancel_;
    size_t worker_budget_ = 0;  // bytes of buffers per thread, at most
    int margin_ = 0;           // spare columns right of every ring row (direct blocks overrun)
    int tile_batch_ = 0;       // Winograd tiles per batch (a multiple of block_rows)
    std::vector<Layer> layers_;
    std::vector<Stage> stages_;
    FastTiling tiling_;
    Plan plan_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<float> decode_lut_;  // sample → network value, for depths ≤ 12
    int decode_lut_bits_ = 0;
};

}  // namespace espcn
