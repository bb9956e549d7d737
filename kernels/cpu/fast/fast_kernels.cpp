// The cpu-fast kernels, written once with Google Highway and compiled for
// every target of HWY_TARGETS (AVX-512, AVX2 and the baseline; see
// kernels/CMakeLists.txt): foreach_target.h re-includes this file once per
// target, each copy in its own namespace (N_AVX2, N_AVX3, ...), and
// best_kernel_table() picks one table of function pointers at run time.
//
// Micro-kernels keep a block of P pixels (or tiles) × G output vectors of
// accumulators in registers, broadcast one input value at a time and load one
// weight vector per output vector: P·G FMAs per P + G loads. P·G is 12 with 16
// vector registers (AVX2, 128-bit targets; G ≤ 2) and 24 with 32 (AVX-512,
// NEON; G ≤ 4).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/fast/fast_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "cpu/fast/fast_kernels.hpp"

// A test build (tests/unit/fast_kernels_wide_blocks.cpp) compiles this file a
// second time into another namespace with the AVX-512 blocking (24
// accumulators, up to 4 output vectors per micro-kernel) on every target, so
// that blocking runs, and is checked, on CPUs without AVX-512.
#ifndef ESPCN_FAST_KERNELS_NAMESPACE
#define ESPCN_FAST_KERNELS_NAMESPACE fast
#endif

HWY_BEFORE_NAMESPACE();
namespace espcn::ESPCN_FAST_KERNELS_NAMESPACE {
using namespace ::espcn::fast;  // the argument types (a no-op in espcn::fast itself)
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The micro-kernels' loops over their accumulators must be unrolled whole,
// or the accumulators live on the stack: GCC 12 left GemmBlock's 24 AVX-512
// accumulators in memory (a load, an FMA and a store per step), 1.7x slower
// than AVX2 on LRNet's 16-map layers until told to unroll.
// Sanitizer builds leave the loops rolled: the same accesses are checked,
// while GCC 12's ASan + UBSan instrumentation of the unrolled bodies of
// every Highway target took over 20 minutes per file (and 4 GB).
#if defined(ESPCN_SANITIZED_BUILD)
#define ESPCN_UNROLL
#else
#define ESPCN_UNROLL _Pragma("GCC unroll 32")
#endif

using D = hn::ScalableTag<float>;
using Vf = hn::Vec<D>;
constexpr int kLanes = static_cast<int>(hn::MaxLanes(D()));
// Accumulators per micro-kernel: 3/4 of the register file, the rest holds
// the weights and the broadcast input.
// Registers: P·G accumulators + G weights + 1 broadcast must fit, or the
// compiler spills an accumulator and every k step waits on a store-reload.
#if (HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3) || HWY_ARCH_ARM
constexpr int kDefaultAccumulators = 24;  // 32 vector registers: up to 6 × 4
#else
constexpr int kDefaultAccumulators = 12;  // 16 vector registers: 6 × 2 or 12 × 1
#endif
// A variant compile may choose otherwise (fast_kernels_blocking.cpp: 12
// everywhere, the planner's candidate; the wide-blocks test build: 24).
#if defined(ESPCN_FAST_WIDE_BLOCKS)
constexpr int kAccumulators = 24;
#elif defined(ESPCN_FAST_NARROW_BLOCKS)
constexpr int kAccumulators = 12;
#else
constexpr int kAccumulators = kDefaultAccumulators;
#endif
constexpr int kMaxGroupVectors = kAccumulators == 24 ? 4 : 2;

template <int G>
constexpr int BlockRows() {
    return kAccumulators / G;
}

// tanh(x) ≈ x·P(x²)/Q(x²), P of degree 4 and Q of degree 3 in x², clamped to
// ±8.5 (tanh(8.5) = 1 − 8e-8). Coefficients fitted here for the least maximum
// absolute error on [0, 8.5] (iteratively reweighted least squares on the
// linearised residual, then evaluated in float32): test_cpu_fast measures
// max |error| 5.2e-7 against double tanh, 29 times below a 16-bit code, at 9
// FMA-pipe operations and a division (Eigen's degree-13/6 form, which we
// started from, has 2.5e-7 for 11: measured 23% slower here).
HWY_INLINE Vf Tanh(D d, Vf x) {
    const Vf clamp = hn::Set(d, 8.5f);
    const Vf xc = hn::Min(hn::Max(x, hn::Set(d, -8.5f)), clamp);
    const Vf x2 = hn::Mul(xc, xc);
    Vf p = hn::MulAdd(x2, hn::Set(d, -5.45115775e-09f), hn::Set(d, 6.75171441e-06f));
    p = hn::MulAdd(x2, p, hn::Set(d, 0.0026387556f));
    p = hn::MulAdd(x2, p, hn::Set(d, 0.12654081f));
    p = hn::MulAdd(x2, p, hn::Set(d, 0.99999845f));
    p = hn::Mul(xc, p);
    Vf q = hn::MulAdd(x2, hn::Set(d, 0.000189513463f), hn::Set(d, 0.022600567f));
    q = hn::MulAdd(x2, q, hn::Set(d, 0.459868789f));
    q = hn::MulAdd(x2, q, hn::Set(d, 1.0f));
    return hn::Div(p, q);
}

template <Activation A>
HWY_INLINE Vf Activate(D d, Vf x, const float *slope) {
    if constexpr (A == Activation::relu) {
        return hn::Max(x, hn::Zero(d));
    } else if constexpr (A == Activation::tanh) {
        return Tanh(d, x);
    } else if constexpr (A == Activation::sigmoid) {
        // σ(x) = (1 + tanh(x/2)) / 2
        const Vf half = hn::Set(d, 0.5f);
        return hn::MulAdd(half, Tanh(d, hn::Mul(half, x)), half);
    } else if constexpr (A == Activation::prelu) {
        return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Mul(x, hn::LoadU(d, slope)), x);
    } else {
        (void)d;
        (void)slope;
        return x;
    }
}

