#include "cudnn_loader.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

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

namespace {

bool is_file(const std::string &p) {
    struct stat st {};
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Names in `dir` that start with `prefix`, sorted (newest python3.N last).
std::vector<std::string> entries_with_prefix(const std::string &dir, const char *prefix) {
    std::vector<std::string> names;
    if (DIR *d = opendir(dir.c_str())) {
        while (const dirent *e = readdir(d))
            if (std::strncmp(e->d_name, prefix, std::strlen(prefix)) == 0) names.emplace_back(e->d_name);
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

// <prefix>/lib/python3.*/{site,dist}-packages/nvidia/{cudnn,cu13}/lib/libcudnn.so.N
void add_wheels_of_prefix(const std::string &prefix, std::vector<std::string> &found) {
    const std::string lib = prefix + "/lib";
    const std::string so = concat("libcudnn.so.", CUDNN_MAJOR);
    std::vector<std::string> pythons = entries_with_prefix(lib, "python3");
    std::reverse(pythons.begin(), pythons.end());  // the newest Python first
    for (const std::string &py : pythons)
        for (const char *site : {"site-packages", "dist-packages"})
            for (const char *sub : {"nvidia/cudnn/lib/", "nvidia/cu13/lib/"}) {
                const std::string candidate = concat(lib, "/", py, "/", site, "/", sub, so);
                if (is_file(candidate) &&
                    std::find(found.begin(), found.end(), candidate) == found.end())
                    found.push_back(candidate);
            }
}

std::string env_or_empty(const char *name) {
    const char *v = std::getenv(name);
    return v ? v : "";
}

}  // namespace

std::vector<std::string> find_cudnn_in_python_sites(const std::string &path,
                                                    const std::vector<std::string> &prefixes) {
    std::vector<std::string> found;
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty() || entries_with_prefix(dir, "python3").empty()) continue;
        add_wheels_of_prefix(dir + "/..", found);
    }
    for (const std::string &p : prefixes)
        if (!p.empty()) add_wheels_of_prefix(p, found);
    return found;
}

std::vector<std::string> cudnn_candidates() {
    const std::string forced = env_or_empty("ESPCN_CUDNN_LIBRARY");
    if (!forced.empty()) return {forced};
    std::vector<std::string> c{concat("libcudnn.so.", CUDNN_MAJOR)};
    for (std::string &w : find_cudnn_in_python_sites(
             env_or_empty("PATH"), {env_or_empty("VIRTUAL_ENV"), env_or_empty("CONDA_PREFIX")}))
        c.push_back(std::move(w));
    return c;
}

Result<const CudnnApi *> cudnn_api() {
    // Loaded once; a failure is remembered too, so the message stays the same and
    // a missing library is not searched for again at every frame or context.
    static std::once_flag once;
    static Status status;
    static CudnnApi api;
    std::call_once(once, [] {
        std::string tried;
        for (const std::string &name : cudnn_candidates()) {
            Result<CudnnApi> loaded = load_cudnn(name);
            if (loaded.is_ok()) {
                api = std::move(loaded).value();
                status = Status::ok();
                return;
            }
            status = loaded.status();
            tried += (tried.empty() ? "" : "; ") + loaded.status().message();
        }
        if (env_or_empty("ESPCN_CUDNN_LIBRARY").empty())
            tried += "; no nvidia-cudnn wheel in the site-packages of the python3 on PATH, "
                     "$VIRTUAL_ENV or $CONDA_PREFIX either";
        status = Status(status.code(), tried);
    });
    if (!status.is_ok()) return status;
    return &api;
}

}  // namespace espcn::cuda
