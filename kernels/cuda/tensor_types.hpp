// Element types and activation codes shared by the CUDA kernels' parameter
// structs; host-safe (no CUDA headers), so host code fills the structs.
// Tensors are NHWC with N = 1, strides given in elements, so cuDNN's dense
// NHWC buffers and views into them are read in place.
#pragma once

namespace espcn::cuda {

enum class TensorType : int { f32 = 0, f16 = 1 };

// The last layer's activation, applied inside the shuffle kernel.
enum class FinalActivation : int { identity = 0, relu = 1, tanh = 2, sigmoid = 3 };

}  // namespace espcn::cuda