// Calls F::template run<A>(args...) with the activation as a constant, so the
// epilogues compile without a branch per vector.
template <class F, class... Args>
HWY_INLINE void WithActivation(Activation a, Args &&...args) {
    switch (a) {
    case Activation::identity: return F::template run<Activation::identity>(args...);
    case Activation::relu: return F::template run<Activation::relu>(args...);
    case Activation::tanh: return F::template run<Activation::tanh>(args...);
    case Activation::sigmoid: return F::template run<Activation::sigmoid>(args...);
    case Activation::prelu: return F::template run<Activation::prelu>(args...);
    }
}

// x rounded to the nearest bfloat16 (ties to even), kept as a float;
// denormals flush to a signed zero, as AVX512-BF16's conversions do. The
// same bits as round_to_bf16() (fast_kernels.hpp).
HWY_INLINE Vf RoundToBf16(D d, Vf x) {
    const hn::RebindToUnsigned<D> du;
    auto u = hn::BitCast(du, x);
    const auto denormal = hn::Eq(hn::And(u, hn::Set(du, 0x7F800000u)), hn::Zero(du));
    u = hn::IfThenElse(denormal, hn::And(u, hn::Set(du, 0x80000000u)), u);
    const auto lsb = hn::And(hn::ShiftRight<16>(u), hn::Set(du, 1u));
    u = hn::And(hn::Add(u, hn::Add(hn::Set(du, 0x7FFFu), lsb)), hn::Set(du, 0xFFFF0000u));
    return hn::BitCast(d, u);
}

// Bias already in acc; activation of G vectors for channel vectors [vec0, vec0 + G).
template <Activation A, int G>
HWY_INLINE void EpilogueStore(D d, const Epilogue &e, int vec0, Vf (&acc)[G], float *out) {
    ESPCN_UNROLL
    for (int v = 0; v < G; ++v) {
        const size_t c = static_cast<size_t>(vec0 + v) * kLanes;
        const float *slope = A == Activation::prelu ? e.slope + c : nullptr;
        Vf y = Activate<A>(d, acc[v], slope);
        if (e.round_bf16) y = RoundToBf16(d, y);
        hn::StoreU(y, d, out + v * kLanes);
    }
}

// --- direct convolution ------------------------------------------------------

// P output pixels × G output vectors, starting at pixel x of the row. CS:
// the input pixel stride when known at compile time (0: a.in_pixel_stride):
// then the P broadcasts address one register plus constants, instead of P
// offsets that do not fit the general registers (GCC 12 kept them on the
// stack and reloaded one per FMA).
// BF16: the channels in pairs, the odd one first (vdpbf16ps's order; see
// ESPCN_PRECISION_BF16), on values already rounded to bfloat16.
template <Activation A, int P, int G, int CS, bool BF16>
HWY_INLINE void DirectBlock(const DirectRowArgs &a, const float *w, int vec0, int x, float *out,
                            ptrdiff_t out_stride) {
    const D d;
    Vf acc[P][G];
    ESPCN_UNROLL
    for (int v = 0; v < G; ++v) {
        const Vf b = hn::LoadU(d, a.epilogue.bias + static_cast<size_t>(vec0 + v) * kLanes);
        ESPCN_UNROLL
        for (int p = 0; p < P; ++p) acc[p][v] = b;
    }
    const ptrdiff_t cs = CS ? CS : a.in_pixel_stride;
    const int k = a.kernel, cin = a.in_channels;
    // One tap-channel step (channel i of the pixels at px, its weights at
    // wi): P broadcasts, G weight loads, P·G FMAs.
    auto step_at = [&](const float *px, ptrdiff_t i, const float *wi) {
        Vf wv[G];
        ESPCN_UNROLL
        for (int v = 0; v < G; ++v) wv[v] = hn::LoadU(d, wi + v * kLanes);
        ESPCN_UNROLL
        for (int p = 0; p < P; ++p) {
            const Vf in = hn::Set(d, px[p * cs + i]);
            ESPCN_UNROLL
            for (int v = 0; v < G; ++v) acc[p][v] = hn::MulAdd(in, wv[v], acc[p][v]);
        }
    };
    auto step = [&](const float *px, ptrdiff_t i) {
        step_at(px, i, w);
        w += G * kLanes;
    };
    constexpr ptrdiff_t kStep = G * kLanes;
    for (int ky = 0; ky < k; ++ky) {
        const float *row = a.rows[ky] + x * cs;
        if constexpr (BF16) {
            for (int kx = 0; kx < k; ++kx) {
                const float *px = row + kx * cs;
                int i = 0;
                for (; i + 1 < cin; i += 2) {
                    step_at(px, i + 1, w + (i + 1) * kStep);
                    step_at(px, i, w + i * kStep);
                }
                if (i < cin) step_at(px, i, w + i * kStep);
                w += cin * kStep;
            }
        } else if (cs == cin) {
            // Unpadded pixels (the 1-channel input plane): the taps of a
            // kernel row and their channels are one contiguous run.
            for (int j = 0; j < k * cin; ++j) step(row, j);
        } else {
            for (int kx = 0; kx < k; ++kx)
                for (int i = 0; i < cin; ++i) step(row + kx * cs, i);
        }
    }
    ESPCN_UNROLL
    for (int p = 0; p < P; ++p) EpilogueStore<A, G>(d, a.epilogue, vec0, acc[p], out + p * out_stride);
}

template <Activation A, int G, int CS, bool BF16>
void DirectGroup(const DirectRowArgs &a, const float *w, int vec0) {
    constexpr int P = BlockRows<G>();
    const ptrdiff_t os = a.out_pixel_stride;
    int x = 0;
    for (; x + P <= a.width; x += P)
        DirectBlock<A, P, G, CS, BF16>(a, w, vec0, x, a.out + x * os + vec0 * kLanes, os);
    if (x < a.width) {
        // The tail: compute a whole block into a scratch (the input rows
        // have columns to spare) and keep only the valid pixels.
        HWY_ALIGN float tmp[P * G * kLanes];
        DirectBlock<A, P, G, CS, BF16>(a, w, vec0, x, tmp, G * kLanes);
        for (int p = 0; x + p < a.width; ++p)
            std::memcpy(a.out + (x + p) * os + vec0 * kLanes, tmp + p * G * kLanes,
                        sizeof(float) * G * kLanes);
    }
}

