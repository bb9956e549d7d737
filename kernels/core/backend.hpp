// What every backend implements. A backend owns a shared, immutable Network
// and whatever buffers it needs; one backend object is used by one thread at
// a time (see espcn.h).
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

// Instruction sets of the cpu-fast backend, best last.
enum class CpuIsa { baseline = 0, avx2 = 1, avx512 = 2 };

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
    Logger log;
};

// The working memory a backend needs for a frame, beyond the caller's planes
// and the context's fixed state (weights). A backend that streams rows itself
// (streams_rows) needs the same for any height: the core need not split such
// a frame into row tiles to bound its memory.
struct FrameMemory {
    size_t bytes = 0;
    bool streams_rows = false;
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

class Backend {
public:
    virtual ~Backend() = default;
    Backend() = default;
    Backend(const Backend &) = delete;
    Backend &operator=(const Backend &) = delete;

    virtual espcn_backend kind() const = 0;
    // in/out are validated by the caller (sizes agree with the scale, depths
    // in 8..16, non-null data).
    [[nodiscard]] virtual Status process(const espcn_plane &in, const espcn_plane &out) = 0;
    virtual espcn_precision precision() const { return ESPCN_PRECISION_FP32; }
    // What a width×height frame costs in working memory; nullopt: unknown.
    virtual std::optional<FrameMemory> frame_memory(int /*width*/, int /*height*/) const {
        return std::nullopt;
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
// this CPU has a vector unit it is fast on (AVX2, AVX-512).
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
