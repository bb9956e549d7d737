// What the kernels (.cu files only) read and write besides the shared host
// formulas: tensor elements of either type. Samples of planes are
// core/sample_access.hpp's and activations core/activation.hpp's, the CPU's
// own code. Under the host emulation (kernel_launch.cuh) __half converts with
// cuda_fp16's host implementation, which rounds as the device does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel_launch.cuh"

#include <cuda_fp16.h>

#include "../core/activation.hpp"
#include "../core/sample_access.hpp"
#include "tensor_types.hpp"

namespace espcn::cuda {

__device__ __forceinline__ float load_element(const void *base, TensorType type, ptrdiff_t i) {
    return type == TensorType::f32 ? static_cast<const float *>(base)[i]
                                   : __half2float(static_cast<const __half *>(base)[i]);
}

__device__ __forceinline__ void store_element(void *base, TensorType type, ptrdiff_t i, float v) {
    if (type == TensorType::f32) static_cast<float *>(base)[i] = v;
    else static_cast<__half *>(base)[i] = __float2half_rn(v);
}

}  // namespace espcn::cuda
