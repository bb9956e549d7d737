// Every backend against the reference oracle: one table of cases run over
// every backend of the table (test::all_backends(): onednn, cuda in fp32, and
// cpu-fast once per instruction set the CPU runs: avx512, avx2, baseline; and
// cpu-fast's kernels compiled with AVX-512's micro-kernel blocking on this
// CPU's instruction sets, which checks that blocking where no AVX-512 CPU is
// at hand), on random networks, odd frame sizes, all sample depths, both
// shuffle orders and strided/bottom-up planes. A backend this machine cannot
// run is skipped with the reason (cuda without a GPU: unverified).
//
// Tolerance: the fast backends compute in float32 with their own summation
// order (Winograd transforms in cpu-fast) and tanh/sigmoid approximations, the
// reference in double. For 8-bit output a sample may differ by at most 1 code
// value (a float landing either side of a rounding boundary), and at least 99%
// of samples must be identical on random networks (99.9% on the paper's and
// FSRCNN's architectures); for 16-bit output at most 4 codes (6e-5 of full
// scale). On an unclamped [-4, 4] range, at most 2 codes of 16 bits, i.e.
// 2.4e-4 absolute.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>

#include "core/backend_registry.hpp"
#include "cpu/cpu_backend.hpp"
#include "cpu/fast/fast_backend.hpp"
#include "cpu/fast/fast_kernels.hpp"
#include "cpu/reference_ops.hpp"
#include "fast_kernels_wide_blocks.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

using test::compare_planes;
using test::PlaneDiff;

struct BackendUnderTest {
    std::string name;  // a GoogleTest parameter name
    test::BackendCase backend;
    std::optional<CpuIsa> isa;  // cpu-fast: the instruction set forced
    const fast::KernelTable *table = nullptr;  // cpu-fast: these kernels, not the ISA's own
};

void PrintTo(const BackendUnderTest &b, std::ostream *os) { *os << b.name; }

std::vector<BackendUnderTest> backends_under_test() {
    std::vector<BackendUnderTest> v;
    for (const test::BackendCase &b : test::all_backends()) {
        if (b.kind == ESPCN_BACKEND_REFERENCE) continue;  // the oracle
        if (b.kind != ESPCN_BACKEND_CPU_FAST) {
            v.push_back({b.name, b, std::nullopt});
            continue;
        }
        // Each kernel table alone (the planner has nothing to choose), named
        // by target and blocking; and cpu-fast as `auto` makes it, with every
        // candidate, measured.
        for (const fast::KernelTable *t : fast::supported_kernel_tables())
            v.push_back({b.name + "_" + t->name, b, t->isa, t});
        v.push_back({b.name + "_planned", b, std::nullopt});
        // AVX-512's micro-kernel blocking on this CPU's instruction sets.
        for (const fast::KernelTable *t : fast_wide::supported_kernel_tables())
            if (t->isa != CpuIsa::avx512)
                v.push_back({b.name + "_" + t->name + "_avx512_blocking", b, t->isa, t});
    }
    return v;
}

// The backend under test, through the frame contract (Backend::process): the
// CPU ones behind the CPU frame adapter, as the C API runs them.
std::unique_ptr<Backend> make(const BackendUnderTest &b, std::shared_ptr<const Network> net,
                              int threads) {
    BackendConfig cfg;
    cfg.threads = threads;
    cfg.max_cpu_isa = b.isa;
    cfg.precision = ESPCN_PRECISION_FP32;
    if (b.table)
        return cpu_frames(std::make_unique<FastBackend>(net, cfg, std::vector<const fast::KernelTable *>{b.table}),
                          net, cfg);
    auto r = make_backend(b.backend.kind, net, cfg);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    if (!r.is_ok()) return nullptr;
    std::unique_ptr<Backend> backend = std::move(r).value();
    if (b.isa) {
        // The instruction set asked for is the one that runs.
        const auto *fast = dynamic_cast<const FastBackend *>(cpu_engine(*backend));
        EXPECT_TRUE(fast && fast->kernels().isa == *b.isa);
    }
    return backend;
}

std::unique_ptr<Backend> make_reference(std::shared_ptr<const Network> net) {
    return std::move(test::make_backend_fp32(ESPCN_BACKEND_REFERENCE, std::move(net), 1)).value();
}

using test::load;

class Backends : public testing::TestWithParam<BackendUnderTest> {
protected:
    void SetUp() override { ESPCN_SKIP_UNUSABLE(GetParam().backend); }
};

