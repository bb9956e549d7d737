// The cpu-fast backend's own contract, beyond matching the reference
// (test_backends): its output does not depend on how the frame is split into
// work items or on the thread count; the instruction set is chosen and capped
// as documented; it reports streaming memory; its activation approximations
// are accurate; AVX-512 is said to be untested where the CPU lacks it; the
// worker pool runs every task once.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "cpu/cpu_backend.hpp"
#include "core/model_loader.hpp"
#include "cpu/fast/fast_backend.hpp"
#include "cpu/fast/fast_kernels.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

using test::load;

std::unique_ptr<FastBackend> make_fast(std::shared_ptr<const Network> net, int threads,
                                       std::optional<CpuIsa> isa) {
    BackendConfig cfg;
    cfg.threads = threads;
    cfg.max_cpu_isa = isa;
    auto r = make_cpu_fast_backend(std::move(net), cfg);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return std::unique_ptr<FastBackend>(static_cast<FastBackend *>(std::move(r).value().release()));
}

// Winograd tiles lie on a global grid, so every output value is computed by
// the same operations whatever the work items: any tiling and thread count
// gives the same output bit for bit.
TEST(CpuFast, OutputDoesNotDependOnTilingOrThreads) {
    test::ModelBuilder fsrcnn(3, 5);
    fsrcnn.conv(1, 24, 5).prelu(24).conv(24, 12, 1).prelu(12).conv(12, 12, 3).prelu(12)
        .conv(12, 12, 3).activation("sigmoid").conv(12, 24, 1).activation("relu")
        .deconv(24, 1, 9, 3, 0);
    // LRNet-like: its last layer (5×5, 16 → 4 at x2, → 9 at x3) runs as dot
    // products.
    test::ModelBuilder lrnet(2, 6);
    lrnet.conv(1, 16, 5).prelu(16).conv(16, 16, 3).prelu(16).conv(16, 4, 5).pixel_shuffle();
    test::ModelBuilder lrnet3(3, 7);
    lrnet3.conv(1, 16, 5).prelu(16).conv(16, 16, 3).prelu(16).conv(16, 9, 5).pixel_shuffle();
    const test::ModelBuilder models[] = {test::espcn_paper_model(2, 21), fsrcnn, lrnet, lrnet3};
    for (const fast::KernelTable *table : fast::supported_kernel_tables()) {
        for (const test::ModelBuilder &m : models) {
            auto net = load(m);
            if (&m == &models[2] || &m == &models[3]) {
                auto probe = make_fast(net, 1, table->isa);
                ASSERT_TRUE(probe);
                EXPECT_EQ(probe->dot_layers().back(), table->lanes >= 4) << table->target_name;
            }
            const int r = net->scale, W = 75, H = 43;
            std::mt19937 rng(3);
            test::TestPlane in = test::make_plane(W, H, 10, &rng);
            test::TestPlane first = test::make_plane(W * r, H * r, 16, nullptr);
            // Each tiling with a different thread count (1, 2, 3, 1, …): the
            // first is the reference for all others.
            const FastTiling tilings[] = {{0, 0}, {W, H}, {16, 8}, {23, 5}, {9, 13}, {5, 3}, {0, 0}, {0, 0}};
            bool have_first = false;
            int run = 0;
            for (const FastTiling &t : tilings) {
                const int n = 1 + run++ % 3;
                auto b = make_fast(net, n, table->isa);
                ASSERT_TRUE(b);
                b->set_tiling(t);
                test::TestPlane out = test::make_plane(W * r, H * r, 16, nullptr, n == 2);
                ASSERT_TRUE(b->process(in.plane, out.plane).is_ok());
                if (!have_first) {
                    first = std::move(out);
                    have_first = true;
                    continue;
                }
                const test::PlaneDiff d = test::compare_planes(first, out);
                EXPECT_EQ(d.differing, 0u)
                    << table->target_name << " x" << r << " strip " << t.strip_width << " band "
                    << t.band_rows << " threads " << n << " (" << b->work_items() << " items)";
            }
        }
    }
}

TEST(CpuFast, ChoosesTheInstructionSet) {
    auto net = std::make_shared<const Network>([] {
        std::mt19937 rng(1);
        return test::random_network(rng, 2, kShuffleCRD);
    }());
    const auto tables = fast::supported_kernel_tables();
    ASSERT_FALSE(tables.empty());
    // Unset: the best this CPU runs.
    unsetenv("ESPCN_CPU_ISA");
    EXPECT_EQ(make_fast(net, 1, std::nullopt)->kernels().isa, tables.front()->isa);
    // Capped by the environment, as the C API and ffmpeg see it.
    for (const CpuIsa cap : {CpuIsa::avx2, CpuIsa::baseline}) {
        setenv("ESPCN_CPU_ISA", fast::isa_name(cap), 1);
        const CpuIsa isa = make_fast(net, 1, std::nullopt)->kernels().isa;
        EXPECT_LE(static_cast<int>(isa), static_cast<int>(cap)) << fast::isa_name(cap);
    }
    setenv("ESPCN_CPU_ISA", "sse9", 1);
    BackendConfig cfg;
    auto bad = make_cpu_fast_backend(net, cfg);
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().code(), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(bad.status().message().find("ESPCN_CPU_ISA='sse9'"), std::string::npos)
        << bad.status().message();
    unsetenv("ESPCN_CPU_ISA");
}

