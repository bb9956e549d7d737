#include "cuda_context.hpp"

#include <cuda_runtime_api.h>

#include <mutex>

#include "cuda_check.hpp"

namespace espcn::cuda {

namespace {

// One driver function by name and the CUDA version whose ABI we call it with.
Status resolve(const char *name, unsigned version, void **fn) {
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    const cudaError_t err = cudaGetDriverEntryPointByVersion(name, fn, version, cudaEnableDefault, &found);
    if (err != cudaSuccess)
        return cuda_status(err, concat("cudaGetDriverEntryPointByVersion(", name, ")").c_str(), __FILE__,
                           __LINE__);
    ESPCN_RETURN_IF(found != cudaDriverEntryPointSuccess || !*fn, ESPCN_ERROR_BACKEND_UNAVAILABLE,
                    "the CUDA driver has no ", name, " (", version, ")");
    return Status::ok();
}

}  // namespace

Result<const DriverContextApi *> driver_context_api() {
    static std::once_flag once;
    static Status status;
    static DriverContextApi api;
    std::call_once(once, [] {
        status = resolve("cuCtxGetCurrent", 4000, reinterpret_cast<void **>(&api.ctx_get_current));
        if (status.is_ok())
            status = resolve("cuCtxSetCurrent", 4000, reinterpret_cast<void **>(&api.ctx_set_current));
        if (status.is_ok())
            status = resolve("cuGetErrorName", 6000, reinterpret_cast<void **>(&api.get_error_name));
    });
    if (!status.is_ok()) return status;
    return &api;
}

std::string driver_error(const DriverContextApi &api, const char *call, CUresult err) {
    const char *name = nullptr;
    if (!api.get_error_name || api.get_error_name(err, &name) != CUDA_SUCCESS || !name) name = "unknown";
    return concat(call, " failed: ", name, " (", static_cast<int>(err), ")");
}

}  // namespace espcn::cuda