template <Activation A, int CS, bool BF16>
HWY_INLINE void DirectGroups(const DirectRowArgs &a) {
    const float *w = a.weights;
    const size_t taps = static_cast<size_t>(a.kernel) * a.kernel * a.in_channels;
    for (int vec0 = 0; vec0 < a.out_vectors;) {
        const int g = std::min(kMaxGroupVectors, a.out_vectors - vec0);
        if (g == 1) DirectGroup<A, 1, CS, BF16>(a, w, vec0);
        else if (g == 2) DirectGroup<A, 2, CS, BF16>(a, w, vec0);
        else if constexpr (kMaxGroupVectors == 4) {
            if (g == 3) DirectGroup<A, 3, CS, BF16>(a, w, vec0);
            else DirectGroup<A, 4, CS, BF16>(a, w, vec0);
        }
        w += taps * static_cast<size_t>(g) * kLanes;
        vec0 += g;
    }
}

struct DirectRowT {
    template <Activation A>
    static void run(const DirectRowArgs &a) {
        // The input plane (1 channel) and LRNet's 16-map activations get
        // their stride as a constant.
        if (a.bf16) {
            if (a.in_pixel_stride == 1) DirectGroups<A, 1, true>(a);
            else if (a.in_pixel_stride == 16) DirectGroups<A, 16, true>(a);
            else DirectGroups<A, 0, true>(a);
        } else if (a.in_pixel_stride == 1) {
            DirectGroups<A, 1, false>(a);
        } else if (a.in_pixel_stride == 16) {
            DirectGroups<A, 16, false>(a);
        } else {
            DirectGroups<A, 0, false>(a);
        }
    }
};

void DirectRow(const DirectRowArgs &a) { WithActivation<DirectRowT>(a.epilogue.activation, a); }

// --- dot-product convolution for few output channels ------------------------

// The sums of this kernel run along the channels, so their order would depend
// on the vector width; it is fixed instead, the same on every target, so that
// every instruction set gives the same bits (the planner may pick any): input
// channel i of a tap adds into logical lane i mod 16 — one vector on AVX-512,
// two on AVX2, four on NEON — in the order (ky, kx, channel block); then the
// 16 lanes fold to 8 (lane j + lane j + 8) and the 8 sum as
// ((f0 + f1) + (f2 + f3)) + ((f4 + f5) + (f6 + f7)).
constexpr int kDotLanes = 16;
static_assert(kLanes <= kDotLanes, "a vector wider than the dot kernel's logical lanes");
constexpr int kDotParts = kDotLanes / kLanes;  // vectors per logical vector
static_assert(kDotWeightBlock == kDotLanes, "pack_dot_weights blocks the channels as the sums do");
// Pixels × outputs per block: accumulators P · N · parts, plus the N
// weights and the P inputs of a step, within the register file. AVX-512
// (32 registers): 4 pixels × up to 4 outputs, or all of 5 … 9 outputs
// (LRNet x3's 9) at 3 pixels in one pass over the window: 27 FMAs per
// 12 loads. AVX2 (16): 3 pixels × 2 outputs of 2 vectors each.
constexpr int kDotPixels = kDotParts == 1 ? 4 : kDotParts == 2 ? 3 : 1;
constexpr int kDotGroup = kDotParts == 1 ? 4 : kDotParts <= 4 ? 2 : 1;
constexpr int kDotWidePixels = 3;
static_assert(kMaxDotOutputs <= 9, "the wide group's 3 x 9 accumulators");

// Whether a layer of n outputs runs as one group of all n (DotSumsWide, at
// kDotWidePixels) rather than in groups of at most kDotGroup.
constexpr bool DotWideGroup(int n) { return kDotParts == 1 && n > 4; }

// Outputs rounded up to whole DotTree4 calls: the folded sums of a pixel.
constexpr int kDotSumSlots = (kMaxDotOutputs + 3) / 4 * 4;

