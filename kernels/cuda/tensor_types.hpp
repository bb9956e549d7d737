// Element types shared by the CUDA kernels' parameter structs; host-safe (no
// CUDA headers), so host code fills the structs. Tensors are NHWC with N = 1,
// strides given in elements, so cuDNN's dense NHWC buffers and views into
// them are read in place. Activations are core/activation.hpp's, applied by
// the kernels with the CPU's own apply_activation.
#pragma once

#include "../core/activation.hpp"

namespace espcn::cuda {

enum class TensorType : int { f32 = 0, f16 = 1 };

}  // namespace espcn::cuda
