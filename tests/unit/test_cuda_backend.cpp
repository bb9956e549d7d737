// The cuda backend against the CPU reference (the oracle). Label gpu: every
// test skips, saying why, where no usable GPU (driver, device, cuDNN) exists
// (and fails instead with ESPCN_GPU_REQUIRED=1: scripts/gpu_check.sh --run).
//
// Tolerances (the bars):
//  - fp32, every layer and the whole network: max |GPU - CPU| <= 1e-4 on the
//    normalised scale (cuDNN in FMA math: no TF32). Whole network through
//    16-bit output planes: <= 1e-4 + one 16-bit code (the quantisation).
//  - fp16 (fp32 accumulation): 8-bit output within 1 code of the reference on
//    >= 99.9% of pixels.
//  - Chroma (our resampler kernel, --fmad=false): equal to the CPU bit for bit.
//  - The frame queue and device frames: equal to the synchronous calls of
//    the same context bit for bit (one context runs one deterministic
//    algorithm per layer and shape: algorithm_choice.hpp).
//  - Bands under a small memory_budget (issue 21): within the fp32 bar of the
//    reference (each band exact; cuDNN may choose other algorithms for the
//    band's shape than for the whole plane's).
//  - Several contexts, each benchmarking cuDNN's algorithms on its own: bit
//    for bit where they chose the same algorithm and math type for every
//    layer (read from their debug logs), else within 1 code value (8-bit),
//    since two algorithms sum in different orders.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/backend_registry.hpp"
#include "cpu/reference_ops.hpp"
#include "cuda/cuda_backend.hpp"
#include "gpu_test_skip.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

#define SKIP_WITHOUT_GPU()                                                                \
    do {                                                                                  \
        const Status usable_ = cuda_backend_usable(0);                                    \
        if (!usable_.is_ok()) ESPCN_GPU_SKIP("no usable GPU: " << usable_.message());     \
    } while (0)

using test::Context;

// The algorithm lines a context's cuDNN network logs ("cuda: layer k at WxH:
// algorithm N (NAME), math M, ...", up to "workspace"), in order.
struct AlgorithmLog {
    std::mutex mutex;
    std::vector<std::string> lines;
};

void collect_algorithms(void *opaque, espcn_log_level, const char *message) {
    const std::string m = message;
    if (m.rfind("cuda: layer ", 0) != 0 || m.find(": algorithm ") == std::string::npos) return;
    auto *log = static_cast<AlgorithmLog *>(opaque);
    const std::lock_guard<std::mutex> lock(log->mutex);
    log->lines.push_back(m.substr(0, m.find(", workspace")));
}

espcn_status create(const std::vector<uint8_t> &model, espcn_backend backend,
                    espcn_precision precision, Context &c, int device = 0,
                    AlgorithmLog *algorithms = nullptr) {
    espcn_params p = test::params_of(model, backend);
    p.precision = precision;
    p.device = device;
    p.threads = 2;
    if (algorithms) {
        p.log_callback = collect_algorithms;
        p.log_opaque = algorithms;
        p.log_level = ESPCN_LOG_DEBUG;
    }
    return espcn_create(&p, &c.ctx);
}

// The models of record: the paper's ESPCN (tanh) and an FSRCNN-like network
// with PReLU and a transposed-conv upsampler converted at load.
std::vector<std::vector<uint8_t>> models_of_scale(int r) {
    std::vector<std::vector<uint8_t>> m;
    m.push_back(test::espcn_paper_model(r, 100 + r).bytes());
    // A small FSRCNN (d = 16, s = 8, one 3x3 layer with a shared PReLU slope)
    // with its 9x9 deconvolution.
    m.push_back(test::fsrcnn_model(r, 200 + r, 16, 8, 1, /*shared_slope=*/true).bytes());
    // A small LRNet (one middle layer) with the global residual fused into the
    // shuffle kernel (FORMAT.md "residual": "nearest").
    m.push_back(test::with_nearest_residual(test::lrnet_model(r, 300 + r, 1)));
    return m;
}

double decoded(uint32_t v, int bits) { return static_cast<double>(v) / ((1u << bits) - 1u); }