// f[8] → ((f0 + f1) + (f2 + f3)) + ((f4 + f5) + (f6 + f7)), for 4 outputs at
// once (f: [4][8]). On x86 three horizontal adds give that tree, and the
// sums of an output vector are assembled in registers: storing them as
// 4-float pieces and loading the vector back stalled on store forwarding
// once per pixel.
#undef ESPCN_DOT_TREE_IN_REGISTERS  // set per target: this file is compiled once per target
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
#define ESPCN_DOT_TREE_IN_REGISTERS 1
HWY_INLINE __m128 DotTree4(const float *f) {
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(_mm256_loadu_ps(f), _mm256_loadu_ps(f + 8)),
                                    _mm256_hadd_ps(_mm256_loadu_ps(f + 16), _mm256_loadu_ps(f + 24)));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Sums of the outputs [v · lanes, (v + 1) · lanes) of one pixel (slots:
// [kDotSumSlots][8] folded), zero past n.
HWY_INLINE Vf DotSumVector(const float (*slots)[8], int n, int v) {
    auto tree = [&](int j) {
        return j < kDotSumSlots / 4 && 4 * j < n ? DotTree4(slots[4 * j]) : _mm_setzero_ps();
    };
#if HWY_TARGET <= HWY_AVX3
    static_assert(kLanes == 16 && kDotSumSlots <= 16);
    __m512 r = _mm512_zextps128_ps512(tree(4 * v));
    if (n > 4) r = _mm512_insertf32x4(r, tree(4 * v + 1), 1);
    if (n > 8) r = _mm512_insertf32x4(r, tree(4 * v + 2), 2);
    if (kDotSumSlots > 12 && n > 12) r = _mm512_insertf32x4(r, tree(4 * v + 3), 3);
    return Vf{r};
#else
    static_assert(kLanes == 8);
    return Vf{_mm256_set_m128(tree(2 * v + 1), tree(2 * v))};
#endif
}
#else
HWY_INLINE void DotTree4(const float *f, float *sums) {
    for (int o = 0; o < 4; ++o) {
        const float *g = f + 8 * o;
        sums[o] = ((g[0] + g[1]) + (g[2] + g[3])) + ((g[4] + g[5]) + (g[6] + g[7]));
    }
}
#endif

// The logical vector acc[0 .. kDotParts) folded to 8 floats: lane j + lane j + 8.
HWY_INLINE void DotFold(const Vf *acc, float *f) {
    const D d;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
    static_assert(kDotParts == 1);
    const hn::Half<D> dh;
    (void)d;
    hn::StoreU(hn::Add(hn::LowerHalf(dh, acc[0]), hn::UpperHalf(dh, acc[0])), dh, f);
#else
    if constexpr (kDotParts == 2) {
        hn::StoreU(hn::Add(acc[0], acc[1]), d, f);
    } else {
        HWY_ALIGN float l[kDotLanes];
        ESPCN_UNROLL
        for (int v = 0; v < kDotParts; ++v) hn::Store(acc[v], d, l + v * kLanes);
        for (int j = 0; j < 8; ++j) f[j] = l[j] + l[j + 8];
    }
#endif
}

// Keeps v in a register: GCC 12 otherwise folds a load used N times into N
// FMAs as a memory operand (N loads instead of one), which made the dot
// kernel load-bound (15 loads per 12 FMAs at N = 3, P = 4 on AVX-512).
HWY_INLINE void InRegister(Vf &v) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2 && (defined(__GNUC__) || defined(__clang__))
    asm("" : "+v"(v.raw));
#else
    (void)v;
#endif
}

// P pixels × outputs [o0, o0 + N) into folded[p][o][8]. Weights: per tap,
// per block of 16 channels (fewer at the end of the pixel), the block's
// channels of each output in turn (pack_dot_weights). CS: the input pixel
// stride when known at compile time (0: a.in_pixel_stride; LRNet's 16 makes
// the channel-block loop a single step).
template <int P, int N, int CS>
HWY_INLINE void DotSums(const DirectRowArgs &a, int x, int o0, float (*folded)[kDotSumSlots][8]) {
    const D d;
    Vf acc[P][N][kDotParts];
    ESPCN_UNROLL
    for (int p = 0; p < P; ++p)
        ESPCN_UNROLL
        for (int o = 0; o < N; ++o)
            ESPCN_UNROLL
            for (int v = 0; v < kDotParts; ++v) acc[p][o][v] = hn::Zero(d);
    const ptrdiff_t cs = CS ? CS : a.in_pixel_stride;  // a multiple of kLanes
    const int k = a.kernel, n = a.out_channels;
    const ptrdiff_t per_tap = cs * n;  // weight floats per tap
    const float *w = a.weights;
    for (int ky = 0; ky < k; ++ky) {
        const float *row = a.rows[ky] + x * cs;
        for (int kx = 0; kx < k; ++kx, w += per_tap) {
            const float *px = row + kx * cs;
            for (ptrdiff_t c0 = 0; c0 < cs; c0 += kDotLanes) {
                const ptrdiff_t bw = std::min<ptrdiff_t>(kDotLanes, cs - c0);
                const float *wb = w + c0 * n + o0 * bw;
                ESPCN_UNROLL
                for (int v = 0; v < kDotParts; ++v) {
                    // A pixel stride that is not a multiple of 16 (AVX2: 8,
                    // 24, …) ends in a partial block: its missing parts would
                    // add zeros on a wider target.
                    if (kDotParts > 1 && v * kLanes >= bw) break;
                    if constexpr (kDotParts == 1) {
                        // 32 registers: the P inputs stay, one weight at a time.
                        Vf in[P];
                        ESPCN_UNROLL
                        for (int p = 0; p < P; ++p) {
                            in[p] = hn::LoadU(d, px + p * cs + c0);
                            if constexpr (N > 1) InRegister(in[p]);
                        }
                        ESPCN_UNROLL
                        for (int o = 0; o < N; ++o) {
                            Vf wv = hn::LoadU(d, wb + o * bw);
                            if constexpr (P > 1) InRegister(wv);
                            ESPCN_UNROLL
                            for (int p = 0; p < P; ++p) acc[p][o][0] = hn::MulAdd(in[p], wv, acc[p][o][0]);
                        }
                    } else {
                        // 16 registers: the N weights stay, one input at a time.
                        Vf wv[N];
                        ESPCN_UNROLL
                        for (int o = 0; o < N; ++o) {
                            wv[o] = hn::LoadU(d, wb + o * bw + v * kLanes);
                            if constexpr (P > 1) InRegister(wv[o]);
                        }
                        ESPCN_UNROLL
                        for (int p = 0; p < P; ++p) {
                            Vf in = hn::LoadU(d, px + p * cs + c0 + v * kLanes);
                            if constexpr (N > 1) InRegister(in);
                            ESPCN_UNROLL
                            for (int o = 0; o < N; ++o) acc[p][o][v] = hn::MulAdd(in, wv[o], acc[p][o][v]);
                        }
                    }
                }
            }
        }
    }
    ESPCN_UNROLL
    for (int p = 0; p < P; ++p)
        ESPCN_UNROLL
        for (int o = 0; o < N; ++o) DotFold(acc[p][o], folded[p][o0 + o]);
}

// All n outputs (5 … 9) of P pixels in one group (DotWideGroup).
template <int P, int CS>
HWY_INLINE void DotSumsWide(const DirectRowArgs &a, int x, float (*folded)[kDotSumSlots][8]) {
    switch (a.out_channels) {
    case 5: return DotSums<P, 5, CS>(a, x, 0, folded);
    case 6: return DotSums<P, 6, CS>(a, x, 0, folded);
    case 7: return DotSums<P, 7, CS>(a, x, 0, folded);
    case 8: return DotSums<P, 8, CS>(a, x, 0, folded);
    default: return DotSums<P, 9, CS>(a, x, 0, folded);
    }
}

