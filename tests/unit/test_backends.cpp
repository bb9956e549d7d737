// Every backend against the reference oracle, on random networks, odd frame
// sizes, all sample depths, both shuffle orders and strided/bottom-up planes.
//
// Tolerance: the oneDNN path computes in float32 with its own summation order
// and tanh/sigmoid approximations, the reference in double. For 8-bit output
// a sample may differ by at most 1 code value (a float landing either side of
// a rounding boundary), and at least 99% of samples must be identical; for
// 16-bit output at most 4 codes (6e-5 of full scale). On an unclamped
// [-4, 4] range, at most 2 codes of 16 bits, i.e. 2.4e-4 absolute.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "core/backend.hpp"
#include "core/model_loader.hpp"
#include "cpu/reference_ops.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

struct Diff {
    uint32_t max = 0;
    size_t differing = 0;
    size_t total = 0;
};

Diff compare(const test::TestPlane &a, const test::TestPlane &b) {
    Diff d;
    for (int y = 0; y < a.plane.height; ++y)
        for (int x = 0; x < a.plane.width; ++x) {
            const uint32_t u = a.at(x, y), v = b.at(x, y);
            const uint32_t e = u > v ? u - v : v - u;
            d.max = std::max(d.max, e);
            d.differing += e != 0;
            ++d.total;
        }
    return d;
}

std::unique_ptr<Backend> make(espcn_backend kind, std::shared_ptr<const Network> net, int threads) {
    BackendConfig cfg;
    cfg.threads = threads;
    auto r = kind == ESPCN_BACKEND_ONEDNN ? make_onednn_backend(net, cfg)
                                          : make_reference_backend(net, cfg);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return std::move(r).value();
}

struct Size {
    int w, h;
};

TEST(Backends, OnednnMatchesReferenceOnRandomNetworks) {
    const Size sizes[] = {{1, 1}, {2, 3}, {17, 13}, {33, 7}, {5, 31}};
    const int depths[][2] = {{8, 8}, {10, 10}, {16, 16}, {8, 16}, {12, 8}};
    int cases = 0;
    for (uint32_t seed = 0; seed < 12; ++seed) {
        std::mt19937 rng(seed);
        const int scale = 2 + static_cast<int>(seed % 3);
        const ShuffleOrder order = seed % 2 ? kShuffleDCR : kShuffleCRD;
        auto net = std::make_shared<const Network>(test::random_network(rng, scale, order));
        const int threads = 1 + static_cast<int>(seed % 2);
        auto ref = make(ESPCN_BACKEND_REFERENCE, net, 1);
        auto dnn = make(ESPCN_BACKEND_ONEDNN, net, threads);
        for (const Size s : sizes) {
            const auto &bits = depths[(seed + static_cast<uint32_t>(s.w)) % 5];
            test::TestPlane in = test::make_plane(s.w, s.h, bits[0], &rng, /*bottom_up=*/seed % 3 == 0);
            test::TestPlane a = test::make_plane(s.w * scale, s.h * scale, bits[1], nullptr);
            test::TestPlane b = test::make_plane(s.w * scale, s.h * scale, bits[1], nullptr, seed % 2 == 0);
            ASSERT_TRUE(ref->process(in.plane, a.plane).is_ok());
            const Status st = dnn->process(in.plane, b.plane);
            ASSERT_TRUE(st.is_ok()) << st.message();
            const Diff d = compare(a, b);
            SCOPED_TRACE(testing::Message() << "seed " << seed << " x" << scale << " " << s.w << "x"
                                            << s.h << " bits " << bits[0] << "->" << bits[1]);
            if (bits[1] == 8) {
                EXPECT_LE(d.max, 1u);
                EXPECT_LE(d.differing * 100, d.total) << d.differing << " of " << d.total;
            } else {
                EXPECT_LE(d.max, 4u);
            }
            ++cases;
        }
    }
    EXPECT_EQ(cases, 60);
}

