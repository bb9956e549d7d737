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
        Result<Stream> s = Stream::create();
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

TEST(CudaKernels, BiasActivationLeavesPaddingUntouched) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    bias_activation_cases(t);
}

// The global residual (Network::residual == nearest) in the same kernel: HR
// (Y, X) = act(lr) + input(Y div r, X div r), read from an NHWC input tensor
// whose pixel stride is padded, as the cudnn network's input is.
TEST(CudaKernels, ShuffleEncodeAddsTheNearestResidual) {
    SKIP_WITHOUT_DEVICE();
    std::mt19937 rng(13);
    Result<Stream> stream = Stream::create();
    ASSERT_TRUE(stream.is_ok());
    for (int r = 2; r <= 4; ++r)
        for (const ShuffleOrder order : {kShuffleCRD, kShuffleDCR})
            for (const int bits : {8, 16}) {
                const int lw = 17, lh = 5, c = r * r, in_stride = 8;
                std::uniform_real_distribution<float> d(-0.3f, 0.3f), u(0.0f, 1.0f);
                std::vector<float> lr(static_cast<size_t>(lw) * lh * c);
                for (float &v : lr) v = d(rng);
                std::vector<float> input(static_cast<size_t>(lw) * lh * in_stride, -7.0f);
                for (int i = 0; i < lw * lh; ++i) input[static_cast<size_t>(i) * in_stride] = u(rng);
                Result<DeviceBuffer> src = upload(lr.data(), lr.size() * 4);
                Result<DeviceBuffer> res = upload(input.data(), input.size() * 4);
                const int ow = lw * r, oh = lh * r;
                const ptrdiff_t ostride = ow * 2;
                Result<DeviceBuffer> dst = DeviceBuffer::allocate(static_cast<size_t>(ostride) * oh);
                ASSERT_TRUE(src.is_ok() && res.is_ok() && dst.is_ok());
                ShuffleEncodeParams p;
                p.src = src.value().get();
                p.src_pixel_stride = c;
                p.src_row_stride = static_cast<ptrdiff_t>(c) * lw;
                p.lr_width = lw;
                p.lr_height = lh;
                p.scale = r;
                p.order = order;
                p.activation = DeviceActivation::relu;
                p.residual = res.value().get();
                p.residual_pixel_stride = in_stride;
                p.residual_row_stride = static_cast<ptrdiff_t>(in_stride) * lw;
                p.dst = dst.value().get();
                p.dst_stride = ostride;
                p.dst_width = ow;
                p.dst_height = oh;
                p.dst_bit_depth = bits;
                ASSERT_EQ(launch_shuffle_encode(p, stream.value().get()), cudaSuccess);
                ASSERT_TRUE(stream.value().synchronize().is_ok());
                std::vector<uint8_t> out(static_cast<size_t>(ostride) * oh);
                ASSERT_EQ(cudaMemcpy(out.data(), dst.value().get(), out.size(), cudaMemcpyDeviceToHost),
                          cudaSuccess);
                const uint32_t maxv = max_sample(bits);
                for (int y = 0; y < oh; ++y)
                    for (int x = 0; x < ow; ++x) {
                        const ShuffleSource s = shuffle_source(order, 0, y, x, r, 1);
                        float v = lr[(static_cast<size_t>(s.y) * lw + s.x) * c + s.channel];
                        v = v > 0.0f ? v : 0.0f;
                        v += input[(static_cast<size_t>(s.y) * lw + s.x) * in_stride];
                        const uint32_t want = encode_sample(v, maxv, SampleRange{});
                        const uint8_t *row = out.data() + y * ostride;
                        uint32_t got = row[x];
                        if (bits == 16) {
                            uint16_t w16;
                            std::memcpy(&w16, row + 2 * x, 2);
                            got = w16;
                        }
                        ASSERT_EQ(got, want) << "r=" << r << " order=" << order << " bits=" << bits
                                             << " at " << x << "," << y;
                    }
            }
}

TEST(CudaKernels, PlaneUpscaleEqualsCpuResampler) {
    SKIP_WITHOUT_DEVICE();
    DeviceTarget t;
    plane_upscale_cases(t);
}

TEST(CudaKernels, LaunchersRejectBadParams) { launchers_reject_bad_params(); }

}  // namespace
}  // namespace espcn::cuda::test
