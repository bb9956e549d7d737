// The cases of our CUDA kernels, run on two targets: the GPU
// (test_cuda_kernels, label gpu) and the host emulation of the same .cu files
// (test_cuda_kernels_host, label unit: kernel_launch.cuh). Each case fills
// inputs on the host, poisons every output byte, runs the launcher, and
// checks every sample it should write against the shared host formulas
// (core/sample_codec.hpp, shuffle_index.hpp, activation.hpp, resample_taps.hpp)
// or the CPU's resampler, and that nothing else was written (padding
// channels, stride padding, pixels past a cropped output).
//
// Tolerances: on the host everything is exact (the same C++ on both sides).
// On the GPU (built with --fmad=false) decode, shuffle + encode without
// tanh/sigmoid and the chroma upscaler are exact; tanh and sigmoid use the
// device's tanhf/expf: within 1 code value (1e-6 in a float tensor, one half
// ulp in an fp16 one); fp16 elements within half precision of the float.
#pragma once

#include <gtest/gtest.h>

#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "core/activation.hpp"
#include "core/resample_taps.hpp"
#include "core/sample_access.hpp"
#include "core/sample_codec.hpp"
#include "core/shuffle_index.hpp"
#include "core/plane_resample.hpp"
#include "core/color_convert.hpp"
#include "cuda/bias_activation.cuh"
#include "cuda/color_convert.cuh"
#include "cuda/plane_to_tensor.cuh"
#include "cuda/plane_upscale.cuh"
#include "cuda/shuffle_encode.cuh"

namespace espcn::cuda::test {

// Where the kernels under test run.
class KernelTarget {
public:
    virtual ~KernelTarget() = default;
    // A buffer of the target holding a copy of `bytes` host bytes; it lives as
    // long as the target.
    virtual void *upload(const void *host, size_t bytes) = 0;
    virtual void download(void *host, const void *target, size_t bytes) = 0;
    virtual cudaStream_t stream() = 0;
    virtual cudaError_t finish() = 0;  // waits for what was launched on stream()
    // Whether tanh/sigmoid may differ from the host's libm by a rounding step.
    virtual bool device_math() const = 0;
};

inline uint16_t half_bits(float v) {
    const __half_raw raw = __float2half_rn(v);
    return raw.x;
}

inline float half_value(uint16_t bits) {
    __half_raw raw;
    raw.x = bits;
    return __half2float(__half(raw));
}

inline bool transcendental(Activation a) { return a == Activation::tanh || a == Activation::sigmoid; }

// Stores `v` as element `index` of a tensor of `type` (float32, or float16
// rounded to nearest) and returns the value a kernel reads back from it: `v`,
// or its float16 rounding.
inline float store_element(std::vector<uint8_t> &tensor, TensorType type, size_t index, float v) {
    if (type == TensorType::f32) {
        std::memcpy(tensor.data() + 4 * index, &v, 4);
        return v;
    }
    const uint16_t hb = half_bits(v);
    std::memcpy(tensor.data() + 2 * index, &hb, 2);
    return half_value(hb);
}

// A host plane (width counts samples: a UV pair is two), top-down or
// bottom-up (negative stride), with its rows at `origin` + y · stride.
struct Plane {
    int width = 0, height = 0, bits = 8, shift = 0;
    ptrdiff_t stride = 0;
    size_t origin = 0;
    std::vector<uint8_t> bytes;

    uint8_t *row(int y) { return bytes.data() + origin + y * stride; }
    const uint8_t *row(int y) const { return bytes.data() + origin + y * stride; }
    uint32_t at(int x, int y) const { return load_sample(row(y), x, bits, shift, max_sample(bits)); }
    size_t row_bytes() const { return static_cast<size_t>(width) * (bits > 8 ? 2 : 1); }
    espcn_plane as_plane(void *base, int pixels_wide) const {
        return espcn_plane{static_cast<uint8_t *>(base) + origin, stride, pixels_wide, height, bits, shift};
    }
};

// Every byte 0xA5 (a poison a kernel would not write); with `rng`, the
// samples random (in the word's value bits, garbage below them).
inline Plane make_plane(int width, int height, int bits, int shift, bool bottom_up, std::mt19937 *rng) {
    Plane p;
    p.width = width;
    p.height = height;
    p.bits = bits;
    p.shift = shift;
    // Padded, and even: 16-bit samples must be 2-byte aligned (the GPU faults otherwise).
    const ptrdiff_t abs_stride = static_cast<ptrdiff_t>(p.row_bytes()) + 14;
    p.bytes.assign(static_cast<size_t>(abs_stride) * height, 0xA5);
    p.stride = bottom_up ? -abs_stride : abs_stride;
    p.origin = bottom_up ? static_cast<size_t>(abs_stride) * (height - 1) : 0;
    if (rng) {
        std::uniform_int_distribution<uint32_t> d(0, max_sample(bits));
        std::uniform_int_distribution<uint32_t> low(0, (1u << shift) - 1u);
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) {
                if (bits == 8) p.row(y)[x] = static_cast<uint8_t>(d(*rng));
                else {
                    // Bits below the value are not ours: the kernels must mask them.
                    const uint16_t w = static_cast<uint16_t>(pack_sample(d(*rng), shift) | low(*rng));
                    std::memcpy(p.row(y) + 2 * x, &w, 2);
                }
            }
    }
    return p;
}

