// The backend contract: what the C API asks of every backend. A backend owns
// a shared, immutable Network and whatever buffers it needs; one backend
// object is used by one thread at a time (see espcn.h).
//
// Every backend takes whole frames (submit_frame / receive_frame) and single
// network planes (process); the C API only checks arguments and forwards. The
// CPU backends reach this contract through one adapter (cpu/cpu_frames.hpp:
// a queue of depth 1, row tiles within the memory budget, chroma on the
// context's threads); the cuda backend implements it itself (a queue of depth
// 3 over its own streams). Abilities only some backends have are
// capabilities: a pointer that is null where the ability is missing
// (device_frames()), never a function that returns an error by default.
//
// Which backends exist, how `auto` chooses and what each is called: the one
// table in backend_registry.hpp.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "espcn/espcn.h"
#include "logger.hpp"
#include "network.hpp"
#include "resample_taps.hpp"
#include "status.hpp"

namespace espcn {

class PlaneResampler;
class WorkerPool;

// The C API's cancellation callback: asked between row tiles and between
// layers (or work items), on the thread processing the plane.
class CancelCheck {
public:
    CancelCheck() = default;
    CancelCheck(espcn_cancel_fn fn, void *opaque) : fn_(fn), opaque_(opaque) {}
    bool requested() const { return fn_ && fn_(opaque_) != 0; }
    // Whether there is a callback at all (work is then cut finer, row_tiles.hpp).
    bool active() const { return fn_ != nullptr; }

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

// A context's settings, resolved once from espcn_params by the C API
// (resolve_settings in c_api.cpp) and handed to the backend it makes. Tests
// and benchmarks fill one directly; the zero values below then mean what
// their comments say.
struct BackendConfig {
    int threads = 0;  // 0: all cores (the C API resolves it to a count)
    int device = 0;
    espcn_precision precision = ESPCN_PRECISION_AUTO;
    bool use_current_context = false;  // cuda: the caller's current CUDA context
    // cpu-fast: the best instruction set it may use; unset: $ESPCN_CPU_ISA
    // (avx512, avx2, baseline) or, without it, the best this CPU runs.
    std::optional<CpuIsa> max_cpu_isa;
    // The context's CPU threads: cpu-fast's work items and the chroma
    // resampler run on them. Null: whoever needs threads makes a pool of
    // `threads` threads.
    std::shared_ptr<WorkerPool> pool;
    // The context's resampler of planes that bypass the network (chroma),
    // shared by espcn_upscale_plane() and the resample tasks of CPU frames.
    // Null: the CPU frame adapter makes its own.
    std::shared_ptr<PlaneResampler> resampler;
    // The context's cancellation callback (an empty one: never cancelled).
    CancelCheck cancel;
    // The context's memory budget (bytes; 0: none), for the working memory
    // of a frame (the CPU frame adapter's row tiles; cpu-fast's strips).
    size_t memory_budget = 0;
    Logger log;
};

// cfg with the host resources every CPU backend shares filled in where
// missing: `threads` resolved (0: all cores), a pool of that many threads, a
// resampler. The C API resolves a context's settings with it, once.
BackendConfig with_host_resources(BackendConfig cfg);

// One plane of a frame: through the network, or upscaled by the resampler
// (chroma). Validated by the C API (sizes, depths, components).
//
// A network pass reads the network's in_channels planes and writes its
// out_channels planes (luma: one; RGB: R, G, B). A network of several image
// channels takes its planes as consecutive network tasks in channel order,
// one pass per group of in_channels tasks (task c: channel c in and out; the
// C API checks that the network tasks of a frame come in whole groups of
// planes of one size, and that in_channels == out_channels); resample tasks
// may come between them. Backends group them with NetworkGroups below.
struct PlaneTask {
    espcn_plane in{};
    espcn_plane out{};
    bool resample = false;
    int components = 1;
    ResampleKind kind = kResampleBicubic;
};

// The planes of one network pass (in channel order): spans of one plane for
// a luma network.
using Planes = std::span<const espcn_plane>;

// Walks a frame's tasks in order, calling resample(task) for each resample
// task and pass(in, out) for each complete group of `channels` network tasks
// (its planes copied into `in` / `out`, of at least kMaxPassPlanes each).
inline constexpr int kMaxPassPlanes = 8;
template <typename Resample, typename Pass>
Status for_each_pass(std::span<const PlaneTask> tasks, int channels, Resample &&resample, Pass &&pass) {
    espcn_plane in[kMaxPassPlanes], out[kMaxPassPlanes];
    int pending = 0;
    for (const PlaneTask &t : tasks) {
        if (t.resample) {
            ESPCN_RETURN_IF_ERROR(resample(t));
            continue;
        }
        ESPCN_RETURN_IF(channels < 1 || channels > kMaxPassPlanes, ESPCN_ERROR_INTERNAL,
                        "a pass of ", channels, " planes");
        in[pending] = t.in;
        out[pending] = t.out;
        if (++pending == channels) {
            ESPCN_RETURN_IF_ERROR(pass(Planes(in, static_cast<size_t>(channels)),
                                       Planes(out, static_cast<size_t>(channels))));
            pending = 0;
        }
    }
    ESPCN_RETURN_IF(pending != 0, ESPCN_ERROR_INVALID_ARGUMENT, "the frame's network tasks end with ",
                    pending, " of a group of ", channels, " planes");
    return Status::ok();
}

// The working memory a backend needs for a frame, beyond the caller's planes
// and the context's fixed state (weights). A backend that streams rows itself
// (streams_rows) needs the same for any height: a frame need not be split
// into row tiles to bound its memory.
struct FrameMemory {
    size_t bytes = 0;
    bool streams_rows = false;
    int workers = 1;  // threads holding buffers: bytes / workers each
};

// What a backend holds in host memory (espcn_memory_info).
struct MemoryUse {
    size_t working_bytes = 0;  // per-frame working memory planned for the last plane size
    size_t state_bytes = 0;    // weights in the backend's own layout, tables
};

// How a frame's network planes hold colour, for networks of RGB (espcn_frame;
// core/color_frames.hpp converts host frames).
struct FrameColor {
    espcn_matrix matrix = ESPCN_MATRIX_RGB;
    espcn_range range = ESPCN_RANGE_FULL;
};

// Capability: frames whose planes are in device memory (the cuda backend).
class DeviceFrames {
public:
    // Every plane of `tasks` in device memory, the work enqueued on `stream`
    // (a cudaStream_t) and not waited for; a network of RGB converts its
    // groups as `color` says (on the device).
    [[nodiscard]] virtual Status enqueue_device_frame(std::span<const PlaneTask> tasks, void *stream,
                                                      const FrameColor &color) = 0;

protected:
    ~DeviceFrames() = default;
};

class Backend {
public:
    virtual ~Backend() = default;
    Backend() = default;
    Backend(const Backend &) = delete;
    Backend &operator=(const Backend &) = delete;