// The global residual (FORMAT.md "residual": "nearest"), fused into the
// shuffle + encode step: with a zero last layer the output is exactly the
// input upsampled by pixel replication, on both backends, at every depth.
TEST(Backends, NearestResidualAloneIsPixelReplication) {
    for (uint32_t seed = 0; seed < 6; ++seed) {
        std::mt19937 rng(seed);
        const int scale = 2 + static_cast<int>(seed % 3);
        Network n = test::random_network(rng, scale, seed % 2 ? kShuffleDCR : kShuffleCRD);
        n.residual = Residual::nearest;
        ConvLayer &last = n.convs.back();
        std::fill(last.weight.begin(), last.weight.end(), 0.0f);
        std::fill(last.bias.begin(), last.bias.end(), 0.0f);
        last.activation = Activation::identity;
        auto net = std::make_shared<const Network>(std::move(n));
        const int bits = seed % 3 == 0 ? 8 : (seed % 3 == 1 ? 10 : 16);
        for (espcn_backend kind : {ESPCN_BACKEND_REFERENCE, ESPCN_BACKEND_ONEDNN}) {
            auto be = make(kind, net, 2);
            test::TestPlane in = test::make_plane(13, 7, bits, &rng, seed % 2 == 1);
            test::TestPlane out = test::make_plane(13 * scale, 7 * scale, bits, nullptr);
            ASSERT_TRUE(be->process(in.plane, out.plane).is_ok());
            for (int y = 0; y < 7 * scale; ++y)
                for (int x = 0; x < 13 * scale; ++x)
                    ASSERT_EQ(out.at(x, y), in.at(x / scale, y / scale))
                        << "backend " << kind << " seed " << seed << " at " << x << "," << y;
        }
    }
}

TEST(Backends, OnednnMatchesReferenceWithANearestResidual) {
    const int depths[][2] = {{8, 8}, {10, 16}, {16, 16}};
    for (uint32_t seed = 20; seed < 26; ++seed) {
        std::mt19937 rng(seed);
        const int scale = 2 + static_cast<int>(seed % 3);
        Network n = test::random_network(rng, scale, seed % 2 ? kShuffleDCR : kShuffleCRD);
        n.residual = Residual::nearest;
        auto net = std::make_shared<const Network>(std::move(n));
        auto ref = make(ESPCN_BACKEND_REFERENCE, net, 1);
        auto dnn = make(ESPCN_BACKEND_ONEDNN, net, 2);
        const auto &bits = depths[seed % 3];
        test::TestPlane in = test::make_plane(23, 9, bits[0], &rng, seed % 2 == 0);
        test::TestPlane a = test::make_plane(23 * scale, 9 * scale, bits[1], nullptr);
        test::TestPlane b = test::make_plane(23 * scale, 9 * scale, bits[1], nullptr, true);
        ASSERT_TRUE(ref->process(in.plane, a.plane).is_ok());
        ASSERT_TRUE(dnn->process(in.plane, b.plane).is_ok());
        const Diff d = compare(a, b);
        SCOPED_TRACE(testing::Message() << "seed " << seed << " bits " << bits[0] << "->" << bits[1]);
        if (bits[1] == 8) {
            EXPECT_LE(d.max, 1u);
            EXPECT_LE(d.differing * 100, d.total) << d.differing << " of " << d.total;
        } else {
            EXPECT_LE(d.max, 4u);
        }
    }
}

TEST(Backends, OnednnFloatAccuracyOnAnUnclampedRange) {
    for (uint32_t seed = 100; seed < 106; ++seed) {
        std::mt19937 rng(seed);
        Network n = test::random_network(rng, 2 + static_cast<int>(seed % 3), kShuffleCRD);
        n.range = {-4.0f, 4.0f};  // keeps outputs away from clamping
        auto net = std::make_shared<const Network>(std::move(n));
        auto ref = make(ESPCN_BACKEND_REFERENCE, net, 1);
        auto dnn = make(ESPCN_BACKEND_ONEDNN, net, 2);
        test::TestPlane in = test::make_plane(19, 11, 16, &rng);
        const int r = net->scale;
        test::TestPlane a = test::make_plane(19 * r, 11 * r, 16, nullptr);
        test::TestPlane b = test::make_plane(19 * r, 11 * r, 16, nullptr);
        ASSERT_TRUE(ref->process(in.plane, a.plane).is_ok());
        ASSERT_TRUE(dnn->process(in.plane, b.plane).is_ok());
        EXPECT_LE(compare(a, b).max, 2u) << "seed " << seed;
    }
}

