// A layer's activation, applied after its bias: one definition for the CPU
// backends and the CUDA kernels (the hidden layers' bias-activation pass and
// the last layer's inside the fused shuffle), so both compute the same
// function. tanhf/expf are the host's libm on the CPU and the device's
// intrinsics-free tanhf/expf on the GPU (these can differ by an ulp or so:
// the GPU tests allow one code value for tanh and sigmoid).
#pragma once

#include <math.h>

#include "host_device.hpp"

namespace espcn {

enum class Activation : int { identity = 0, relu = 1, tanh = 2, sigmoid = 3, prelu = 4 };

// `slope` is read only for prelu (one value per channel, chosen by the caller).
ESPCN_HD float apply_activation(Activation a, float v, float slope) {
    switch (a) {
    case Activation::relu: return v > 0.0f ? v : 0.0f;
    case Activation::tanh: return tanhf(v);
    case Activation::sigmoid: return 1.0f / (1.0f + expf(-v));
    case Activation::prelu: return v >= 0.0f ? v : slope * v;
    case Activation::identity: break;
    }
    return v;
}

}  // namespace espcn
