// backend=auto's GPU backend with the CPU behind it.
//
// The cuda backend learns whether it can run a frame size only when the
// first frame of that size arrives: cuDNN's algorithm choice, its workspace
// and the activations are made then (they depend on the size), and the
// device may be out of memory, the frame over the memory budget, or no
// acceptable algorithm exist. Under `auto` such a failure must not end the
// stream (an ffmpeg run would abort): this wrapper moves to the CPU (the
// rows of the backend table after the GPU's, in fp32) with one warning that
// says why, runs that frame there and every later one.
//
// Which failures move it: a frame's set-up, reported by process() or
// submit_frame() before the frame's work started (the backend has drained
// anything it had queued for it): ESPCN_ERROR_UNSUPPORTED (no acceptable
// algorithm, a size the GPU path cannot index) and ESPCN_ERROR_OUT_OF_MEMORY
// (device memory, the memory budget). Any other failure is returned as it
// is: a CUDA error while frames run is a fault to see, not to hide. Frames
// already in flight on the GPU are received from it first, in order; the
// CPU runs each later frame at submit (depth 1 there) and hands it over at
// receive, so the queue depth the caller was told stays the same. Frames in
// device memory (espcn_cuda_enqueue_frame) never move: after a move they are
// refused, as on any CPU backend.
//
// Thread safety: as any backend, one thread at a time.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "backend.hpp"

namespace espcn {

class GpuFallback final : public Backend {
public:
    using CpuFactory = std::function<Result<std::unique_ptr<Backend>>()>;

    GpuFallback(std::unique_ptr<Backend> gpu, CpuFactory make_cpu, Logger log)
        : gpu_(std::move(gpu)), make_cpu_(std::move(make_cpu)), log_(std::move(log)) {}

    // Whether a failure of a frame's set-up may move the work to the CPU.
    static bool moves_to_cpu(const Status &s) {
        return s.code() == ESPCN_ERROR_UNSUPPORTED || s.code() == ESPCN_ERROR_OUT_OF_MEMORY;
    }

    espcn_backend kind() const override { return active().kind(); }
    espcn_precision precision() const override { return active().precision(); }
    using Backend::process;
    Status process(Planes in, Planes out) override;
    int frame_queue_depth() const override { return depth_; }
    int frames_in_flight() const override;
    Status submit_frame(std::span<const PlaneTask> tasks) override;
    Status receive_frame() override;
    MemoryUse memory_use() const override { return active().memory_use(); }
    std::string details() const override { return active().details(); }
    DeviceFrames *device_frames() override { return cpu_ ? nullptr : gpu_->device_frames(); }

    bool on_cpu() const { return cpu_ != nullptr; }

private:
    const Backend &active() const { return cpu_ ? *cpu_ : *gpu_; }
    // Makes the CPU backend after `why`; the one warning. On failure, `why`
    // (with the CPU's reason) is the answer.
    [[nodiscard]] Status move_to_cpu(const Status &why);

    std::unique_ptr<Backend> gpu_;  // kept until its frames in flight are received
    std::unique_ptr<Backend> cpu_;
    CpuFactory make_cpu_;
    Logger log_;
    int depth_ = gpu_ ? gpu_->frame_queue_depth() : 1;
    std::deque<Status> cpu_done_;  // frames the CPU ran, to hand over in order
};

}  // namespace espcn