INSTANTIATE_TEST_SUITE_P(All, Backends, testing::ValuesIn(backends_under_test()),
                         [](const testing::TestParamInfo<BackendUnderTest> &i) { return i.param.name; });

struct Size {
    int w, h;
};

// N planes (1: luma; 3: R, G, B) of one size and depth.
template <int N>
struct FramePlanes {
    test::TestPlane c[N];
    espcn_plane planes[N];
    Planes span() const { return Planes(planes, N); }
    PlaneDiff diff(const FramePlanes &o) const {
        PlaneDiff d;
        for (int k = 0; k < N; ++k) {
            const PlaneDiff e = compare_planes(c[k], o.c[k]);
            d.max = std::max(d.max, e.max);
            d.differing += e.differing;
            d.total += e.total;
        }
        return d;
    }
};

template <int N>
FramePlanes<N> make_frame(int w, int h, int bits, std::mt19937 *rng, bool bottom_up = false) {
    FramePlanes<N> p;
    for (int k = 0; k < N; ++k) {
        p.c[k] = test::make_plane(w, h, bits, rng, bottom_up, 7 + 2 * k);
        p.planes[k] = p.c[k].plane;
    }
    return p;
}

using RgbPlanes = FramePlanes<3>;

RgbPlanes make_rgb(int w, int h, int bits, std::mt19937 *rng, bool bottom_up = false) {
    return make_frame<3>(w, h, bits, rng, bottom_up);
}

// The bounds on random networks (the header): 8-bit output within 1 code with
// at least 99% of samples identical, deeper output within 4 codes.
void expect_random_network_bounds(const PlaneDiff &d, int out_bits) {
    if (out_bits == 8) {
        EXPECT_LE(d.max, 1u);
        EXPECT_LE(d.differing * 100, d.total) << d.differing << " of " << d.total;
    } else {
        EXPECT_LE(d.max, 4u);
    }
}

// Random networks of N image channels against the reference, the luma and the
// RGB case alike: one network per seed in [first_seed, end_seed) (scale
// 2 + seed % 3, DCR on odd seeds, the nearest residual where
// nearest_residual(seed), 1 or 2 threads), each run at every size with a mix
// of depths and of bottom-up planes. Adds the frames compared to *cases.
template <int N>
void expect_random_networks_match(const BackendUnderTest &backend, uint32_t first_seed, uint32_t end_seed,
                                  std::span<const Size> sizes, bool (*nearest_residual)(uint32_t), int *cases) {
    const int depths[][2] = {{8, 8}, {10, 10}, {16, 16}, {8, 16}, {12, 8}};
    for (uint32_t seed = first_seed; seed < end_seed; ++seed) {
        std::mt19937 rng(seed);
        const int scale = 2 + static_cast<int>(seed % 3);
        const ShuffleOrder order = seed % 2 ? kShuffleDCR : kShuffleCRD;
        Network n = test::random_network(rng, scale, order, N);
        if (nearest_residual(seed)) n.residual = Residual::nearest;
        auto net = std::make_shared<const Network>(std::move(n));
        auto ref = make_reference(net);
        auto dut = make(backend, net, 1 + static_cast<int>(seed % 2));
        ASSERT_TRUE(dut);
        for (const Size s : sizes) {
            const auto &bits = depths[(seed + static_cast<uint32_t>(s.w)) % 5];
            FramePlanes<N> in = make_frame<N>(s.w, s.h, bits[0], &rng, seed % 3 == 0);
            FramePlanes<N> a = make_frame<N>(s.w * scale, s.h * scale, bits[1], nullptr);
            FramePlanes<N> b = make_frame<N>(s.w * scale, s.h * scale, bits[1], nullptr, seed % 2 == 0);
            ASSERT_TRUE(ref->process(in.span(), a.span()).is_ok());
            const Status st = dut->process(in.span(), b.span());
            ASSERT_TRUE(st.is_ok()) << st.message();
            SCOPED_TRACE(testing::Message() << "seed " << seed << " x" << scale << " order " << order << " "
                                            << s.w << "x" << s.h << " bits " << bits[0] << "->" << bits[1]);
            expect_random_network_bounds(a.diff(b), bits[1]);
            ++*cases;
        }
    }
}

