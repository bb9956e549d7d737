// The lazy cuDNN loader (kernels/cuda/cudnn_loader.*). Needs no GPU: dlopen,
// dlsym and cudnnGetVersion() work on any machine with the library, so this
// runs wherever cuDNN is installed (and skips, saying so, where it is not).
#include <gtest/gtest.h>

#include "cuda/cudnn_loader.hpp"

namespace espcn::cuda {
namespace {

TEST(CudnnLoader, LoadsEveryFunctionOfTheInstalledLibrary) {
    Result<CudnnApi> api = load_cudnn("libcudnn.so." + std::to_string(CUDNN_MAJOR));
    if (!api.is_ok()) GTEST_SKIP() << "cuDNN is not installed here: " << api.status().message();
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
        GTEST_SKIP() << first.status().message();
    }
    EXPECT_EQ(first.value(), second.value());
}

}  // namespace
}  // namespace espcn::cuda