// Bytes of `p` outside its samples (stride padding) still hold the poison.
inline void expect_padding_untouched(const Plane &p, const char *what) {
    for (int y = 0; y < p.height; ++y)
        for (size_t b = p.row_bytes(); b < static_cast<size_t>(std::abs(p.stride)); ++b)
            ASSERT_EQ(p.row(y)[b], 0xA5) << what << ": byte " << b << " of row " << y << " written";
}

inline void *upload_plane(KernelTarget &t, const Plane &p) { return t.upload(p.bytes.data(), p.bytes.size()); }

// A shuffle + encode launch from an NHWC tensor of lw x lh pixels of `pix`
// elements of `type` (uploaded at `src`), scale r, into all of `out`
// (uploaded at `dst`); channel, bias, activation, range and residual are the
// caller's.
inline ShuffleEncodeParams shuffle_encode_params(const void *src, TensorType type, int pix, int lw, int lh, int r,
                                                 ShuffleOrder order, const Plane &out, void *dst) {
    ShuffleEncodeParams p;
    p.src = src;
    p.src_type = type;
    p.src_pixel_stride = pix;
    p.src_row_stride = static_cast<ptrdiff_t>(pix) * lw;
    p.lr_width = lw;
    p.lr_height = lh;
    p.scale = r;
    p.order = order;
    p.dst = static_cast<uint8_t *>(dst) + out.origin;
    p.dst_stride = out.stride;
    p.dst_width = out.width;
    p.dst_height = out.height;
    p.dst_bit_depth = out.bits;
    p.dst_shift = out.shift;
    return p;
}

// Plane -> tensor: 8/10/12/16-bit, P010 (10 bits << 6), bottom-up planes,
// fp32 and fp16 with padded channels (only channel 0 written).
inline void plane_to_tensor_cases(KernelTarget &t) {
    std::mt19937 rng(11);
    struct Fmt {
        int bits, shift;
    };
    for (const Fmt f : {Fmt{8, 0}, Fmt{10, 0}, Fmt{10, 6}, Fmt{12, 0}, Fmt{16, 0}})
        for (const TensorType type : {TensorType::f32, TensorType::f16})
            for (const bool bottom_up : {false, true}) {
                const int w = 37, h = 23;
                const int channels = type == TensorType::f32 ? 3 : 8;  // fp16: padded to 8
                const Plane in = make_plane(w, h, f.bits, f.shift, bottom_up, &rng);
                const SampleRange range{-0.5f, 1.5f};
                const size_t esize = type == TensorType::f32 ? 4 : 2;
                std::vector<uint8_t> tensor(esize * w * h * channels, 0xA5);
                void *src = upload_plane(t, in);
                void *dst = t.upload(tensor.data(), tensor.size());
                PlaneToTensorParams p;
                p.src = static_cast<uint8_t *>(src) + in.origin;
                p.src_stride = in.stride;
                p.width = w;
                p.height = h;
                p.bit_depth = f.bits;
                p.shift = f.shift;
                p.range = range;
                p.dst = dst;
                p.dst_pixel_stride = channels;
                p.dst_row_stride = static_cast<ptrdiff_t>(channels) * w;
                p.dst_type = type;
                ASSERT_EQ(launch_plane_to_tensor(p, t.stream()), cudaSuccess);
                ASSERT_EQ(t.finish(), cudaSuccess);
                t.download(tensor.data(), dst, tensor.size());
                for (int y = 0; y < h; ++y)
                    for (int x = 0; x < w; ++x)
                        for (int c = 0; c < channels; ++c) {
                            const size_t i = (static_cast<size_t>(y) * w + x) * channels + c;
                            const uint8_t *e = tensor.data() + esize * i;
                            if (c > 0) {  // padding: never written
                                for (size_t b = 0; b < esize; ++b)
                                    ASSERT_EQ(e[b], 0xA5) << "channel " << c << " at " << x << "," << y;
                                continue;
                            }
                            const float want = decode_sample(in.at(x, y), max_sample(f.bits), range);
                            if (type == TensorType::f32) {
                                float got;
                                std::memcpy(&got, e, 4);
                                ASSERT_EQ(got, want) << f.bits << "-bit<<" << f.shift << " at " << x << "," << y;
                            } else {
                                uint16_t got;
                                std::memcpy(&got, e, 2);
                                if (!t.device_math())
                                    ASSERT_EQ(got, half_bits(want)) << f.bits << "-bit fp16 at " << x << "," << y;
                                else
                                    ASSERT_NEAR(half_value(got), want, std::fabs(want) * 0x1p-11f + 0x1p-24f)
                                        << f.bits << "-bit fp16 at " << x << "," << y;
                            }
                        }
            }
}

