// The SIMD kernels of the cpu-fast backend, compiled once per instruction set
// with Google Highway (fast_kernels.cpp) and chosen at run time. A table of
// plain function pointers per instruction set: the backend picks one table
// when it is created, so two contexts may run different instruction sets in
// one process (the tests run every table this CPU supports side by side).
//
// Layout of every activation: rows of pixels, each pixel `pixel_stride`
// floats (its channels, zero-padded up to a multiple of the vector length),
// pixels contiguous along the row. Kernels only ever read columns the caller
// has made valid or zero; they write only the columns they are asked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../../core/backend.hpp"
#include "../../core/network.hpp"
#include "../../core/sample_codec.hpp"

namespace espcn::fast {

// CpuIsa::baseline is whatever the compiler's default target gives (x86-64:
// Highway's portable 128-bit code; aarch64: NEON).
using Isa = CpuIsa;

const char *isa_name(Isa isa);

// Fused activation of a layer (bias already added).
struct Epilogue {
    const float *bias = nullptr;   // per padded channel
    const float *slope = nullptr;  // per padded channel, PReLU only
    Activation activation = Activation::identity;
    bool round_bf16 = false;       // store the activations rounded to bfloat16
};

// x rounded to the nearest bfloat16 (ties to even; denormals flush to a
// signed zero, as AVX512-BF16's conversions do), kept as a float.
inline float round_to_bf16(float x) {
    uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    if ((u & 0x7F800000u) == 0) u &= 0x80000000u;
    u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

// Direct convolution of one output row (any kernel size, any input stride).
struct DirectRowArgs {
    // rows[ky] points at the input pixel (first output column − pad) of input
    // row (y + ky − pad); kernel rows in all.
    const float *const *rows = nullptr;
    ptrdiff_t in_pixel_stride = 0;  // floats between input pixels
    int in_channels = 0;
    int kernel = 0;
    const float *weights = nullptr;  // packed by pack_direct_weights
    int out_vectors = 0;             // padded output channels / lanes
    int out_channels = 0;            // dot_row: the real output channels
    // direct_row: the channels in pairs, odd first (ESPCN_PRECISION_BF16),
    // on inputs and weights already rounded to bfloat16.
    bool bf16 = false;
    Epilogue epilogue;
    float *out = nullptr;            // first output pixel
    ptrdiff_t out_pixel_stride = 0;
    int width = 0;                   // output pixels to write
};

// Layers with few output channels (≤ kMaxDotOutputs: the last layer's r²
// maps at x2 and x3) on an activation input (in_pixel_stride a multiple of
// the lane count): each output is a dot product over the contiguous window of
// k taps × in_pixel_stride channels, vectorised along the channels and summed
// across lanes at the end, instead of direct_row's output-channel vectors,
// which such a layer fills only partly (x2: 4 of 8 or 16 lanes; x3: 9 of 16,
// so 7/16 of direct_row's FMAs were wasted). Same DirectRowArgs: weights
// packed by pack_dot_weights, out_vectors vectors per output pixel (the
// padding channels written as zeros), in_channels ≤ in_pixel_stride.
inline constexpr int kMaxDotOutputs = 9;

// Winograd F(4×4, 3×3): 6×6 input tiles at stride 4 → 36 "positions" that
// are independent matrix products over channels → 4×4 output tiles.
inline constexpr int kWinoTile = 6, kWinoOut = 4, kWinoPositions = 36;

// The Winograd buffers V (transformed input) and M (products) are addressed
// by explicit strides in floats: element (tile, position, channel) is at
// tile · tile_stride + position · pos_stride + channel.
struct WinogradLayout {
    ptrdiff_t tile_stride = 0;
    ptrdiff_t pos_stride = 0;
};

struct WinogradInputArgs {
    // rows[0..5] point at the input pixel (first output column − 1) of input
    // rows (a − 1) … (a + 4), for output rows a … a + 3.
    const float *const *rows = nullptr;
    ptrdiff_t in_pixel_stride = 0;  // a multiple of the lane count
    int channel_vectors = 0;        // input channel vectors to transform
    int tiles = 0;
    float *v = nullptr;
    WinogradLayout v_layout;
    float *scratch = nullptr;       // winograd_input_scratch_floats(tiles, lanes)
};

inline size_t winograd_input_scratch_floats(int tiles, int lanes) {
    return static_cast<size_t>(4 * tiles + 2) * kWinoTile * static_cast<size_t>(lanes);
}

struct WinogradGemmArgs {
    const float *v = nullptr;
    WinogradLayout v_layout;
    // Tiles to multiply; rounded up to the micro-kernel's block inside, so
    // the buffers must hold a multiple of block_rows tiles.
    int tiles = 0;
    int in_channels = 0;       // K
    const float *u = nullptr;  // packed by pack_winograd_weights
    int out_vectors = 0;
    float *m = nullptr;
    WinogradLayout m_layout;
};

struct WinogradOutputArgs {
    const float *m = nullptr;
    WinogradLayout m_layout;
    int out_vectors = 0;
    int tiles = 0;
    Epilogue epilogue;
    float *rows[kWinoOut] = {};  // output rows a … a+3 at the first tile's column; null: not stored
    ptrdiff_t out_pixel_stride = 0;
    int col_begin = 0, col_end = 0;  // the columns stored, counted from the first tile's
};

// The output step of the network: the last layer's LR row (r² channels per
// pixel, C = 1 so both shuffle orders agree), plus the residual if any → r HR
// rows, range mapped, rounded half up and clamped as sample_codec.hpp says.
// The largest scale encode_row takes (the loader's kMaxScale).
inline constexpr int kMaxEncodeScale = 8;

struct EncodeRowArgs {
    const float *lr = nullptr;   // first LR pixel
    ptrdiff_t pixel_stride = 0;
    int width = 0;               // LR pixels
    int scale = 0;
    SampleRange range;
    int bit_depth = 8, shift = 0;
    uint8_t *const *out_rows = nullptr;  // scale HR rows, at HR column scale · x0
    // The global residual (Network::residual == nearest): the network's
    // decoded input at these LR pixels, one float each, added to all r² HR
    // samples of its pixel after the activation. Null: none.
    const float *residual = nullptr;
};

struct KernelTable {
    Isa isa = Isa::baseline;
    int64_t target = 0;            // Highway's target bit (HWY_AVX3, ...)
    const char *target_name = "";  // Highway's name of the target
    const char *name = "";         // target and blocking, e.g. "AVX3x24": unique per table
    int lanes = 1;                 // floats per vector
    // Real vector instructions (AVX-512, AVX2, SSE4, aarch64's NEON), not
    // Highway's portable emulation: the backend `auto` prefers (cpu_fast_preferred()).
    bool vector_unit = false;
    // a · b + c rounded once (FMA): tables compute the same bits only when
    // they agree on this (SSE4 and the x86 baseline round twice).
    bool fused_multiply_add = false;
    // Accumulator vectors per micro-kernel: a block is block_rows / G pixels
    // (or tiles) × G output vectors. Input rows need block_rows columns to
    // spare on the right; Winograd tile strides are multiples of block_rows.
    int block_rows = 1;
    int max_group_vectors = 4;     // output vectors per micro-kernel
    bool variant_blocking = false;  // not the target's default blocking

    void (*direct_row)(const DirectRowArgs &) = nullptr;
    // Requires dot_row_applies(); see kMaxDotOutputs.
    void (*dot_row)(const DirectRowArgs &) = nullptr;
    void (*winograd_input)(const WinogradInputArgs &) = nullptr;
    void (*winograd_gemm)(const WinogradGemmArgs &) = nullptr;
    void (*winograd_output)(const WinogradOutputArgs &) = nullptr;
    void (*encode_row)(const EncodeRowArgs &) = nullptr;
    // Applies an activation to n floats (n a multiple of lanes); for tests.
    void (*activate)(Activation, const float *slope, float *x, size_t n) = nullptr;
};

// Every table compiled in (each target of Highway's dispatch table for this
// file, and the variant blockings of fast_kernels_blocking.cpp) and
// runnable on this CPU, best first: widest vectors, then most accumulators.
std::vector<const KernelTable *> supported_kernel_tables();

// The best supported table at or below `max_isa`; never null (the baseline
// always runs).
const KernelTable *best_kernel_table(Isa max_isa);

// The planner's candidates at or below `max_isa`: the supported tables that
// compute the same bits as the best of them (same fused-multiply-add
// rounding), best first; the portable baseline only when nothing else runs.
std::vector<const KernelTable *> candidate_kernel_tables(Isa max_isa);

// This compile's tables (one per Highway target compiled), from Highway's
// own dispatch table; variant blockings list only the tables that differ
// from the default blocking of their target.
std::vector<const KernelTable *> compiled_kernel_tables();

// Output channel vectors are split into groups of at most max_group_vectors
// (micro-kernel width); packing and kernels agree on this split.
std::vector<int> vector_groups(int out_vectors, int max_group_vectors);

// Whether dot_row runs a layer with this many output channels on an input
// of this pixel stride (floats), for kernels of `lanes` floats per vector.
inline bool dot_row_applies(int out_channels, int in_channels, ptrdiff_t in_pixel_stride, int lanes) {
    // Not on the 1-lane scalar baseline. The rule does not depend on the
    // vector width otherwise: every candidate computes the same bits. The
    // padded outputs (≤ 9 channels, padded to 16 lanes at most) fit the
    // kernel's 16 sums per pixel.
    return out_channels <= kMaxDotOutputs && lanes > 1 && lanes <= 16 && in_pixel_stride % lanes == 0 &&
           in_channels <= in_pixel_stride && in_pixel_stride > 1;
}

// Weights of a conv layer packed for dot_row: [ky][kx][block][o][i] for
// o < out_channels, the input channels (padded to in_pixel_stride, zeros at
// the padding) in blocks of kDotWeightBlock (the last one shorter when the
// stride is not a multiple of it): one tap's block of every output is
// contiguous, so a micro-kernel reads all its outputs from one pointer.
inline constexpr int kDotWeightBlock = 16;
std::vector<float> pack_dot_weights(const ConvLayer &c, int in_pixel_stride);

// Weights of a conv layer packed for direct_row: per group, [ky][kx][i][group
// vectors · lanes], zero-padded channels: the output channels padded to a
// multiple of lanes, or to padded_out if that is more.
std::vector<float> pack_direct_weights(const ConvLayer &c, int lanes, int max_group_vectors,
                                       int padded_out = 0);

// Winograd-domain weights U = G g Gᵀ (computed in double), packed for
// winograd_gemm: [position][group][i][group vectors · lanes]; output channels
// padded as pack_direct_weights pads them.
std::vector<float> pack_winograd_weights(const ConvLayer &c, int lanes, int max_group_vectors,
                                         int padded_out = 0);

}  // namespace espcn::fast

namespace espcn::fast_blocking {
// The kernels compiled again with 12 accumulators per micro-kernel on the
// targets whose default is 24 (AVX-512, NEON): smaller Winograd batches that
// stay in the L1 cache (fast_kernels_blocking.cpp).
std::vector<const fast::KernelTable *> compiled_kernel_tables();
}  // namespace espcn::fast_blocking
