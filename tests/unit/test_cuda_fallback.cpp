// What a machine without a usable GPU (CI, this project's build machines)
// sees of the cuda backend, and the frame API on the CPU backends:
//  - backend=auto falls back to the CPU with exactly one warning that says
//    why; backend=cuda fails at create with a clear error;
//  - fp16 is refused on the CPU backends, and auto's fallback reports fp32;
//  - espcn_submit_frame/espcn_receive_frame on the CPU (a queue of depth 1)
//    give exactly what espcn_process_plane and espcn_upscale_plane give;
//  - device frames are refused by the CPU backends;
//  - backend=auto moves to the CPU, with one warning, when the GPU cannot set
//    up a frame (no acceptable cuDNN algorithm, out of device memory), with a
//    stand-in GPU backend that fails the way the cuda backend does.
// Where a usable GPU exists the fallback tests skip (test_cuda_backend covers
// that machine); the frame API and stand-in tests run everywhere.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "core/backend_registry.hpp"
#include "core/gpu_fallback.hpp"
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

// Device planes of 9..16 bits are 16-bit words on the GPU: an odd address or
// stride would be a misaligned access there, a sticky error that ends the
// CUDA context (FFmpeg's own, for CUDA frames). Refused as an invalid
// argument before anything reaches a backend (so a CPU context says it too),
// naming the plane; 8-bit planes and host frames may be odd.
TEST(FrameApiOnCpu, MisalignedDevicePlanesOfMoreThan8BitsAreRefused) {
    const auto m = model_bytes();
    Messages log;
    espcn_params p = params_for(m, ESPCN_BACKEND_REFERENCE, &log);
    espcn_context *ctx = nullptr;
    ASSERT_EQ(espcn_create(&p, &ctx), ESPCN_OK) << espcn_last_error();
    std::mt19937 rng(6);
    int dummy_stream = 0;
    struct Case {
        int task;
        bool input, odd_address;
        const char *want;
    };
    for (const Case c : {Case{0, true, true, "task 0: input plane in device memory has 10-bit"},
                         Case{0, false, false, "task 0: output plane in device memory has 10-bit"},
                         Case{2, true, false, "task 2: input plane in device memory has 10-bit"}}) {
        Frame f = make_frame(rng, 8, 6, 10);
        std::vector<espcn_plane_task> t = tasks_of(f);
        espcn_plane &pl = c.input ? t[c.task].in : t[c.task].out;
        if (c.odd_address) pl.data = static_cast<uint8_t *>(pl.data) + 1;
        else pl.stride += 1;
        EXPECT_EQ(espcn_cuda_enqueue_frame(ctx, t.data(), 3, &dummy_stream), ESPCN_ERROR_INVALID_ARGUMENT);
        const std::string e = espcn_last_error();
        EXPECT_NE(e.find(c.want), std::string::npos) << e;
        EXPECT_NE(e.find("2-byte aligned"), std::string::npos) << e;
    }
    // Aligned 10-bit and odd 8-bit device planes pass the checks (and reach
    // the capability check: this is a CPU context).
    Frame f10 = make_frame(rng, 8, 6, 10);
    std::vector<espcn_plane_task> t = tasks_of(f10);
    EXPECT_EQ(espcn_cuda_enqueue_frame(ctx, t.data(), 3, &dummy_stream), ESPCN_ERROR_UNSUPPORTED);
    Frame f8 = make_frame(rng, 8, 6, 8);
    t = tasks_of(f8);
    t[1].in.data = static_cast<uint8_t *>(t[1].in.data) + 1;
    t[1].in.stride += 1;
    EXPECT_EQ(espcn_cuda_enqueue_frame(ctx, t.data(), 3, &dummy_stream), ESPCN_ERROR_UNSUPPORTED);
    espcn_destroy(&ctx);
}

// --- backend=auto when the GPU fails a frame's set-up ----------------------
// A stand-in for the cuda backend: a queue of depth 3 whose frames the
// reference backend computes (so outputs are right), reporting cuda/fp16, and
// failing the set-up of frames `fail_width` wide the way the cuda backend
// does at a new size (cuDNN finds no acceptable algorithm; the device is out
// of memory): an error from submit/process before any work of that frame.
struct StandInGpu {
    static inline int fail_width = -1;
    static inline Status failure;
    static inline int made = 0, alive = 0;
};

