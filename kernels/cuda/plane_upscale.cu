#include "plane_upscale.cuh"

#include "../core/sample_codec.hpp"
#include "device_access.cuh"

namespace espcn::cuda {

namespace {

__device__ float horizontal(const PlaneUpscaleParams &p, const ResampleTaps &tx, int y, int c,
                            uint32_t maxv) {
    float acc = 0.0f;
    for (int k = 0; k < tx.count; ++k) {
        const int x = clamp_index(tx.first + k, p.src_width);
        acc += tx.weight[k] * static_cast<float>(load_sample(sample_row(p.src, p.src_stride, y),
                                                             x * p.components + c, p.bit_depth,
                                                             p.shift, maxv));
    }
    return acc;
}

__global__ void plane_upscale_kernel(PlaneUpscaleParams p) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;  // sample index within the row
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= p.dst_width * p.components || y >= p.dst_height) return;
    const int x = i / p.components, c = i - x * p.components;
    const uint32_t maxv = max_sample(p.bit_depth);
    const ResampleTaps tx = resample_taps(p.kind, x, p.scale);
    const ResampleTaps ty = resample_taps(p.kind, y, p.scale);
    float acc = 0.0f;
    for (int k = 0; k < ty.count; ++k)
        acc += ty.weight[k] * horizontal(p, tx, clamp_index(ty.first + k, p.src_height), c, maxv);
    store_sample(sample_row(p.dst, p.dst_stride, y), i, p.bit_depth, p.shift, round_resampled(acc, maxv));
}

}  // namespace

cudaError_t launch_plane_upscale(const PlaneUpscaleParams &p, cudaStream_t stream) {
    if (p.src_width < 1 || p.src_height < 1 || p.dst_width < 1 || p.dst_height < 1 ||
        (p.components != 1 && p.components != 2) || p.bit_depth < 8 || p.bit_depth > 16 ||
        p.shift < 0 || p.shift + p.bit_depth > 16 || (p.bit_depth == 8 && p.shift != 0) ||
        p.scale < 1 || !p.src || !p.dst)
        return cudaErrorInvalidValue;
    const dim3 block(32, 8);
    const dim3 grid((p.dst_width * p.components + block.x - 1) / block.x,
                    (p.dst_height + block.y - 1) / block.y);
    return ESPCN_CUDA_LAUNCH(plane_upscale_kernel, grid, block, stream, p);
}

}  // namespace espcn::cuda
