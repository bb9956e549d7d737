// The CUDA context an engine lives in, made current around each of its
// calls through the driver API: a device index is not enough, because the
// caller may have its own non-primary context of the same device current
// (FFmpeg's CUcontext), and cudaSetDevice() would replace that with the
// device's primary context and never give it back.
//
// libespcn never links libcuda (it must load and run on the CPU without an
// NVIDIA driver): the two driver functions are resolved at first use through
// the CUDA runtime's cudaGetDriverEntryPointByVersion, i.e. from the libcuda
// the runtime itself opened, and only once a GPU backend is being created.
//
// Thread safety: driver_context_api() may be called from any thread; a
// ContextScope belongs to the thread that made it.
#pragma once

#include <cuda.h>  // types only

#include "../core/status.hpp"

namespace espcn::cuda {

struct DriverContextApi {
    CUresult (*ctx_get_current)(CUcontext *) = nullptr;
    CUresult (*ctx_set_current)(CUcontext) = nullptr;
    CUresult (*get_error_name)(CUresult, const char **) = nullptr;
};

// The process-wide table, resolved once (the same error every call when the
// driver lacks a function or there is no driver).
[[nodiscard]] Result<const DriverContextApi *> driver_context_api();

// "cuFoo failed: CUDA_ERROR_X" for a driver error.
std::string driver_error(const DriverContextApi &api, const char *call, CUresult err);

// Makes `target` current on the calling thread for the scope unless it
// already is, and the caller's context (possibly none) current again at its
// end. Comparing contexts, not devices: FFmpeg's context and the primary
// context of the same device are different contexts.
class ContextScope {
public:
    ContextScope(const DriverContextApi &api, CUcontext target) : api_(api) {
        CUcontext current = nullptr;
        status_ = api_.ctx_get_current(&current);
        if (status_ != CUDA_SUCCESS || current == target) return;
        status_ = api_.ctx_set_current(target);
        if (status_ != CUDA_SUCCESS) return;
        previous_ = current;
        switched_ = true;
    }
    ContextScope(const ContextScope &) = delete;
    ContextScope &operator=(const ContextScope &) = delete;
    ~ContextScope() {
        if (switched_) (void)api_.ctx_set_current(previous_);  // nothing to do with a failure here
    }

    CUresult status() const { return status_; }
    bool switched() const { return switched_; }

private:
    const DriverContextApi &api_;
    CUcontext previous_ = nullptr;
    CUresult status_ = CUDA_SUCCESS;
    bool switched_ = false;
};

}  // namespace espcn::cuda
