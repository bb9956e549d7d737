// "A deconvolution layer is a convolution in LR space plus a periodic
// shuffle": the conversion against a direct transposed-convolution reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "core/deconv_conversion.hpp"
#include "core/deconv_taps.hpp"
#include "cpu/reference_ops.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

constexpr double kTolerance = 1e-5;  // float weights, double accumulation on both sides

// LR conv (reference backend's conv) followed by the shuffle, as CHW HR.
std::vector<float> lr_conv_then_shuffle(const ConvLayer &c, ShuffleOrder order, int r, int C,
                                        const std::vector<float> &in, int H, int W) {
    std::vector<float> lr(static_cast<size_t>(c.out_channels) * H * W);
    reference_conv(c, in.data(), W, H, lr.data());
    std::vector<float> hr(static_cast<size_t>(C) * H * r * W * r);
    for (int o = 0; o < C; ++o)
        for (int y = 0; y < H * r; ++y)
            for (int x = 0; x < W * r; ++x) {
                const ShuffleSource s = shuffle_source(order, o, y, x, r, C);
                hr[(static_cast<size_t>(o) * H * r + y) * W * r + x] =
                    lr[(static_cast<size_t>(s.channel) * H + s.y) * W + s.x];
            }
    return hr;
}

DeconvLayer random_deconv(std::mt19937 &rng, int in, int out, int K, int r, int pad, int opad) {
    DeconvLayer d;
    d.in_channels = in;
    d.out_channels = out;
    d.kernel = K;
    d.stride = r;
    d.pad = pad;
    d.output_pad = opad;
    d.weight = test::random_values(rng, static_cast<size_t>(in) * out * K * K, 0.5f);
    d.bias = test::random_values(rng, out, 0.5f);
    return d;
}

struct DeconvCase {
    int r, K, in, out;
};

// Padding that makes the output exactly r× the input: K − 2p + op = r.
void exact_padding(int K, int r, int &pad, int &opad) {
    opad = (K - r) % 2 == 0 ? 0 : 1;
    pad = (K - r + opad) / 2;
}

class DeconvEquivalence : public ::testing::TestWithParam<DeconvCase> {};

TEST_P(DeconvEquivalence, TwoDimensionalMatchesDirectTransposedConv) {
    const auto [r, K, in, out] = GetParam();
    int pad, opad;
    exact_padding(K, r, pad, opad);
    std::mt19937 rng(1000 + r * 100 + K * 10 + in);
    const DeconvLayer d = random_deconv(rng, in, out, K, r, pad, opad);
    const int H = 7, W = 5;  // odd, not square
    const auto x = test::random_values(rng, static_cast<size_t>(in) * H * W, 1.0f);

    int Ho, Wo;
    const auto expect = test::direct_transposed_conv(d, x, H, W, Ho, Wo);
    ASSERT_EQ(Ho, H * r);
    ASSERT_EQ(Wo, W * r);

    Result<ConvLayer> c = deconv_to_lr_conv(d);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    EXPECT_EQ(c.value().out_channels, out * r * r);
    EXPECT_EQ(c.value().kernel % 2, 1);
    EXPECT_EQ(c.value().kernel, 2 * deconv_lr_radius(K, r, pad) + 1);
    const auto got = lr_conv_then_shuffle(c.value(), kShuffleCRD, r, out, x, H, W);
    ASSERT_EQ(got.size(), expect.size());
    for (size_t k = 0; k < got.size(); ++k)
        ASSERT_NEAR(got[k], expect[k], kTolerance) << "element " << k;
}