class StandInGpuBackend final : public Backend {
public:
    explicit StandInGpuBackend(std::unique_ptr<Backend> cpu) : cpu_(std::move(cpu)) { ++StandInGpu::alive; }
    ~StandInGpuBackend() override { --StandInGpu::alive; }
    espcn_backend kind() const override { return ESPCN_BACKEND_CUDA; }
    espcn_precision precision() const override { return ESPCN_PRECISION_FP16; }
    using Backend::process;
    Status process(Planes in, Planes out) override {
        if (in.front().width == StandInGpu::fail_width) return StandInGpu::failure;
        return cpu_->process(in, out);
    }
    int frame_queue_depth() const override { return 3; }
    int frames_in_flight() const override { return static_cast<int>(done_.size()); }
    Status submit_frame(std::span<const PlaneTask> tasks) override {
        if (done_.size() == 3) return Status(ESPCN_ERROR_INVALID_ARGUMENT, "3 frames are in flight");
        for (const PlaneTask &t : tasks)
            if (!t.resample && t.in.width == StandInGpu::fail_width) return StandInGpu::failure;
        ESPCN_RETURN_IF_ERROR(cpu_->submit_frame(tasks));
        done_.push_back(cpu_->receive_frame());
        return Status::ok();
    }
    Status receive_frame() override {
        if (done_.empty()) return Status(ESPCN_ERROR_INVALID_ARGUMENT, "none in flight");
        Status s = done_.front();
        done_.pop_front();
        return s;
    }
    MemoryUse memory_use() const override { return {}; }
    std::string details() const override { return "stand-in GPU"; }

private:
    std::unique_ptr<Backend> cpu_;
    std::deque<Status> done_;
};

Status stand_in_available() { return Status::ok(); }
Result<std::unique_ptr<Backend>> make_stand_in_gpu(std::shared_ptr<const Network> net, const BackendConfig &cfg) {
    ++StandInGpu::made;
    Result<std::unique_ptr<Backend>> cpu = make_reference_frames(std::move(net), cfg);
    ESPCN_RETURN_IF_ERROR(cpu.status());
    return std::unique_ptr<Backend>(std::make_unique<StandInGpuBackend>(std::move(cpu).value()));
}

constexpr unsigned kAll = precision_bit(ESPCN_PRECISION_AUTO) | precision_bit(ESPCN_PRECISION_FP32) |
                          precision_bit(ESPCN_PRECISION_FP16);
constexpr BackendEntry kStandInTable[] = {
    {ESPCN_BACKEND_CUDA, "cuda", stand_in_available, make_stand_in_gpu, kAll, true, false},
    {ESPCN_BACKEND_REFERENCE, "reference", stand_in_available, make_reference_frames,
     kAll & ~precision_bit(ESPCN_PRECISION_FP16), false, false},
};

class AutoWithAGpuThatFailsAFrame : public ::testing::Test {
protected:
    void SetUp() override {
        StandInGpu::fail_width = 40;
        StandInGpu::failure = Status(ESPCN_ERROR_UNSUPPORTED,
                                     "layer 0 at 40x9: no cuDNN forward algorithm is acceptable for fp16 "
                                     "(3 candidates; ...)");
        std::mt19937 rng(21);
        net_ = std::make_shared<const Network>(test::random_network(rng, 2, kShuffleCRD));
        cfg_.threads = 1;
        cfg_.precision = ESPCN_PRECISION_AUTO;
        cfg_.log = Logger(&Messages::collect, &log_, ESPCN_LOG_DEBUG);
        cfg_ = with_host_resources(cfg_);
    }
    std::unique_ptr<Backend> make() {
        Result<std::unique_ptr<Backend>> b = make_auto_backend(kStandInTable, net_, cfg_);
        EXPECT_TRUE(b.is_ok()) << b.status().message();
        return b.is_ok() ? std::move(b).value() : nullptr;
    }
    // What the reference backend makes of `in`.
    test::TestPlane expected(const test::TestPlane &in) {
        BackendConfig c = cfg_;
        c.log = Logger();
        Result<std::unique_ptr<Backend>> ref = make_reference_frames(net_, c);
        test::TestPlane out = test::make_plane(in.plane.width * 2, in.plane.height * 2, in.plane.bit_depth, nullptr);
        EXPECT_TRUE(ref.is_ok() && ref.value()->process(in.plane, out.plane).is_ok());
        return out;
    }
    int warnings() const { return log_.count(ESPCN_LOG_WARNING); }
    std::string last_warning() const {
        for (auto it = log_.all.rbegin(); it != log_.all.rend(); ++it)
            if (it->first == ESPCN_LOG_WARNING) return it->second;
        return "";
    }

    Messages log_;
    std::shared_ptr<const Network> net_;
    BackendConfig cfg_;
};