// Names the Highway targets this CPU runs, best first (scripts/check_neon.sh
// reports them from this line): every table-driven test runs each of them.
TEST(CpuFast, NamesTheTargetsThisCpuRuns) {
    for (const fast::KernelTable *t : fast::supported_kernel_tables()) {
        EXPECT_GT(t->lanes, 0) << t->target_name;
        std::printf("cpu-fast target: %s (ESPCN_CPU_ISA=%s, %d float lanes)\n", t->target_name,
                    fast::isa_name(t->isa), t->lanes);
        std::printf("  (table %s: %d accumulators per micro-kernel%s)\n", t->name, t->block_rows,
                    t->fused_multiply_add ? ", FMA" : "");
    }
}

// This machine's CPU decides what can be run; what cannot is said, not passed.
TEST(CpuFast, Avx512KernelsRunWhereTheCpuHasAvx512) {
    for (const fast::KernelTable *t : fast::supported_kernel_tables())
        if (t->isa == CpuIsa::avx512) {
            EXPECT_EQ(t->lanes, 16);
            return;  // and every table-driven test of test_backends ran it
        }
    GTEST_SKIP() << "this CPU has no AVX-512: the avx512 kernels are compiled in but NOT run or "
                    "verified here";
}

TEST(CpuFast, Avx2KernelsRunWhereTheCpuHasAvx2) {
    for (const fast::KernelTable *t : fast::supported_kernel_tables())
        if (t->isa == CpuIsa::avx2) {
            EXPECT_EQ(t->lanes, 8);
            return;
        }
    GTEST_SKIP() << "this CPU has no AVX2: the avx2 kernels are compiled in but not run here";
}

// It streams rows itself: the working memory of a frame does not grow with
// its height, and stays within the per-thread cache budget for the paper model.
TEST(CpuFast, ReportsStreamingWorkingMemory) {
    auto net = load(test::espcn_paper_model(2, 1));
    auto b = make_fast(net, 2, std::nullopt);
    const auto small = b->frame_memory(640, 360), tall = b->frame_memory(640, 4320);
    ASSERT_TRUE(small && tall);
    EXPECT_TRUE(small->streams_rows);
    EXPECT_EQ(small->bytes, tall->bytes);
    const auto uhd = b->frame_memory(7680, 4320);
    ASSERT_TRUE(uhd);
    EXPECT_LE(uhd->bytes, size_t{2} * (16 << 20)) << "2 threads, 16 MiB each at most";
    EXPECT_EQ(uhd->bytes, b->frame_memory(7680, 100)->bytes);
}

