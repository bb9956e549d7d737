// Our CUDA kernels against the shared host formulas they are built from
// (core/sample_codec.hpp, core/shuffle_index.hpp, core/resample_taps.hpp) and
// against the CPU's own plane resampler. Label gpu: every kernel test skips,
// saying why, when no CUDA device is usable; the device probe's message is
// checked everywhere (on a machine without a driver it must explain that).
//
// Tolerances: the kernels are compiled with --fmad=false, so decode, shuffle
// + encode (identity) and the chroma upscaler must equal the CPU bit for bit;
// tanh/sigmoid use the device's tanhf/expf (not the host's): within 1 code
// value; fp16 tensors: within half precision (2^-11 relative) of the float.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/resample_taps.hpp"
#include "core/sample_codec.hpp"
#include "core/shuffle_index.hpp"
#include "cpu/plane_resample.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda/plane_to_tensor.cuh"
#include "cuda/plane_upscale.cuh"
#include "cuda/shuffle_encode.cuh"

namespace espcn::cuda {
namespace {

#define SKIP_WITHOUT_DEVICE()                                                          \
    do {                                                                               \
        const Status probe_ = probe_device(0);                                         \
        if (!probe_.is_ok()) GTEST_SKIP() << "no usable CUDA device: " << probe_.message(); \
    } while (0)

float half_bits_to_float(uint16_t h) {
    const int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v = exp == 0 ? std::ldexp(static_cast<float>(man), -24)
              : exp == 31 ? (man ? NAN : INFINITY)
                          : std::ldexp(static_cast<float>(man | 1024), exp - 25);
    return sign ? -v : v;
}

// A host plane of random samples with the given layout.
struct HostPlane {
    int width, height, bits, shift;
    ptrdiff_t stride;  // bytes, positive here (the kernel takes any)
    std::vector<uint8_t> bytes;
    uint32_t at(int x, int y) const {
        const uint8_t *row = bytes.data() + y * stride;
        if (bits == 8) return row[x];
        uint16_t v;
        std::memcpy(&v, row + 2 * x, 2);
        return (v >> shift) & max_sample(bits);
    }
};

HostPlane random_plane(std::mt19937 &rng, int w, int h, int bits, int shift, int components = 1) {
    const int bps = bits == 8 ? 1 : 2;
    HostPlane p{w, h, bits, shift, static_cast<ptrdiff_t>(w * components * bps + 13), {}};
    p.bytes.resize(static_cast<size_t>(p.stride) * h);
    std::uniform_int_distribution<uint32_t> d(0, max_sample(bits));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w * components; ++x) {
            uint8_t *row = p.bytes.data() + y * p.stride;
            if (bits == 8) row[x] = static_cast<uint8_t>(d(rng));
            else {
                const uint16_t v = static_cast<uint16_t>(d(rng) << shift);
                std::memcpy(row + 2 * x, &v, 2);
            }
        }
    return p;
}

Result<DeviceBuffer> upload(const void *src, size_t bytes) {
    Result<DeviceBuffer> b = DeviceBuffer::allocate(bytes);
    ESPCN_RETURN_IF_ERROR(b.status());
    ESPCN_CUDA_RETURN_IF_ERROR(cudaMemcpy(b.value().get(), src, bytes, cudaMemcpyHostToDevice));
    // cudaMemcpy from pageable memory may return before the DMA lands, and the
    // kernels run on non-blocking streams that do not wait for it.
    ESPCN_CUDA_RETURN_IF_ERROR(cudaDeviceSynchronize());
    return b;
}

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

TEST(CudaKernels, PlaneToTensorEqualsDecodeSample) {
    SKIP_WITHOUT_DEVICE();
    std::mt19937 rng(11);
    Result<Stream> stream = Stream::create();
    ASSERT_TRUE(stream.is_ok()) << stream.status().message();
    struct Fmt { int bits, shift; };
    for (const Fmt f : {Fmt{8, 0}, Fmt{10, 0}, Fmt{10, 6}, Fmt{12, 0}, Fmt{16, 0}})
        for (const TensorType type : {TensorType::f32, TensorType::f16}) {
            const int w = 37, h = 23;
            const HostPlane in = random_plane(rng, w, h, f.bits, f.shift);
            const SampleRange range{-0.5f, 1.5f};
            Result<DeviceBuffer> src = upload(in.bytes.data(), in.bytes.size());
            const size_t esize = type == TensorType::f32 ? 4 : 2;
            Result<DeviceBuffer> dst = DeviceBuffer::allocate(esize * w * h * 3);
            ASSERT_TRUE(src.is_ok() && dst.is_ok());
            PlaneToTensorParams p;
            p.src = src.value().get();
            p.src_stride = in.stride;
            p.width = w;
            p.height = h;
            p.bit_depth = f.bits;
            p.shift = f.shift;
            p.range = range;
            p.dst = dst.value().get();
            p.dst_pixel_stride = 3;  // channel 0 of an NHWC tensor with 3 channels
            p.dst_row_stride = 3 * w;
            p.dst_type = type;
            ASSERT_EQ(launch_plane_to_tensor(p, stream.value().get()), cudaSuccess);
            ASSERT_TRUE(stream.value().synchronize().is_ok());
            std::vector<uint8_t> out(esize * w * h * 3);
            ASSERT_EQ(cudaMemcpy(out.data(), dst.value().get(), out.size(), cudaMemcpyDeviceToHost), cudaSuccess);
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    const float want = decode_sample(in.at(x, y), max_sample(f.bits), range);
                    const size_t i = (static_cast<size_t>(y) * w + x) * 3;
                    if (type == TensorType::f32) {
                        float got;
                        std::memcpy(&got, out.data() + 4 * i, 4);
                        ASSERT_EQ(got, want) << f.bits << "-bit at " << x << "," << y;
                    } else {
                        uint16_t bits;
                        std::memcpy(&bits, out.data() + 2 * i, 2);
                        ASSERT_NEAR(half_bits_to_float(bits), want, std::fabs(want) * 0x1p-11f + 0x1p-24f);
                    }
                }
        }
}