TEST(CudaBackend, EveryLayerMatchesTheCpuReferenceInFp32) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(41);
    Result<cuda::Stream> stream = cuda::make_stream();
    ASSERT_TRUE(stream.is_ok()) << stream.status().message();
    for (int r = 2; r <= 4; ++r)
        for (const ShuffleOrder order : {kShuffleCRD, kShuffleDCR})
            for (int trial = 0; trial < 3; ++trial) {
                auto net = std::make_shared<const Network>(test::random_network(rng, r, order));
                BackendConfig cfg;
                cfg.precision = ESPCN_PRECISION_FP32;
                Result<std::unique_ptr<Backend>> b = make_cuda_backend(net, cfg);
                ASSERT_TRUE(b.is_ok()) << b.status().message();
                auto &cuda_net = static_cast<cuda::CudaBackend &>(*b.value()).network();
                const int w = 37 + trial, h = 19;  // odd sizes
                ASSERT_TRUE(cuda_net.configure(w, h, stream.value().get()).is_ok());
                // configure() may leave its zeroing of the input pending on
                // our non-blocking stream, which the legacy-stream copy below
                // would not wait for.
                ASSERT_TRUE(cuda::synchronize(stream.value().get()).is_ok());

                // Input: normalised samples in channel 0 of the padded tensor.
                std::uniform_real_distribution<float> d(0.0f, 1.0f);
                std::vector<float> chw(static_cast<size_t>(w) * h);
                for (float &v : chw) v = d(rng);
                const cuda::TensorView in = cuda_net.input_tensor();
                std::vector<float> nhwc(static_cast<size_t>(w) * h * in.pixel_stride, 0.0f);
                for (size_t i = 0; i < chw.size(); ++i) nhwc[i * in.pixel_stride] = chw[i];
                ASSERT_EQ(cudaMemcpy(in.data, nhwc.data(), nhwc.size() * 4, cudaMemcpyHostToDevice),
                          cudaSuccess);
                // A pageable cudaMemcpy may return before its DMA lands; our
                // stream is non-blocking and would not wait for it.
                ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);

                std::vector<float> ref_in = chw, ref_out;
                for (size_t k = 0; k < net->convs.size(); ++k) {
                    const ConvLayer &c = net->convs[k];
                    ref_out.assign(static_cast<size_t>(c.out_channels) * w * h, 0.0f);
                    reference_conv(c, ref_in.data(), w, h, ref_out.data());
                    ASSERT_TRUE(cuda_net.enqueue_convs(static_cast<int>(k) + 1, true, stream.value().get()).is_ok());
                    ASSERT_TRUE(cuda::synchronize(stream.value().get()).is_ok());
                    const cuda::TensorView o = cuda_net.layer_output(static_cast<int>(k));
                    std::vector<float> got(static_cast<size_t>(w) * h * o.pixel_stride);
                    ASSERT_EQ(cudaMemcpy(got.data(), o.data, got.size() * 4, cudaMemcpyDeviceToHost),
                              cudaSuccess);
                    double worst = 0;
                    for (int ch = 0; ch < c.out_channels; ++ch)
                        for (int p = 0; p < w * h; ++p)
                            worst = std::max(worst, std::fabs(static_cast<double>(got[static_cast<size_t>(p) * o.pixel_stride + ch]) -
                                                              ref_out[static_cast<size_t>(ch) * w * h + p]));
                    EXPECT_LE(worst, 1e-4) << "r=" << r << " order=" << order << " layer " << k
                                           << " (" << activation_name(c.activation) << ", algorithm "
                                           << static_cast<int>(cuda_net.algorithm(static_cast<int>(k)))
                                           << ", math " << static_cast<int>(cuda_net.math(static_cast<int>(k)))
                                           << ")";
                    EXPECT_EQ(cuda_net.math(static_cast<int>(k)), CUDNN_FMA_MATH) << "fp32 must not run as TF32";
                    ref_in = ref_out;
                }
            }
}

TEST(CudaBackend, WholeNetworkFp32WithinTheBarOf16BitOutput) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(42);
    for (int r = 2; r <= 4; ++r)
        for (const auto &model : models_of_scale(r)) {
            Context gpu, cpu;
            ASSERT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP32, gpu), ESPCN_OK) << espcn_last_error();
            ASSERT_EQ(create(model, ESPCN_BACKEND_REFERENCE, ESPCN_PRECISION_FP32, cpu), ESPCN_OK);
            for (const int bits : {8, 16}) {
                const int w = 45, h = 23;
                test::TestPlane in = test::make_plane(w, h, bits, &rng, /*bottom_up=*/bits == 16);
                test::TestPlane a = test::make_plane(w * r, h * r, 16, nullptr);
                test::TestPlane b = test::make_plane(w * r, h * r, 16, nullptr);
                ASSERT_EQ(espcn_process_plane(gpu.ctx, &in.plane, &a.plane), ESPCN_OK) << espcn_last_error();
                ASSERT_EQ(espcn_process_plane(cpu.ctx, &in.plane, &b.plane), ESPCN_OK);
                double worst = 0;
                for (int y = 0; y < h * r; ++y)
                    for (int x = 0; x < w * r; ++x)
                        worst = std::max(worst, std::fabs(decoded(a.at(x, y), 16) - decoded(b.at(x, y), 16)));
                EXPECT_LE(worst, 1e-4 + 1.0 / 65535) << "r=" << r << " input bits " << bits;
            }
        }
}

