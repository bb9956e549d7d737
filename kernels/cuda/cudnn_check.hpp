// cuDNN errors as Status values (statement, cuDNN's name for the error, where),
// and move-only owners of cuDNN objects whose destroy function comes from the
// dlopen()ed table. Nothing here throws.
#pragma once

#include <utility>

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

// A cuDNN handle or descriptor and the function that destroys it.
template <typename H>
class CudnnOwned {
public:
    using Destroy = cudnnStatus_t (*)(H);
    CudnnOwned() = default;
    CudnnOwned(H h, Destroy destroy) : h_(h), destroy_(destroy) {}
    CudnnOwned(CudnnOwned &&o) noexcept
        : h_(std::exchange(o.h_, nullptr)), destroy_(std::exchange(o.destroy_, nullptr)) {}
    CudnnOwned &operator=(CudnnOwned &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, nullptr);
            destroy_ = std::exchange(o.destroy_, nullptr);
        }
        return *this;
    }
    CudnnOwned(const CudnnOwned &) = delete;
    CudnnOwned &operator=(const CudnnOwned &) = delete;
    ~CudnnOwned() { reset(); }

    H get() const { return h_; }

private:
    void reset() {
        if (h_ && destroy_) (void)destroy_(h_);
        h_ = nullptr;
    }
    H h_ = nullptr;
    Destroy destroy_ = nullptr;
};

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