// Shuffle + bias + activation + encode: r = 2..4, CRD and DCR, 8/16-bit and
// P010 (bottom-up), every activation (PReLU per channel), with and without
// bias, fp32 and padded fp16 tensors, an output cropped below r× the input.
inline void shuffle_encode_cases(KernelTarget &t) {
    std::mt19937 rng(12);
    for (int r = 2; r <= 4; ++r)
        for (const ShuffleOrder order : {kShuffleCRD, kShuffleDCR})
            for (const int bits : {8, 10, 16})
                for (const Activation act : {Activation::identity, Activation::relu, Activation::tanh,
                                             Activation::sigmoid, Activation::prelu})
                    for (const TensorType type : {TensorType::f32, TensorType::f16}) {
                        const int lw = 19, lh = 7, c = r * r;
                        const int pix = type == TensorType::f16 ? (c + 7) / 8 * 8 : c;
                        const int shift = bits == 10 ? 6 : 0;
                        const bool with_bias = act != Activation::sigmoid;
                        const SampleRange range = bits == 16 ? SampleRange{-0.25f, 1.25f} : SampleRange{};
                        std::uniform_real_distribution<float> d(-0.3f, 1.3f), small(-0.2f, 0.2f);
                        // The values as the kernel reads them (fp16: rounded).
                        std::vector<float> lr(static_cast<size_t>(lw) * lh * c);
                        for (float &v : lr) v = d(rng);
                        lr[0] = NAN;  // encodes to 0 on both sides
                        std::vector<uint8_t> tensor;
                        const size_t esize = type == TensorType::f32 ? 4 : 2;
                        tensor.assign(esize * lw * lh * pix, 0);
                        for (int p = 0; p < lw * lh; ++p)
                            for (int ch = 0; ch < pix; ++ch) {
                                // Padding channels hold a value that would show if read.
                                const size_t i = static_cast<size_t>(p) * c + ch;
                                const float read = store_element(tensor, type, static_cast<size_t>(p) * pix + ch,
                                                                 ch < c ? lr[i] : 1000.0f);
                                if (ch < c) lr[i] = read;
                            }
                        std::vector<float> bias(c), slope(c);
                        for (float &v : bias) v = small(rng);
                        for (float &v : slope) v = 2.5f * small(rng);
                        const int ow = lw * r - 1, oh = lh * r - (r > 2 ? 1 : 0);  // cropped
                        Plane out = make_plane(ow, oh, bits, shift, /*bottom_up=*/bits == 10, nullptr);
                        void *src = t.upload(tensor.data(), tensor.size());
                        void *dst = upload_plane(t, out);
                        ShuffleEncodeParams p = shuffle_encode_params(src, type, pix, lw, lh, r, order, out, dst);
                        p.src_channel_stride = 1;
                        p.bias = with_bias ? static_cast<const float *>(t.upload(bias.data(), bias.size() * 4)) : nullptr;
                        p.prelu_slope = act == Activation::prelu
                                            ? static_cast<const float *>(t.upload(slope.data(), slope.size() * 4))
                                            : nullptr;
                        p.activation = act;
                        p.range = range;
                        ASSERT_EQ(launch_shuffle_encode(p, t.stream()), cudaSuccess);
                        ASSERT_EQ(t.finish(), cudaSuccess);
                        t.download(out.bytes.data(), dst, out.bytes.size());
                        const uint32_t maxv = max_sample(bits);
                        const int tol = t.device_math() && transcendental(act) ? 1 : 0;
                        for (int y = 0; y < oh; ++y)
                            for (int x = 0; x < ow; ++x) {
                                const ShuffleSource s = shuffle_source(order, 0, y, x, r, 1);
                                float v = lr[(static_cast<size_t>(s.y) * lw + s.x) * c + s.channel];
                                if (with_bias) v += bias[s.channel];
                                v = apply_activation(act, v, slope[s.channel]);
                                const uint32_t want = encode_sample(v, maxv, range);
                                if (bits > 8) {
                                    uint16_t word;
                                    std::memcpy(&word, out.row(y) + 2 * x, 2);
                                    ASSERT_EQ(word & ((1u << shift) - 1u), 0u) << "low bits at " << x << "," << y;
                                }
                                ASSERT_LE(std::abs(static_cast<int>(out.at(x, y)) - static_cast<int>(want)), tol)
                                    << "r=" << r << " order=" << order << " bits=" << bits << " act="
                                    << static_cast<int>(act) << " type=" << static_cast<int>(type) << " at " << x
                                    << "," << y;
                            }
                        ASSERT_NO_FATAL_FAILURE(expect_padding_untouched(out, "shuffle_encode"));
                    }
}

