// Which cuDNN forward algorithm a layer runs: the rules, apart from the cuDNN
// calls that produce the candidates, so a CPU test checks them
// (tests/unit/test_cuda_host_logic.cpp). Header-only; needs cudnn.h for its
// types, never the library.
//
// A candidate is accepted when
//  - cuDNN reported it usable (CUDNN_STATUS_SUCCESS);
//  - it is deterministic (CUDNN_DETERMINISTIC): one context gives the same
//    bits for the same input every time, so the frame queue, device frames and
//    the synchronous calls of one context can be compared exactly. Two
//    contexts that benchmarked separately may still pick different
//    (deterministic) algorithms, whose summation orders differ: the GPU tests
//    compare those within a stated tolerance, or exactly where the algorithms
//    agree, and the ffmpeg test runs both sides with ESPCN_CUDNN_SEARCH=heuristic;
//  - its math type keeps the precision asked for: fp32 takes only
//    CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH lets Ampere and later GPUs run fp32 as
//    TF32, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION down-converts: both miss the
//    1e-4 bar); fp16 takes CUDNN_TENSOR_OP_MATH, or DEFAULT/FMA where no
//    tensor-op kernel applies: the convolution descriptor's compute type is
//    float, so all three accumulate in fp32; ALLOW_CONVERSION is refused;
//  - the workspace it needs, queried with cudnnGetConvolutionForwardWorkspaceSize
//    after setting its math type (not the perf struct's `memory`, an estimate
//    made under whatever math type the descriptor had), fits the cap.
// Measured candidates (cudnnFindConvolutionForwardAlgorithmEx, fastest first)
// are tried before the heuristic ranking (cudnnGetConvolutionForwardAlgorithm_v7).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <cudnn.h>

#include "../core/status.hpp"
#include "tensor_types.hpp"

namespace espcn::cuda {

// The math type a layer's descriptor holds while cuDNN searches: the one it
// widens from (tensor ops for fp16; FMA only for fp32).
inline cudnnMathType_t search_math(TensorType type) {
    return type == TensorType::f16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
}

inline bool math_allowed(TensorType type, cudnnMathType_t math) {
    if (type == TensorType::f32) return math == CUDNN_FMA_MATH;
    return math == CUDNN_TENSOR_OP_MATH || math == CUDNN_DEFAULT_MATH || math == CUDNN_FMA_MATH;
}

inline const char *math_name(cudnnMathType_t m) {
    switch (m) {
    case CUDNN_DEFAULT_MATH: return "DEFAULT_MATH";
    case CUDNN_TENSOR_OP_MATH: return "TENSOR_OP_MATH";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "TENSOR_OP_MATH_ALLOW_CONVERSION";
    case CUDNN_FMA_MATH: return "FMA_MATH";
    }
    return "unknown math";
}

inline const char *algorithm_name(cudnnConvolutionFwdAlgo_t a) {
    switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "IMPLICIT_PRECOMP_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "DIRECT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "FFT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "FFT_TILING";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "WINOGRAD";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
    case CUDNN_CONVOLUTION_FWD_ALGO_COUNT: break;
    }
    return "unknown algorithm";
}

struct AlgorithmChoice {
    cudnnConvolutionFwdAlgo_t algo{};
    cudnnMathType_t math = CUDNN_DEFAULT_MATH;
    size_t workspace = 0;      // bytes, as cudnnGetConvolutionForwardWorkspaceSize said
    bool measured = false;     // from the benchmark (else the heuristic ranking)
    float measured_ms = 0.0f;  // cuDNN's time, when measured
};

// Whether a candidate passes the checks that need no cuDNN call; `why` names
// the first one it fails.
inline bool candidate_usable(TensorType type, const cudnnConvolutionFwdAlgoPerf_t &r, const char **why) {
    if (r.status != CUDNN_STATUS_SUCCESS) *why = "not usable";
    else if (r.determinism != CUDNN_DETERMINISTIC) *why = "not deterministic";
    else if (!math_allowed(type, r.mathType)) *why = math_name(r.mathType);
    else return true;
    return false;
}

// The first acceptable candidate of `measured`, then of `ranked`.
// workspace_of(algo, math) -> Result<size_t>: the workspace cuDNN needs for
// that algorithm with that math type set (an error rejects the candidate).
// The error, when none is acceptable, counts what was rejected and why.
template <typename WorkspaceOf>
Result<AlgorithmChoice> choose_algorithm(TensorType type,
                                         const std::vector<cudnnConvolutionFwdAlgoPerf_t> &measured,
                                         const std::vector<cudnnConvolutionFwdAlgoPerf_t> &ranked,
                                         size_t max_workspace, WorkspaceOf &&workspace_of) {
    std::string rejected;
    int candidates = 0;
    for (const auto *list : {&measured, &ranked})
        for (const cudnnConvolutionFwdAlgoPerf_t &r : *list) {
            ++candidates;
            const char *why = nullptr;
            if (candidate_usable(type, r, &why)) {
                Result<size_t> bytes = workspace_of(r.algo, r.mathType);
                if (!bytes.is_ok()) {
                    rejected += concat("; ", algorithm_name(r.algo), ": workspace query failed: ",
                                       bytes.status().message());
                    continue;
                }
                if (bytes.value() > max_workspace) {
                    rejected += concat("; ", algorithm_name(r.algo), ": needs ", bytes.value(),
                                       " bytes of workspace (cap ", max_workspace, ")");
                    continue;
                }
                AlgorithmChoice c;
                c.algo = r.algo;
                c.math = r.mathType;
                c.workspace = bytes.value();
                c.measured = list == &measured;
                c.measured_ms = c.measured ? r.time : 0.0f;
                return c;
            }
            rejected += concat("; ", algorithm_name(r.algo), "/", math_name(r.mathType), ": ", why);
        }
    return Status(ESPCN_ERROR_UNSUPPORTED,
                  concat("no cuDNN forward algorithm is acceptable for ",
                         type == TensorType::f16 ? "fp16" : "fp32", " (", candidates, " candidates",
                         rejected.empty() ? "" : rejected, ")"));
}

}  // namespace espcn::cuda
