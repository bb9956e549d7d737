// The host-side rules of the cuda backend that decide a GPU run's
// correctness, checked on the CPU with stand-ins for the driver and cuDNN
// (label unit; needs CUDA's and cuDNN's headers, no library, no GPU):
//  - ContextScope compares and restores the current CUDA *context*, not the
//    device: with FFmpeg's non-primary context current it switches to the
//    engine's and back, and touches nothing when the engine's is current;
//  - the cuDNN algorithm choice: deterministic algorithms only, fp32 in FMA
//    math only (no TF32), fp16 without ALLOW_CONVERSION, the workspace taken
//    from cudnnGetConvolutionForwardWorkspaceSize with the algorithm's math
//    type set (not from the perf struct), measured candidates first;
//  - the events the host waits on block (cudaEventBlockingSync) instead of
//    spinning a core (make_event against stand-ins for the runtime's calls).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cuda/algorithm_choice.hpp"
#include "cuda/cuda_context.hpp"
#include "cuda/cuda_resources.hpp"

// --- stand-ins for the CUDA runtime calls make_event() makes (this test links
// no CUDA library): they record the flags asked for.
namespace {
unsigned fake_event_flags = 0;
int fake_events_alive = 0;
}  // namespace

extern "C" {
cudaError_t CUDARTAPI cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags) {
    fake_event_flags = flags;
    ++fake_events_alive;
    static int storage;
    *event = reinterpret_cast<cudaEvent_t>(&storage);
    return cudaSuccess;
}
cudaError_t CUDARTAPI cudaEventDestroy(cudaEvent_t) {
    --fake_events_alive;
    return cudaSuccess;
}
const char *CUDARTAPI cudaGetErrorName(cudaError_t) { return "cudaErrorStandIn"; }
const char *CUDARTAPI cudaGetErrorString(cudaError_t) { return "a stand-in"; }
}