// The global residual (Network::residual == nearest) in the same kernel: HR
// (Y, X) = act(lr) + decode(input(Y div r, X div r)), the input read from the
// LR *plane* and decoded in fp32 with the model's range, whatever the
// tensor's type: an fp16 network must not round the identity path to 11 bits
// (up to 16 codes of a 16-bit plane, issue 21). 8/10 (P010, bottom-up)/12/16
// bits, fp32 and fp16 tensors, CRD and DCR, a cropped output. The expectation
// is exact on every target: the residual is one fp32 decode and one add.
inline void shuffle_encode_residual_cases(KernelTarget &t) {
    std::mt19937 rng(13);
    struct Fmt {
        int bits, shift;
    };
    for (int r = 2; r <= 4; ++r)
        for (const ShuffleOrder order : {kShuffleCRD, kShuffleDCR})
            for (const Fmt f : {Fmt{8, 0}, Fmt{10, 6}, Fmt{12, 0}, Fmt{16, 0}})
                for (const TensorType type : {TensorType::f32, TensorType::f16}) {
                    const int lw = 17, lh = 5, c = r * r, pix = type == TensorType::f16 ? (c + 7) / 8 * 8 : c;
                    const size_t esize = type == TensorType::f32 ? 4 : 2;
                    const SampleRange range = f.bits == 12 ? SampleRange{-0.25f, 1.25f} : SampleRange{};
                    std::uniform_real_distribution<float> d(-0.3f, 0.3f);
                    // The network's output as the kernel reads it (fp16: rounded).
                    std::vector<float> lr(static_cast<size_t>(lw) * lh * c);
                    std::vector<uint8_t> lr_bytes(esize * lw * lh * pix, 0);
                    for (int px = 0; px < lw * lh; ++px)
                        for (int ch = 0; ch < c; ++ch)
                            lr[static_cast<size_t>(px) * c + ch] =
                                store_element(lr_bytes, type, static_cast<size_t>(px) * pix + ch, d(rng));
                    const Plane in = make_plane(lw, lh, f.bits, f.shift, /*bottom_up=*/f.shift != 0, &rng);
                    const int ow = lw * r - 1, oh = lh * r - (r > 2 ? 1 : 0);  // cropped
                    Plane out = make_plane(ow, oh, f.bits, f.shift, /*bottom_up=*/false, nullptr);
                    void *dst = upload_plane(t, out);
                    ShuffleEncodeParams p = shuffle_encode_params(t.upload(lr_bytes.data(), lr_bytes.size()), type,
                                                                  pix, lw, lh, r, order, out, dst);
                    p.activation = Activation::relu;
                    p.range = range;
                    p.residual = static_cast<uint8_t *>(upload_plane(t, in)) + in.origin;
                    p.residual_stride = in.stride;
                    p.residual_bit_depth = f.bits;
                    p.residual_shift = f.shift;
                    ASSERT_EQ(launch_shuffle_encode(p, t.stream()), cudaSuccess);
                    ASSERT_EQ(t.finish(), cudaSuccess);
                    t.download(out.bytes.data(), dst, out.bytes.size());
                    const uint32_t maxv = max_sample(f.bits);
                    for (int y = 0; y < oh; ++y)
                        for (int x = 0; x < ow; ++x) {
                            const ShuffleSource s = shuffle_source(order, 0, y, x, r, 1);
                            float v = lr[(static_cast<size_t>(s.y) * lw + s.x) * c + s.channel];
                            v = apply_activation(Activation::relu, v, 0.0f);
                            v += decode_sample(in.at(s.x, s.y), maxv, range);  // fp32, never fp16
                            const uint32_t want = encode_sample(v, maxv, range);
                            ASSERT_EQ(out.at(x, y), want) << "r=" << r << " order=" << order << " bits=" << f.bits
                                                          << " type=" << static_cast<int>(type) << " at " << x
                                                          << "," << y;
                        }
                    ASSERT_NO_FATAL_FAILURE(expect_padding_untouched(out, "shuffle_encode residual"));
                }
}