TEST(CudaKernels, ShuffleEncodeEqualsSharedFormula) {
    SKIP_WITHOUT_DEVICE();
    std::mt19937 rng(12);
    Result<Stream> stream = Stream::create();
    ASSERT_TRUE(stream.is_ok());
    for (int r = 2; r <= 4; ++r)
        for (const ShuffleOrder order : {kShuffleCRD, kShuffleDCR})
            for (const int bits : {8, 10, 16})
                for (const DeviceActivation act : {DeviceActivation::identity, DeviceActivation::tanh,
                                                  DeviceActivation::sigmoid, DeviceActivation::relu}) {
                    const int lw = 19, lh = 7, c = r * r;
                    const int shift = bits == 10 ? 6 : 0;
                    std::uniform_real_distribution<float> d(-0.3f, 1.3f);
                    std::vector<float> lr(static_cast<size_t>(lw) * lh * c);
                    for (float &v : lr) v = d(rng);
                    lr[0] = NAN;  // encodes to 0 on both sides
                    Result<DeviceBuffer> src = upload(lr.data(), lr.size() * 4);
                    const int ow = lw * r - 1, oh = lh * r;  // one HR column cropped
                    const ptrdiff_t ostride = ow * 2 + 6;
                    Result<DeviceBuffer> dst = DeviceBuffer::allocate(static_cast<size_t>(ostride) * oh);
                    ASSERT_TRUE(src.is_ok() && dst.is_ok());
                    ShuffleEncodeParams p;
                    p.src = src.value().get();
                    p.src_pixel_stride = c;
                    p.src_row_stride = static_cast<ptrdiff_t>(c) * lw;
                    p.src_channel_stride = 1;
                    p.lr_width = lw;
                    p.lr_height = lh;
                    p.scale = r;
                    p.order = order;
                    p.activation = act;
                    p.dst = dst.value().get();
                    p.dst_stride = ostride;
                    p.dst_width = ow;
                    p.dst_height = oh;
                    p.dst_bit_depth = bits;
                    p.dst_shift = shift;
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
                            if (act == DeviceActivation::relu) v = v > 0.0f ? v : 0.0f;
                            if (act == DeviceActivation::tanh) v = std::tanh(v);
                            if (act == DeviceActivation::sigmoid) v = 1.0f / (1.0f + std::exp(-v));
                            const uint32_t want = encode_sample(v, maxv, SampleRange{});
                            const uint8_t *row = out.data() + y * ostride;
                            uint32_t got;
                            if (bits == 8) got = row[x];
                            else {
                                uint16_t w16;
                                std::memcpy(&w16, row + 2 * x, 2);
                                ASSERT_EQ(w16 & ((1u << shift) - 1u), 0u);
                                got = w16 >> shift;
                            }
                            const bool exact = act == DeviceActivation::identity || act == DeviceActivation::relu;
                            const int tol = exact ? 0 : 1;
                            ASSERT_LE(std::abs(static_cast<int>(got) - static_cast<int>(want)), tol)
                                << "r=" << r << " order=" << order << " bits=" << bits
                                << " act=" << static_cast<int>(act) << " at " << x << "," << y;
                        }
                }
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
    std::mt19937 rng(13);
    Result<Stream> stream = Stream::create();
    ASSERT_TRUE(stream.is_ok());
    for (const ResampleKind kind : {kResampleBicubic, kResampleBilinear, kResampleNearest})
        for (const int components : {1, 2})
            for (const int bits : {8, 10})
                for (int r = 2; r <= 4; ++r) {
                    const int iw = 17, ih = 9, shift = bits == 10 ? 6 : 0;
                    const int ow = iw * r - (r > 2 ? 1 : 0), oh = ih * r + 1;  // off r× both ways
                    const HostPlane in = random_plane(rng, iw, ih, bits, shift, components);
                    const int bps = bits == 8 ? 1 : 2;
                    const ptrdiff_t ostride = static_cast<ptrdiff_t>(ow) * components * bps + 4;
                    std::vector<uint8_t> cpu(static_cast<size_t>(ostride) * oh), gpu(cpu.size());
                    std::vector<uint8_t> in_copy = in.bytes;
                    const espcn_plane ip{in_copy.data(), in.stride, iw, ih, bits, shift};
                    const espcn_plane op{cpu.data(), ostride, ow, oh, bits, shift};
                    PlaneResampler resampler;
                    resampler.upscale(ip, op, components, r, kind, 1);

                    Result<DeviceBuffer> src = upload(in.bytes.data(), in.bytes.size());
                    Result<DeviceBuffer> dst = DeviceBuffer::allocate(gpu.size());
                    ASSERT_TRUE(src.is_ok() && dst.is_ok());
                    ASSERT_EQ(cudaMemset(dst.value().get(), 0, gpu.size()), cudaSuccess);
                    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // see upload()
                    PlaneUpscaleParams p;
                    p.src = src.value().get();
                    p.src_stride = in.stride;
                    p.src_width = iw;
                    p.src_height = ih;
                    p.dst = dst.value().get();
                    p.dst_stride = ostride;
                    p.dst_width = ow;
                    p.dst_height = oh;
                    p.components = components;
                    p.bit_depth = bits;
                    p.shift = shift;
                    p.scale = r;
                    p.kind = kind;
                    ASSERT_EQ(launch_plane_upscale(p, stream.value().get()), cudaSuccess);
                    ASSERT_TRUE(stream.value().synchronize().is_ok());
                    ASSERT_EQ(cudaMemcpy(gpu.data(), dst.value().get(), gpu.size(), cudaMemcpyDeviceToHost),
                              cudaSuccess);
                    for (int y = 0; y < oh; ++y)
                        ASSERT_EQ(std::memcmp(cpu.data() + y * ostride, gpu.data() + y * ostride,
                                              static_cast<size_t>(ow) * components * bps), 0)
                            << "kind=" << kind << " components=" << components << " bits=" << bits
                            << " r=" << r << " row " << y;
                }
}

TEST(CudaKernels, LaunchersRejectBadParams) {
    // Argument checks happen before any CUDA call, so this runs without a device too.
    PlaneToTensorParams a;
    EXPECT_EQ(launch_plane_to_tensor(a, nullptr), cudaErrorInvalidValue);
    ShuffleEncodeParams b;
    EXPECT_EQ(launch_shuffle_encode(b, nullptr), cudaErrorInvalidValue);
    PlaneUpscaleParams c;
    EXPECT_EQ(launch_plane_upscale(c, nullptr), cudaErrorInvalidValue);
    int dummy = 0;
    b.src = b.dst = &dummy;
    b.lr_width = b.lr_height = 4;
    b.dst_width = 9;  // more than scale · lr_width
    b.dst_height = 8;
    EXPECT_EQ(launch_shuffle_encode(b, nullptr), cudaErrorInvalidValue);
}

}  // namespace
}  // namespace espcn::cuda
