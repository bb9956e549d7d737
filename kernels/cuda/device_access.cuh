// Device-side access used by the kernels (.cu files only): tensor elements
// of either type, the final activation, and plane samples.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>

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

// The CPU's apply_activation (cpu/reference_ops.hpp) on the device; slope is
// read only for prelu.
__device__ __forceinline__ float apply_activation(DeviceActivation a, float v, float slope = 0.0f) {
    switch (a) {
    case DeviceActivation::relu: return v > 0.0f ? v : 0.0f;
    case DeviceActivation::prelu: return v > 0.0f ? v : v * slope;
    case DeviceActivation::tanh: return tanhf(v);
    case DeviceActivation::sigmoid: return 1.0f / (1.0f + expf(-v));
    default: return v;
    }
}

// An integer sample of an espcn_plane: 8-bit bytes, or 16-bit words holding
// bit_depth bits shifted left by `shift`.
__device__ __forceinline__ uint32_t load_sample(const void *data, ptrdiff_t stride, int x, int y,
                                                int bit_depth, int shift, uint32_t max_value) {
    const unsigned char *row = static_cast<const unsigned char *>(data) + y * stride;
    if (bit_depth == 8) return row[x];
    return (reinterpret_cast<const unsigned short *>(row)[x] >> shift) & max_value;
}

__device__ __forceinline__ void store_sample(void *data, ptrdiff_t stride, int x, int y,
                                             int bit_depth, int shift, uint32_t v) {
    unsigned char *row = static_cast<unsigned char *>(data) + y * stride;
    if (bit_depth == 8) row[x] = static_cast<unsigned char>(v);
    else reinterpret_cast<unsigned short *>(row)[x] = static_cast<unsigned short>(v << shift);
}

}  // namespace espcn::cuda
