// The cuda backend: the network in cuDNN plus our kernels, for planes in host
// memory (staged through pinned buffers, copies of one frame overlapping the
// network on another) or in device memory on the caller's stream.
//
// Three streams of our own carry host frames: uploads, compute, downloads.
// A frame takes a slot (pinned and device buffers, three events); up to
// kFrameQueueDepth frames are in flight, so frame N + 1 uploads and N - 1
// downloads while N runs the network. The network's activations are shared
// by every frame; an event orders their users, whichever stream they are on.
//
// Memory (device_memory.hpp): the context's memory_budget bounds the
// network's activations and workspace plus every staged frame's pinned and
// device copies (and, for device frames of a network of RGB converted on the
// GPU, the 16-bit R, G, B planes it reads and writes). A plane whose
// activations do not fit what the staging leaves runs in bands of rows;
// when fewer than kFrameQueueDepth frames fit staged at once, submit_frame
// finishes the oldest one early (waits for it and copies its outputs to the
// caller's planes, which the caller keeps valid until receiving it) and
// gives its staging to the new frame; a frame that cannot fit at all is refused with the bytes it needs
// (ESPCN_ERROR_OUT_OF_MEMORY), as is one over cuDNN's element limit in its
// smallest band (ESPCN_ERROR_UNSUPPORTED). The cancel callback is asked
// before each band and each layer is enqueued.
//
// Thread safety: one thread at a time per object (see espcn.h). The backend
// lives in one CUDA context: device N's primary context, or the caller's
// context current at creation (cuda_use_current_context, FFmpeg's CUcontext).
// Every entry point, the destructor included, makes that context current for
// its duration and the caller's current again after (cuda_context.hpp).
#pragma once

#include <array>
#include <memory>
#include <utility>
#include <vector>

#include "../core/backend.hpp"
#include "../core/backend_registry.hpp"
#include "cuda_context.hpp"
#include "cuda_resources.hpp"
#include "cudnn_network.hpp"
#include "device_memory.hpp"

namespace espcn::cuda {

class CudaBackend final : public Backend, public DeviceFrames {
public:
    static constexpr int kFrameQueueDepth = 3;

    [[nodiscard]] static Result<std::unique_ptr<Backend>> create(std::shared_ptr<const Network> net,
                                                                 const BackendConfig &cfg);
    ~CudaBackend() override;

    espcn_backend kind() const override { return ESPCN_BACKEND_CUDA; }
    espcn_precision precision() const override;
    using Backend::process;
    Status process(Planes in, Planes out) override;
    int frame_queue_depth() const override { return kFrameQueueDepth; }
    int frames_in_flight() const override { return in_flight_; }
    Status submit_frame(std::span<const PlaneTask> tasks) override;
    Status receive_frame() override;
    DeviceFrames *device_frames() override { return this; }
    // What it holds, device and pinned host memory alike: working_bytes = the
    // staging of every slot + the network's activations and workspace + the
    // colour conversion planes of device frames (what memory_budget bounds);
    // state_bytes = the weights on the device.
    MemoryUse memory_use() const override;
    Status enqueue_device_frame(std::span<const PlaneTask> tasks, void *stream,
                                const FrameColor &color) override;

    // For tests and the benchmark: the cuDNN network (device, not thread safe).
    CudnnNetwork &network() { return *res_->network; }

private:
    struct Slot {
        PinnedBuffer host_in, host_out;
        DeviceBuffer device_in, device_out;
        Event uploaded, computed, downloaded;
        std::vector<PlaneTask> device_tasks;  // the frame's planes in device_in/out
        std::vector<espcn_plane> user_out;    // where receive_frame() copies them
        size_t in_bytes = 0;                  // staged input, all planes
        // Finished early (outputs already in the caller's planes, staging
        // given back): receive_frame() only returns `result`.
        bool finished = false;
        Status result;
        size_t staging_held() const {
            return host_in.size() + host_out.size() + device_in.size() + device_out.size();
        }
        void release_staging() {
            host_in.release();
            host_out.release();
            device_in.release();
            device_out.release();
        }
    };
    struct Resources {
        std::unique_ptr<CudnnNetwork> network;
        Stream upload, compute, download;
        // The last frame's use of the shared activations, on whichever stream
        // (ours, or the caller's for device frames): what teardown waits for.
        Event network_done;
        std::array<Slot, kFrameQueueDepth> slots;
        // Device frames of a network of RGB that are not planar R, G, B of
        // full range: the 16-bit R, G, B planes the network reads and
        // writes (cuda/color_convert.cuh), shared like the activations.
        DeviceBuffer rgb_in, rgb_out;
    };

    CudaBackend(int device, bool use_current_context, Logger log, CancelCheck cancel, size_t budget)
        : device_(device), use_current_context_(use_current_context), log_(std::move(log)),
          cancel_(cancel), budget_(budget) {}
    [[nodiscard]] Status enter(const ContextScope &scope) const;
    // The bands of every network group of `tasks` within `network_budget`
    // bytes (into bands_, at the index of the group's first task; a group's
    // planes are of one size); the most activation bytes any band needs (its
    // workspace allowance follows from them: device_memory.hpp).
    [[nodiscard]] Result<size_t> plan_bands(std::span<const PlaneTask> tasks, size_t network_budget);
    // Device frames: the 16-bit R, G, B planes the frame's converted groups
    // need (rgb_in, rgb_out), {0, 0} when none converts.
    [[nodiscard]] Result<std::pair<size_t, size_t>> conversion_bytes(std::span<const PlaneTask> tasks,
                                                                     const FrameColor &color) const;
    // Frees staging (this slot's own if oversized, idle slots', the oldest
    // frame's in flight, finished early), the network's buffers when sized
    // for a larger shape and the conversion planes when larger than
    // `conversion` asks, until `slot` (null: none) staging `layout`, the
    // network's activations `activations` and the conversion planes fit the
    // budget with what stays.
    [[nodiscard]] Status make_room(Slot *slot, const StagedFrame &layout, size_t activations,
                                   std::pair<size_t, size_t> conversion = {0, 0});
    [[nodiscard]] Status finish(Slot &slot);  // waits, copies outputs to the caller
    [[nodiscard]] Status enqueue_tasks(std::span<const PlaneTask> tasks, cudaStream_t stream,
                                       const FrameColor &color = FrameColor());
    // One network group converted on the device (a colour group that needs
    // it), run band by band as `bands` says.
    [[nodiscard]] Status enqueue_converted(Planes in, Planes out, std::span<const PlaneTask> group,
                                           const RowTilePlan &bands, const FrameColor &color,
                                           cudaStream_t stream);
    [[nodiscard]] Status prepare_slot(Slot &slot, std::span<const PlaneTask> tasks, const StagedFrame &layout);
    [[nodiscard]] Status enqueue_slot(Slot &slot);
    bool in_flight(const Slot &slot) const;

    int device_;
    bool use_current_context_;
    Logger log_;
    CancelCheck cancel_;  // asked before each band and layer is enqueued
    size_t budget_;       // memory_budget; SIZE_MAX: none
    std::array<RowTilePlan, kMaxTasks> bands_{};  // of the frame being enqueued, per network group (its first task)
    const DriverContextApi *driver_ = nullptr;
    CUcontext context_ = nullptr;  // where every resource below lives
    std::unique_ptr<Resources> res_;
    int head_ = 0;       // oldest frame in flight
    int in_flight_ = 0;
};

}  // namespace espcn::cuda