// The planner may pick any candidate table for any layer, so every one must
// compute the same bits (fast_kernels.cpp keeps one arithmetic order: lanes
// are output channels, except in the dot kernel, whose sums run over 16
// logical lanes in a fixed tree on every target). Checked byte for byte on
// LRNet's three shapes (dot at 4 and 9 output maps, direct at 16), FSRCNN's (56-map layers:
// pixel stride 56 for AVX2 alone, 64 beside AVX-512), the paper's ESPCN
// (tanh), a sigmoid network, and two RGB networks (SRVGGNetCompact's shape:
// 3 interleaved input channels in stage 0, 64-map Winograd layers, 48 maps
// encoded per channel with the residual; and a DCR one, its last layer
// reordered to CRD), at 8 and 16 bits and in bf16: each table alone, all
// candidates of one backend forced one by one and mixed layer by layer, the
// tuning frames (candidates taking turns call by call), and the narrower
// layout a small budget falls back to. Highway's portable baseline (no FMA)
// is not a candidate where a vector unit exists, and is left out.
TEST(CpuFast, EveryCandidateGivesTheSameBytes) {
    const std::vector<const fast::KernelTable *> tables = fast::candidate_kernel_tables(CpuIsa::avx512);
    if (!tables.front()->vector_unit) GTEST_SKIP() << "no vector unit: only the portable baseline runs here";
    auto lrnet = [](int scale, int middle) {
        test::ModelBuilder b(scale, 40 + scale);
        b.conv(1, 16, 5).prelu(16);
        for (int k = 0; k < middle; ++k) b.conv(16, 16, 3).prelu(16);
        b.conv(16, scale * scale, 5).pixel_shuffle();
        return b;
    };
    test::ModelBuilder fsrcnn(2, 7);
    fsrcnn.conv(1, 56, 5).prelu(56).conv(56, 12, 1).prelu(12).conv(12, 12, 3).prelu(12)
        .conv(12, 56, 1).prelu(56).deconv(56, 1, 9, 4, 1);
    test::ModelBuilder sigmoid(3, 8);
    sigmoid.conv(1, 24, 3).activation("sigmoid").conv(24, 20, 3).activation("relu").conv(20, 9, 3)
        .pixel_shuffle();
    test::ModelBuilder rgb_dcr(3, 11);
    rgb_dcr.plane("rgb").conv(3, 16, 3).prelu(16).conv(16, 16, 3).activation("relu").conv(16, 27, 3)
        .pixel_shuffle("dcr");
    const std::vector<uint8_t> models[] = {lrnet(2, 3).bytes(), lrnet(3, 2).bytes(), lrnet(4, 2).bytes(),
                                           fsrcnn.bytes(), test::espcn_paper_model(3, 9).bytes(), sigmoid.bytes(),
                                           test::compact_rgb_model(4, 10, 1), test::with_nearest_residual(rgb_dcr)};
    int compared = 0;
    for (const std::vector<uint8_t> &m : models) {
        auto net = load(m);
        const int r = net->scale, nl = static_cast<int>(net->convs.size());
        const size_t channels = static_cast<size_t>(net->in_channels);
        for (const int variant : {0, 1, 2}) {  // fp32 8-bit, fp32 16-bit, bf16 8-bit
            const int bits = variant == 1 ? 16 : 8;
            const bool bf16 = variant == 2;
            std::mt19937 rng(static_cast<uint32_t>(bits + nl));
            const int w = 150, h = 37;  // a strip edge and a partial Winograd tile
            std::vector<test::TestPlane> in;
            std::vector<espcn_plane> in_planes;
            for (size_t c = 0; c < channels; ++c) {
                in.push_back(test::make_plane(w, h, bits, &rng));
                in_planes.push_back(in.back().plane);
            }
            auto run = [&](FastBackend &b, const char *what) {
                std::vector<test::TestPlane> out;
                std::vector<espcn_plane> out_planes;
                for (size_t c = 0; c < channels; ++c) {
                    out.push_back(test::make_plane(w * r, h * r, bits, nullptr));
                    out_planes.push_back(out.back().plane);
                }
                const Status s = b.process(in_planes, out_planes);
                EXPECT_TRUE(s.is_ok()) << what << ": " << s.message();
                return out;
            };
            BackendConfig cfg;
            cfg.threads = 2;
            cfg.precision = bf16 ? ESPCN_PRECISION_BF16 : ESPCN_PRECISION_FP32;
            FastBackend first(net, cfg, {tables.front()});
            const std::vector<test::TestPlane> expected = run(first, "first table");
            auto same = [&](const std::vector<test::TestPlane> &got, const std::string &what) {
                for (size_t c = 0; c < channels; ++c) {
                    const test::PlaneDiff d = test::compare_planes(expected[c], got[c]);
                    EXPECT_EQ(d.max, 0u) << what << ", x" << r << ", " << nl << " layers, channel " << c << ", "
                                         << bits << "-bit" << (bf16 ? " bf16" : "") << ": " << d.differing
                                         << " samples differ";
                }
                ++compared;
            };
            for (const fast::KernelTable *t : tables) {
                FastBackend alone(net, cfg, {t});
                same(run(alone, t->target_name), std::string(t->target_name) + " alone");
            }
            FastBackend all(net, cfg, tables);
            for (size_t c = 0; c < tables.size(); ++c) {
                all.force_tables(std::vector<int>(static_cast<size_t>(nl), static_cast<int>(c)));
                same(run(all, "forced"), concat("every layer on candidate ", c));
            }
            std::vector<int> mixed(static_cast<size_t>(nl));
            for (int l = 0; l < nl; ++l) mixed[static_cast<size_t>(l)] = l % static_cast<int>(tables.size());
            all.force_tables(mixed);
            same(run(all, "mixed"), "candidates mixed layer by layer");
            all.force_tables({});
            for (int frame = 0; frame < 1 + FastTuner::kFramesPerPlan * 4; ++frame)
                same(run(all, "tuning"), concat("tuning frame ", frame));
            // A budget the full layout does not fit: the narrower one.
            BackendConfig tight = cfg;
            tight.threads = 1;
            tight.memory_budget = 1;
            FastBackend narrow(net, tight, tables);
            same(run(narrow, "narrow layout"), "the narrow layout (budget 1 byte)");
        }
    }
    std::printf("[ info ] %d outputs compared byte for byte with %s's, over %zu candidate table(s)\n",
                compared, tables.front()->target_name, tables.size());
}