template <Activation A, int P, int CS>
HWY_INLINE void DotBlock(const DirectRowArgs &a, int x, float *out, ptrdiff_t out_stride) {
    const D d;
    const int n = a.out_channels;
    // DotTree4 sums outputs four at a time: the slots past n hold zeros.
    HWY_ALIGN float folded[P][kDotSumSlots][8];
    const int slots = (n + 3) / 4 * 4;
    for (int p = 0; p < P; ++p)
        for (int o = n; o < slots; ++o) std::memset(folded[p][o], 0, sizeof folded[p][o]);
    if (DotWideGroup(n)) {
        DotSumsWide<P, CS>(a, x, folded);
    } else {
        // Outputs in groups of equal size (AVX2, 9 outputs: 2+2+2+2+1). Each
        // output sums in its own order whatever its group: the bits do not
        // depend on the grouping.
        const int groups = (n + kDotGroup - 1) / kDotGroup;
        const int size = (n + groups - 1) / groups;
        for (int o0 = 0; o0 < n; o0 += size) {
            const int g = std::min(size, n - o0);
            if constexpr (kDotGroup >= 4) {
                if (g == 4) { DotSums<P, 4, CS>(a, x, o0, folded); continue; }
                if (g == 3) { DotSums<P, 3, CS>(a, x, o0, folded); continue; }
            }
            if constexpr (kDotGroup >= 2) {
                if (g == 2) { DotSums<P, 2, CS>(a, x, o0, folded); continue; }
            }
            DotSums<P, 1, CS>(a, x, o0, folded);
        }
    }
    ESPCN_UNROLL
    for (int p = 0; p < P; ++p) {
#if !defined(ESPCN_DOT_TREE_IN_REGISTERS)
        // Output vectors of the padded pixel: kDotSumLanes floats hold them
        // all (dot_row_applies: out_vectors · lanes ≤ 16 channels).
        constexpr int kDotSumLanes = kDotSumSlots > kDotLanes ? kDotSumSlots : kDotLanes;
        HWY_ALIGN float sums[kDotSumLanes] = {};
        for (int o0 = 0; o0 < n; o0 += 4) DotTree4(&folded[p][o0][0], sums + o0);
#endif
        for (int v = 0; v < a.out_vectors; ++v) {
            const int c0 = v * kLanes;
#if defined(ESPCN_DOT_TREE_IN_REGISTERS)
            const Vf sum = DotSumVector(folded[p], n, v);
#else
            const Vf sum = hn::Load(d, sums + c0);
#endif
            // The bias is zero at the padding channels.
            const float *slope = A == Activation::prelu ? a.epilogue.slope + c0 : nullptr;
            const Vf act = Activate<A>(d, hn::Add(sum, hn::LoadU(d, a.epilogue.bias + c0)), slope);
            // Channels n.. are the output's padding: written as 0.
            const size_t valid = static_cast<size_t>(std::clamp(n - c0, 0, kLanes));
            hn::StoreU(hn::IfThenElseZero(hn::FirstN(d, valid), act), d, out + p * out_stride + c0);
        }
    }
}

template <Activation A, int CS>
HWY_INLINE void DotRowCS(const DirectRowArgs &a) {
    const ptrdiff_t os = a.out_pixel_stride;
    int x = 0;
    if (DotWideGroup(a.out_channels)) {
        for (; x + kDotWidePixels <= a.width; x += kDotWidePixels)
            DotBlock<A, kDotWidePixels, CS>(a, x, a.out + x * os, os);
    } else {
        for (; x + kDotPixels <= a.width; x += kDotPixels) DotBlock<A, kDotPixels, CS>(a, x, a.out + x * os, os);
    }
    for (; x < a.width; ++x) DotBlock<A, 1, CS>(a, x, a.out + x * os, os);
}

struct DotRowT {
    template <Activation A>
    static void run(const DirectRowArgs &a) {
        // n ≤ kMaxDotOutputs, padded to ≤ 16 channels (dot_row_applies).
        // LRNet's 16-map activations get their stride as a constant.
        if (a.in_pixel_stride == 16) DotRowCS<A, 16>(a);
        else DotRowCS<A, 0>(a);
    }
};

void DotRow(const DirectRowArgs &a) { WithActivation<DotRowT>(a.epilogue.activation, a); }

// --- Winograd F(4×4, 3×3) ----------------------------------------------------

// Bᵀ z for one 6-vector (Lavin & Gray's points 0, ±1, ±2, ∞).
HWY_INLINE void InputTransform1D(D d, const Vf z[6], Vf r[6]) {
    const Vf four = hn::Set(d, 4.0f), five = hn::Set(d, 5.0f), two = hn::Set(d, 2.0f);
    const Vf t0 = hn::NegMulAdd(four, z[2], z[4]);  // z4 − 4 z2
    const Vf t1 = hn::NegMulAdd(four, z[1], z[3]);  // z3 − 4 z1
    const Vf t2 = hn::Sub(z[4], z[2]);
    const Vf t3 = hn::Mul(two, hn::Sub(z[3], z[1]));
    r[0] = hn::MulAdd(four, z[0], hn::NegMulAdd(five, z[2], z[4]));
    r[1] = hn::Add(t0, t1);
    r[2] = hn::Sub(t0, t1);
    r[3] = hn::Add(t2, t3);
    r[4] = hn::Sub(t2, t3);
    r[5] = hn::MulAdd(four, z[1], hn::NegMulAdd(five, z[3], z[5]));
}