    virtual espcn_backend kind() const = 0;
    // The arithmetic it runs (never AUTO).
    virtual espcn_precision precision() const = 0;

    // One pass through the network, now (espcn_process_planes): the
    // network's in_channels planes in, its out_channels planes out, in
    // channel order. Validated by the caller (counts, sizes agree with the
    // scale and with each other, depths in 8..16, non-null data). Fails while
    // frames are in flight where the backend cannot interleave the two.
    [[nodiscard]] virtual Status process(Planes in, Planes out) = 0;
    // A luma network's one plane (espcn_process_plane).
    [[nodiscard]] Status process(const espcn_plane &in, const espcn_plane &out) {
        return process(Planes(&in, 1), Planes(&out, 1));
    }

    // Frames of host planes. Up to frame_queue_depth() (at least 1) frames
    // may be in flight; submit_frame reads every input before it returns and
    // fails, starting nothing, when the queue is full; receive_frame waits for
    // the oldest and fails when none is in flight. Frames complete in order.
    virtual int frame_queue_depth() const = 0;
    virtual int frames_in_flight() const = 0;
    [[nodiscard]] virtual Status submit_frame(std::span<const PlaneTask> tasks) = 0;
    [[nodiscard]] virtual Status receive_frame() = 0;

    // What it holds in host memory, as far as it accounts for it.
    virtual MemoryUse memory_use() const = 0;
    // What it chose, in words (espcn_backend_details); "" if nothing to say.
    virtual std::string details() const { return {}; }

    // Capabilities: null where the backend has no such ability.
    virtual DeviceFrames *device_frames() { return nullptr; }
};

}  // namespace espcn