// A network of RGB: each image channel c of C = 3 written by its own launch
// (channel, channels), CRD and DCR (which differ with C = 3), the residual
// read from that channel's own LR input plane (each channel's plane differs,
// decoded in fp32); r = 2..4.
inline void shuffle_encode_rgb_cases(KernelTarget &t) {
    std::mt19937 rng(15);
    for (int r = 2; r <= 4; ++r)
        for (const ShuffleOrder order : {kShuffleCRD, kShuffleDCR})
            for (const TensorType type : {TensorType::f32, TensorType::f16}) {
                const int C = 3, lw = 11, lh = 5, c = C * r * r;
                const int pix = type == TensorType::f16 ? (c + 7) / 8 * 8 : c;
                const size_t esize = type == TensorType::f32 ? 4 : 2;
                std::uniform_real_distribution<float> d(-0.3f, 0.3f);
                std::vector<float> lr(static_cast<size_t>(lw) * lh * c);
                for (float &v : lr) v = d(rng);
                std::vector<Plane> input;  // the LR input plane of each channel
                for (int ch = 0; ch < C; ++ch) input.push_back(make_plane(lw, lh, 8, 0, ch == 2, &rng));
                std::vector<uint8_t> lr_bytes(esize * lw * lh * pix, 0);
                for (int p = 0; p < lw * lh; ++p)
                    for (int ch = 0; ch < c; ++ch) {
                        float &v = lr[static_cast<size_t>(p) * c + ch];
                        v = store_element(lr_bytes, type, static_cast<size_t>(p) * pix + ch, v);
                    }
                std::vector<float> bias(c);
                for (float &v : bias) v = d(rng);
                const void *src = t.upload(lr_bytes.data(), lr_bytes.size());
                std::vector<const void *> res;
                for (const Plane &in : input) res.push_back(static_cast<uint8_t *>(upload_plane(t, in)) + in.origin);
                const float *dbias = static_cast<const float *>(t.upload(bias.data(), bias.size() * 4));
                for (int ch = 0; ch < C; ++ch) {
                    const int ow = lw * r, oh = lh * r;
                    Plane out = make_plane(ow, oh, 8, 0, ch == 1, nullptr);
                    void *dst = upload_plane(t, out);
                    ShuffleEncodeParams p = shuffle_encode_params(src, type, pix, lw, lh, r, order, out, dst);
                    p.channel = ch;
                    p.channels = C;
                    p.bias = dbias;
                    p.activation = Activation::identity;
                    p.residual = res[static_cast<size_t>(ch)];
                    p.residual_stride = input[static_cast<size_t>(ch)].stride;
                    p.residual_bit_depth = 8;
                    ASSERT_EQ(launch_shuffle_encode(p, t.stream()), cudaSuccess);
                    ASSERT_EQ(t.finish(), cudaSuccess);
                    t.download(out.bytes.data(), dst, out.bytes.size());
                    for (int y = 0; y < oh; ++y)
                        for (int x = 0; x < ow; ++x) {
                            const ShuffleSource s = shuffle_source(order, ch, y, x, r, C);
                            const size_t pixel = static_cast<size_t>(s.y) * lw + s.x;
                            const float v = lr[pixel * c + s.channel] + bias[s.channel] +
                                            decode_sample(input[static_cast<size_t>(ch)].at(s.x, s.y), 255, SampleRange{});
                            ASSERT_EQ(out.at(x, y), encode_sample(v, 255, SampleRange{}))
                                << "r=" << r << " order=" << order << " channel " << ch << " at " << x << "," << y;
                        }
                    ASSERT_NO_FATAL_FAILURE(expect_padding_untouched(out, "shuffle_encode rgb"));
                    p.channel = C;  // outside [0, channels)
                    EXPECT_EQ(launch_shuffle_encode(p, t.stream()), cudaErrorInvalidValue);
                }
            }
}

