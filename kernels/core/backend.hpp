// What every backend implements. A backend owns a shared, immutable Network
// and whatever buffers it needs; one backend object is used by one thread at
// a time (see espcn.h).
//
// Memory: a backend that runs row tiles (runs_row_tiles()) is given a plane
// in bands of rows by the core (row_tiles.hpp), each band with the halo the
// network's receptive field needs, sized so that tile_working_bytes() fits
// the context's memory budget; the output is bit-identical to one band
// holding the whole plane. Such a backend implements tile_working_bytes() and
// process_tile(); process() then runs the whole plane as one tile. A backend
// that does not (the cuda backend: device memory is not budgeted yet) gets
// whole planes in process() and bounds its own memory, or documents that it
// does not. A backend that streams rows internally may do either.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "../cpu/worker_pool.hpp"
#include "espcn/espcn.h"
#include "resample_taps.hpp"
#include "logger.hpp"
#include "network.hpp"
#include "status.hpp"

namespace espcn {

// The C API's cancellation callback: asked between row tiles (by the core)
// and between layers (by the backends), on the thread processing the plane.
class CancelCheck {
public:
    CancelCheck() = default;
    CancelCheck(espcn_cancel_fn fn, void *opaque) : fn_(fn), opaque_(opaque) {}
    bool requested() const { return fn_ && fn_(opaque_) != 0; }

private:
    espcn_cancel_fn fn_ = nullptr;
    void *opaque_ = nullptr;
};

inline Status cancelled() {
    return Status(ESPCN_ERROR_CANCELLED, "cancelled by the caller's cancel callback");
}

// Instruction-set families of the cpu-fast backend's kernel tables, for
// caps ($ESPCN_CPU_ISA) and names; best last within an architecture (x86:
// sse4 < avx2 < avx512; aarch64: neon). baseline is Highway's portable code.
enum class CpuIsa { baseline = 0, sse4 = 1, neon = 2, avx2 = 3, avx512 = 4 };

struct BackendConfig {
    int threads = 0;  // 0: all cores
    int device = 0;
    espcn_precision precision = ESPCN_PRECISION_AUTO;
    bool use_current_context = false;  // cuda: the caller's current CUDA context
    // cpu-fast: the best instruction set it may use; unset: $ESPCN_CPU_ISA
    // (avx512, avx2, baseline) or, without it, the best this CPU runs.
    std::optional<CpuIsa> max_cpu_isa;
    // cpu-fast: the threads to run on (the C API makes one pool per context
    // and also runs the chroma resampler on it); null: the backend makes its
    // own pool of `threads` threads.
    std::shared_ptr<WorkerPool> pool;
    // The context's cancellation callback, for backends that run a whole
    // plane in process() (cpu-fast asks it between work items); row-tile
    // backends are given it per tile instead.
    CancelCheck cancel;
    // The context's memory budget (bytes; 0: none), for backends that bound
    // their own working memory (cpu-fast narrows its strips to fit it).
    size_t memory_budget = 0;
    Logger log;
};

// The working memory a backend needs for a frame, beyond the caller's planes
// and the context's fixed state (weights). A backend that streams rows itself
// (streams_rows) needs the same for any height: the core need not split such
// a frame into row tiles to bound its memory.
struct FrameMemory {
    size_t bytes = 0;
    bool streams_rows = false;
    int workers = 1;  // threads holding buffers: bytes / workers each
};

// One plane of a frame: through the network, or upscaled by the resampler
// (chroma). Validated by the C API (sizes, depths, components).
struct PlaneTask {
    espcn_plane in{};
    espcn_plane out{};
    bool resample = false;
    int components = 1;
    ResampleKind kind = kResampleBicubic;
};


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

class Backend {
public:
    virtual ~Backend() = default;
    Backend() = default;
    Backend(const Backend &) = delete;
    Backend &operator=(const Backend &) = delete;

    virtual espcn_backend kind() const = 0;
    // The whole plane. in/out are validated by the caller (sizes agree with
    // the scale, depths in 8..16, non-null data). Row-tile backends: one tile.
    [[nodiscard]] virtual Status process(const espcn_plane &in, const espcn_plane &out) {
        return process_tile(in, out, RowTile{0, in.height, 0, in.height}, CancelCheck());
    }
    virtual espcn_precision precision() const { return ESPCN_PRECISION_FP32; }
    // What a width×height frame costs in working memory; nullopt: unknown.
    virtual std::optional<FrameMemory> frame_memory(int /*width*/, int /*height*/) const {
        return std::nullopt;
    }

    // Host bytes held for the context's lifetime beyond the working memory:
    // weights in the backend's own layout, tables (espcn_memory_info).
    virtual size_t state_bytes() const { return 0; }

    // Row tiles (see the top of this file). Backends that run them return
    // true and implement the two functions below.
    virtual bool runs_row_tiles() const { return false; }
    // Host bytes process_tile() holds for tiles of `rows` input rows of
    // `width` pixels: activations and scratch, not the weights. Must not
    // decrease as rows grow. Errors: shapes the backend cannot build.
    [[nodiscard]] virtual Result<size_t> tile_working_bytes(int /*width*/, int /*rows*/) {
        return Status(ESPCN_ERROR_INTERNAL, "this backend does not run row tiles");
    }
    // One tile of `in` into `out` (both whole planes); `cancel` is asked
    // between layers (ESPCN_ERROR_CANCELLED, output undefined).
    [[nodiscard]] virtual Status process_tile(const espcn_plane &, const espcn_plane &,
                                              const RowTile &, const CancelCheck &) {
        return Status(ESPCN_ERROR_INTERNAL, "this backend does not run row tiles");
    }

    // Asynchronous frames (the cuda backend). 0: none; the C API then runs a
    // submitted frame at once (a queue of depth 1).
    virtual int frame_queue_depth() const { return 0; }
    virtual int frames_in_flight() const { return 0; }
    [[nodiscard]] virtual Status submit_frame(const std::vector<PlaneTask> &) {
        return Status(ESPCN_ERROR_INTERNAL, "this backend has no frame queue");
    }
    [[nodiscard]] virtual Status receive_frame() {
        return Status(ESPCN_ERROR_INTERNAL, "this backend has no frame queue");
    }
    // Planes in device memory, enqueued on the caller's CUDA stream.
    [[nodiscard]] virtual Status enqueue_device_frame(const std::vector<PlaneTask> &, void *) {
        return Status(ESPCN_ERROR_UNSUPPORTED, "frames in GPU memory need the cuda backend");
    }
};

[[nodiscard]] Result<std::unique_ptr<Backend>> make_reference_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);

// ESPCN_ERROR_BACKEND_UNAVAILABLE when the build has no oneDNN.
[[nodiscard]] Result<std::unique_ptr<Backend>> make_onednn_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);

bool onednn_available();

// Our own SIMD kernels (Highway, dispatched at run time). Never unavailable:
// the baseline target runs anywhere, slowly; cpu_fast_preferred() says whether
// this CPU has a vector unit it is fast on (AVX2, AVX-512, NEON).
[[nodiscard]] Result<std::unique_ptr<Backend>> make_cpu_fast_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);

bool cpu_fast_preferred();

// ESPCN_ERROR_BACKEND_UNAVAILABLE, saying why, when the build has no CUDA
// backend, or the machine no driver, no such device or no cuDNN.
[[nodiscard]] Result<std::unique_ptr<Backend>> make_cuda_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);

// Whether make_cuda_backend could succeed on `device` (driver, device, cuDNN).
[[nodiscard]] Status cuda_backend_usable(int device);

}  // namespace espcn
