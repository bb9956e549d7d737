#include "gpu_fallback.hpp"

namespace espcn {

Status GpuFallback::move_to_cpu(const Status &why) {
    Result<std::unique_ptr<Backend>> cpu = make_cpu_();
    if (!cpu.is_ok())
        return Status(why.code(), concat(why.message(), " (and the CPU cannot take over: ",
                                         cpu.status().message(), ")"));
    cpu_ = std::move(cpu).value();
    // The one warning of a fallback, as when the GPU cannot start at all.
    log_.warning(concat("GPU not used (", why.message(), "); running on the CPU in fp32 (",
                        espcn_backend_name(cpu_->kind()), ") from this frame on"));
    if (gpu_->frames_in_flight() == 0) gpu_.reset();  // its device memory goes now
    return Status::ok();
}

int GpuFallback::frames_in_flight() const {
    return (gpu_ ? gpu_->frames_in_flight() : 0) + static_cast<int>(cpu_done_.size());
}

Status GpuFallback::process(Planes in, Planes out) {
    ESPCN_RETURN_IF(frames_in_flight() > 0, ESPCN_ERROR_INVALID_ARGUMENT,
                    "espcn_process_plane(s) while frames are in flight; receive them first");
    if (!cpu_) {
        Status s = gpu_->process(in, out);
        if (s.is_ok() || !moves_to_cpu(s)) return s;
        ESPCN_RETURN_IF_ERROR(move_to_cpu(s));
    }
    return cpu_->process(in, out);
}

Status GpuFallback::submit_frame(std::span<const PlaneTask> tasks) {
    if (!cpu_) {
        Status s = gpu_->submit_frame(tasks);
        if (s.is_ok() || !moves_to_cpu(s)) return s;
        ESPCN_RETURN_IF_ERROR(move_to_cpu(s));
    }
    ESPCN_RETURN_IF(frames_in_flight() >= depth_, ESPCN_ERROR_INVALID_ARGUMENT, depth_,
                    " frames are in flight; receive one before submitting another");
    // The CPU does a frame's work at submit; its result waits for its turn.
    ESPCN_RETURN_IF_ERROR(cpu_->submit_frame(tasks));
    cpu_done_.push_back(cpu_->receive_frame());
    return Status::ok();
}

Status GpuFallback::receive_frame() {
    if (gpu_ && gpu_->frames_in_flight() > 0) {
        Status s = gpu_->receive_frame();
        if (cpu_ && gpu_->frames_in_flight() == 0) gpu_.reset();
        return s;
    }
    ESPCN_RETURN_IF(cpu_done_.empty(), ESPCN_ERROR_INVALID_ARGUMENT, "no frame in flight to receive");
    Status s = std::move(cpu_done_.front());
    cpu_done_.pop_front();
    return s;
}

}  // namespace espcn
