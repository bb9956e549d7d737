// Kernels: the colour conversion of networks of RGB (core/color_convert.hpp),
// one thread per sample, the same per-sample functions the CPU runs
// (core/color_frames.cpp), so both give the same bits (built with
// --fmad=false, as every kernel here).
#pragma once

#include <cuda_runtime_api.h>

#include "../core/color_convert.hpp"

namespace espcn::cuda {

// The frame's planes → 16-bit R, G, B of width × height (device memory).
[[nodiscard]] cudaError_t launch_to_rgb(const ToRgbParams &p, int width, int height, cudaStream_t stream);

// 16-bit R, G, B of width × height → the frame's planes (device memory):
// every full-size sample, then (Y'CbCr) the chroma of dst[1], dst[2].
[[nodiscard]] cudaError_t launch_from_rgb(const FromRgbParams &p, int width, int height, cudaStream_t stream);

}  // namespace espcn::cuda