// Networks of N image channels whose output is their input upsampled by pixel
// replication (the nearest residual, a zero last layer), the luma and the RGB
// case alike: one per seed below `seeds` (scale 2 + seed % 3, DCR on odd
// seeds), each output plane exactly its own input plane replicated, at
// bits_of(seed) bits, the input bottom-up where bottom_up(seed).
template <int N>
void expect_pixel_replication(const BackendUnderTest &backend, uint32_t seeds, int (*bits_of)(uint32_t),
                              bool (*bottom_up)(uint32_t)) {
    for (uint32_t seed = 0; seed < seeds; ++seed) {
        std::mt19937 rng(seed);
        const int scale = 2 + static_cast<int>(seed % 3);
        Network n = test::random_network(rng, scale, seed % 2 ? kShuffleDCR : kShuffleCRD, N);
        n.residual = Residual::nearest;
        ConvLayer &last = n.convs.back();
        std::fill(last.weight.begin(), last.weight.end(), 0.0f);
        std::fill(last.bias.begin(), last.bias.end(), 0.0f);
        last.activation = Activation::identity;
        auto net = std::make_shared<const Network>(std::move(n));
        auto dut = make(backend, net, 2);
        ASSERT_TRUE(dut);
        const int bits = bits_of(seed);
        FramePlanes<N> in = make_frame<N>(13, 7, bits, &rng, bottom_up(seed));
        FramePlanes<N> out = make_frame<N>(13 * scale, 7 * scale, bits, nullptr);
        ASSERT_TRUE(dut->process(in.span(), out.span()).is_ok());
        for (int k = 0; k < N; ++k)
            for (int y = 0; y < 7 * scale; ++y)
                for (int x = 0; x < 13 * scale; ++x)
                    ASSERT_EQ(out.c[k].at(x, y), in.c[k].at(x / scale, y / scale))
                        << "seed " << seed << " channel " << k << " at " << x << "," << y;
    }
}

TEST_P(Backends, MatchesReferenceOnRandomNetworks) {
    const Size sizes[] = {{1, 1}, {2, 3}, {17, 13}, {33, 7}, {5, 31}};
    int cases = 0;
    ASSERT_NO_FATAL_FAILURE(
        expect_random_networks_match<1>(GetParam(), 0, 12, sizes, [](uint32_t) { return false; }, &cases));
    EXPECT_EQ(cases, 60);
}

// The global residual (FORMAT.md "residual": "nearest"), fused into the
// shuffle + encode step: with a zero last layer the output is exactly the
// input upsampled by pixel replication, at every depth.
TEST_P(Backends, NearestResidualAloneIsPixelReplication) {
    expect_pixel_replication<1>(
        GetParam(), 6, [](uint32_t seed) { return seed % 3 == 0 ? 8 : (seed % 3 == 1 ? 10 : 16); },
        [](uint32_t seed) { return seed % 2 == 1; });
}

TEST_P(Backends, MatchesReferenceWithANearestResidual) {
    const int depths[][2] = {{8, 8}, {10, 16}, {16, 16}};
    for (uint32_t seed = 20; seed < 26; ++seed) {
        std::mt19937 rng(seed);
        const int scale = 2 + static_cast<int>(seed % 3);
        Network n = test::random_network(rng, scale, seed % 2 ? kShuffleDCR : kShuffleCRD);
        n.residual = Residual::nearest;
        auto net = std::make_shared<const Network>(std::move(n));
        auto ref = make_reference(net);
        auto dut = make(GetParam(), net, 2);
        ASSERT_TRUE(dut);
        const auto &bits = depths[seed % 3];
        test::TestPlane in = test::make_plane(23, 9, bits[0], &rng, seed % 2 == 0);
        test::TestPlane a = test::make_plane(23 * scale, 9 * scale, bits[1], nullptr);
        test::TestPlane b = test::make_plane(23 * scale, 9 * scale, bits[1], nullptr, true);
        ASSERT_TRUE(ref->process(in.plane, a.plane).is_ok());
        ASSERT_TRUE(dut->process(in.plane, b.plane).is_ok());
        const PlaneDiff d = compare_planes(a, b);
        SCOPED_TRACE(testing::Message() << "seed " << seed << " bits " << bits[0] << "->" << bits[1]);
        expect_random_network_bounds(d, bits[1]);
    }
}