// Bᵀ d B, vertical pass first: it is per input column, and adjacent tiles
// share two of their six columns, so it is computed once per column into the
// scratch; then the horizontal pass per tile writes the 36 positions.
void WinogradInput(const WinogradInputArgs &a) {
    const D d;
    const ptrdiff_t cs = a.in_pixel_stride;
    const ptrdiff_t pos_stride = a.v_layout.pos_stride;
    const int cols = 4 * a.tiles + 2;
    float *x = a.scratch;  // [column][row i][lanes]: (Bᵀ d)[i][column]
    for (int cv = 0; cv < a.channel_vectors; ++cv) {
        for (int c = 0; c < cols; ++c) {
            Vf z[6], r[6];
            for (int j = 0; j < 6; ++j) z[j] = hn::LoadU(d, a.rows[j] + c * cs + cv * kLanes);
            InputTransform1D(d, z, r);
            for (int i = 0; i < 6; ++i) hn::StoreU(r[i], d, x + (c * 6 + i) * kLanes);
        }
        float *dst = a.v + cv * kLanes;
        for (int t = 0; t < a.tiles; ++t) {
            const float *xt = x + (4 * t) * 6 * kLanes;
            for (int i = 0; i < 6; ++i) {
                Vf z[6], r[6];
                for (int c = 0; c < 6; ++c) z[c] = hn::LoadU(d, xt + (c * 6 + i) * kLanes);
                InputTransform1D(d, z, r);
                for (int c = 0; c < 6; ++c) hn::StoreU(r[c], d, dst + (i * 6 + c) * pos_stride);
            }
            dst += a.v_layout.tile_stride;
        }
    }
}

// R tiles × G output vectors over K input channels of one position. TS: the
// tile strides of V and M when known at compile time (0: the arguments; see
// DirectBlock's CS).
template <int R, int G, int VTS, int MTS>
HWY_INLINE void GemmBlock(const float *v, ptrdiff_t v_tile_stride_arg, int K, const float *u, float *m,
                          ptrdiff_t m_tile_stride_arg) {
    const ptrdiff_t v_tile_stride = VTS ? VTS : v_tile_stride_arg;
    const ptrdiff_t m_tile_stride = MTS ? MTS : m_tile_stride_arg;
    const D d;
    Vf acc[R][G];
    ESPCN_UNROLL
    for (int r = 0; r < R; ++r)
        ESPCN_UNROLL
        for (int g = 0; g < G; ++g) acc[r][g] = hn::Zero(d);
    for (int k = 0; k < K; ++k) {
        Vf w[G];
        ESPCN_UNROLL
        for (int g = 0; g < G; ++g) w[g] = hn::LoadU(d, u + g * kLanes);
        u += G * kLanes;
        ESPCN_UNROLL
        for (int r = 0; r < R; ++r) {
            const Vf in = hn::Set(d, v[r * v_tile_stride + k]);
            ESPCN_UNROLL
            for (int g = 0; g < G; ++g) acc[r][g] = hn::MulAdd(in, w[g], acc[r][g]);
        }
    }
    ESPCN_UNROLL
    for (int r = 0; r < R; ++r)
        ESPCN_UNROLL
        for (int g = 0; g < G; ++g) hn::StoreU(acc[r][g], d, m + r * m_tile_stride + g * kLanes);
}

template <int G, int VTS, int MTS>
void GemmGroup(const WinogradGemmArgs &a, const float *u, int vec0, int pos) {
    constexpr int R = BlockRows<G>();
    const float *v = a.v + pos * a.v_layout.pos_stride;
    float *m = a.m + pos * a.m_layout.pos_stride + vec0 * kLanes;
    const ptrdiff_t vts = a.v_layout.tile_stride, mts = a.m_layout.tile_stride;
    int t = 0;
    for (; t + R <= a.tiles; t += R)
        GemmBlock<R, G, VTS, MTS>(v + t * vts, vts, a.in_channels, u, m + t * mts, mts);
    // The tail in blocks of a quarter of R, rounded up: the buffers hold a
    // multiple of R tiles, and the extra tiles (on whatever the buffer
    // holds) are never read.
    const int rest = a.tiles - t;
    if (rest <= 0) return;
    const float *vt = v + t * vts;
    float *mt = m + t * mts;
    if constexpr (R % 4 == 0) {
        constexpr int Q = R / 4;
        if (rest <= Q) GemmBlock<Q, G, VTS, MTS>(vt, vts, a.in_channels, u, mt, mts);
        else if (rest <= 2 * Q) GemmBlock<2 * Q, G, VTS, MTS>(vt, vts, a.in_channels, u, mt, mts);
        else if (rest <= 3 * Q) GemmBlock<3 * Q, G, VTS, MTS>(vt, vts, a.in_channels, u, mt, mts);
        else GemmBlock<R, G, VTS, MTS>(vt, vts, a.in_channels, u, mt, mts);
    } else {
        GemmBlock<R, G, VTS, MTS>(vt, vts, a.in_channels, u, mt, mts);
    }
}

template <int VTS, int MTS>
void WinogradGemmT(const WinogradGemmArgs &a) {
    const float *u = a.u;
    for (int pos = 0; pos < kWinoPositions; ++pos) {
        for (int vec0 = 0; vec0 < a.out_vectors;) {
            const int g = std::min(kMaxGroupVectors, a.out_vectors - vec0);
            if (g == 1) GemmGroup<1, VTS, MTS>(a, u, vec0, pos);
            else if (g == 2) GemmGroup<2, VTS, MTS>(a, u, vec0, pos);
            else if constexpr (kMaxGroupVectors == 4) {
                if (g == 3) GemmGroup<3, VTS, MTS>(a, u, vec0, pos);
                else GemmGroup<4, VTS, MTS>(a, u, vec0, pos);
            }
            u += static_cast<size_t>(a.in_channels) * g * kLanes;
            vec0 += g;
        }
    }
}

void WinogradGemm(const WinogradGemmArgs &a) {
    // 16 channels in and out (LRNet; FSRCNN's 12, padded) in the backend's
    // layout (V tile-major, M position-major): the tile strides as constants.
    constexpr ptrdiff_t k16 = kWinoPositions * 16;
    if (a.v_layout.tile_stride == k16 && a.m_layout.tile_stride == 16) WinogradGemmT<k16, 16>(a);
    else WinogradGemmT<0, 0>(a);
}