TEST(CudaBackend, WholeNetworkFp16Within1CodeOn999PermilleOfPixels) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(43);
    for (int r = 2; r <= 4; ++r)
        for (const auto &model : models_of_scale(r)) {
            Context gpu, cpu;
            ASSERT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP16, gpu), ESPCN_OK) << espcn_last_error();
            ASSERT_EQ(create(model, ESPCN_BACKEND_REFERENCE, ESPCN_PRECISION_FP32, cpu), ESPCN_OK);
            espcn_model_info info{};
            ASSERT_EQ(espcn_get_model_info(gpu.ctx, &info), ESPCN_OK);
            EXPECT_EQ(info.precision, ESPCN_PRECISION_FP16);
            EXPECT_EQ(info.backend, ESPCN_BACKEND_CUDA);
            const int w = 97, h = 61;
            test::TestPlane in = test::make_plane(w, h, 8, &rng);
            test::TestPlane a = test::make_plane(w * r, h * r, 8, nullptr);
            test::TestPlane b = test::make_plane(w * r, h * r, 8, nullptr);
            ASSERT_EQ(espcn_process_plane(gpu.ctx, &in.plane, &a.plane), ESPCN_OK) << espcn_last_error();
            ASSERT_EQ(espcn_process_plane(cpu.ctx, &in.plane, &b.plane), ESPCN_OK);
            int64_t within = 0, total = 0, worst = 0;
            for (int y = 0; y < h * r; ++y)
                for (int x = 0; x < w * r; ++x) {
                    const int64_t d = std::abs(static_cast<int64_t>(a.at(x, y)) - b.at(x, y));
                    within += d <= 1;
                    worst = std::max(worst, d);
                    ++total;
                }
            EXPECT_GE(static_cast<double>(within) / total, 0.999)
                << "r=" << r << ": " << total - within << " of " << total << " pixels off by > 1 (worst "
                << worst << ")";
        }
}

// A yuv420p or nv12/p010 frame with odd sizes: luma through the network, chroma resampled.
struct Frame {
    std::vector<test::TestPlane> in, out;
    std::vector<espcn_plane_task> tasks;
};

Frame make_frame(std::mt19937 &rng, int r, int w, int h, int bits, bool interleaved) {
    Frame f;
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    f.in.push_back(test::make_plane(w, h, bits, &rng));
    f.out.push_back(test::make_plane(w * r, h * r, bits, nullptr));
    const int planes = interleaved ? 1 : 2, comps = interleaved ? 2 : 1;
    for (int p = 0; p < planes; ++p) {
        f.in.push_back(test::make_plane(cw * comps, ch, bits, &rng));
        f.out.push_back(test::make_plane((w * r + 1) / 2 * comps, (h * r + 1) / 2, bits, nullptr));
    }
    for (size_t i = 0; i < f.in.size(); ++i) {
        espcn_plane_task t{f.in[i].plane, f.out[i].plane, i > 0, 1, ESPCN_RESAMPLE_BICUBIC};
        if (i > 0) {
            t.components = comps;
            t.in.width /= comps;
            t.out.width /= comps;
        }
        f.tasks.push_back(t);
    }
    return f;
}

bool same_outputs(const Frame &a, const Frame &b) {
    for (size_t i = 0; i < a.out.size(); ++i)
        for (int y = 0; y < a.out[i].plane.height; ++y)
            for (int x = 0; x < a.out[i].plane.width; ++x)
                if (a.out[i].at(x, y) != b.out[i].at(x, y)) return false;
    return true;
}

// The same frame, run plane by plane with the synchronous calls.
Frame run_synchronously(espcn_context *ctx, const Frame &f) {
    Frame g = f;
    for (size_t i = 0; i < g.out.size(); ++i) {
        g.out[i] = test::make_plane(f.out[i].plane.width, f.out[i].plane.height, f.out[i].plane.bit_depth, nullptr);
        g.tasks[i].out.data = g.out[i].plane.data;
        g.tasks[i].out.stride = g.out[i].plane.stride;
    }
    for (const espcn_plane_task &t : g.tasks) {
        const espcn_status s = t.resample ? espcn_upscale_plane(ctx, &t.in, &t.out, t.components, t.filter)
                                          : espcn_process_plane(ctx, &t.in, &t.out);
        EXPECT_EQ(s, ESPCN_OK) << espcn_last_error();
    }
    return g;
}

