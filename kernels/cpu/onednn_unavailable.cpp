// Linked instead of onednn_backend.cpp when the build has no oneDNN.
#include "cpu_backend.hpp"

namespace espcn {

Status onednn_usable() {
    return Status(ESPCN_ERROR_BACKEND_UNAVAILABLE,
                  "the onednn backend is not part of this build (configure with "
                  "-DESPCN_WITH_ONEDNN=ON and libdnnl-dev installed)");
}

Result<std::unique_ptr<CpuBackend>> make_onednn_backend(std::shared_ptr<const Network>,
                                                        const BackendConfig &) {
    return onednn_usable();
}

}  // namespace espcn
