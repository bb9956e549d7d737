// Linked instead of onednn_backend.cpp when the build has no oneDNN.
#include "../core/backend.hpp"

namespace espcn {

bool onednn_available() { return false; }

Result<std::unique_ptr<Backend>> make_onednn_backend(std::shared_ptr<const Network>,
                                                     const BackendConfig &) {
    return Status(ESPCN_ERROR_BACKEND_UNAVAILABLE,
                  "the onednn backend is not part of this build (configure with "
                  "-DESPCN_WITH_ONEDNN=ON and libdnnl-dev installed)");
}

}  // namespace espcn