TEST(CudaBackend, FrameQueueEqualsTheSynchronousCallsAcrossSizeChanges) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(44);
    const auto model = test::espcn_paper_model(2, 7).bytes();
    Context gpu;
    ASSERT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_AUTO, gpu), ESPCN_OK) << espcn_last_error();
    const int depth = espcn_frame_queue_depth(gpu.ctx);
    ASSERT_GE(depth, 2);
    // Ten frames, the size changing mid-stream, 8-bit planar and 10-bit interleaved.
    std::vector<Frame> frames;
    for (int i = 0; i < 10; ++i)
        frames.push_back(i < 5 ? make_frame(rng, 2, 33, 17, 8, false) : make_frame(rng, 2, 20 + i, 9, 10, true));
    size_t received = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
        if (espcn_frames_in_flight(gpu.ctx) == depth) {
            ASSERT_EQ(espcn_submit_frame(gpu.ctx, frames[i].tasks.data(), static_cast<int>(frames[i].tasks.size())),
                      ESPCN_ERROR_INVALID_ARGUMENT);
            ASSERT_EQ(espcn_receive_frame(gpu.ctx), ESPCN_OK) << espcn_last_error();
            ++received;
        }
        ASSERT_EQ(espcn_submit_frame(gpu.ctx, frames[i].tasks.data(), static_cast<int>(frames[i].tasks.size())),
                  ESPCN_OK) << espcn_last_error();
        // The inputs may be reused as soon as submit returns (the results
        // below are checked against freshly regenerated inputs).
        std::memset(frames[i].in[0].storage.data(), 0, frames[i].in[0].storage.size());
    }
    while (received < frames.size()) {
        ASSERT_EQ(espcn_receive_frame(gpu.ctx), ESPCN_OK) << espcn_last_error();
        ++received;
    }
    EXPECT_EQ(espcn_frames_in_flight(gpu.ctx), 0);
    EXPECT_EQ(espcn_receive_frame(gpu.ctx), ESPCN_ERROR_INVALID_ARGUMENT);
    // Regenerated with the same seed: the synchronous calls must agree bit for bit.
    std::mt19937 rng2(44);
    for (int i = 0; i < 10; ++i) {
        Frame f = i < 5 ? make_frame(rng2, 2, 33, 17, 8, false) : make_frame(rng2, 2, 20 + i, 9, 10, true);
        const Frame g = run_synchronously(gpu.ctx, f);
        EXPECT_TRUE(same_outputs(frames[static_cast<size_t>(i)], g)) << "frame " << i;
    }
    // Chroma equals the CPU resampler exactly (a CPU context, same calls).
    Context cpu;
    ASSERT_EQ(create(model, ESPCN_BACKEND_REFERENCE, ESPCN_PRECISION_FP32, cpu), ESPCN_OK);
    std::mt19937 rng3(44);
    for (int i = 0; i < 10; ++i) {
        Frame f = i < 5 ? make_frame(rng3, 2, 33, 17, 8, false) : make_frame(rng3, 2, 20 + i, 9, 10, true);
        const Frame g = run_synchronously(cpu.ctx, f);
        for (size_t p = 1; p < g.out.size(); ++p)
            for (int y = 0; y < g.out[p].plane.height; ++y)
                for (int x = 0; x < g.out[p].plane.width; ++x)
                    ASSERT_EQ(frames[static_cast<size_t>(i)].out[p].at(x, y), g.out[p].at(x, y))
                        << "frame " << i << " plane " << p << " at " << x << "," << y;
    }
}

TEST(CudaBackend, DeviceFramesOnTheCallersStreamEqualHostFrames) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(45);
    const auto model = test::espcn_paper_model(3, 8).bytes();
    Context gpu;
    ASSERT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP16, gpu), ESPCN_OK) << espcn_last_error();
    Frame f = make_frame(rng, 3, 41, 27, 8, false);
    const Frame host = run_synchronously(gpu.ctx, f);

    // Device copies of every plane, packed.
    std::vector<cuda::DeviceBuffer> din, dout;
    std::vector<espcn_plane_task> tasks = f.tasks;
    for (size_t i = 0; i < tasks.size(); ++i) {
        auto copy_to_device = [](const espcn_plane &p, int comps, cuda::DeviceBuffer &buf, bool upload) {
            const size_t row = static_cast<size_t>(p.width) * comps * (p.bit_depth > 8 ? 2 : 1);
            Result<cuda::DeviceBuffer> b = cuda::DeviceBuffer::allocate(row * p.height);
            EXPECT_TRUE(b.is_ok());
            buf = std::move(b).value();
            if (upload) {
                EXPECT_EQ(cudaMemcpy2D(buf.get(), row, p.data, p.stride, row, p.height, cudaMemcpyHostToDevice),
                          cudaSuccess);
            }
            espcn_plane d = p;
            d.data = buf.get();
            d.stride = static_cast<ptrdiff_t>(row);
            return d;
        };
        din.emplace_back();
        dout.emplace_back();
        tasks[i].in = copy_to_device(f.tasks[i].in, tasks[i].components, din.back(), true);
        tasks[i].out = copy_to_device(f.tasks[i].out, tasks[i].components, dout.back(), false);
    }
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // the uploads have landed
    Result<cuda::Stream> stream = cuda::make_stream();
    ASSERT_TRUE(stream.is_ok());
    EXPECT_EQ(espcn_cuda_enqueue_frame(gpu.ctx, tasks.data(), static_cast<int>(tasks.size()), nullptr),
              ESPCN_ERROR_INVALID_ARGUMENT);  // the legacy default stream is refused
    ASSERT_EQ(espcn_cuda_enqueue_frame(gpu.ctx, tasks.data(), static_cast<int>(tasks.size()), stream.value().get()),
              ESPCN_OK) << espcn_last_error();
    ASSERT_TRUE(cuda::synchronize(stream.value().get()).is_ok());
    for (size_t i = 0; i < tasks.size(); ++i) {
        const espcn_plane &h = f.tasks[i].out;
        const size_t row = static_cast<size_t>(h.width) * tasks[i].components * (h.bit_depth > 8 ? 2 : 1);
        ASSERT_EQ(cudaMemcpy2D(h.data, h.stride, tasks[i].out.data, row, row, h.height, cudaMemcpyDeviceToHost),
                  cudaSuccess);
    }
    EXPECT_TRUE(same_outputs(f, host));
}