TEST_P(Backends, FloatAccuracyOnAnUnclampedRange) {
    for (uint32_t seed = 100; seed < 106; ++seed) {
        std::mt19937 rng(seed);
        Network n = test::random_network(rng, 2 + static_cast<int>(seed % 3), kShuffleCRD);
        n.range = {-4.0f, 4.0f};  // keeps outputs away from clamping
        auto net = std::make_shared<const Network>(std::move(n));
        auto ref = make_reference(net);
        auto dut = make(GetParam(), net, 2);
        ASSERT_TRUE(dut);
        test::TestPlane in = test::make_plane(19, 11, 16, &rng);
        const int r = net->scale;
        test::TestPlane a = test::make_plane(19 * r, 11 * r, 16, nullptr);
        test::TestPlane b = test::make_plane(19 * r, 11 * r, 16, nullptr);
        ASSERT_TRUE(ref->process(in.plane, a.plane).is_ok());
        ASSERT_TRUE(dut->process(in.plane, b.plane).is_ok());
        EXPECT_LE(compare_planes(a, b).max, 2u) << "seed " << seed;
    }
}

// Frame size changes mid-stream reconfigure the backend; results stay exact.
TEST_P(Backends, ReconfiguresWhenTheFrameSizeChanges) {
    std::mt19937 rng(7);
    auto net = std::make_shared<const Network>(test::random_network(rng, 2, kShuffleCRD));
    auto ref = make_reference(net);
    auto dut = make(GetParam(), net, 2);
    ASSERT_TRUE(dut);
    for (const Size s : {Size{17, 13}, Size{8, 8}, Size{17, 13}, Size{64, 3}}) {
        test::TestPlane in = test::make_plane(s.w, s.h, 8, &rng);
        test::TestPlane a = test::make_plane(s.w * 2, s.h * 2, 8, nullptr);
        test::TestPlane b = test::make_plane(s.w * 2, s.h * 2, 8, nullptr);
        ASSERT_TRUE(ref->process(in.plane, a.plane).is_ok());
        ASSERT_TRUE(dut->process(in.plane, b.plane).is_ok());
        EXPECT_LE(compare_planes(a, b).max, 1u);
    }
}

// The architectures that ship (the paper's ESPCN x2..x4, FSRCNN with its
// deconvolution, LRNet with its global residual), at sizes with many work
// items, Winograd batches and ragged edges. The paper model's 64 and 32
// channels, FSRCNN's 56 and 12 and LRNet's 16 are the channel counts the fast
// kernels are tuned for.
TEST_P(Backends, ShippedArchitecturesMatchReference) {
    struct Case {
        const char *what;
        test::ModelBuilder model;
        Size size;
        bool residual = false;
    };
    Case cases[] = {{"espcn x2", test::espcn_paper_model(2, 11), {131, 77}},
                    {"espcn x3", test::espcn_paper_model(3, 12), {45, 29}},
                    {"espcn x4", test::espcn_paper_model(4, 13), {30, 21}},
                    {"fsrcnn x3", test::fsrcnn_model(3, 14), {67, 41}},
                    {"fsrcnn x4", test::fsrcnn_model(4, 15), {38, 25}},
                    {"lrnet x2", test::lrnet_model(2, 16), {97, 53}, true},
                    {"lrnet x3", test::lrnet_model(3, 17), {51, 37}, true},
                    {"lrnet x4", test::lrnet_model(4, 18, 7), {41, 29}, true}};
    for (Case &c : cases) {
        SCOPED_TRACE(c.what);
        std::shared_ptr<const Network> net = load(c.residual ? test::with_nearest_residual(c.model) : c.model.bytes());
        auto ref = make_reference(net);
        auto dut = make(GetParam(), net, 2);
        ASSERT_TRUE(dut);
        const int r = net->scale;
        std::mt19937 rng(static_cast<uint32_t>(c.size.w));
        test::TestPlane in = test::make_plane(c.size.w, c.size.h, 8, &rng);
        test::TestPlane a = test::make_plane(c.size.w * r, c.size.h * r, 8, nullptr);
        test::TestPlane b = test::make_plane(c.size.w * r, c.size.h * r, 8, nullptr);
        ASSERT_TRUE(ref->process(in.plane, a.plane).is_ok());
        ASSERT_TRUE(dut->process(in.plane, b.plane).is_ok());
        const PlaneDiff d = compare_planes(a, b);
        EXPECT_LE(d.max, 1u);
        EXPECT_LE(d.differing * 1000, d.total) << d.differing << " of " << d.total << " differ";
    }
}

// Networks of RGB (3 planes in, 3·r² maps, 3 planes out), both shuffle
// orders (with C = 3 they differ), with and without the per-channel nearest
// residual, odd sizes and mixed depths: the same bounds as luma networks.
TEST_P(Backends, MatchesReferenceOnRandomRgbNetworks) {
    const Size sizes[] = {{1, 1}, {17, 13}, {5, 31}};
    int cases = 0;
    ASSERT_NO_FATAL_FAILURE(expect_random_networks_match<3>(GetParam(), 40, 48, sizes,
                                                            [](uint32_t seed) { return seed % 4 >= 2; }, &cases));
    EXPECT_EQ(cases, 24);
}