namespace espcn::cuda {
namespace {

// --- a stand-in driver: one thread's current context and a call log -------
CUcontext fake_current = nullptr;
std::vector<std::string> fake_calls;
CUresult fake_set_result = CUDA_SUCCESS;

CUcontext ctx(uintptr_t id) { return reinterpret_cast<CUcontext>(id); }

CUresult fake_get(CUcontext *c) {
    fake_calls.push_back("get");
    *c = fake_current;
    return CUDA_SUCCESS;
}
CUresult fake_set(CUcontext c) {
    fake_calls.push_back("set " + std::to_string(reinterpret_cast<uintptr_t>(c)));
    if (fake_set_result != CUDA_SUCCESS) return fake_set_result;
    fake_current = c;
    return CUDA_SUCCESS;
}

class ContextScopeTest : public ::testing::Test {
protected:
    void SetUp() override {
        fake_current = nullptr;
        fake_calls.clear();
        fake_set_result = CUDA_SUCCESS;
        api_.ctx_get_current = fake_get;
        api_.ctx_set_current = fake_set;
    }
    DriverContextApi api_;
};

TEST_F(ContextScopeTest, SwitchesFromAnotherContextOfTheSameDeviceAndBack) {
    const CUcontext ffmpeg = ctx(0x100), engine = ctx(0x200);  // think: both on device 0
    fake_current = ffmpeg;
    {
        ContextScope scope(api_, engine);
        EXPECT_EQ(scope.status(), CUDA_SUCCESS);
        EXPECT_TRUE(scope.switched());
        EXPECT_EQ(fake_current, engine);
    }
    EXPECT_EQ(fake_current, ffmpeg) << "the caller's context must be current again";
    EXPECT_EQ(fake_calls, (std::vector<std::string>{"get", "set 512", "set 256"}));
}

TEST_F(ContextScopeTest, TouchesNothingWhenTheEnginesContextIsCurrent) {
    const CUcontext engine = ctx(0x200);
    fake_current = engine;
    {
        ContextScope scope(api_, engine);
        EXPECT_FALSE(scope.switched());
    }
    EXPECT_EQ(fake_current, engine);
    EXPECT_EQ(fake_calls, (std::vector<std::string>{"get"}));
}

TEST_F(ContextScopeTest, RestoresNoContextWhenNoneWasCurrent) {
    { ContextScope scope(api_, ctx(0x200)); }
    EXPECT_EQ(fake_current, nullptr);
    EXPECT_EQ(fake_calls, (std::vector<std::string>{"get", "set 512", "set 0"}));
}

TEST_F(ContextScopeTest, AFailedSwitchIsReportedAndRestoresNothing) {
    fake_current = ctx(0x100);
    fake_set_result = CUDA_ERROR_INVALID_CONTEXT;
    {
        ContextScope scope(api_, ctx(0x200));
        EXPECT_EQ(scope.status(), CUDA_ERROR_INVALID_CONTEXT);
        EXPECT_FALSE(scope.switched());
    }
    EXPECT_EQ(fake_current, ctx(0x100));
    EXPECT_EQ(fake_calls.size(), 2u);  // get, the failed set; no restore
}

// --- events ---------------------------------------------------------------
// Every event the engine makes (a frame's "downloaded", which receive_frame
// waits on; the network's last work, which teardown waits on) sleeps its
// waiter: without cudaEventBlockingSync the runtime spins a core for the whole
// wait, one per ffmpeg process (issue 21).
TEST(Events, HostWaitsBlockInsteadOfSpinning) {
    fake_event_flags = 0;
    {
        Result<Event> e = make_event();
        ASSERT_TRUE(e.is_ok()) << e.status().message();
        EXPECT_EQ(fake_events_alive, 1);
        EXPECT_TRUE(fake_event_flags & cudaEventBlockingSync) << "flags " << fake_event_flags;
        EXPECT_TRUE(fake_event_flags & cudaEventDisableTiming) << "flags " << fake_event_flags;
    }
    EXPECT_EQ(fake_events_alive, 0) << "the owner destroys its event";
}

// --- the algorithm choice -------------------------------------------------
cudnnConvolutionFwdAlgoPerf_t perf(cudnnConvolutionFwdAlgo_t algo, cudnnMathType_t math,
                                   cudnnDeterminism_t det = CUDNN_DETERMINISTIC, size_t memory = 0,
                                   cudnnStatus_t status = CUDNN_STATUS_SUCCESS, float time = 1.0f) {
    cudnnConvolutionFwdAlgoPerf_t p{};
    p.algo = algo;
    p.mathType = math;
    p.determinism = det;
    p.memory = memory;
    p.status = status;
    p.time = time;
    return p;
}

// A stand-in for cudnnGetConvolutionForwardWorkspaceSize: bytes per
// (algorithm, math), recording what it was asked.
struct FakeWorkspace {
    std::vector<std::pair<cudnnConvolutionFwdAlgo_t, cudnnMathType_t>> asked;
    size_t bytes = 4096;
    Result<size_t> operator()(cudnnConvolutionFwdAlgo_t a, cudnnMathType_t m) {
        asked.emplace_back(a, m);
        return bytes;
    }
};

constexpr size_t kCap = size_t{256} << 20;

TEST(AlgorithmChoice, Fp32AcceptsOnlyFmaMath) {
    EXPECT_TRUE(math_allowed(TensorType::f32, CUDNN_FMA_MATH));
    EXPECT_FALSE(math_allowed(TensorType::f32, CUDNN_DEFAULT_MATH));  // TF32 on Ampere+
    EXPECT_FALSE(math_allowed(TensorType::f32, CUDNN_TENSOR_OP_MATH));
    EXPECT_FALSE(math_allowed(TensorType::f32, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION));
    EXPECT_EQ(search_math(TensorType::f32), CUDNN_FMA_MATH);

    FakeWorkspace ws;
    const std::vector<cudnnConvolutionFwdAlgoPerf_t> measured{
        perf(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_DEFAULT_MATH),
        perf(CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION),
        perf(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_FMA_MATH)};
    Result<AlgorithmChoice> c = choose_algorithm(TensorType::f32, measured, {}, kCap, ws);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    EXPECT_EQ(c.value().algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
    EXPECT_EQ(c.value().math, CUDNN_FMA_MATH);
}

TEST(AlgorithmChoice, Fp16TakesTensorOpsWithFp32AccumulationButNotConversion) {
    EXPECT_EQ(search_math(TensorType::f16), CUDNN_TENSOR_OP_MATH);
    EXPECT_TRUE(math_allowed(TensorType::f16, CUDNN_TENSOR_OP_MATH));
    EXPECT_TRUE(math_allowed(TensorType::f16, CUDNN_DEFAULT_MATH));
    EXPECT_TRUE(math_allowed(TensorType::f16, CUDNN_FMA_MATH));
    EXPECT_FALSE(math_allowed(TensorType::f16, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION));
}

TEST(AlgorithmChoice, OnlyDeterministicAndUsableCandidates) {
    FakeWorkspace ws;
    const std::vector<cudnnConvolutionFwdAlgoPerf_t> measured{
        perf(CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_TENSOR_OP_MATH, CUDNN_NON_DETERMINISTIC),
        perf(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, CUDNN_TENSOR_OP_MATH, CUDNN_DETERMINISTIC, 0,
             CUDNN_STATUS_NOT_SUPPORTED),
        perf(CUDNN_CONVOLUTION_FWD_ALGO_DIRECT, CUDNN_TENSOR_OP_MATH)};
    Result<AlgorithmChoice> c = choose_algorithm(TensorType::f16, measured, {}, kCap, ws);
    ASSERT_TRUE(c.is_ok());
    EXPECT_EQ(c.value().algo, CUDNN_CONVOLUTION_FWD_ALGO_DIRECT);
    EXPECT_TRUE(c.value().measured);
}

TEST(AlgorithmChoice, WorkspaceIsQueriedWithTheMathTypeNotTakenFromThePerfStruct) {
    FakeWorkspace ws;
    ws.bytes = 12345;
    const std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked{
        perf(CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, CUDNN_TENSOR_OP_MATH, CUDNN_DETERMINISTIC,
             /*memory=*/999)};
    Result<AlgorithmChoice> c = choose_algorithm(TensorType::f16, {}, ranked, kCap, ws);
    ASSERT_TRUE(c.is_ok());
    EXPECT_EQ(c.value().workspace, 12345u);
    EXPECT_FALSE(c.value().measured);
    ASSERT_EQ(ws.asked.size(), 1u);
    EXPECT_EQ(ws.asked[0].first, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED);
    EXPECT_EQ(ws.asked[0].second, CUDNN_TENSOR_OP_MATH);
}

TEST(AlgorithmChoice, AWorkspaceOverTheCapOrAFailedQueryRejectsTheCandidate) {
    const std::vector<cudnnConvolutionFwdAlgoPerf_t> measured{
        perf(CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING, CUDNN_FMA_MATH),
        perf(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_FMA_MATH)};
    int calls = 0;
    auto ws = [&](cudnnConvolutionFwdAlgo_t a, cudnnMathType_t) -> Result<size_t> {
        ++calls;
        if (a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING) return kCap + 1;
        return size_t{0};
    };
    Result<AlgorithmChoice> c = choose_algorithm(TensorType::f32, measured, {}, kCap, ws);
    ASSERT_TRUE(c.is_ok());
    EXPECT_EQ(c.value().algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
    EXPECT_EQ(calls, 2);

    auto failing = [](cudnnConvolutionFwdAlgo_t, cudnnMathType_t) -> Result<size_t> {
        return Status(ESPCN_ERROR_BACKEND, "CUDNN_STATUS_BAD_PARAM");
    };
    Result<AlgorithmChoice> none = choose_algorithm(TensorType::f32, measured, {}, kCap, failing);
    ASSERT_FALSE(none.is_ok());
    EXPECT_NE(none.status().message().find("workspace query failed"), std::string::npos);
}

TEST(AlgorithmChoice, MeasuredBeforeRankedAndAClearErrorWhenNothingIsAcceptable) {
    FakeWorkspace ws;
    const std::vector<cudnnConvolutionFwdAlgoPerf_t> measured{
        perf(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, CUDNN_FMA_MATH, CUDNN_DETERMINISTIC, 0,
             CUDNN_STATUS_SUCCESS, 0.25f)};
    const std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked{
        perf(CUDNN_CONVOLUTION_FWD_ALGO_DIRECT, CUDNN_FMA_MATH)};
    Result<AlgorithmChoice> c = choose_algorithm(TensorType::f32, measured, ranked, kCap, ws);
    ASSERT_TRUE(c.is_ok());
    EXPECT_EQ(c.value().algo, CUDNN_CONVOLUTION_FWD_ALGO_GEMM);
    EXPECT_FLOAT_EQ(c.value().measured_ms, 0.25f);

    const std::vector<cudnnConvolutionFwdAlgoPerf_t> tf32_only{
        perf(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_DEFAULT_MATH),
        perf(CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_FMA_MATH, CUDNN_NON_DETERMINISTIC)};
    Result<AlgorithmChoice> none = choose_algorithm(TensorType::f32, {}, tf32_only, kCap, ws);
    ASSERT_FALSE(none.is_ok());
    EXPECT_EQ(none.status().code(), ESPCN_ERROR_UNSUPPORTED);
    const std::string m = none.status().message();
    EXPECT_NE(m.find("2 candidates"), std::string::npos) << m;
    EXPECT_NE(m.find("DEFAULT_MATH"), std::string::npos) << m;
    EXPECT_NE(m.find("not deterministic"), std::string::npos) << m;
}

}  // namespace
}  // namespace espcn::cuda