TEST(CudaBackend, SeveralContextsOnEveryDeviceRunConcurrently) {
    SKIP_WITHOUT_GPU();
    int devices = 0;
    ASSERT_EQ(cudaGetDeviceCount(&devices), cudaSuccess);
    const auto model = test::espcn_paper_model(2, 9).bytes();
    std::mt19937 rng(46);
    test::TestPlane in = test::make_plane(64, 36, 8, &rng);
    AlgorithmLog first_algorithms;
    Context first;
    ASSERT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP16, first, 0, &first_algorithms), ESPCN_OK)
        << espcn_last_error();
    test::TestPlane want = test::make_plane(128, 72, 8, nullptr);
    ASSERT_EQ(espcn_process_plane(first.ctx, &in.plane, &want.plane), ESPCN_OK);

    // Each context benchmarks cuDNN's algorithms itself; where all its
    // choices equal the first context's, its output must be identical, else
    // within one code value (another summation order).
    const int per_device = 2;
    struct Outcome {
        bool ran = false;
        bool same_algorithms = false;
        int64_t worst = -1;  // largest |difference| over 20 repetitions
    };
    std::vector<Outcome> outcomes(static_cast<size_t>(devices * per_device));
    std::vector<AlgorithmLog> logs(outcomes.size());
    std::vector<std::thread> threads;
    for (int d = 0; d < devices; ++d)
        for (int k = 0; k < per_device; ++k)
            threads.emplace_back([&, d, k] {
                const size_t i = static_cast<size_t>(d * per_device + k);
                Context c;
                if (create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP16, c, d, &logs[i]) != ESPCN_OK) return;
                test::TestPlane out = test::make_plane(128, 72, 8, nullptr);
                int64_t worst = 0;
                for (int rep = 0; rep < 20; ++rep) {
                    if (espcn_process_plane(c.ctx, &in.plane, &out.plane) != ESPCN_OK) return;
                    for (int y = 0; y < 72; ++y)
                        for (int x = 0; x < 128; ++x)
                            worst = std::max(worst, std::abs(static_cast<int64_t>(out.at(x, y)) - want.at(x, y)));
                }
                outcomes[i].ran = true;
                outcomes[i].worst = worst;
            });
    for (std::thread &t : threads) t.join();
    ASSERT_FALSE(first_algorithms.lines.empty()) << "no algorithm was logged at debug level";
    for (size_t i = 0; i < outcomes.size(); ++i) {
        const bool same = logs[i].lines == first_algorithms.lines;
        EXPECT_TRUE(outcomes[i].ran) << "device " << i / per_device << " context " << i % per_device;
        EXPECT_LE(outcomes[i].worst, same ? 0 : 1)
            << "device " << i / per_device << " context " << i % per_device
            << (same ? " (same algorithms as the first context: must be identical)"
                     : " (other algorithms than the first context)");
    }

    // device = N (no such GPU) is refused with the count.
    Context none;
    EXPECT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_AUTO, none, devices), ESPCN_ERROR_BACKEND_UNAVAILABLE);
    EXPECT_NE(std::string(espcn_last_error()).find("device(s) are present"), std::string::npos) << espcn_last_error();
}

