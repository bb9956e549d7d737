// The note's three computations of one upsampling layer agree: oneDNN's
// transposed convolution, zero insertion + conv, and LR conv + shuffle, and
// all three equal the direct definition. Tolerance 1e-4 absolute (float32
// with different summation orders, |weights| <= 0.5, 8-32 inputs).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/upsampler_variants.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

TEST(UpsamplerVariants, AllThreeEqualTheDefinition) {
    struct Case { int r, K, pad, opad, in, out; };
    const Case cases[] = {{2, 6, 2, 0, 8, 1}, {3, 9, 3, 0, 8, 1}, {4, 12, 4, 0, 4, 1},
                          {2, 9, 4, 1, 6, 2}, {3, 5, 1, 0, 5, 1}, {4, 9, 3, 1, 3, 1}};
    for (const Case &c : cases) {
        std::mt19937 rng(c.r * 31 + c.K);
        DeconvLayer d;
        d.in_channels = c.in;
        d.out_channels = c.out;
        d.kernel = c.K;
        d.stride = c.r;
        d.pad = c.pad;
        d.output_pad = c.opad;
        d.weight = test::random_values(rng, static_cast<size_t>(c.in) * c.out * c.K * c.K, 0.5f);
        d.bias = test::random_values(rng, c.out, 0.5f);
        const int W = 11, H = 7;
        auto v = UpsamplerVariants::create(d, W, H);
        ASSERT_TRUE(v.is_ok()) << v.status().message();
        const auto x = test::random_values(rng, v.value()->input_size(), 1.0f);
        int Ho, Wo;
        const auto expect = test::direct_transposed_conv(d, x, H, W, Ho, Wo);
        ASSERT_EQ(expect.size(), v.value()->output_size());
        for (UpsamplerMethod m : {UpsamplerMethod::deconvolution, UpsamplerMethod::zero_insertion,
                                  UpsamplerMethod::lr_conv_shuffle}) {
            std::vector<float> out(v.value()->output_size(), -99.0f);
            ASSERT_TRUE(v.value()->run(m, x.data(), out.data()).is_ok());
            double worst = 0.0;
            for (size_t k = 0; k < out.size(); ++k) worst = std::max(worst, std::fabs(out[k] - expect[k]));
            EXPECT_LE(worst, 1e-4) << upsampler_method_name(m) << " r=" << c.r << " K=" << c.K;
        }
        // Zero insertion does r² times the work of the other two when K = 3r.
        if (c.K == 3 * c.r) {
            EXPECT_DOUBLE_EQ(v.value()->macs(UpsamplerMethod::zero_insertion),
                             c.r * c.r * v.value()->macs(UpsamplerMethod::lr_conv_shuffle));
            EXPECT_DOUBLE_EQ(v.value()->macs(UpsamplerMethod::deconvolution),
                             v.value()->macs(UpsamplerMethod::lr_conv_shuffle));
        }
    }
}

}  // namespace
}  // namespace espcn