// The colour conversion of networks of RGB: the kernels against the same
// per-sample functions run on the host (core/color_convert.hpp, as the CPU's
// core/color_frames.cpp runs them), exact: 4:2:0, 4:2:2 and 4:4:4 Y'CbCr of 8
// and 10 bits (P010's shift too), odd sizes, every matrix and range, every
// chroma filter, and packed 8-bit RGB (3 samples per pixel); nothing outside
// the samples written.
inline void color_convert_cases(KernelTarget &t) {
    std::mt19937 rng(16);
    struct Case {
        int log2_w, log2_h, bits, shift;
        bool ycbcr, limited, packed;
        ResampleKind filter;
    };
    const Case cases[] = {{1, 1, 10, 0, true, true, false, kResampleBicubic},
                          {1, 1, 8, 0, true, false, false, kResampleBilinear},
                          {1, 0, 10, 6, true, true, false, kResampleNearest},
                          {0, 0, 8, 0, true, false, false, kResampleBicubic},
                          {0, 0, 8, 0, false, false, true, kResampleBicubic},
                          {0, 0, 16, 0, false, true, false, kResampleBicubic}};
    const ColorMatrix matrices[] = {{true, 0.299f, 0.114f}, {true, 0.2126f, 0.0722f}, {true, 0.2627f, 0.0593f}};
    int m = 0;
    for (const Case &k : cases) {
        const int w = 13, h = 7, r = 2;
        const int cw = (w + (1 << k.log2_w) - 1) >> k.log2_w, ch = (h + (1 << k.log2_h) - 1) >> k.log2_h;
        const int ow = w * r, oh = h * r;
        const int ocw = (ow + (1 << k.log2_w) - 1) >> k.log2_w, och = (oh + (1 << k.log2_h) - 1) >> k.log2_h;
        const ColorMatrix matrix = k.ycbcr ? matrices[m++ % 3] : ColorMatrix{};
        const int step = k.packed ? 3 : 1;
        // Sources: Y' (or R, G, B), Cb and Cr planes; packed: one plane of 3·w samples.
        Plane src[3], dst[3];
        for (int p = 0; p < 3; ++p) {
            const bool sub = p > 0 && k.ycbcr;
            if (!k.packed || p == 0) {
                src[p] = make_plane((sub ? cw : w) * step, sub ? ch : h, k.bits, k.shift, p == 1, &rng);
                dst[p] = make_plane((sub ? ocw : ow) * step, sub ? och : oh, k.bits, k.shift, p == 2, nullptr);
            }
        }
        Plane rgb_in[3], rgb_out[3];
        for (int p = 0; p < 3; ++p) {
            rgb_in[p] = make_plane(w, h, 16, 0, false, nullptr);
            rgb_out[p] = make_plane(ow, oh, 16, 0, false, &rng);  // what a network wrote
        }
        // Host run: the planes in host memory.
        ToRgbParams hp;
        FromRgbParams hq;
        hp.log2_w = hq.log2_w = k.ycbcr ? k.log2_w : 0;
        hp.log2_h = hq.log2_h = k.ycbcr ? k.log2_h : 0;
        hp.chroma_filter = k.filter;
        hp.matrix = hq.matrix = matrix;
        auto cplane = [&](Plane &p, void *base, int channel, int width) {
            ColorPlane c;
            c.data = static_cast<uint8_t *>(base) + p.origin + (k.packed ? channel * (k.bits > 8 ? 2 : 1) : 0);
            c.stride = p.stride;
            c.width = width;
            c.height = p.height;
            c.bit_depth = p.bits;
            c.shift = p.shift;
            c.step = step;
            return c;
        };
        std::vector<Plane> host_src(src, src + 3), host_dst(dst, dst + 3), host_in(rgb_in, rgb_in + 3);
        for (int p = 0; p < 3; ++p) {
            const bool sub = p > 0 && k.ycbcr;
            Plane &s = k.packed ? host_src[0] : host_src[static_cast<size_t>(p)];
            Plane &d = k.packed ? host_dst[0] : host_dst[static_cast<size_t>(p)];
            hp.src[p] = cplane(s, s.bytes.data(), p, sub ? cw : w);
            hq.dst[p] = cplane(d, d.bytes.data(), p, sub ? ocw : ow);
            hp.coding[p] = hq.coding[p] = color_coding(k.ycbcr, k.limited, k.bits);
            hp.dst[p] = cplane(host_in[static_cast<size_t>(p)], host_in[static_cast<size_t>(p)].bytes.data(), 0, w);
            hp.dst[p].step = 1;
            hp.dst[p].data = host_in[static_cast<size_t>(p)].bytes.data() + host_in[static_cast<size_t>(p)].origin;
            hq.src[p] = ColorPlane{rgb_out[p].bytes.data() + rgb_out[p].origin, rgb_out[p].stride, ow, oh, 16, 0, 1};
        }
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) to_rgb_pixel(hp, x, y);
        for (int y = 0; y < oh; ++y)
            for (int x = 0; x < ow; ++x) from_rgb_pixel(hq, x, y);
        if (k.ycbcr)
            for (int y = 0; y < och; ++y)
                for (int x = 0; x < ocw; ++x) from_rgb_chroma(hq, x, y);
        // Target run: the same planes uploaded.
        ToRgbParams tp = hp;
        FromRgbParams tq = hq;
        void *tsrc[3] = {}, *tdst[3] = {}, *tin[3] = {}, *tout[3] = {};
        for (int p = 0; p < 3; ++p) {
            if (!k.packed || p == 0) {
                tsrc[p] = upload_plane(t, src[p]);
                tdst[p] = upload_plane(t, dst[p]);
            }
            tin[p] = upload_plane(t, rgb_in[p]);
            tout[p] = upload_plane(t, rgb_out[p]);
        }
        for (int p = 0; p < 3; ++p) {
            const bool sub = p > 0 && k.ycbcr;
            const int q = k.packed ? 0 : p;
            tp.src[p] = cplane(src[q], tsrc[q], p, sub ? cw : w);
            tq.dst[p] = cplane(dst[q], tdst[q], p, sub ? ocw : ow);
            tp.dst[p] = ColorPlane{static_cast<uint8_t *>(tin[p]) + rgb_in[p].origin, rgb_in[p].stride, w, h, 16, 0, 1};
            tq.src[p] = ColorPlane{static_cast<uint8_t *>(tout[p]) + rgb_out[p].origin, rgb_out[p].stride, ow, oh, 16, 0, 1};
        }
        ASSERT_EQ(launch_to_rgb(tp, w, h, t.stream()), cudaSuccess);
        ASSERT_EQ(launch_from_rgb(tq, ow, oh, t.stream()), cudaSuccess);
        ASSERT_EQ(t.finish(), cudaSuccess);
        for (int p = 0; p < 3; ++p) {
            Plane got = rgb_in[p];
            t.download(got.bytes.data(), tin[p], got.bytes.size());
            ASSERT_EQ(got.bytes, host_in[static_cast<size_t>(p)].bytes) << "to_rgb channel " << p << " case " << (&k - cases);
            ASSERT_NO_FATAL_FAILURE(expect_padding_untouched(got, "to_rgb"));
            if (k.packed && p > 0) continue;
            Plane out = dst[p];
            t.download(out.bytes.data(), tdst[p], out.bytes.size());
            ASSERT_EQ(out.bytes, host_dst[static_cast<size_t>(p)].bytes) << "from_rgb plane " << p << " case " << (&k - cases);
            ASSERT_NO_FATAL_FAILURE(expect_padding_untouched(out, "from_rgb"));
        }
    }
    ToRgbParams bad;
    EXPECT_EQ(launch_to_rgb(bad, 4, 4, t.stream()), cudaErrorInvalidValue);
    FromRgbParams bad_out;
    EXPECT_EQ(launch_from_rgb(bad_out, 4, 4, t.stream()), cudaErrorInvalidValue);
}