// Destroying a context while the caller's stream still has its work queued
// (a device frame held back by a 200 ms host function on that stream) must
// wait for that work before freeing the buffers it uses: the frame's output
// is then complete and right.
TEST(CudaBackend, DestroyWaitsForWorkOnTheCallersStream) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(47);
    const auto model = test::espcn_paper_model(2, 11).bytes();
    test::TestPlane in = test::make_plane(64, 36, 8, &rng);
    Result<cuda::Stream> stream = cuda::make_stream();
    ASSERT_TRUE(stream.is_ok());
    Result<cuda::DeviceBuffer> din = cuda::DeviceBuffer::allocate(64 * 36), dout = cuda::DeviceBuffer::allocate(128 * 72);
    ASSERT_TRUE(din.is_ok() && dout.is_ok());
    ASSERT_EQ(cudaMemcpy2D(din.value().get(), 64, in.plane.data, in.plane.stride, 64, 36, cudaMemcpyHostToDevice),
              cudaSuccess);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    Context gpu;
    ASSERT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP32, gpu), ESPCN_OK) << espcn_last_error();
    // The same frame through the synchronous call first: the reference (same
    // context, same algorithms), and the shape is planned, so the device frame
    // below only enqueues.
    test::TestPlane want = test::make_plane(128, 72, 8, nullptr);
    ASSERT_EQ(espcn_process_plane(gpu.ctx, &in.plane, &want.plane), ESPCN_OK);
    ASSERT_EQ(cudaLaunchHostFunc(stream.value().get(),
                                 [](void *) { std::this_thread::sleep_for(std::chrono::milliseconds(200)); },
                                 nullptr),
              cudaSuccess);
    espcn_plane_task t{};
    t.in = espcn_plane{din.value().get(), 64, 64, 36, 8, 0};
    t.out = espcn_plane{dout.value().get(), 128, 128, 72, 8, 0};
    t.components = 1;
    ASSERT_EQ(espcn_cuda_enqueue_frame(gpu.ctx, &t, 1, stream.value().get()), ESPCN_OK) << espcn_last_error();
    const auto t0 = std::chrono::steady_clock::now();
    espcn_destroy(&gpu.ctx);  // the frame is still queued behind the host function
    const double waited_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GE(waited_ms, 100.0) << "espcn_destroy returned before the caller's stream reached our work";
    ASSERT_TRUE(cuda::synchronize(stream.value().get()).is_ok());
    std::vector<uint8_t> got(128 * 72);
    ASSERT_EQ(cudaMemcpy(got.data(), dout.value().get(), got.size(), cudaMemcpyDeviceToHost), cudaSuccess);
    for (int y = 0; y < 72; ++y)
        for (int x = 0; x < 128; ++x)
            ASSERT_EQ(got[static_cast<size_t>(y) * 128 + x], want.at(x, y)) << "at " << x << "," << y;
}

TEST(CudaBackend, AutoPicksTheGpuWithoutWarning) {
    SKIP_WITHOUT_GPU();
    const auto model = test::espcn_paper_model(2, 10).bytes();
    Context c;
    ASSERT_EQ(create(model, ESPCN_BACKEND_AUTO, ESPCN_PRECISION_AUTO, c), ESPCN_OK) << espcn_last_error();
    espcn_model_info info{};
    ASSERT_EQ(espcn_get_model_info(c.ctx, &info), ESPCN_OK);
    EXPECT_EQ(info.backend, ESPCN_BACKEND_CUDA);
    EXPECT_EQ(espcn_backend_available(ESPCN_BACKEND_CUDA), 1);
}

// --- issue 21: memory budget, bands, fallback, cancel, the fp16 residual ---

struct Budgeted {
    espcn_context *ctx = nullptr;
    std::vector<std::string> warnings;
    ~Budgeted() { espcn_destroy(&ctx); }
    static void log(void *opaque, espcn_log_level level, const char *message) {
        if (level == ESPCN_LOG_WARNING) static_cast<Budgeted *>(opaque)->warnings.emplace_back(message);
    }
};

espcn_status create_budgeted(const std::vector<uint8_t> &model, espcn_backend backend, espcn_precision precision,
                             size_t budget, Budgeted &b, espcn_cancel_fn cancel = nullptr, void *opaque = nullptr) {
    espcn_params p = test::params_of(model, backend);
    p.precision = precision;
    p.threads = 2;
    p.memory_budget = budget;
    p.cancel_callback = cancel;
    p.cancel_opaque = opaque;
    p.log_callback = Budgeted::log;
    p.log_opaque = &b;
    return espcn_create(&p, &b.ctx);
}

