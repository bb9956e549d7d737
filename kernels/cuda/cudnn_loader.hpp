// cuDNN, loaded at first use with dlopen (never linked): a build with CUDA
// enabled must start and run on the CPU on machines without cuDNN or an
// NVIDIA driver. The function table holds exactly what the GPU backend calls;
// a library that lacks one of them is refused with that function's name.
//
// Thread safety: cudnn_api() may be called from any thread; it loads once and
// every later call returns the same table (or the same error).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <cudnn.h>

#include "../core/status.hpp"

namespace espcn::cuda {

// The functions of the cuDNN legacy convolution API the backend uses.
#define ESPCN_CUDNN_FUNCTIONS(X)                  \
    X(cudnnGetVersion)                            \
    X(cudnnGetErrorString)                        \
    X(cudnnCreate)                                \
    X(cudnnDestroy)                               \
    X(cudnnSetStream)                             \
    X(cudnnCreateTensorDescriptor)                \
    X(cudnnSetTensor4dDescriptor)                 \
    X(cudnnDestroyTensorDescriptor)               \
    X(cudnnCreateFilterDescriptor)                \
    X(cudnnSetFilter4dDescriptor)                 \
    X(cudnnDestroyFilterDescriptor)               \
    X(cudnnCreateConvolutionDescriptor)           \
    X(cudnnSetConvolution2dDescriptor)            \
    X(cudnnSetConvolutionMathType)                \
    X(cudnnDestroyConvolutionDescriptor)          \
    X(cudnnGetConvolutionForwardAlgorithmMaxCount) \
    X(cudnnGetConvolutionForwardAlgorithm_v7)     \
    X(cudnnFindConvolutionForwardAlgorithmEx)     \
    X(cudnnGetConvolutionForwardWorkspaceSize)    \
    X(cudnnConvolutionForward)

struct CudnnApi {
#define ESPCN_CUDNN_POINTER(name) decltype(&::name) name = nullptr;
    ESPCN_CUDNN_FUNCTIONS(ESPCN_CUDNN_POINTER)
#undef ESPCN_CUDNN_POINTER
    size_t version = 0;   // cudnnGetVersion(): major·10000 + minor·100 + patch
    std::string library;  // what was opened
    void *handle = nullptr;
};

// Opens `library` (a file name the dynamic loader searches for, or a path),
// resolves every function and checks that the major version is the one this
// build was compiled against (CUDNN_MAJOR). Not cached; the handle stays open.
[[nodiscard]] Result<CudnnApi> load_cudnn(const std::string &library);

// cuDNN as pip installs it (the nvidia-cudnn-cu12/cu13 wheels, which PyTorch
// uses and which is the only cuDNN of some GPU images): <site-packages>/
// nvidia/cudnn/lib/libcudnn.so.<CUDNN_MAJOR> (or nvidia/cu13/lib/). The
// site-packages searched are those of the Python interpreters on `path`
// (a PATH value: for each directory D holding a python3*, D/../lib/python3.*/
// {site,dist}-packages) and of `prefixes` (e.g. $VIRTUAL_ENV, $CONDA_PREFIX);
// the libraries found, in that order, without duplicates. Only the file
// system is read.
std::vector<std::string> find_cudnn_in_python_sites(const std::string &path,
                                                    const std::vector<std::string> &prefixes);

// What cudnn_api() tries, in order: $ESPCN_CUDNN_LIBRARY alone if set; else
// "libcudnn.so.<CUDNN_MAJOR>" (the dynamic loader's search), then the
// wheels find_cudnn_in_python_sites() finds from $PATH, $VIRTUAL_ENV and
// $CONDA_PREFIX.
std::vector<std::string> cudnn_candidates();

// The process-wide table: the first of cudnn_candidates() that loads, loaded
// on the first call. The error names every candidate tried and why each failed.
[[nodiscard]] Result<const CudnnApi *> cudnn_api();

}  // namespace espcn::cuda
