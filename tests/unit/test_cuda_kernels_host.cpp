// Our CUDA kernels (kernels/cuda/*.cu) compiled as host C++ and run through
// kernel_launch.cuh's emulation: every thread of the launcher's grid, the
// ones past the data included, one after another on the CPU. The cases are
// test_cuda_kernels' (cuda_kernel_cases.hpp), exact here. Label unit: runs in
// every build that has CUDA's headers, the ASan/UBSan one too, without nvcc,
// a driver or a GPU.
//
// What this proves: the kernels' index math, guards and grid coverage, the
// launchers' parameter plumbing and checks, fp16 rounding (cuda_fp16's host
// conversions round as the device does), and that they agree with the CPU's
// formulas and resampler; ASan/UBSan see any out-of-bounds access or
// overflow. What it cannot: nvcc's code generation, the device's math
// (tanhf/expf), races between threads, streams, cuDNN, speed.
// kernel_launch.cuh first: it makes __global__ mean nothing on the host
// before any other CUDA header is read.
#include "cuda/kernel_launch.cuh"

#include <gtest/gtest.h>

#include <list>

#include "cuda_kernel_cases.hpp"

namespace espcn::cuda::test {
namespace {

class HostTarget final : public KernelTarget {
public:
    void *upload(const void *host, size_t bytes) override {
        buffers_.emplace_back(static_cast<const uint8_t *>(host), static_cast<const uint8_t *>(host) + bytes);
        return buffers_.back().data();
    }
    void download(void *host, const void *target, size_t bytes) override { std::memcpy(host, target, bytes); }
    cudaStream_t stream() override { return nullptr; }  // the emulation runs at once
    cudaError_t finish() override { return cudaSuccess; }
    bool device_math() const override { return false; }

private:
    std::list<std::vector<uint8_t>> buffers_;  // a list: buffers never move
};

TEST(CudaKernelsOnHost, PlaneToTensorEqualsDecodeSample) {
    HostTarget t;
    plane_to_tensor_cases(t);
}

TEST(CudaKernelsOnHost, ShuffleEncodeEqualsSharedFormula) {
    HostTarget t;
    shuffle_encode_cases(t);
}

TEST(CudaKernelsOnHost, ShuffleEncodeAddsTheNearestResidual) {
    HostTarget t;
    shuffle_encode_residual_cases(t);
}

TEST(CudaKernelsOnHost, ShuffleEncodeWritesEachRgbChannel) {
    HostTarget t;
    shuffle_encode_rgb_cases(t);
}

TEST(CudaKernelsOnHost, ColorConversionEqualsTheHostFunctions) {
    HostTarget t;
    color_convert_cases(t);
}

TEST(CudaKernelsOnHost, BiasActivationLeavesPaddingUntouched) {
    HostTarget t;
    bias_activation_cases(t);
}

TEST(CudaKernelsOnHost, PlaneUpscaleEqualsCpuResampler) {
    HostTarget t;
    plane_upscale_cases(t);
}

TEST(CudaKernelsOnHost, LaunchersRejectBadParams) { launchers_reject_bad_params(); }

// The emulation itself: every thread of the grid runs once, with the
// built-in variables the device would give it; a bad configuration is refused.
__global__ void record_thread(std::vector<int> *seen) {
    const unsigned x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    const unsigned width = gridDim.x * blockDim.x;
    ++(*seen)[y * width + x];
}

TEST(KernelLaunchEmulation, RunsEveryThreadOfTheGridOnce) {
    std::vector<int> seen(static_cast<size_t>(3 * 32) * (2 * 8), 0);
    ASSERT_EQ(ESPCN_CUDA_LAUNCH(record_thread, dim3(3, 2), dim3(32, 8), nullptr, &seen), cudaSuccess);
    for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1) << "thread " << i;
    EXPECT_EQ(ESPCN_CUDA_LAUNCH(record_thread, dim3(0), dim3(32), nullptr, &seen),
              cudaErrorInvalidConfiguration);
    EXPECT_EQ(ESPCN_CUDA_LAUNCH(record_thread, dim3(1), dim3(64, 32), nullptr, &seen),
              cudaErrorInvalidConfiguration);  // 2048 threads per block
}

}  // namespace
}  // namespace espcn::cuda::test