// A budget far below one pass: the plane runs in bands on the GPU; the
// result is the reference's within the fp32 bar (each band exact; cuDNN may
// pick other algorithms for the band shape), and what the context reports
// holding stays within the budget.
TEST(CudaBackend, APlaneOverTheBudgetRunsInBandsWithinIt) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(50);
    const auto model = test::with_nearest_residual(test::lrnet_model(2, 310, 2));
    const int w = 160, h = 243;
    test::TestPlane in = test::make_plane(w, h, 16, &rng);
    test::TestPlane want = test::make_plane(2 * w, 2 * h, 16, nullptr);
    Context cpu;
    ASSERT_EQ(create(model, ESPCN_BACKEND_REFERENCE, ESPCN_PRECISION_FP32, cpu), ESPCN_OK);
    ASSERT_EQ(espcn_process_plane(cpu.ctx, &in.plane, &want.plane), ESPCN_OK);
    const size_t budget = size_t{3} << 20;  // one pass needs far more (fp32, 16+ maps)
    Budgeted gpu;
    ASSERT_EQ(create_budgeted(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP32, budget, gpu), ESPCN_OK)
        << espcn_last_error();
    for (int rep = 0; rep < 2; ++rep) {
        test::TestPlane out = test::make_plane(2 * w, 2 * h, 16, nullptr);
        ASSERT_EQ(espcn_process_plane(gpu.ctx, &in.plane, &out.plane), ESPCN_OK) << espcn_last_error();
        const test::PlaneDiff d = test::compare_planes(out, want);
        EXPECT_LE(d.max, 7u) << "16-bit codes: the fp32 bar, 1e-4 of the range (6.6 codes) + 1";
        espcn_memory_info m{};
        ASSERT_EQ(espcn_get_memory_info(gpu.ctx, &m), ESPCN_OK);
        EXPECT_GT(m.working_bytes, 0u);
        EXPECT_LE(m.working_bytes, budget);
        EXPECT_GT(m.state_bytes, 0u);
    }
    EXPECT_TRUE(gpu.warnings.empty());
}

// Frames whose staging fits once but not three times: the queue still takes
// three (the oldest finishes early into the caller's planes), every result
// right, the staging within the budget.
TEST(CudaBackend, FewerStagedFramesThanTheQueueHoldsStillGiveEveryFrame) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(51);
    const auto model = test::espcn_paper_model(2, 12).bytes();
    Context ref;
    ASSERT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP32, ref), ESPCN_OK);
    // Staging of a 400x300 yuv420p x2 frame: (0.18 + 0.72) MB x 2 = 1.8 MB;
    // the network's smallest bands fit in what 4 MB leaves, two stagings do not.
    Budgeted gpu;
    ASSERT_EQ(create_budgeted(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP32, size_t{4} << 20, gpu), ESPCN_OK);
    std::vector<Frame> frames;
    for (int i = 0; i < 5; ++i) frames.push_back(make_frame(rng, 2, 400, 300, 8, false));
    int received = 0;
    for (Frame &f : frames) {
        if (espcn_frames_in_flight(gpu.ctx) == espcn_frame_queue_depth(gpu.ctx)) {
            ASSERT_EQ(espcn_receive_frame(gpu.ctx), ESPCN_OK) << espcn_last_error();
            ++received;
        }
        ASSERT_EQ(espcn_submit_frame(gpu.ctx, f.tasks.data(), static_cast<int>(f.tasks.size())), ESPCN_OK)
            << espcn_last_error();
        espcn_memory_info m{};
        ASSERT_EQ(espcn_get_memory_info(gpu.ctx, &m), ESPCN_OK);
        EXPECT_LE(m.working_bytes, size_t{4} << 20);
    }
    for (; received < 5; ++received) ASSERT_EQ(espcn_receive_frame(gpu.ctx), ESPCN_OK) << espcn_last_error();
    for (size_t i = 0; i < frames.size(); ++i) {
        const Frame g = run_synchronously(ref.ctx, frames[i]);
        for (size_t p = 0; p < g.out.size(); ++p)
            EXPECT_LE(test::compare_planes(frames[i].out[p], g.out[p]).max, 1u) << "frame " << i << " plane " << p;
    }
}

