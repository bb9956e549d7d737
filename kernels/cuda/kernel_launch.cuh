// How our kernels are launched: ESPCN_CUDA_LAUNCH(kernel, grid, block,
// stream, args...) is an expression of type cudaError_t.
//
// Under nvcc it is kernel<<<grid, block, 0, stream>>>(args...) followed by
// cudaGetLastError(). Compiled as plain host C++ (no __CUDACC__: the
// test_cuda_kernels_host build), the same .cu files run on the CPU: the
// launch becomes a loop over the launcher's exact grid (every block, every
// thread of it, including the threads past the data that the kernels' guards
// must turn away), with thread-local blockIdx / threadIdx / blockDim /
// gridDim, one thread after another, synchronously, ignoring the stream.
// That executes our index math, guards and parameter plumbing under ASan and
// UBSan on any machine; it says nothing about nvcc's code generation, device
// math, races, streams or speed (README, "Our CUDA kernels on the CPU").
#pragma once

#include <cuda_runtime_api.h>

#if defined(__CUDACC__)

#define ESPCN_CUDA_LAUNCH(kernel, grid, block, stream, ...) \
    (kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__), cudaGetLastError())

#else  // host emulation

#include <vector_types.h>

// CUDA's host headers spell these as GCC attributes GCC does not know
// (-Wattributes): on the host they mean nothing.
#undef __global__
#define __global__
#undef __device__
#define __device__

namespace espcn::cuda {

// The kernels' built-in variables (the kernels live in espcn::cuda, so these
// are what their unqualified names find), as the emulated launch sets them.
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};

namespace emulation {

// Runs kernel(args...) once per thread of the grid, in order.
template <typename... Params, typename... Args>
cudaError_t launch(void (*kernel)(Params...), dim3 grid, dim3 block, Args &&...args) {
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0 ||
        static_cast<unsigned long long>(block.x) * block.y * block.z > 1024)
        return cudaErrorInvalidConfiguration;  // what the device would say
    gridDim = grid;
    blockDim = block;
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx)
                for (unsigned tz = 0; tz < block.z; ++tz)
                    for (unsigned ty = 0; ty < block.y; ++ty)
                        for (unsigned tx = 0; tx < block.x; ++tx) {
                            blockIdx = uint3{bx, by, bz};
                            threadIdx = uint3{tx, ty, tz};
                            kernel(args...);
                        }
    return cudaSuccess;
}

}  // namespace emulation
}  // namespace espcn::cuda

#define ESPCN_CUDA_LAUNCH(kernel, grid, block, stream, ...) \
    ((void)(stream), ::espcn::cuda::emulation::launch(kernel, (grid), (block), __VA_ARGS__))

#endif
