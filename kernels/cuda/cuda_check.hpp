// CUDA runtime errors as Status values: the failing statement, the error's
// name and its text, and where. Nothing here throws or aborts, so a CUDA
// failure travels up to the C API as an error code and a message.
#pragma once

#include <cuda_runtime_api.h>

#include "../core/status.hpp"

namespace espcn::cuda {

inline Status cuda_status(cudaError_t err, const char *statement, const char *file, int line) {
    const espcn_status code = err == cudaErrorMemoryAllocation        ? ESPCN_ERROR_OUT_OF_MEMORY
                              : err == cudaErrorNoDevice ||
                                        err == cudaErrorInsufficientDriver
                                  ? ESPCN_ERROR_BACKEND_UNAVAILABLE
                                  : ESPCN_ERROR_BACKEND;
    return Status(code, concat(statement, " failed: ", cudaGetErrorName(err), " (",
                               cudaGetErrorString(err), ") at ", file, ":", line));
}

}  // namespace espcn::cuda

// Evaluates a CUDA runtime call; on failure returns its Status from the
// enclosing function.
#define ESPCN_CUDA_RETURN_IF_ERROR(statement)                                             \
    do {                                                                                  \
        const cudaError_t espcn_cuda_err_ = (statement);                                  \
        if (espcn_cuda_err_ != cudaSuccess)                                               \
            return ::espcn::cuda::cuda_status(espcn_cuda_err_, #statement, __FILE__, __LINE__); \
    } while (0)