// The residual of an RGB network is per channel: with a zero last layer,
// each output plane is its own input plane replicated, in either order.
TEST_P(Backends, RgbNearestResidualIsPerChannel) {
    expect_pixel_replication<3>(GetParam(), 4, [](uint32_t seed) { return seed % 2 ? 10 : 8; },
                                [](uint32_t) { return false; });
}

// SRVGGNetCompact's shape (Real-ESRGAN's animevideov3: 3 -> 64 maps, 64 -> 64
// body layers with per-channel PReLU, 64 -> 3r², CRD, nearest residual), with
// two body layers, at sizes with several work items and ragged edges.
TEST_P(Backends, CompactRgbArchitectureMatchesReference) {
    // The reference's output of each network, computed once for all the
    // backends (the same network and input for every one; 64 maps are slow
    // on the reference).
    static std::map<int, RgbPlanes> reference_out;
    for (const int scale : {2, 4}) {
        SCOPED_TRACE(testing::Message() << "x" << scale);
        auto net = load(test::compact_rgb_model(scale, 60 + static_cast<uint32_t>(scale), 2));
        ASSERT_TRUE(net);
        auto dut = make(GetParam(), net, 2);
        ASSERT_TRUE(dut);
        std::mt19937 rng(static_cast<uint32_t>(scale));
        const int w = scale == 2 ? 45 : 23, h = scale == 2 ? 19 : 11;
        RgbPlanes in = make_rgb(w, h, 8, &rng);
        auto [cached, fresh] = reference_out.try_emplace(scale);
        const RgbPlanes &a = cached->second;
        if (fresh) {
            cached->second = make_rgb(w * scale, h * scale, 8, nullptr);
            const Status s = make_reference(net)->process(in.span(), a.span());
            if (!s.is_ok()) reference_out.erase(cached);
            ASSERT_TRUE(s.is_ok()) << s.message();
        }
        RgbPlanes b = make_rgb(w * scale, h * scale, 8, nullptr);
        ASSERT_TRUE(dut->process(in.span(), b.span()).is_ok());
        const PlaneDiff d = a.diff(b);
        EXPECT_LE(d.max, 1u);
        EXPECT_LE(d.differing * 1000, d.total) << d.differing << " of " << d.total << " differ";
    }
}

// A frame of an RGB network: its three network tasks are one pass, whatever
// resample tasks come between them (alpha), as the plane-level call.
TEST_P(Backends, RgbFrameTasksAreOnePass) {
    std::mt19937 rng(77);
    auto net = std::make_shared<const Network>(test::random_network(rng, 2, kShuffleCRD, 3));
    auto dut = make(GetParam(), net, 2);
    auto ref = make_reference(net);
    ASSERT_TRUE(dut);
    RgbPlanes in = make_rgb(21, 9, 8, &rng);
    test::TestPlane alpha = test::make_plane(21, 9, 8, &rng);
    RgbPlanes want = make_rgb(42, 18, 8, nullptr), got = make_rgb(42, 18, 8, nullptr);
    test::TestPlane alpha_out = test::make_plane(42, 18, 8, nullptr);
    ASSERT_TRUE(ref->process(in.span(), want.span()).is_ok());
    PlaneTask tasks[4];
    for (int k = 0, t = 0; k < 3; ++k, ++t) {
        if (k == 1) {  // the alpha between R and G
            tasks[t].in = alpha.plane;
            tasks[t].out = alpha_out.plane;
            tasks[t].resample = true;
            ++t;
        }
        tasks[t].in = in.planes[k];
        tasks[t].out = got.planes[k];
    }
    ASSERT_TRUE(dut->submit_frame(tasks).is_ok());
    ASSERT_TRUE(dut->receive_frame().is_ok());
    EXPECT_LE(want.diff(got).max, 1u);
    // Two network tasks of three: refused, naming the group.
    const Status s = dut->submit_frame(std::span<const PlaneTask>(tasks, 3));
    EXPECT_FALSE(s.is_ok());
}

