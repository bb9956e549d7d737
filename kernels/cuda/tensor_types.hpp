// Element types and activation codes shared by the CUDA kernels' parameter
// structs; host-safe (no CUDA headers), so host code fills the structs.
// Tensors are NHWC with N = 1, strides given in elements, so cuDNN's dense
// NHWC buffers and views into them are read in place.
#pragma once

namespace espcn::cuda {

enum class TensorType : int { f32 = 0, f16 = 1 };

// A layer's activation as the kernels apply it (after the bias): in the
// bias-activation pass of the hidden layers and inside the shuffle kernel for
// the last one. prelu reads one slope per channel.
enum class DeviceActivation : int { identity = 0, relu = 1, tanh = 2, sigmoid = 3, prelu = 4 };

}  // namespace espcn::cuda
