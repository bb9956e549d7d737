#include "model_dir.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace espcn {
namespace {

namespace fs = std::filesystem;

// The file this function's code was loaded from: libespcn.so, or the
// executable a static libespcn is linked into. dladdr names the main program
// by argv[0] (possibly relative, or a bare name found on PATH), so the
// executable is taken from /proc/self/exe instead whenever dladdr's name
// does not resolve to a file.
fs::path this_binary() {
    std::error_code ec;
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&this_binary), &info) != 0 && info.dli_fname &&
        std::string(info.dli_fname).find('/') != std::string::npos) {
        fs::path p = fs::canonical(info.dli_fname, ec);
        if (!ec) return p;
    }
    fs::path exe = fs::canonical("/proc/self/exe", ec);
    return ec ? fs::path() : exe;
}

// Computed once: the binary does not move while it runs.
const std::string &relative_model_dir() {
    static const std::string dir = [] {
        const fs::path bin = this_binary();
        if (bin.empty()) return std::string();
        std::error_code ec;
        for (const char *rel : {ESPCN_LIB_TO_MODELS, ESPCN_BIN_TO_MODELS}) {
            const fs::path candidate = (bin.parent_path() / rel).lexically_normal();
            if (fs::is_directory(candidate, ec)) return candidate.string();
        }
        return std::string();
    }();
    return dir;
}

}  // namespace

std::string shipped_model_dir() {
    const char *env = std::getenv("ESPCN_MODEL_DIR");
    if (env && *env) return env;
    const std::string &rel = relative_model_dir();
    return rel.empty() ? std::string(ESPCN_INSTALLED_MODEL_DIR) : rel;
}

}  // namespace espcn
