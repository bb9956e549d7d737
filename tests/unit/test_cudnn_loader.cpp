// The lazy cuDNN loader (kernels/cuda/cudnn_loader.*). Needs no GPU: dlopen,
// dlsym and cudnnGetVersion() work on any machine with the library, so this
// runs wherever cuDNN is installed (and skips, saying so, where it is not;
// fails instead with ESPCN_GPU_REQUIRED=1). The search of Python's
// site-packages for the nvidia-cudnn wheel is checked on a made-up tree.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cuda/cudnn_loader.hpp"
#include "gpu_test_skip.hpp"

namespace espcn::cuda {
namespace {

namespace fs = std::filesystem;

// The first of cudnn_candidates() that loads, as cudnn_api() picks it.
Result<CudnnApi> load_first_candidate() {
    std::string tried;
    for (const std::string &c : cudnn_candidates()) {
        Result<CudnnApi> api = load_cudnn(c);
        if (api.is_ok()) return api;
        tried += api.status().message() + "; ";
    }
    return Status(ESPCN_ERROR_BACKEND_UNAVAILABLE, tried);
}

TEST(CudnnLoader, LoadsEveryFunctionOfTheInstalledLibrary) {
    Result<CudnnApi> api = load_first_candidate();
    if (!api.is_ok()) ESPCN_GPU_SKIP("cuDNN is not installed here: " << api.status().message());
    const CudnnApi &a = api.value();
    EXPECT_EQ(a.version / 10000, static_cast<size_t>(CUDNN_MAJOR));
#define ESPCN_EXPECT_RESOLVED(name) EXPECT_NE(a.name, nullptr) << #name;
    ESPCN_CUDNN_FUNCTIONS(ESPCN_EXPECT_RESOLVED)
#undef ESPCN_EXPECT_RESOLVED
    EXPECT_STREQ(a.cudnnGetErrorString(CUDNN_STATUS_SUCCESS), "CUDNN_STATUS_SUCCESS");
    std::printf("cuDNN %zu loaded from %s\n", a.version, a.library.c_str());
}

TEST(CudnnLoader, AMissingLibraryIsAClearError) {
    Result<CudnnApi> api = load_cudnn("/nonexistent/libcudnn.so.9");
    ASSERT_FALSE(api.is_ok());
    EXPECT_EQ(api.status().code(), ESPCN_ERROR_BACKEND_UNAVAILABLE);
    EXPECT_NE(api.status().message().find("/nonexistent/libcudnn.so.9"), std::string::npos)
        << api.status().message();
    EXPECT_NE(api.status().message().find("ESPCN_CUDNN_LIBRARY"), std::string::npos);
}

TEST(CudnnLoader, ALibraryWithoutCudnnIsRefusedByName) {
    Result<CudnnApi> api = load_cudnn("libm.so.6");  // loads, but has no cuDNN function
    ASSERT_FALSE(api.is_ok());
    EXPECT_NE(api.status().message().find("no function cudnnGetVersion"), std::string::npos)
        << api.status().message();
}

TEST(CudnnLoader, TheProcessWideTableIsLoadedOnce) {
    Result<const CudnnApi *> first = cudnn_api();
    Result<const CudnnApi *> second = cudnn_api();
    ASSERT_EQ(first.is_ok(), second.is_ok());
    if (!first.is_ok()) {
        EXPECT_EQ(first.status().message(), second.status().message());
        ESPCN_GPU_SKIP(first.status().message());
    }
    EXPECT_EQ(first.value(), second.value());
    std::printf("cudnn_api(): cuDNN %zu from %s\n", first.value()->version, first.value()->library.c_str());
}

// A temporary directory, removed at the end.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "espcn-cudnn-XXXXXX").string();
        path = mkdtemp(t.data()) ? fs::path(t) : fs::path();
    }
    ~TempDir() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

void touch(const fs::path &p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "";
}

TEST(CudnnLoader, FindsTheWheelInTheSitePackagesOfPythonsOnThePath) {
    TempDir tmp;
    ASSERT_FALSE(tmp.path.empty());
    const std::string so = "libcudnn.so." + std::to_string(CUDNN_MAJOR);
    // A venv (as the H200 image's /opt/torch/.venv) with two Pythons' trees,
    // a system-style dist-packages, the CUDA 13 wheels' nvidia/cu13 layout,
    // and a bin/ without any python3 (not searched).
    touch(tmp.path / "venv/bin/python3");
    touch(tmp.path / "venv/lib/python3.12/site-packages/nvidia/cudnn/lib" / so);
    touch(tmp.path / "venv/lib/python3.11/site-packages/nvidia/cudnn/lib" / so);
    touch(tmp.path / "usr/bin/python3.11");
    touch(tmp.path / "usr/lib/python3/dist-packages/nvidia/cu13/lib" / so);
    touch(tmp.path / "nopython/bin/ls");
    touch(tmp.path / "nopython/lib/python3.12/site-packages/nvidia/cudnn/lib" / so);
    touch(tmp.path / "conda/lib/python3.13/site-packages/nvidia/cudnn/lib" / so);
    const std::string path = (tmp.path / "nopython/bin").string() + ":" + (tmp.path / "venv/bin").string() +
                             "::/nonexistent:" + (tmp.path / "usr/bin").string() + ":" +
                             (tmp.path / "venv/bin").string();
    const std::vector<std::string> found = find_cudnn_in_python_sites(path, {(tmp.path / "conda").string(), ""});
    const std::vector<std::string> want{
        (tmp.path / "venv/bin/../lib/python3.12/site-packages/nvidia/cudnn/lib" / so).string(),
        (tmp.path / "venv/bin/../lib/python3.11/site-packages/nvidia/cudnn/lib" / so).string(),
        (tmp.path / "usr/bin/../lib/python3/dist-packages/nvidia/cu13/lib" / so).string(),
        (tmp.path / "conda/lib/python3.13/site-packages/nvidia/cudnn/lib" / so).string()};
    EXPECT_EQ(found, want);
    EXPECT_TRUE(find_cudnn_in_python_sites("/nonexistent:", {}).empty());
}

// cudnn_candidates() reads PATH, VIRTUAL_ENV, CONDA_PREFIX and
// ESPCN_CUDNN_LIBRARY; set here for one call and restored.
struct EnvOverride {
    std::vector<std::pair<std::string, std::string>> saved;
    std::vector<std::string> unset_after;
    void set(const char *name, const std::string &value) {
        if (const char *old = std::getenv(name)) saved.emplace_back(name, old);
        else unset_after.push_back(name);
        setenv(name, value.c_str(), 1);
    }
    ~EnvOverride() {
        for (const auto &[n, v] : saved) setenv(n.c_str(), v.c_str(), 1);
        for (const std::string &n : unset_after) unsetenv(n.c_str());
    }
};

TEST(CudnnLoader, CandidatesAreTheLoaderPathThenTheWheelsOrTheOverrideAlone) {
    TempDir tmp;
    const std::string so = "libcudnn.so." + std::to_string(CUDNN_MAJOR);
    touch(tmp.path / "venv/bin/python3");
    const fs::path wheel = tmp.path / "venv/lib/python3.12/site-packages/nvidia/cudnn/lib" / so;
    touch(wheel);
    {
        EnvOverride env;
        env.set("PATH", (tmp.path / "venv/bin").string());
        env.set("VIRTUAL_ENV", "");
        env.set("CONDA_PREFIX", "");
        env.set("ESPCN_CUDNN_LIBRARY", "");
        const std::vector<std::string> c = cudnn_candidates();
        ASSERT_EQ(c.size(), 2u);
        EXPECT_EQ(c[0], so);
        EXPECT_EQ(fs::path(c[1]), tmp.path / "venv/bin/../lib/python3.12/site-packages/nvidia/cudnn/lib" / so);
    }
    {
        EnvOverride env;
        env.set("PATH", (tmp.path / "venv/bin").string());
        env.set("ESPCN_CUDNN_LIBRARY", "/somewhere/libcudnn.so");
        EXPECT_EQ(cudnn_candidates(), std::vector<std::string>{"/somewhere/libcudnn.so"});
    }
}

// A wheel-style copy of the installed cuDNN (links to its files in a
// site-packages tree) loads by path through the search: what a machine whose
// only cuDNN is the nvidia-cudnn-cu13 wheel does.
TEST(CudnnLoader, LoadsCudnnFromAWheelLayout) {
    Result<CudnnApi> installed = load_first_candidate();
    if (!installed.is_ok()) ESPCN_GPU_SKIP("no cuDNN here to lay out as a wheel: " << installed.status().message());
    Dl_info info{};
    ASSERT_TRUE(dladdr(reinterpret_cast<void *>(installed.value().cudnnGetVersion), &info) && info.dli_fname);
    const fs::path real_dir = fs::canonical(info.dli_fname).parent_path();
    TempDir tmp;
    const fs::path lib = tmp.path / "venv/lib/python3.12/site-packages/nvidia/cudnn/lib";
    fs::create_directories(lib);
    touch(tmp.path / "venv/bin/python3");
    for (const auto &e : fs::directory_iterator(real_dir)) {
        const std::string name = e.path().filename().string();
        if (name.starts_with("libcudnn") && name.ends_with(".so." + std::to_string(CUDNN_MAJOR)))
            fs::create_symlink(e.path(), lib / name);
    }
    const std::vector<std::string> found = find_cudnn_in_python_sites((tmp.path / "venv/bin").string(), {});
    ASSERT_EQ(found.size(), 1u);
    Result<CudnnApi> api = load_cudnn(found[0]);
    ASSERT_TRUE(api.is_ok()) << api.status().message();
    EXPECT_EQ(api.value().version, installed.value().version);
}

}  // namespace
}  // namespace espcn::cuda