TEST_F(AutoWithAGpuThatFailsAFrame, TheFirstFrameMovesToTheCpuWithOneWarning) {
    std::unique_ptr<Backend> b = make();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->kind(), ESPCN_BACKEND_CUDA);
    EXPECT_EQ(b->details(), "stand-in GPU");
    EXPECT_EQ(warnings(), 0);
    std::mt19937 rng(8);
    for (int frame = 0; frame < 3; ++frame) {
        test::TestPlane in = test::make_plane(40, 9, 8, &rng);
        test::TestPlane out = test::make_plane(80, 18, 8, nullptr);
        const Status s = b->process(in.plane, out.plane);
        ASSERT_TRUE(s.is_ok()) << s.message();
        EXPECT_EQ(test::compare_planes(out, expected(in)).max, 0u) << "frame " << frame;
    }
    EXPECT_EQ(warnings(), 1) << "one warning, at the first frame, not one per frame";
    const std::string w = last_warning();
    EXPECT_NE(w.find("GPU not used (layer 0 at 40x9: no cuDNN forward algorithm"), std::string::npos) << w;
    EXPECT_NE(w.find("running on the CPU in fp32"), std::string::npos) << w;
    EXPECT_EQ(b->kind(), ESPCN_BACKEND_REFERENCE);
    EXPECT_EQ(b->precision(), ESPCN_PRECISION_FP32);
    EXPECT_EQ(b->device_frames(), nullptr) << "device frames cannot follow to the CPU";
    EXPECT_EQ(b->details(), make_reference_frames(net_, cfg_).value()->details())
        << "espcn_backend_details() describes the CPU backend now running";
    EXPECT_EQ(StandInGpu::alive, 0) << "the GPU backend (its device memory) is released";
}

TEST_F(AutoWithAGpuThatFailsAFrame, OutOfDeviceMemoryAtANewSizeKeepsTheQueueInOrder) {
    StandInGpu::failure = Status(ESPCN_ERROR_OUT_OF_MEMORY, "cudaMalloc(&p, bytes) failed: cudaErrorMemoryAllocation");
    std::unique_ptr<Backend> b = make();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->frame_queue_depth(), 3);
    std::mt19937 rng(9);
    // Two frames the GPU takes, then a size it cannot set up, then more.
    std::vector<test::TestPlane> ins, outs;
    for (const int w : {33, 33, 40, 40, 33}) {
        ins.push_back(test::make_plane(w, 7, 8, &rng));
        outs.push_back(test::make_plane(2 * w, 14, 8, nullptr));
    }
    for (size_t i = 0; i < ins.size(); ++i) {
        if (b->frames_in_flight() == b->frame_queue_depth()) {
            ASSERT_TRUE(b->receive_frame().is_ok());
        }
        PlaneTask t;
        t.in = ins[i].plane;
        t.out = outs[i].plane;
        const Status s = b->submit_frame(std::span<const PlaneTask>(&t, 1));
        ASSERT_TRUE(s.is_ok()) << "frame " << i << ": " << s.message();
    }
    while (b->frames_in_flight() > 0) ASSERT_TRUE(b->receive_frame().is_ok());
    EXPECT_FALSE(b->receive_frame().is_ok());
    for (size_t i = 0; i < ins.size(); ++i)
        EXPECT_EQ(test::compare_planes(outs[i], expected(ins[i])).max, 0u) << "frame " << i;
    EXPECT_EQ(warnings(), 1);
    EXPECT_NE(last_warning().find("cudaErrorMemoryAllocation"), std::string::npos) << last_warning();
    EXPECT_EQ(StandInGpu::alive, 0);
}

TEST_F(AutoWithAGpuThatFailsAFrame, OtherGpuErrorsAreReturnedNotHidden) {
    StandInGpu::failure = Status(ESPCN_ERROR_BACKEND, "cudaEventSynchronize failed: cudaErrorIllegalAddress");
    std::unique_ptr<Backend> b = make();
    ASSERT_TRUE(b);
    std::mt19937 rng(10);
    test::TestPlane in = test::make_plane(40, 9, 8, &rng);
    test::TestPlane out = test::make_plane(80, 18, 8, nullptr);
    const Status s = b->process(in.plane, out.plane);
    EXPECT_EQ(s.code(), ESPCN_ERROR_BACKEND);
    EXPECT_EQ(b->kind(), ESPCN_BACKEND_CUDA);
    EXPECT_EQ(warnings(), 0);
}

TEST_F(AutoWithAGpuThatFailsAFrame, FramesTheGpuCanRunStayOnIt) {
    std::unique_ptr<Backend> b = make();
    ASSERT_TRUE(b);
    std::mt19937 rng(11);
    test::TestPlane in = test::make_plane(33, 9, 8, &rng);
    test::TestPlane out = test::make_plane(66, 18, 8, nullptr);
    ASSERT_TRUE(b->process(in.plane, out.plane).is_ok());
    EXPECT_EQ(b->kind(), ESPCN_BACKEND_CUDA);
    EXPECT_EQ(b->precision(), ESPCN_PRECISION_FP16);
    EXPECT_EQ(warnings(), 0);
    EXPECT_EQ(StandInGpu::alive, 1);
}

}  // namespace
}  // namespace espcn
