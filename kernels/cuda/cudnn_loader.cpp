#include "cudnn_loader.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace espcn::cuda {

Result<CudnnApi> load_cudnn(const std::string &library) {
    dlerror();
    void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        return Status(ESPCN_ERROR_BACKEND_UNAVAILABLE,
                      concat("cannot load cuDNN (", library, "): ", why ? why : "unknown dlopen error",
                             "; install cuDNN ", CUDNN_MAJOR, " or set ESPCN_CUDNN_LIBRARY"));
    }
    CudnnApi api;
    api.handle = handle;
    api.library = library;
#define ESPCN_CUDNN_RESOLVE(name)                                                              \
    api.name = reinterpret_cast<decltype(api.name)>(dlsym(handle, #name));                     \
    if (!api.name) {                                                                           \
        dlclose(handle);                                                                       \
        return Status(ESPCN_ERROR_BACKEND_UNAVAILABLE,                                         \
                      concat(library, " is not a usable cuDNN: it has no function ", #name));  \
    }
    ESPCN_CUDNN_FUNCTIONS(ESPCN_CUDNN_RESOLVE)
#undef ESPCN_CUDNN_RESOLVE
    api.version = api.cudnnGetVersion();
    if (api.version / 10000 != CUDNN_MAJOR) {
        dlclose(handle);
        return Status(ESPCN_ERROR_BACKEND_UNAVAILABLE,
                      concat(library, " is cuDNN ", api.version, "; this build needs cuDNN ",
                             CUDNN_MAJOR, ".x"));
    }
    return api;
}

Result<const CudnnApi *> cudnn_api() {
    // Loaded once; a failure is remembered too, so the message stays the same and
    // a missing library is not searched for again at every frame or context.
    static std::once_flag once;
    static Status status;
    static CudnnApi api;
    std::call_once(once, [] {
        const char *env = std::getenv("ESPCN_CUDNN_LIBRARY");
        const std::string name = env && *env ? env : concat("libcudnn.so.", CUDNN_MAJOR);
        Result<CudnnApi> loaded = load_cudnn(name);
        status = loaded.status();
        if (loaded.is_ok()) api = std::move(loaded).value();
    });
    if (!status.is_ok()) return status;
    return &api;
}

}  // namespace espcn::cuda