// Aᵀ m for one 6-vector → 4.
HWY_INLINE void OutputTransform1D(D d, const Vf m[6], Vf o[4]) {
    const Vf s1 = hn::Add(m[1], m[2]), d1 = hn::Sub(m[1], m[2]);
    const Vf s2 = hn::Add(m[3], m[4]), d2 = hn::Sub(m[3], m[4]);
    o[0] = hn::Add(hn::Add(m[0], s1), s2);
    o[1] = hn::MulAdd(hn::Set(d, 2.0f), d2, d1);
    o[2] = hn::MulAdd(hn::Set(d, 4.0f), s2, s1);
    o[3] = hn::Add(hn::MulAdd(hn::Set(d, 8.0f), d2, d1), m[5]);
}

struct WinogradOutputT {
    template <Activation A>
    static void run(const WinogradOutputArgs &a) {
        const D d;
        const ptrdiff_t pos_stride = a.m_layout.pos_stride;
        const ptrdiff_t os = a.out_pixel_stride;
        for (int t = 0; t < a.tiles; ++t) {
            const int c_begin = std::max(0, a.col_begin - 4 * t);
            const int c_end = std::min(kWinoOut, a.col_end - 4 * t);
            const bool whole = c_begin == 0 && c_end == kWinoOut;
            for (int ov = 0; ov < a.out_vectors; ++ov) {
                const float *src = a.m + t * a.m_layout.tile_stride + ov * kLanes;
                Vf y[4][6];  // (Aᵀ m)[i][c]
                for (int c = 0; c < 6; ++c) {
                    Vf col[6], o[4];
                    for (int j = 0; j < 6; ++j) col[j] = hn::LoadU(d, src + (j * 6 + c) * pos_stride);
                    OutputTransform1D(d, col, o);
                    for (int i = 0; i < 4; ++i) y[i][c] = o[i];
                }
                const size_t ch = static_cast<size_t>(ov) * kLanes;
                const Vf bias = hn::LoadU(d, a.epilogue.bias + ch);
                const float *slope = A == Activation::prelu ? a.epilogue.slope + ch : nullptr;
                for (int i = 0; i < 4; ++i) {
                    if (!a.rows[i]) continue;
                    Vf o[4];
                    OutputTransform1D(d, y[i], o);
                    float *dst = a.rows[i] + (4 * t) * os + ov * kLanes;
                    if (whole) {
                        for (int c = 0; c < 4; ++c)
                            hn::StoreU(Activate<A>(d, hn::Add(o[c], bias), slope), d, dst + c * os);
                    } else {
                        for (int c = c_begin; c < c_end; ++c)
                            hn::StoreU(Activate<A>(d, hn::Add(o[c], bias), slope), d, dst + c * os);
                    }
                }
            }
        }
    }
};

void WinogradOutput(const WinogradOutputArgs &a) {
    WithActivation<WinogradOutputT>(a.epilogue.activation, a);
}

// --- output encoding ---------------------------------------------------------

// R: the scale as a constant (2, 3, 4), or 0 (a.scale at run time).
template <int R>
HWY_INLINE void EncodeRowR(const EncodeRowArgs &a) {
    const D d;
    const hn::RebindToSigned<D> di;
    const float span_value = a.range.hi - a.range.lo;
    const Vf lo = hn::Set(d, a.range.lo), span = hn::Set(d, span_value);
    // Dividing by a power of two is exactly multiplying by its reciprocal
    // (the usual range [0, 1]: by 1): the same bits without a division.
    int exponent = 0;
    const bool power_of_two = std::frexp(span_value, &exponent) == 0.5f;
    const Vf inv_span = hn::Set(d, power_of_two ? 1.0f / span_value : 0.0f);
    const Vf zero = hn::Zero(d), one = hn::Set(d, 1.0f), half = hn::Set(d, 0.5f);
    const uint32_t maxv = max_sample(a.bit_depth);
    const Vf vmax = hn::Set(d, static_cast<float>(maxv));
    const int r = R ? R : a.scale, channels = r * r;
    const int vectors = (channels + kLanes - 1) / kLanes;
    const ptrdiff_t ps = a.pixel_stride;
    // Channel c = i·r + j of a pixel is sample j of its r samples in HR row
    // i (C = 1: both shuffle orders agree): the pixel's r² samples, in
    // order, are r runs of r, one per output row.
    HWY_ALIGN int32_t q[kLanes * ((kMaxEncodeScale * kMaxEncodeScale + kLanes - 1) / kLanes)];
    for (int x = 0; x < a.width; ++x) {
        // The same operations, in the same order, as encode_sample():
        // division, NaN → 0 through the comparison, multiply then add (no
        // FMA), truncate.
        for (int cv = 0; cv < vectors; ++cv) {
            Vf y = hn::LoadU(d, a.lr + x * ps + cv * kLanes);
            if (a.residual) y = hn::Add(y, hn::Set(d, a.residual[x]));
            Vf t = power_of_two ? hn::Mul(hn::Sub(y, lo), inv_span) : hn::Div(hn::Sub(y, lo), span);
            t = hn::IfThenElse(hn::Gt(t, zero), hn::Min(t, one), zero);
            hn::Store(hn::ConvertTo(di, hn::Add(hn::Mul(t, vmax), half)), di, q + cv * kLanes);
        }
        if (a.bit_depth == 8) {
            uint8_t bytes[kMaxEncodeScale * kMaxEncodeScale];
            for (int c = 0; c < channels; ++c) bytes[c] = static_cast<uint8_t>(q[c]);
            for (int i = 0; i < r; ++i)
                std::memcpy(a.out_rows[i] + x * r, bytes + i * r, sizeof(uint8_t) * static_cast<size_t>(r));
        } else {
            uint16_t words[kMaxEncodeScale * kMaxEncodeScale];
            for (int c = 0; c < channels; ++c)
                words[c] = static_cast<uint16_t>(static_cast<uint32_t>(q[c]) << a.shift);
            for (int i = 0; i < r; ++i)
                std::memcpy(a.out_rows[i] + static_cast<ptrdiff_t>(x) * r * 2, words + i * r,
                            sizeof(uint16_t) * static_cast<size_t>(r));
        }
    }
}