// Only the workers that get work items hold buffers: a frame of one strip
// needs one thread's, whatever the thread count.
TEST(CpuFast, CountsOnlyTheWorkersThatGetWork) {
    auto net = load(test::espcn_paper_model(2, 1));
    auto one = make_fast(net, 1, std::nullopt);
    auto seven = make_fast(net, 7, std::nullopt);
    const auto narrow1 = one->frame_memory(17, 1), narrow7 = seven->frame_memory(17, 1);
    ASSERT_TRUE(narrow1 && narrow7);
    EXPECT_EQ(narrow1->bytes, narrow7->bytes) << "a 17x1 frame is one work item";
    const auto wide7 = seven->frame_memory(1920, 1080);
    ASSERT_TRUE(wide7);
    EXPECT_GT(wide7->bytes, 6 * one->frame_memory(1920, 1080)->bytes / 2) << "7 threads share a wide frame";
}

// A budget that fits the narrower tables' layout (AVX2) is not refused on a
// CPU whose full layout (AVX-512: wider strides and margins) needs more: the
// backend falls back to that layout (same bits, EveryCandidateGivesTheSameBytes).
TEST(CpuFast, ABudgetThatFitsTheNarrowTablesFitsEverywhere) {
    auto net = load(test::espcn_paper_model(2, 3));
    const auto all = fast::supported_kernel_tables();
    std::vector<const fast::KernelTable *> narrow;
    for (const fast::KernelTable *t : all)
        if (t->vector_unit && t->fused_multiply_add == all.front()->fused_multiply_add && t->lanes <= 8 &&
            t->block_rows <= 12)
            narrow.push_back(t);
    if (narrow.empty()) GTEST_SKIP() << "no 8-lane vector table here";
    BackendConfig cfg;
    cfg.threads = 1;
    FastBackend narrow_only(net, cfg, narrow);
    const size_t need = narrow_only.frame_memory(17, 9)->bytes;
    cfg.memory_budget = need;
    auto every = make_cpu_fast_backend(net, cfg);
    ASSERT_TRUE(every.is_ok()) << every.status().message();
    const auto got = every.value()->frame_memory(17, 9);
    ASSERT_TRUE(got);
    EXPECT_LE(got->bytes, need);
}

// tanh and sigmoid are rational approximations: measured here against
// double precision on a dense sweep, for every instruction set.
TEST(CpuFast, ActivationApproximationsAreAccurate) {
    std::vector<float> x;
    for (float v = -20.0f; v <= 20.0f; v += 1.0f / 4096) x.push_back(v);
    for (float v : {1e-30f, -1e-30f, 3e-4f, 4e-4f, 5e-4f, 0.0f, -0.0f}) x.push_back(v);
    while (x.size() % 64) x.push_back(0.5f);
    for (const fast::KernelTable *t : fast::supported_kernel_tables()) {
        for (Activation act : {Activation::tanh, Activation::sigmoid}) {
            std::vector<float> y = x;
            t->activate(act, nullptr, y.data(), y.size());
            double worst = 0;
            for (size_t i = 0; i < x.size(); ++i) {
                const double e = act == Activation::tanh ? std::tanh(static_cast<double>(x[i]))
                                                         : 1.0 / (1.0 + std::exp(-static_cast<double>(x[i])));
                worst = std::max(worst, std::abs(e - y[i]));
            }
            // Measured: 5.2e-7 (AVX2); a 16-bit code is 1.5e-5, 29 times more.
            EXPECT_LT(worst, 1e-6) << t->target_name << " " << activation_name(act);
        }
    }
}

// The pool the backend and the chroma resampler run on: every task exactly
// once per run, worker indexes in range, many runs in a row (threads sleep
// and wake), and a 1-thread pool runs everything on the caller.
TEST(WorkerPool, RunsEveryTaskOnceOnItsThreads) {
    for (int threads : {1, 2, 3, 8}) {
        WorkerPool pool(threads);
        for (int count : {0, 1, 2, 7, 100}) {
            for (int repeat = 0; repeat < 50; ++repeat) {
                std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
                std::atomic<int> bad_worker{0};
                const Status s = pool.run(count, [&](int task, int worker) {
                    hits[static_cast<size_t>(task)].fetch_add(1);
                    if (worker < 0 || worker >= threads) bad_worker.fetch_add(1);
                });
                ASSERT_TRUE(s.is_ok()) << s.message();
                for (int i = 0; i < count; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1);
                EXPECT_EQ(bad_worker.load(), 0);
            }
        }
    }
    WorkerPool one(1);
    const std::thread::id caller = std::this_thread::get_id();
    bool elsewhere = false;
    ASSERT_TRUE(one.run(10, [&](int, int) { elsewhere |= std::this_thread::get_id() != caller; }).is_ok());
    EXPECT_FALSE(elsewhere);
}

}  // namespace
}  // namespace espcn
