// The cuda backend in builds without CUDA or without cuDNN headers.
#include "../core/backend_registry.hpp"

namespace espcn {

Status cuda_backend_usable(int) {
    return Status(ESPCN_ERROR_BACKEND_UNAVAILABLE,
                  "the cuda backend is not part of this build (configured without CUDA or cuDNN)");
}

Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const Network>,
                                                   const BackendConfig &) {
    return cuda_backend_usable(0);
}

}  // namespace espcn
