// What a machine without a usable GPU (CI, this project's build machines)
// sees of the cuda backend, and the frame API on the CPU backends:
//  - backend=auto falls back to the CPU with exactly one warning that says
//    why; backend=cuda fails at create with a clear error;
//  - fp16 is refused on the CPU backends, and auto's fallback reports fp32;
//  - espcn_submit_frame/espcn_receive_frame on the CPU (a queue of depth 1)
//    give exactly what espcn_process_plane and espcn_upscale_plane give;
//  - device frames are refused by the CPU backends.
// Where a usable GPU exists the fallback tests skip (test_cuda_backend covers
// that machine); the frame API tests run everywhere.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace espcn {
namespace {

struct Messages {
    std::vector<std::pair<espcn_log_level, std::string>> all;
    int count(espcn_log_level level) const {
        int n = 0;
        for (const auto &m : all) n += m.first == level;
        return n;
    }
    static void collect(void *opaque, espcn_log_level level, const char *message) {
        static_cast<Messages *>(opaque)->all.emplace_back(level, message);
    }
};

std::vector<uint8_t> model_bytes() {
    test::ModelBuilder b(2, 5);
    b.conv(1, 8, 3).activation("tanh").conv(8, 4, 3).pixel_shuffle();
    return b.bytes();
}

espcn_params params_for(const std::vector<uint8_t> &m, espcn_backend backend, Messages *log) {
    espcn_params p = test::params_of(m, backend);
    p.threads = 1;
    p.log_callback = &Messages::collect;
    p.log_opaque = log;
    p.log_level = ESPCN_LOG_DEBUG;
    return p;
}

#define SKIP_IF_GPU_USABLE()                                                               \
    do {                                                                                   \
        if (espcn_backend_available(ESPCN_BACKEND_CUDA))                                   \
            GTEST_SKIP() << "a usable GPU is present: no fallback to observe here";        \
    } while (0)

TEST(CudaFallback, AutoFallsBackToTheCpuWithOneWarning) {
    SKIP_IF_GPU_USABLE();
    const auto m = model_bytes();
    Messages log;
    espcn_params p = params_for(m, ESPCN_BACKEND_AUTO, &log);
    espcn_context *ctx = nullptr;
    ASSERT_EQ(espcn_create(&p, &ctx), ESPCN_OK) << espcn_last_error();
    espcn_model_info info{};
    ASSERT_EQ(espcn_get_model_info(ctx, &info), ESPCN_OK);
    EXPECT_NE(info.backend, ESPCN_BACKEND_CUDA);
    EXPECT_EQ(info.precision, ESPCN_PRECISION_FP32);
    // One warning for the fallback; a build without oneDNN adds one saying
    // the CPU backend is the slow reference.
    const int slow_cpu = espcn_backend_available(ESPCN_BACKEND_ONEDNN) ? 0 : 1;
    ASSERT_EQ(log.count(ESPCN_LOG_WARNING), 1 + slow_cpu);
    std::string warning;
    for (const auto &msg : log.all)
        if (msg.first == ESPCN_LOG_WARNING && warning.empty()) warning = msg.second;
    EXPECT_NE(warning.find("GPU not used"), std::string::npos) << warning;
    EXPECT_NE(warning.find("CPU"), std::string::npos) << warning;
    EXPECT_EQ(log.count(ESPCN_LOG_ERROR), 0);

    // Frames run, and no further warning comes per frame.
    std::mt19937 rng(3);
    test::TestPlane in = test::make_plane(11, 6, 8, &rng);
    test::TestPlane out = test::make_plane(22, 12, 8, nullptr);
    EXPECT_EQ(espcn_process_plane(ctx, &in.plane, &out.plane), ESPCN_OK) << espcn_last_error();
    EXPECT_EQ(log.count(ESPCN_LOG_WARNING), 1 + slow_cpu);
    espcn_destroy(&ctx);
}

TEST(CudaFallback, ExplicitCudaFailsAtCreateWithTheReason) {
    SKIP_IF_GPU_USABLE();
    const auto m = model_bytes();
    Messages log;
    espcn_params p = params_for(m, ESPCN_BACKEND_CUDA, &log);
    espcn_context *ctx = nullptr;
    EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_ERROR_BACKEND_UNAVAILABLE);
    EXPECT_EQ(ctx, nullptr);
    const std::string e = espcn_last_error();
    EXPECT_NE(e.find("the cuda backend cannot start: "), std::string::npos) << e;
    // The cause itself: a CUDA build names the failing call, a CPU-only build says so.
#ifdef ESPCN_HAVE_CUDA_BACKEND
    EXPECT_TRUE(e.find("cudaGetDeviceCount") != std::string::npos ||
                e.find("cuDNN") != std::string::npos ||
                e.find("device") != std::string::npos)
        << e;
#else
    EXPECT_NE(e.find("not part of this build"), std::string::npos) << e;
#endif
    ASSERT_EQ(log.count(ESPCN_LOG_ERROR), 1);
    EXPECT_EQ(log.all.back().second, e);
}