TEST_P(DeconvEquivalence, OneDimensionalTapMapMatchesDirectTransposedConv) {
    const auto [r, K, in, out] = GetParam();
    int pad, opad;
    exact_padding(K, r, pad, opad);
    std::mt19937 rng(77 + r + K);
    const int N = 9;
    const auto w = test::random_values(rng, static_cast<size_t>(in) * out * K, 1.0f);  // (i, o, k)
    const auto x = test::random_values(rng, static_cast<size_t>(in) * N, 1.0f);
    // Direct 1-D transposed conv.
    std::vector<double> expect(static_cast<size_t>(out) * N * r, 0.0);
    for (int i = 0; i < in; ++i)
        for (int h = 0; h < N; ++h)
            for (int o = 0; o < out; ++o)
                for (int k = 0; k < K; ++k) {
                    const int y = h * r - pad + k;
                    if (y >= 0 && y < N * r)
                        expect[static_cast<size_t>(o) * N * r + y] +=
                            static_cast<double>(x[i * N + h]) * w[(static_cast<size_t>(i) * out + o) * K + k];
                }
    // LR 1-D conv through the shared tap map, then the 1-D shuffle.
    const int R = deconv_lr_radius(K, r, pad);
    for (int o = 0; o < out; ++o)
        for (int Y = 0; Y < N; ++Y)
            for (int a = 0; a < r; ++a) {
                double acc = 0.0;
                for (int i = 0; i < in; ++i)
                    for (int t = 0; t < 2 * R + 1; ++t) {
                        const int k = deconv_tap_for_lr_tap(t, R, a, K, r, pad);
                        const int h = Y + t - R;
                        if (k >= 0 && h >= 0 && h < N)
                            acc += static_cast<double>(x[i * N + h]) * w[(static_cast<size_t>(i) * out + o) * K + k];
                    }
                ASSERT_NEAR(acc, expect[static_cast<size_t>(o) * N * r + Y * r + a], kTolerance);
            }
}

TEST_P(DeconvEquivalence, InverseConversionGivesTheSameOutputs) {
    const auto [r, K, in, out] = GetParam();
    int pad, opad;
    exact_padding(K, r, pad, opad);
    std::mt19937 rng(5 + r * K);
    const DeconvLayer d = random_deconv(rng, in, out, K, r, pad, opad);
    Result<ConvLayer> c = deconv_to_lr_conv(d);
    ASSERT_TRUE(c.is_ok());
    Result<DeconvLayer> back = lr_conv_to_deconv(c.value(), r, kShuffleCRD);
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    const int H = 4, W = 6;
    const auto x = test::random_values(rng, static_cast<size_t>(in) * H * W, 1.0f);
    int Ho, Wo, Ho2, Wo2;
    const auto a = test::direct_transposed_conv(d, x, H, W, Ho, Wo);
    const auto b = test::direct_transposed_conv(back.value(), x, H, W, Ho2, Wo2);
    ASSERT_EQ(Ho2, Ho);
    ASSERT_EQ(Wo2, Wo);
    for (size_t k = 0; k < a.size(); ++k) ASSERT_NEAR(a[k], b[k], kTolerance);
    // And converting again lands on exactly the same LR weights.
    Result<ConvLayer> c2 = deconv_to_lr_conv(back.value());
    ASSERT_TRUE(c2.is_ok());
    EXPECT_EQ(c2.value().weight, c.value().weight);
    EXPECT_EQ(c2.value().bias, c.value().bias);
}

std::vector<DeconvCase> deconv_cases() {
    std::vector<DeconvCase> v;
    for (int r : {2, 3, 4})
        for (int K : {r, 2 * r, 3 * r, 5, 9}) {
            if (K == 9 && r == 3) continue;  // already covered as 3r
            for (auto [in, out] : {std::pair{1, 1}, std::pair{3, 1}, std::pair{4, 2}})
                v.push_back({r, K, in, out});
        }
    return v;
}

INSTANTIATE_TEST_SUITE_P(AllScalesAndKernels, DeconvEquivalence, ::testing::ValuesIn(deconv_cases()),
                         [](const ::testing::TestParamInfo<DeconvCase> &p) {
                             std::ostringstream name;
                             name << "r" << p.param.r << "_K" << p.param.K << "_i" << p.param.in
                                  << "_o" << p.param.out;
                             return name.str();
                         });

