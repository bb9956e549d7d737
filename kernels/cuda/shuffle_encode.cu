#include "shuffle_encode.cuh"

#include "device_access.cuh"

namespace espcn::cuda {

namespace {

__global__ void shuffle_encode_kernel(ShuffleEncodeParams p) {
    const int hx = blockIdx.x * blockDim.x + threadIdx.x;
    const int hy = blockIdx.y * blockDim.y + threadIdx.y;
    if (hx >= p.dst_width || hy >= p.dst_height) return;
    const ShuffleSource s = shuffle_source(p.order, p.channel, hy, hx, p.scale, p.channels);
    float v = load_element(p.src, p.src_type,
                           s.y * p.src_row_stride + s.x * p.src_pixel_stride +
                               s.channel * p.src_channel_stride);
    if (p.bias) v += p.bias[s.channel];
    const float slope = p.activation == Activation::prelu ? p.prelu_slope[s.channel] : 0.0f;
    v = apply_activation(p.activation, v, slope);
    if (p.residual) {
        const uint32_t in_max = max_sample(p.residual_bit_depth);
        v += decode_sample(load_sample(sample_row(p.residual, p.residual_stride, s.y), s.x,
                                       p.residual_bit_depth, p.residual_shift, in_max),
                           in_max, p.range);
    }
    const uint32_t maxv = max_sample(p.dst_bit_depth);
    store_sample(sample_row(p.dst, p.dst_stride, hy), hx, p.dst_bit_depth, p.dst_shift,
                 encode_sample(v, maxv, p.range));
}

}  // namespace

cudaError_t launch_shuffle_encode(const ShuffleEncodeParams &p, cudaStream_t stream) {
    if (p.scale < 1 || p.lr_width < 1 || p.lr_height < 1 || p.dst_width < 1 || p.dst_height < 1 ||
        p.dst_width > p.scale * p.lr_width || p.dst_height > p.scale * p.lr_height ||
        p.dst_bit_depth < 8 || p.dst_bit_depth > 16 || p.dst_shift < 0 ||
        p.dst_shift + p.dst_bit_depth > 16 || (p.dst_bit_depth == 8 && p.dst_shift != 0) ||
        p.channels < 1 || p.channel < 0 || p.channel >= p.channels ||
        !p.src || !p.dst || (p.activation == Activation::prelu && !p.prelu_slope) ||
        (p.residual && (p.residual_bit_depth < 8 || p.residual_bit_depth > 16 || p.residual_shift < 0 ||
                        p.residual_shift + p.residual_bit_depth > 16 ||
                        (p.residual_bit_depth == 8 && p.residual_shift != 0))))
        return cudaErrorInvalidValue;
    const dim3 block(32, 8);
    const dim3 grid((p.dst_width + block.x - 1) / block.x, (p.dst_height + block.y - 1) / block.y);
    return ESPCN_CUDA_LAUNCH(shuffle_encode_kernel, grid, block, stream, p);
}

}  // namespace espcn::cuda