TEST(CudaFallback, Fp16IsRefusedOnTheCpuAndDroppedByAutosFallback) {
    const auto m = model_bytes();
    Messages log;
    espcn_context *ctx = nullptr;
    // Every CPU backend, built in or not: the precision is checked first.
    for (const test::BackendCase &cpu : test::cpu_backends()) {
        espcn_params p = params_for(m, cpu.kind, &log);
        p.precision = ESPCN_PRECISION_FP16;
        EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_ERROR_UNSUPPORTED);
        EXPECT_NE(std::string(espcn_last_error()).find("fp16 needs the cuda backend"),
                  std::string::npos)
            << espcn_last_error();
    }
    espcn_params p = params_for(m, ESPCN_BACKEND_AUTO, &log);
    p.precision = static_cast<espcn_precision>(9);
    EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("unknown precision 9"), std::string::npos);

    if (espcn_backend_available(ESPCN_BACKEND_CUDA)) return;  // auto would pick the GPU
    p.precision = ESPCN_PRECISION_FP16;
    ASSERT_EQ(espcn_create(&p, &ctx), ESPCN_OK) << espcn_last_error();
    espcn_model_info info{};
    ASSERT_EQ(espcn_get_model_info(ctx, &info), ESPCN_OK);
    EXPECT_EQ(info.precision, ESPCN_PRECISION_FP32);
    espcn_destroy(&ctx);
}

TEST(CudaFallback, NamesOfPrecisions) {
    EXPECT_STREQ(espcn_precision_name(ESPCN_PRECISION_AUTO), "auto");
    EXPECT_STREQ(espcn_precision_name(ESPCN_PRECISION_FP32), "fp32");
    EXPECT_STREQ(espcn_precision_name(ESPCN_PRECISION_FP16), "fp16");
}

// A yuv420p-like frame: luma through the network, two chroma planes resampled.
struct Frame {
    test::TestPlane y, u, v, oy, ou, ov;
};

Frame make_frame(std::mt19937 &rng, int w, int h, int bits) {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    return Frame{test::make_plane(w, h, bits, &rng),          test::make_plane(cw, ch, bits, &rng),
                 test::make_plane(cw, ch, bits, &rng),        test::make_plane(2 * w, 2 * h, bits, nullptr),
                 test::make_plane(w, h, bits, nullptr),       test::make_plane(w, h, bits, nullptr)};
}

std::vector<espcn_plane_task> tasks_of(Frame &f) {
    std::vector<espcn_plane_task> t(3);
    t[0] = espcn_plane_task{f.y.plane, f.oy.plane, 0, 1, ESPCN_RESAMPLE_BICUBIC};
    t[1] = espcn_plane_task{f.u.plane, f.ou.plane, 1, 1, ESPCN_RESAMPLE_BICUBIC};
    t[2] = espcn_plane_task{f.v.plane, f.ov.plane, 1, 1, ESPCN_RESAMPLE_BILINEAR};
    return t;
}

bool same_samples(const test::TestPlane &a, const test::TestPlane &b) {
    for (int y = 0; y < a.plane.height; ++y)
        for (int x = 0; x < a.plane.width; ++x)
            if (a.at(x, y) != b.at(x, y)) return false;
    return true;
}

// Every CPU backend (test::cpu_backends()): frames at a queue depth of 1.
class FrameApiOnEveryCpuBackend : public test::BackendTest {};

INSTANTIATE_TEST_SUITE_P(Cpu, FrameApiOnEveryCpuBackend, testing::ValuesIn(test::cpu_backends()),
                         test::backend_case_name);