// Bias + activation in place: fp32 and fp16, every activation, with and
// without bias, pixel counts that leave most of the last block's threads
// idle; the padding channels (channel_stride > channels) stay untouched.
inline void bias_activation_cases(KernelTarget &t) {
    std::mt19937 rng(14);
    for (const TensorType type : {TensorType::f32, TensorType::f16})
        for (const Activation act : {Activation::identity, Activation::relu, Activation::tanh,
                                     Activation::sigmoid, Activation::prelu})
            for (const bool with_bias : {true, false})
                for (const int64_t pixels : {int64_t{1}, int64_t{111}, int64_t{307}}) {
                    const int channels = 5, stride = type == TensorType::f16 ? 8 : 6;
                    const size_t esize = type == TensorType::f32 ? 4 : 2;
                    std::vector<uint8_t> tensor(esize * pixels * stride, 0xA5);
                    std::vector<float> in(static_cast<size_t>(pixels) * channels);
                    std::uniform_real_distribution<float> d(-2.0f, 2.0f);
                    for (int64_t px = 0; px < pixels; ++px)
                        for (int ch = 0; ch < channels; ++ch)
                            in[static_cast<size_t>(px) * channels + ch] =
                                store_element(tensor, type, static_cast<size_t>(px * stride + ch), d(rng));
                    std::vector<float> bias(channels), slope(channels);
                    for (float &v : bias) v = 0.5f * d(rng);
                    for (float &v : slope) v = 0.25f * d(rng);
                    void *data = t.upload(tensor.data(), tensor.size());
                    BiasActivationParams p;
                    p.data = data;
                    p.type = type;
                    p.pixels = pixels;
                    p.channels = channels;
                    p.channel_stride = stride;
                    p.bias = with_bias ? static_cast<const float *>(t.upload(bias.data(), bias.size() * 4)) : nullptr;
                    p.prelu_slope = act == Activation::prelu
                                        ? static_cast<const float *>(t.upload(slope.data(), slope.size() * 4))
                                        : nullptr;
                    p.activation = act;
                    ASSERT_EQ(launch_bias_activation(p, t.stream()), cudaSuccess);
                    ASSERT_EQ(t.finish(), cudaSuccess);
                    t.download(tensor.data(), data, tensor.size());
                    const bool loose = t.device_math() && transcendental(act);
                    for (int64_t px = 0; px < pixels; ++px)
                        for (int ch = 0; ch < stride; ++ch) {
                            const uint8_t *e = tensor.data() + esize * (px * stride + ch);
                            if (ch >= channels) {
                                for (size_t b = 0; b < esize; ++b)
                                    ASSERT_EQ(e[b], 0xA5) << "padding channel " << ch << " of pixel " << px;
                                continue;
                            }
                            float v = in[static_cast<size_t>(px) * channels + ch];
                            if (with_bias) v += bias[ch];
                            const float want = apply_activation(act, v, slope[ch]);
                            if (type == TensorType::f32) {
                                float got;
                                std::memcpy(&got, e, 4);
                                if (loose) ASSERT_NEAR(got, want, 1e-6f) << "pixel " << px << " channel " << ch;
                                else ASSERT_EQ(got, want) << "pixel " << px << " channel " << ch;
                            } else {
                                uint16_t got;
                                std::memcpy(&got, e, 2);
                                const int diff = static_cast<int>(got) - static_cast<int>(half_bits(want));
                                ASSERT_LE(std::abs(diff), loose ? 1 : 0) << "fp16 pixel " << px << " channel " << ch;
                            }
                        }
                }
}

