#include "plane_to_tensor.cuh"

#include "device_access.cuh"

namespace espcn::cuda {

namespace {

__global__ void plane_to_tensor_kernel(PlaneToTensorParams p) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= p.width || y >= p.height) return;
    const uint32_t maxv = max_sample(p.bit_depth);
    const uint32_t v = load_sample(sample_row(p.src, p.src_stride, y), x, p.bit_depth, p.shift, maxv);
    store_element(p.dst, p.dst_type, y * p.dst_row_stride + x * p.dst_pixel_stride,
                  decode_sample(v, maxv, p.range));
}

}  // namespace

cudaError_t launch_plane_to_tensor(const PlaneToTensorParams &p, cudaStream_t stream) {
    if (p.width < 1 || p.height < 1 || p.bit_depth < 8 || p.bit_depth > 16 || p.shift < 0 ||
        p.shift + p.bit_depth > 16 || (p.bit_depth == 8 && p.shift != 0) || !p.src || !p.dst)
        return cudaErrorInvalidValue;
    const dim3 block(32, 8);
    const dim3 grid((p.width + block.x - 1) / block.x, (p.height + block.y - 1) / block.y);
    return ESPCN_CUDA_LAUNCH(plane_to_tensor_kernel, grid, block, stream, p);
}

}  // namespace espcn::cuda