// The paper's network, via a model file and the C API.
TEST_P(Backends, PaperModelThroughTheCApiAgrees) {
    if (GetParam().table && GetParam().table->variant_blocking)
        GTEST_SKIP() << "the C API runs the planner's candidates up to an instruction set, not one blocking";
    if (GetParam().isa) setenv("ESPCN_CPU_ISA", fast::isa_name(*GetParam().isa), 1);
    for (int scale : {2, 3, 4}) {
        const auto bytes = test::espcn_paper_model(scale, 100 + scale).bytes();
        espcn_context *ctx[2] = {nullptr, nullptr};
        const espcn_backend kinds[2] = {ESPCN_BACKEND_REFERENCE, GetParam().backend.kind};
        std::mt19937 rng(scale);
        test::TestPlane in = test::make_plane(21, 15, 8, &rng);
        test::TestPlane out[2] = {test::make_plane(21 * scale, 15 * scale, 8, nullptr),
                                  test::make_plane(21 * scale, 15 * scale, 8, nullptr)};
        for (int k = 0; k < 2; ++k) {
            espcn_params p = test::params_of(bytes, kinds[k]);
            p.precision = ESPCN_PRECISION_FP32;
            p.threads = 2;
            ASSERT_EQ(espcn_create(&p, &ctx[k]), ESPCN_OK) << espcn_last_error();
            espcn_model_info info;
            ASSERT_EQ(espcn_get_model_info(ctx[k], &info), ESPCN_OK);
            EXPECT_EQ(info.backend, kinds[k]);
            ASSERT_EQ(espcn_process_plane(ctx[k], &in.plane, &out[k].plane), ESPCN_OK);
            espcn_destroy(&ctx[k]);
        }
        EXPECT_LE(compare_planes(out[0], out[1]).max, 1u) << "x" << scale;
    }
    unsetenv("ESPCN_CPU_ISA");
}

// A model with a deconvolution upsampler (FSRCNN-like, PReLU body) runs
// through the conversion and matches a direct transposed convolution of the
// body's output.
TEST_P(Backends, DeconvModelMatchesDirectTransposedConvolution) {
    for (int scale : {2, 3, 4}) {
        test::ModelBuilder b(scale, 300 + static_cast<uint32_t>(scale));
        const int pad = scale == 2 ? 4 : 3, opad = scale == 3 ? 0 : 1;
        b.conv(1, 8, 5).prelu(8).conv(8, 4, 1).prelu(1).deconv(4, 1, 9, pad, opad);
        auto net = load(b);
        ASSERT_EQ(net->source_upsampler, ESPCN_UPSAMPLER_DECONV);

        // Expected: the body (unchanged convs) then the original transposed conv.
        const int W = 13, H = 9;
        std::mt19937 rng(scale);
        test::TestPlane in = test::make_plane(W, H, 8, &rng);
        std::vector<float> x(static_cast<size_t>(W) * H);
        for (int y = 0; y < H; ++y)
            for (int xx = 0; xx < W; ++xx) x[static_cast<size_t>(y) * W + xx] = in.at(xx, y) / 255.0f;
        for (size_t l = 0; l + 1 < net->convs.size(); ++l) {
            std::vector<float> next(static_cast<size_t>(net->convs[l].out_channels) * W * H);
            reference_conv(net->convs[l], x.data(), W, H, next.data());
            x.swap(next);
        }
        DeconvLayer d;
        d.in_channels = 4;
        d.out_channels = 1;
        d.kernel = 9;
        d.stride = scale;
        d.pad = pad;
        d.output_pad = opad;
        d.weight = b.tensors()[6].values;
        d.bias = b.tensors()[7].values;
        int Ho, Wo;
        const std::vector<double> hr = test::direct_transposed_conv(d, x, H, W, Ho, Wo);
        ASSERT_EQ(Ho, H * scale);
        ASSERT_EQ(Wo, W * scale);

        for (bool reference : {true, false}) {
            auto backend = reference ? make_reference(net) : make(GetParam(), net, 2);
            ASSERT_TRUE(backend);
            test::TestPlane out = test::make_plane(Wo, Ho, 8, nullptr);
            ASSERT_TRUE(backend->process(in.plane, out.plane).is_ok());
            uint32_t worst = 0;
            for (int y = 0; y < Ho; ++y)
                for (int xx = 0; xx < Wo; ++xx) {
                    const uint32_t e = encode_sample(static_cast<float>(hr[static_cast<size_t>(y) * Wo + xx]),
                                                     255, SampleRange{});
                    const uint32_t g = out.at(xx, y);
                    worst = std::max(worst, e > g ? e - g : g - e);
                }
            EXPECT_LE(worst, 1u) << (reference ? "reference" : GetParam().name) << " x" << scale;
        }
    }
}

}  // namespace
}  // namespace espcn