// The note's figure: an LR conv (9, 32, 3, 3) + shuffle (r = 3) is a
// deconvolution (1, 32, 9, 9), and back, weight for weight.
TEST(DeconvConversion, NoteFigureRoundTripsExactly) {
    std::mt19937 rng(2016);
    ConvLayer lr;
    lr.in_channels = 32;
    lr.out_channels = 9;
    lr.kernel = 3;
    lr.weight = test::random_values(rng, 9 * 32 * 3 * 3, 0.3f);
    lr.bias.assign(9, 0.25f);  // one bias per HR channel, repeated over the phases
    Result<DeconvLayer> d = lr_conv_to_deconv(lr, 3, kShuffleCRD);
    ASSERT_TRUE(d.is_ok()) << d.status().message();
    EXPECT_EQ(d.value().in_channels, 32);
    EXPECT_EQ(d.value().out_channels, 1);
    EXPECT_EQ(d.value().kernel, 9);
    EXPECT_EQ(d.value().pad, 3);
    EXPECT_EQ(d.value().output_pad, 0);
    Result<ConvLayer> again = deconv_to_lr_conv(d.value());
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(again.value().kernel, 3);
    EXPECT_EQ(again.value().out_channels, 9);
    EXPECT_EQ(again.value().weight, lr.weight);
    EXPECT_EQ(again.value().bias, lr.bias);
    // Every deconv tap is used exactly once: no zeros were invented.
    for (float v : d.value().weight) EXPECT_NE(v, 0.0f);
}

TEST(DeconvConversion, InverseOfDcrOrderMatchesShuffledOutput) {
    std::mt19937 rng(9);
    const int r = 2, C = 2, H = 5, W = 3;
    ConvLayer lr;
    lr.in_channels = 3;
    lr.out_channels = C * r * r;
    lr.kernel = 3;
    lr.weight = test::random_values(rng, static_cast<size_t>(lr.out_channels) * 3 * 9, 0.5f);
    lr.bias.assign(lr.out_channels, 0.0f);
    Result<DeconvLayer> d = lr_conv_to_deconv(lr, r, kShuffleDCR);
    ASSERT_TRUE(d.is_ok());
    const auto x = test::random_values(rng, static_cast<size_t>(3) * H * W, 1.0f);
    int Ho, Wo;
    const auto expect = test::direct_transposed_conv(d.value(), x, H, W, Ho, Wo);
    const auto got = lr_conv_then_shuffle(lr, kShuffleDCR, r, C, x, H, W);
    for (size_t k = 0; k < got.size(); ++k) ASSERT_NEAR(got[k], expect[k], kTolerance);
}

TEST(DeconvConversion, RejectsOutputThatIsNotExactlyRTimes) {
    std::mt19937 rng(1);
    const DeconvLayer d = random_deconv(rng, 2, 1, 9, 2, 4, 0);  // 9 − 8 + 0 = 1 ≠ 2
    Result<ConvLayer> c = deconv_to_lr_conv(d);
    ASSERT_FALSE(c.is_ok());
    EXPECT_EQ(c.status().code(), ESPCN_ERROR_MODEL);
    EXPECT_NE(c.status().message().find("exactly 2x"), std::string::npos) << c.status().message();
}

TEST(DeconvConversion, InverseRejectsPhaseDependentBias) {
    ConvLayer lr;
    lr.in_channels = 1;
    lr.out_channels = 4;
    lr.kernel = 1;
    lr.weight.assign(4, 1.0f);
    lr.bias = {0.0f, 0.0f, 0.0f, 1.0f};
    Result<DeconvLayer> d = lr_conv_to_deconv(lr, 2, kShuffleCRD);
    ASSERT_FALSE(d.is_ok());
    EXPECT_EQ(d.status().code(), ESPCN_ERROR_UNSUPPORTED);
}

}  // namespace
}  // namespace espcn