// Chroma upscaling equals the CPU's resampler bit for bit: bicubic, bilinear,
// nearest; 1 and 2 interleaved components; 8-bit and P010 (bottom-up);
// outputs off r× the input in both directions.
inline void plane_upscale_cases(KernelTarget &t) {
    std::mt19937 rng(13);
    for (const ResampleKind kind : {kResampleBicubic, kResampleBilinear, kResampleNearest})
        for (const int components : {1, 2})
            for (const int bits : {8, 10})
                for (int r = 2; r <= 4; ++r) {
                    const int iw = 17, ih = 9, shift = bits == 10 ? 6 : 0;
                    const bool bottom_up = bits == 10;
                    const int ow = iw * r - (r > 2 ? 1 : 0), oh = ih * r + 1;
                    const Plane in = make_plane(iw * components, ih, bits, shift, bottom_up, &rng);
                    Plane cpu = make_plane(ow * components, oh, bits, shift, bottom_up, nullptr);
                    Plane gpu = cpu;
                    Plane in_copy = in;
                    PlaneResampler resampler;
                    resampler.upscale(in_copy.as_plane(in_copy.bytes.data(), iw),
                                      cpu.as_plane(cpu.bytes.data(), ow), components, r, kind, 1);
                    void *src = upload_plane(t, in);
                    void *dst = upload_plane(t, gpu);
                    PlaneUpscaleParams p;
                    p.src = static_cast<uint8_t *>(src) + in.origin;
                    p.src_stride = in.stride;
                    p.src_width = iw;
                    p.src_height = ih;
                    p.dst = static_cast<uint8_t *>(dst) + gpu.origin;
                    p.dst_stride = gpu.stride;
                    p.dst_width = ow;
                    p.dst_height = oh;
                    p.components = components;
                    p.bit_depth = bits;
                    p.shift = shift;
                    p.scale = r;
                    p.kind = kind;
                    ASSERT_EQ(launch_plane_upscale(p, t.stream()), cudaSuccess);
                    ASSERT_EQ(t.finish(), cudaSuccess);
                    t.download(gpu.bytes.data(), dst, gpu.bytes.size());
                    for (int y = 0; y < oh; ++y)
                        ASSERT_EQ(std::memcmp(cpu.row(y), gpu.row(y), gpu.row_bytes()), 0)
                            << "kind=" << kind << " components=" << components << " bits=" << bits
                            << " r=" << r << " row " << y;
                    ASSERT_NO_FATAL_FAILURE(expect_padding_untouched(gpu, "plane_upscale"));
                }
}

// Argument checks happen before any CUDA call (no device needed).
inline void launchers_reject_bad_params() {
    PlaneToTensorParams a;
    EXPECT_EQ(launch_plane_to_tensor(a, nullptr), cudaErrorInvalidValue);
    ShuffleEncodeParams b;
    EXPECT_EQ(launch_shuffle_encode(b, nullptr), cudaErrorInvalidValue);
    PlaneUpscaleParams c;
    EXPECT_EQ(launch_plane_upscale(c, nullptr), cudaErrorInvalidValue);
    BiasActivationParams d;
    EXPECT_EQ(launch_bias_activation(d, nullptr), cudaErrorInvalidValue);
    int dummy = 0;
    b.src = b.dst = &dummy;
    b.lr_width = b.lr_height = 4;
    b.dst_width = 9;  // more than scale · lr_width
    b.dst_height = 8;
    EXPECT_EQ(launch_shuffle_encode(b, nullptr), cudaErrorInvalidValue);
    b.dst_width = 8;
    b.residual = &dummy;
    b.residual_bit_depth = 17;
    EXPECT_EQ(launch_shuffle_encode(b, nullptr), cudaErrorInvalidValue);
    d.data = &dummy;
    d.pixels = 4;
    d.channels = d.channel_stride = 2;
    d.activation = Activation::prelu;  // without slopes
    EXPECT_EQ(launch_bias_activation(d, nullptr), cudaErrorInvalidValue);
}

}  // namespace espcn::cuda::test