// A frame that cannot fit: explicit cuda says so with the bytes; auto moves to
// the CPU with one warning and gives the CPU's result.
TEST(CudaBackend, AFrameThatCannotFitIsRefusedNamingTheBytesAndAutoMovesToTheCpu) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(52);
    const auto model = test::espcn_paper_model(2, 13).bytes();
    test::TestPlane in = test::make_plane(300, 200, 8, &rng);
    test::TestPlane out = test::make_plane(600, 400, 8, nullptr);
    const size_t budget = 100 << 10;  // less than the planes' staging
    Budgeted cuda;
    ASSERT_EQ(create_budgeted(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_AUTO, budget, cuda), ESPCN_OK);
    EXPECT_EQ(espcn_process_plane(cuda.ctx, &in.plane, &out.plane), ESPCN_ERROR_OUT_OF_MEMORY);
    const std::string e = espcn_last_error();
    EXPECT_NE(e.find("bytes to stage its planes"), std::string::npos) << e;
    EXPECT_NE(e.find("memory budget of 102400 bytes"), std::string::npos) << e;

    Budgeted autob;
    ASSERT_EQ(create_budgeted(model, ESPCN_BACKEND_AUTO, ESPCN_PRECISION_AUTO, budget, autob), ESPCN_OK);
    // The CPU's bands of this plane fit 100 KiB? If not, the CPU refuses too:
    // either way the answer is the CPU's, after one warning.
    const espcn_status s = espcn_process_plane(autob.ctx, &in.plane, &out.plane);
    ASSERT_EQ(autob.warnings.size(), 1u);
    EXPECT_NE(autob.warnings[0].find("GPU not used"), std::string::npos) << autob.warnings[0];
    espcn_model_info info{};
    ASSERT_EQ(espcn_get_model_info(autob.ctx, &info), ESPCN_OK);
    EXPECT_NE(info.backend, ESPCN_BACKEND_CUDA);
    if (s == ESPCN_OK) {
        Context ref;
        ASSERT_EQ(create(model, ESPCN_BACKEND_REFERENCE, ESPCN_PRECISION_FP32, ref), ESPCN_OK);
        test::TestPlane want = test::make_plane(600, 400, 8, nullptr);
        ASSERT_EQ(espcn_process_plane(ref.ctx, &in.plane, &want.plane), ESPCN_OK);
        EXPECT_LE(test::compare_planes(out, want).max, 1u);
    }
}

// The cancel callback is asked between layers (and bands): a callback that
// says stop at its 3rd call ends the plane with CANCELLED; the context runs
// the next plane normally.
TEST(CudaBackend, CancelIsAskedBetweenLayers) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(53);
    const auto model = test::espcn_paper_model(2, 14).bytes();
    struct Counter {
        int calls = 0, stop_at = 3;
    } counter;
    auto cancel = [](void *o) -> int {
        auto *c = static_cast<Counter *>(o);
        return ++c->calls == c->stop_at ? 1 : 0;
    };
    Budgeted gpu;
    ASSERT_EQ(create_budgeted(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP32, 0, gpu, cancel, &counter), ESPCN_OK);
    test::TestPlane in = test::make_plane(64, 40, 8, &rng);
    test::TestPlane out = test::make_plane(128, 80, 8, nullptr);
    EXPECT_EQ(espcn_process_plane(gpu.ctx, &in.plane, &out.plane), ESPCN_ERROR_CANCELLED);
    EXPECT_EQ(counter.calls, 3) << "asked before the plane, the band, and each layer until it said stop";
    counter.stop_at = -1;
    EXPECT_EQ(espcn_process_plane(gpu.ctx, &in.plane, &out.plane), ESPCN_OK) << espcn_last_error();
    EXPECT_GE(counter.calls, 3 + 3) << "three layers, one band, one plane";
}

// fp16 with the LRNet residual at 16 bits: the identity path is exact (fp32),
// so the error is the fp16 network's alone, far below the 16 codes that a
// residual rounded through fp16 adds near white.
TEST(CudaBackend, Fp16ResidualKeeps16BitPlanesClose) {
    SKIP_WITHOUT_GPU();
    std::mt19937 rng(54);
    // A residual network whose body outputs ~0: the output is the input, upsampled.
    test::ModelBuilder b(2, 55);
    b.conv(1, 8, 3).activation("relu").conv(8, 4, 3);
    b.pixel_shuffle();
    for (TensorToWrite &t : b.tensors())  // the last conv (its weight and bias) at zero
        if (t.shape[0] == 4) std::fill(t.values.begin(), t.values.end(), 0.0f);
    std::vector<uint8_t> model = test::with_nearest_residual(b);
    Context gpu, cpu;
    ASSERT_EQ(create(model, ESPCN_BACKEND_CUDA, ESPCN_PRECISION_FP16, gpu), ESPCN_OK) << espcn_last_error();
    ASSERT_EQ(create(model, ESPCN_BACKEND_REFERENCE, ESPCN_PRECISION_FP32, cpu), ESPCN_OK);
    test::TestPlane in = test::make_plane(97, 61, 16, &rng);
    test::TestPlane a = test::make_plane(194, 122, 16, nullptr), want = test::make_plane(194, 122, 16, nullptr);
    ASSERT_EQ(espcn_process_plane(gpu.ctx, &in.plane, &a.plane), ESPCN_OK) << espcn_last_error();
    ASSERT_EQ(espcn_process_plane(cpu.ctx, &in.plane, &want.plane), ESPCN_OK);
    EXPECT_EQ(test::compare_planes(a, want).max, 0u) << "a zero body leaves the fp32 residual alone";
}

}  // namespace
}  // namespace espcn
