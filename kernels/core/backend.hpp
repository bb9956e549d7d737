// What every backend implements. A backend owns a shared, immutable Network
// and whatever buffers it needs; one backend object is used by one thread at
// a time (see espcn.h).
#pragma once

#include <memory>

#include "espcn/espcn.h"
#include "logger.hpp"
#include "network.hpp"
#include "status.hpp"

namespace espcn {

struct BackendConfig {
    int threads = 0;  // 0: all cores
    int device = 0;
    Logger log;
};

class Backend {
public:
    virtual ~Backend() = default;
    Backend() = default;
    Backend(const Backend &) = delete;
    Backend &operator=(const Backend &) = delete;

    virtual espcn_backend kind() const = 0;
    // in/out are validated by the caller (sizes agree with the scale, depths
    // in 8..16, non-null data).
    [[nodiscard]] virtual Status process(const espcn_plane &in, const espcn_plane &out) = 0;
};

[[nodiscard]] Result<std::unique_ptr<Backend>> make_reference_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);

// ESPCN_ERROR_BACKEND_UNAVAILABLE when the build has no oneDNN.
[[nodiscard]] Result<std::unique_ptr<Backend>> make_onednn_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);

bool onednn_available();

}  // namespace espcn