TEST_P(FrameApiOnEveryCpuBackend, SubmitReceiveEqualsThePlaneCalls) {
    const auto m = model_bytes();
    Messages log;
    const espcn_backend cpu = GetParam().kind;
    {
        espcn_params p = params_for(m, cpu, &log);
        espcn_context *ctx = nullptr;
        ASSERT_EQ(espcn_create(&p, &ctx), ESPCN_OK) << espcn_last_error();
        EXPECT_EQ(espcn_frame_queue_depth(ctx), 1);
        std::mt19937 rng(17);
        for (const int bits : {8, 10}) {
            Frame f = make_frame(rng, 13, 9, bits);
            Frame g = f;  // same inputs, separate outputs
            g.oy = test::make_plane(26, 18, bits, nullptr);
            g.ou = test::make_plane(14, 10, bits, nullptr);
            g.ov = test::make_plane(14, 10, bits, nullptr);
            std::vector<espcn_plane_task> t = tasks_of(f);
            EXPECT_EQ(espcn_frames_in_flight(ctx), 0);
            ASSERT_EQ(espcn_submit_frame(ctx, t.data(), 3), ESPCN_OK) << espcn_last_error();
            EXPECT_EQ(espcn_frames_in_flight(ctx), 1);
            // A second frame before receiving the first is refused, clearly.
            EXPECT_EQ(espcn_submit_frame(ctx, t.data(), 3), ESPCN_ERROR_INVALID_ARGUMENT);
            EXPECT_NE(std::string(espcn_last_error()).find("receive it"), std::string::npos);
            ASSERT_EQ(espcn_receive_frame(ctx), ESPCN_OK) << espcn_last_error();
            EXPECT_EQ(espcn_frames_in_flight(ctx), 0);
            EXPECT_EQ(espcn_receive_frame(ctx), ESPCN_ERROR_INVALID_ARGUMENT);

            ASSERT_EQ(espcn_process_plane(ctx, &g.y.plane, &g.oy.plane), ESPCN_OK);
            ASSERT_EQ(espcn_upscale_plane(ctx, &g.u.plane, &g.ou.plane, 1, ESPCN_RESAMPLE_BICUBIC), ESPCN_OK);
            ASSERT_EQ(espcn_upscale_plane(ctx, &g.v.plane, &g.ov.plane, 1, ESPCN_RESAMPLE_BILINEAR), ESPCN_OK);
            EXPECT_TRUE(same_samples(f.oy, g.oy)) << espcn_backend_name(cpu) << " " << bits;
            EXPECT_TRUE(same_samples(f.ou, g.ou)) << espcn_backend_name(cpu) << " " << bits;
            EXPECT_TRUE(same_samples(f.ov, g.ov)) << espcn_backend_name(cpu) << " " << bits;
        }
        espcn_destroy(&ctx);
    }
}

TEST(FrameApiOnCpu, RejectsBadTasksAndDeviceFrames) {
    const auto m = model_bytes();
    Messages log;
    espcn_params p = params_for(m, ESPCN_BACKEND_REFERENCE, &log);
    espcn_context *ctx = nullptr;
    ASSERT_EQ(espcn_create(&p, &ctx), ESPCN_OK) << espcn_last_error();
    std::mt19937 rng(5);
    Frame f = make_frame(rng, 8, 6, 8);
    std::vector<espcn_plane_task> t = tasks_of(f);

    EXPECT_EQ(espcn_submit_frame(ctx, nullptr, 3), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_submit_frame(ctx, t.data(), 0), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_submit_frame(nullptr, t.data(), 3), ESPCN_ERROR_INVALID_ARGUMENT);
    t[1].components = 3;
    EXPECT_EQ(espcn_submit_frame(ctx, t.data(), 3), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("task 1: components = 3"), std::string::npos)
        << espcn_last_error();
    t = tasks_of(f);
    t[0].out.width += 1;
    EXPECT_EQ(espcn_submit_frame(ctx, t.data(), 3), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("task 0: output plane is"), std::string::npos)
        << espcn_last_error();
    EXPECT_EQ(espcn_frames_in_flight(ctx), 0);  // nothing started

    t = tasks_of(f);
    int dummy_stream = 0;
    EXPECT_EQ(espcn_cuda_enqueue_frame(ctx, t.data(), 3, &dummy_stream), ESPCN_ERROR_UNSUPPORTED);
    EXPECT_NE(std::string(espcn_last_error()).find("need the cuda backend"), std::string::npos)
        << espcn_last_error();
    espcn_destroy(&ctx);
}

}  // namespace
}  // namespace espcn
