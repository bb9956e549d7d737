// ESPCN_HD marks index math compiled for both the CPU and CUDA, so the CPU
// unit tests check exactly the formulas the GPU kernels run.
#pragma once

#if defined(__CUDACC__)
#define ESPCN_HD __host__ __device__ __forceinline__
#else
#define ESPCN_HD inline
#endif