void EncodeRow(const EncodeRowArgs &a) {
    switch (a.scale) {
    case 2: return EncodeRowR<2>(a);
    case 3: return EncodeRowR<3>(a);
    case 4: return EncodeRowR<4>(a);
    default: return EncodeRowR<0>(a);
    }
}

struct ActivateArrayT {
    template <Activation A>
    static void run(const float *slope, float *x, size_t n) {
        const D d;
        for (size_t i = 0; i < n; i += kLanes)
            hn::StoreU(Activate<A>(d, hn::LoadU(d, x + i), slope ? slope + i : nullptr), d, x + i);
    }
};

void ActivateArray(Activation act, const float *slope, float *x, size_t n) {
    WithActivation<ActivateArrayT>(act, slope, x, n);
}

KernelTable MakeTable() {
    KernelTable t;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
    t.isa = Isa::avx512;
#elif HWY_ARCH_X86 && HWY_TARGET == HWY_AVX2
    t.isa = Isa::avx2;
#elif HWY_ARCH_X86 && HWY_TARGET == HWY_SSE4
    t.isa = Isa::sse4;
#elif HWY_ARCH_ARM && HWY_TARGET == HWY_NEON
    t.isa = Isa::neon;
#else
    t.isa = Isa::baseline;  // Highway's portable code (SCALAR with 1.0.3, EMU128 later)
#endif
    t.target = HWY_TARGET;
    t.target_name = hwy::TargetName(HWY_TARGET);
    static char name[32];
    std::snprintf(name, sizeof name, "%sx%d", t.target_name, kAccumulators);
    t.name = name;
    t.vector_unit = t.isa != Isa::baseline;
    t.fused_multiply_add = HWY_NATIVE_FMA;
    t.lanes = kLanes;
    t.block_rows = kAccumulators;
    t.variant_blocking = kAccumulators != kDefaultAccumulators;
    t.max_group_vectors = kMaxGroupVectors;
    t.direct_row = &DirectRow;
    t.dot_row = &DotRow;
    t.winograd_input = &WinogradInput;
    t.winograd_gemm = &WinogradGemm;
    t.winograd_output = &WinogradOutput;
    t.encode_row = &EncodeRow;
    t.activate = &ActivateArray;
    return t;
}

const KernelTable *Table() {
    static const KernelTable table = MakeTable();
    return &table;
}

}  // namespace HWY_NAMESPACE
}  // namespace espcn::ESPCN_FAST_KERNELS_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace espcn::ESPCN_FAST_KERNELS_NAMESPACE {

// Highway's dispatch table: an entry per target compiled (null where a
// target is not), so the tables come from the library's target list, not
// from one written here.
HWY_EXPORT(Table);

std::vector<const KernelTable *> compiled_kernel_tables() {
    constexpr size_t n = sizeof(HWY_DISPATCH_TABLE(Table)) / sizeof(HWY_DISPATCH_TABLE(Table)[0]);
    std::vector<const KernelTable *> tables;
    // With several targets, entry 0 is Highway's initialising trampoline.
    for (size_t i = n > 1 ? 1 : 0; i < n; ++i) {
        if (!HWY_DISPATCH_TABLE(Table)[i]) continue;
        const KernelTable *t = HWY_DISPATCH_TABLE(Table)[i]();
        if (std::find(tables.begin(), tables.end(), t) != tables.end()) continue;
#if defined(ESPCN_FAST_NARROW_BLOCKS)
        if (!t->variant_blocking) continue;  // the same as the default compile's
#endif
        tables.push_back(t);
    }
    return tables;
}

#if !defined(ESPCN_FAST_NARROW_BLOCKS)
const char *isa_name(Isa isa) {
    switch (isa) {
    case Isa::baseline: return "baseline";
    case Isa::sse4: return "sse4";
    case Isa::neon: return "neon";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    }
    return "?";
}

std::vector<const KernelTable *> supported_kernel_tables() {
    std::vector<const KernelTable *> all = compiled_kernel_tables();
#if !defined(ESPCN_FAST_WIDE_BLOCKS)
    for (const KernelTable *t : ::espcn::fast_blocking::compiled_kernel_tables()) all.push_back(t);
#endif
    const int64_t cpu = hwy::SupportedTargets();
    std::vector<const KernelTable *> tables;
    for (const KernelTable *t : all)
        if ((cpu & t->target) || t->isa == Isa::baseline) tables.push_back(t);
    std::stable_sort(tables.begin(), tables.end(), [](const KernelTable *a, const KernelTable *b) {
        if (a->isa != b->isa) return static_cast<int>(a->isa) > static_cast<int>(b->isa);
        if (a->lanes != b->lanes) return a->lanes > b->lanes;
        return a->block_rows > b->block_rows;
    });
    return tables;
}

const KernelTable *best_kernel_table(Isa max_isa) {
    for (const KernelTable *t : supported_kernel_tables())
        if (static_cast<int>(t->isa) <= static_cast<int>(max_isa)) return t;
    return HWY_STATIC_DISPATCH(Table)();
}

std::vector<const KernelTable *> candidate_kernel_tables(Isa max_isa) {
    const KernelTable *best = best_kernel_table(max_isa);
    std::vector<const KernelTable *> tables;
    for (const KernelTable *t : supported_kernel_tables())
        if (static_cast<int>(t->isa) <= static_cast<int>(max_isa) &&
            t->fused_multiply_add == best->fused_multiply_add &&
            (t->vector_unit || !best->vector_unit))
            tables.push_back(t);
    return tables;
}
#endif  // !ESPCN_FAST_NARROW_BLOCKS

}  // namespace espcn::ESPCN_FAST_KERNELS_NAMESPACE
#endif  // HWY_ONCE
