// Kernel: a hidden layer's bias and activation, in place on the NHWC tensor
// cuDNN wrote the bare convolution into. cuDNN's fused
// ConvolutionBiasActivationForward offers only ReLU (and identity under one
// algorithm); ESPCN's tanh and FSRCNN's PReLU need this pass. Channels at or
// beyond `channels` (the zero padding that keeps fp16 tensors tensor-core
// friendly) are left untouched, so they stay exactly zero.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#include "tensor_types.hpp"

namespace espcn::cuda {

struct BiasActivationParams {
    void *data = nullptr;                  // device NHWC tensor, N = 1
    TensorType type = TensorType::f32;
    int64_t pixels = 0;                    // H · W
    int channels = 0;                      // real channels
    int channel_stride = 0;                // elements per pixel (>= channels)
    const float *bias = nullptr;           // device, `channels` floats; NULL: none
    const float *prelu_slope = nullptr;    // device, `channels` floats; prelu only
    Activation activation = Activation::identity;
};

[[nodiscard]] cudaError_t launch_bias_activation(const BiasActivationParams &p, cudaStream_t stream);

}  // namespace espcn::cuda
