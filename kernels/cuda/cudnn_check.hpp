// cuDNN errors as Status values (statement, cuDNN's name for the error, where),
// and owners of cuDNN objects whose destroy function comes from the dlopen()ed
// table (core/owned.hpp's OwnedBy). Nothing here throws.
#pragma once

#include "../core/owned.hpp"
#include "cudnn_loader.hpp"

namespace espcn::cuda {

inline Status cudnn_status(const CudnnApi &api, cudnnStatus_t err, const char *statement,
                           const char *file, int line) {
    const espcn_status code = err == CUDNN_STATUS_ALLOC_FAILED   ? ESPCN_ERROR_OUT_OF_MEMORY
                              : err == CUDNN_STATUS_NOT_SUPPORTED ? ESPCN_ERROR_UNSUPPORTED
                                                                  : ESPCN_ERROR_BACKEND;
    return Status(code, concat(statement, " failed: ", api.cudnnGetErrorString(err), " at ", file,
                               ":", line));
}

// A cuDNN handle or descriptor with the function that destroys it (from the
// dlopen()ed table, so known at run time): Owner(handle, api.cudnnDestroyX).
template <typename H>
using CudnnOwned = OwnedBy<H, cudnnStatus_t (*)(H)>;

using CudnnHandle = CudnnOwned<cudnnHandle_t>;
using TensorDescriptor = CudnnOwned<cudnnTensorDescriptor_t>;
using FilterDescriptor = CudnnOwned<cudnnFilterDescriptor_t>;
using ConvolutionDescriptor = CudnnOwned<cudnnConvolutionDescriptor_t>;

}  // namespace espcn::cuda

// Evaluates a call through the cuDNN table `api`; on failure returns its
// Status from the enclosing function.
#define ESPCN_CUDNN_RETURN_IF_ERROR(api, statement)                                           \
    do {                                                                                      \
        const cudnnStatus_t espcn_cudnn_err_ = (statement);                                   \
        if (espcn_cudnn_err_ != CUDNN_STATUS_SUCCESS)                                         \
            return ::espcn::cuda::cudnn_status((api), espcn_cudnn_err_, #statement, __FILE__, \
                                               __LINE__);                                     \
    } while (0)