// Frame size changes mid-stream reconfigure the backend; results stay exact.
TEST(Backends, OnednnReconfiguresWhenTheFrameSizeChanges) {
    std::mt19937 rng(7);
    auto net = std::make_shared<const Network>(test::random_network(rng, 2, kShuffleCRD));
    auto ref = make(ESPCN_BACKEND_REFERENCE, net, 1);
    auto dnn = make(ESPCN_BACKEND_ONEDNN, net, 2);
    for (const Size s : {Size{17, 13}, Size{8, 8}, Size{17, 13}, Size{64, 3}}) {
        test::TestPlane in = test::make_plane(s.w, s.h, 8, &rng);
        test::TestPlane a = test::make_plane(s.w * 2, s.h * 2, 8, nullptr);
        test::TestPlane b = test::make_plane(s.w * 2, s.h * 2, 8, nullptr);
        ASSERT_TRUE(ref->process(in.plane, a.plane).is_ok());
        ASSERT_TRUE(dnn->process(in.plane, b.plane).is_ok());
        EXPECT_LE(compare(a, b).max, 1u);
    }
}

// The paper's network, via a model file and the C API, on both backends.
TEST(Backends, PaperModelThroughTheCApiAgrees) {
    for (int scale : {2, 3, 4}) {
        const auto bytes = test::espcn_paper_model(scale, 100 + scale).bytes();
        espcn_context *ctx[2] = {nullptr, nullptr};
        const espcn_backend kinds[2] = {ESPCN_BACKEND_REFERENCE, ESPCN_BACKEND_ONEDNN};
        std::mt19937 rng(scale);
        test::TestPlane in = test::make_plane(21, 15, 8, &rng);
        test::TestPlane out[2] = {test::make_plane(21 * scale, 15 * scale, 8, nullptr),
                                  test::make_plane(21 * scale, 15 * scale, 8, nullptr)};
        for (int k = 0; k < 2; ++k) {
            espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
            p.model_data = bytes.data();
            p.model_size = bytes.size();
            p.backend = kinds[k];
            p.threads = 2;
            ASSERT_EQ(espcn_create(&p, &ctx[k]), ESPCN_OK) << espcn_last_error();
            ASSERT_EQ(espcn_process_plane(ctx[k], &in.plane, &out[k].plane), ESPCN_OK);
            espcn_destroy(&ctx[k]);
        }
        EXPECT_LE(compare(out[0], out[1]).max, 1u) << "x" << scale;
    }
}

// A model with a deconvolution upsampler (FSRCNN-like, PReLU body) runs
// through the conversion on both backends and matches a direct transposed
// convolution of the body's output.
TEST(Backends, DeconvModelMatchesDirectTransposedConvolution) {
    for (int scale : {2, 3, 4}) {
        test::ModelBuilder b(scale, 300 + static_cast<uint32_t>(scale));
        const int pad = scale == 2 ? 4 : 3, opad = scale == 3 ? 0 : 1;
        b.conv(1, 8, 5).prelu(8).conv(8, 4, 1).prelu(1).deconv(4, 1, 9, pad, opad);
        Result<SafetensorsFile> file = SafetensorsFile::parse(b.bytes());
        ASSERT_TRUE(file.is_ok());
        Result<Network> loaded = load_network(file.value(), Logger());
        ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
        auto net = std::make_shared<const Network>(std::move(loaded).value());
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

        for (espcn_backend kind : {ESPCN_BACKEND_REFERENCE, ESPCN_BACKEND_ONEDNN}) {
            auto backend = make(kind, net, 2);
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
            EXPECT_LE(worst, 1u) << espcn_backend_name(kind) << " x" << scale;
        }
    }
}

}  // namespace
}  // namespace espcn
