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
// Thread safety: one thread at a time per object (see espcn.h). The backend
// lives in one CUDA context: device N's primary context, or the caller's
// context current at creation (cuda_use_current_context, FFmpeg's CUcontext).
// Every entry point, the destructor included, makes that context current for
// its duration and the caller's current again after (cuda_context.hpp).
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "../core/backend.hpp"
#include "../core/backend_registry.hpp"
#include "cuda_context.hpp"
#include "cuda_resources.hpp"
#include "cudnn_network.hpp"

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
    // Host memory it accounts for: none yet (its pinned staging and device
    // memory are not budgeted; issue 21).
    MemoryUse memory_use() const override { return {}; }
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

    CudaBackend(int device, bool use_current_context, Logger log, CancelCheck cancel)
        : device_(device), use_current_context_(use_current_context), log_(std::move(log)),
          cancel_(cancel) {}
    [[nodiscard]] Status enter(const ContextScope &scope) const;
    [[nodiscard]] Status enqueue_tasks(std::span<const PlaneTask> tasks, cudaStream_t stream,
                                       const FrameColor &color = FrameColor());
    // One network group converted on the device (a colour group that needs it).
    [[nodiscard]] Status enqueue_converted(Planes in, Planes out, std::span<const PlaneTask> group,
                                           const FrameColor &color, cudaStream_t stream);
    [[nodiscard]] Status prepare_slot(Slot &slot, std::span<const PlaneTask> tasks);
    [[nodiscard]] Status enqueue_slot(Slot &slot);

    int device_;
    bool use_current_context_;
    Logger log_;
    CancelCheck cancel_;  // asked once per process() (a plane is one GPU submission)
    const DriverContextApi *driver_ = nullptr;
    CUcontext context_ = nullptr;  // where every resource below lives
    std::unique_ptr<Resources> res_;
    int head_ = 0;       // oldest frame in flight
    int in_flight_ = 0;
};

}  // namespace espcn::cuda
