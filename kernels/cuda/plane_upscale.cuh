// Kernel: upscaling of the planes that bypass the network (chroma), bicubic,
// bilinear or nearest, 1 or 2 interleaved components (NV12/P010 UV), with the
// taps of core/resample_taps.hpp and the CPU's order of operations
// (kernels/core/plane_resample.cpp): per output row, the four source rows are
// first resampled horizontally in float, then combined vertically, rounded
// half up and clamped. Built with --fmad=false, so results equal the CPU's.
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

#include "../core/resample_taps.hpp"

namespace espcn::cuda {

struct PlaneUpscaleParams {
    const void *src = nullptr;  // device memory
    ptrdiff_t src_stride = 0;   // bytes
    int src_width = 0;          // in pixels (a UV pair is one pixel)
    int src_height = 0;
    void *dst = nullptr;
    ptrdiff_t dst_stride = 0;
    int dst_width = 0;          // within ±scale of scale · src_width
    int dst_height = 0;
    int components = 1;         // 1 or 2
    int bit_depth = 8;          // in and out
    int shift = 0;              // in and out
    int scale = 2;
    ResampleKind kind = kResampleBicubic;
};

[[nodiscard]] cudaError_t launch_plane_upscale(const PlaneUpscaleParams &p, cudaStream_t stream);

}  // namespace espcn::cuda
