// Kernel: an 8..16-bit plane (any stride, MSB-aligned samples included) into
// a one-channel network tensor of fp32 or fp16, with the model's value range
// (decode_sample of core/sample_codec.hpp, the CPU's formula).
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

#include "../core/sample_codec.hpp"
#include "tensor_types.hpp"

namespace espcn::cuda {

struct PlaneToTensorParams {
    const void *src = nullptr;  // device memory
    ptrdiff_t src_stride = 0;   // bytes; may be negative
    int width = 0;
    int height = 0;
    int bit_depth = 8;          // 8..16
    int shift = 0;              // P010: 6
    SampleRange range{};
    void *dst = nullptr;        // device memory, element (y, x) at y·dst_row_stride + x·dst_pixel_stride
    ptrdiff_t dst_row_stride = 0;    // elements
    ptrdiff_t dst_pixel_stride = 1;  // elements (the channel count of an NHWC tensor)
    TensorType dst_type = TensorType::f32;
};

// Enqueues the conversion on `stream` (never the default stream: the caller's).
[[nodiscard]] cudaError_t launch_plane_to_tensor(const PlaneToTensorParams &p, cudaStream_t stream);

}  // namespace espcn::cuda
