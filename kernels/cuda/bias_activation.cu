#include "bias_activation.cuh"

#include "device_access.cuh"

namespace espcn::cuda {

namespace {

// One thread per (pixel, channel) of the real channels; consecutive threads
// walk the channels of a pixel, so loads and stores stay coalesced.
__global__ void bias_activation_kernel(BiasActivationParams p) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= p.pixels * p.channels) return;
    const int c = static_cast<int>(i % p.channels);
    const int64_t at = (i / p.channels) * p.channel_stride + c;
    float v = load_element(p.data, p.type, at);
    if (p.bias) v += p.bias[c];
    const float slope = p.activation == Activation::prelu ? p.prelu_slope[c] : 0.0f;
    store_element(p.data, p.type, at, apply_activation(p.activation, v, slope));
}

}  // namespace

cudaError_t launch_bias_activation(const BiasActivationParams &p, cudaStream_t stream) {
    if (!p.data || p.pixels < 1 || p.channels < 1 || p.channel_stride < p.channels ||
        (p.activation == Activation::prelu && !p.prelu_slope))
        return cudaErrorInvalidValue;
    const int64_t n = p.pixels * p.channels;
    const int block = 256;
    const int64_t grid = (n + block - 1) / block;
    if (grid > 0x7fffffff) return cudaErrorInvalidValue;
    return ESPCN_CUDA_LAUNCH(bias_activation_kernel, dim3(static_cast<unsigned>(grid)), dim3(block),
                             stream, p);
}

}  // namespace espcn::cuda
