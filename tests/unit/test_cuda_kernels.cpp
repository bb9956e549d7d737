// Our CUDA kernels on the GPU, against the shared host formulas they are
// built from and the CPU's own plane resampler: the cases of
// cuda_kernel_cases.hpp, which test_cuda_kernels_host also runs through the
// host emulation of the same .cu files. Label gpu: the kernel tests skip,
// saying why, when no CUDA device is usable (fail with ESPCN_GPU_REQUIRED=1);
// the device probe's message and the driver entry points' error are checked
// everywhere (on a machine without a driver they must explain that).
//
// Tolerances (cuda_kernel_cases.hpp): the kernels are compiled with
// --fmad=false, so decode, shuffle + encode and the chroma upscaler equal the
// CPU bit for bit; tanh/sigmoid use the device's tanhf/expf (within 1 code
// value); fp16 tensors within half precision of the float.
#include <gtest/gtest.h>

#include <list>

#include "cuda/cuda_context.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda_kernel_cases.hpp"
#include "gpu_test_skip.hpp"

namespace espcn::cuda::test {
namespace {

#define SKIP_WITHOUT_DEVICE()                                                    \
    do {                                                                         \
        const Status probe_ = probe_device(0);                                   \
        if (!probe_.is_ok()) ESPCN_GPU_SKIP("no usable CUDA device: " << probe_.message()); \
    } while (0)

class DeviceTarget final : public KernelTarget {
public:
    DeviceTarget() {
        Result<Stream> s = make_stream();
        EXPECT_TRUE(s.is_ok()) << s.status().message();
        if (s.is_ok()) stream_ = std::move(s).value();
    }
    void *upload(const void *host, size_t bytes) override {
        Result<DeviceBuffer> b = DeviceBuffer::allocate(bytes);
        EXPECT_TRUE(b.is_ok()) << b.status().message();
        if (!b.is_ok()) return nullptr;
        buffers_.push_back(std::move(b).value());
        EXPECT_EQ(cudaMemcpy(buffers_.back().get(), host, bytes, cudaMemcpyHostToDevice), cudaSuccess);
        // A pageable cudaMemcpy may return before its DMA lands, and the
        // kernels run on a non-blocking stream that does not wait for it.
        EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        return buffers_.back().get();
    }
    void download(void *host, const void *target, size_t bytes) override {
        EXPECT_EQ(cudaMemcpy(host, target, bytes, cudaMemcpyDeviceToHost), cudaSuccess);
    }
    cudaStream_t stream() override { return stream_.get(); }
    cudaError_t finish() override { return cudaStreamSynchronize(stream_.get()); }
    bool device_math() const override { return true; }

private:
    Stream stream_;
    std::list<DeviceBuffer> buffers_;
};

TEST(CudaProbe, ExplainsWhyNoDeviceIsUsable) {
    const Status s = probe_device(0);
    if (s.is_ok()) {
        EXPECT_FALSE(probe_device(1 << 20).is_ok()) << "an absurd device index must be refused";
        return;
    }
    // No device here: the message must say which call failed and the CUDA error.
    EXPECT_EQ(s.code(), ESPCN_ERROR_BACKEND_UNAVAILABLE) << s.message();
    EXPECT_NE(s.message().find("cudaGetDeviceCount"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("cudaError"), std::string::npos) << s.message();
}

TEST(CudaContext, DriverEntryPointsOrTheReason) {
    Result<const DriverContextApi *> api = driver_context_api();
    if (!probe_device(0).is_ok()) {
        // No driver: an error that says which lookup failed, never a crash.
        ASSERT_FALSE(api.is_ok());
        EXPECT_NE(api.status().message().find("cudaGetDriverEntryPointByVersion"), std::string::npos)
            << api.status().message();
        return;
    }
    ASSERT_TRUE(api.is_ok()) << api.status().message();
    CUcontext current = nullptr;
    EXPECT_EQ(api.value()->ctx_get_current(&current), CUDA_SUCCESS);
}

TEST(CudaKernels, PlaneToTensorEqualsDecodeSample) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    plane_to_tensor_cases(t);
}

TEST(CudaKernels, ShuffleEncodeEqualsSharedFormula) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    shuffle_encode_cases(t);
}

TEST(CudaKernels, ShuffleEncodeWritesEachRgbChannel) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    shuffle_encode_rgb_cases(t);
}

TEST(CudaKernels, ColorConversionEqualsTheHostFunctions) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    color_convert_cases(t);
}

TEST(CudaKernels, BiasActivationLeavesPaddingUntouched) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    bias_activation_cases(t);
}

TEST(CudaKernels, ShuffleEncodeAddsTheNearestResidual) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    shuffle_encode_residual_cases(t);
}

TEST(CudaKernels, PlaneUpscaleEqualsCpuResampler) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    plane_upscale_cases(t);
}

TEST(CudaKernels, LaunchersRejectBadParams) { launchers_reject_bad_params(); }

}  // namespace
}  // namespace espcn::cuda::test
