#include "color_convert.cuh"

#include "kernel_launch.cuh"

namespace espcn::cuda {

namespace {

__global__ void to_rgb_kernel(ToRgbParams p, int width, int height) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    to_rgb_pixel(p, x, y);
}

__global__ void from_rgb_kernel(FromRgbParams p, int width, int height) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    from_rgb_pixel(p, x, y);
}

__global__ void from_rgb_chroma_kernel(FromRgbParams p, int width, int height) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    from_rgb_chroma(p, x, y);
}

bool plane_ok(const ColorPlane &p) {
    return p.data && p.width > 0 && p.height > 0 && p.bit_depth >= 8 && p.bit_depth <= 16 && p.shift >= 0 &&
           p.shift + p.bit_depth <= 16 && (p.bit_depth > 8 || p.shift == 0) && p.step >= 1 && p.step <= 4;
}

dim3 grid_of(int width, int height, dim3 block) {
    return dim3((width + block.x - 1) / block.x, (height + block.y - 1) / block.y);
}

}  // namespace

cudaError_t launch_to_rgb(const ToRgbParams &p, int width, int height, cudaStream_t stream) {
    if (width < 1 || height < 1 || p.log2_w < 0 || p.log2_w > 1 || p.log2_h < 0 || p.log2_h > 1)
        return cudaErrorInvalidValue;
    for (int k = 0; k < 3; ++k)
        if (!plane_ok(p.src[k]) || !plane_ok(p.dst[k]) || p.dst[k].bit_depth != kColorNetworkBits ||
            p.dst[k].width < width || p.dst[k].height < height)
            return cudaErrorInvalidValue;
    const dim3 block(32, 8);
    return ESPCN_CUDA_LAUNCH(to_rgb_kernel, grid_of(width, height, block), block, stream, p, width, height);
}

cudaError_t launch_from_rgb(const FromRgbParams &p, int width, int height, cudaStream_t stream) {
    if (width < 1 || height < 1 || p.log2_w < 0 || p.log2_w > 1 || p.log2_h < 0 || p.log2_h > 1)
        return cudaErrorInvalidValue;
    for (int k = 0; k < 3; ++k)
        if (!plane_ok(p.src[k]) || !plane_ok(p.dst[k]) || p.src[k].bit_depth != kColorNetworkBits ||
            p.src[k].width < width || p.src[k].height < height)
            return cudaErrorInvalidValue;
    const dim3 block(32, 8);
    const cudaError_t e =
        ESPCN_CUDA_LAUNCH(from_rgb_kernel, grid_of(width, height, block), block, stream, p, width, height);
    if (e != cudaSuccess || !p.matrix.ycbcr) return e;
    const int cw = p.dst[1].width, ch = p.dst[1].height;
    return ESPCN_CUDA_LAUNCH(from_rgb_chroma_kernel, grid_of(cw, ch, block), block, stream, p, cw, ch);
}

}  // namespace espcn::cuda
