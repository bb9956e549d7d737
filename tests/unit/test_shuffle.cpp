// The shared periodic-shuffle and sample formulas against the framework
// definitions, written out independently here.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/sample_codec.hpp"
#include "core/shuffle_index.hpp"
#include "cpu/plane_convert.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

// torch.nn.PixelShuffle on CHW: out[c][h·r+i][w·r+j] = in[c·r²+i·r+j][h][w].
std::vector<float> torch_pixel_shuffle(const std::vector<float> &in, int C, int r, int H, int W) {
    std::vector<float> out(static_cast<size_t>(C) * H * r * W * r);
    for (int c = 0; c < C; ++c)
        for (int h = 0; h < H; ++h)
            for (int w = 0; w < W; ++w)
                for (int i = 0; i < r; ++i)
                    for (int j = 0; j < r; ++j)
                        out[(static_cast<size_t>(c) * H * r + h * r + i) * W * r + w * r + j] =
                            in[(static_cast<size_t>(c * r * r + i * r + j) * H + h) * W + w];
    return out;
}

// tf.nn.depth_to_space on HWC (NHWC, N = 1):
// out[h·r+i][w·r+j][c] = in[h][w][(i·r+j)·C + c]. Returned as CHW to compare.
std::vector<float> tf_depth_to_space_chw(const std::vector<float> &in_hwc, int C, int r, int H,
                                         int W) {
    std::vector<float> out(static_cast<size_t>(C) * H * r * W * r);
    for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w)
            for (int i = 0; i < r; ++i)
                for (int j = 0; j < r; ++j)
                    for (int c = 0; c < C; ++c)
                        out[(static_cast<size_t>(c) * H * r + h * r + i) * W * r + w * r + j] =
                            in_hwc[(static_cast<size_t>(h) * W + w) * C * r * r + (i * r + j) * C + c];
    return out;
}

// Applies the shared formula to a tensor stored with the given strides.
std::vector<float> shared_shuffle(const std::vector<float> &in, ShuffleOrder order, int C, int r,
                                  int H, int W, ptrdiff_t cs, ptrdiff_t hs, ptrdiff_t ws) {
    std::vector<float> out(static_cast<size_t>(C) * H * r * W * r);
    for (int c = 0; c < C; ++c)
        for (int y = 0; y < H * r; ++y)
            for (int x = 0; x < W * r; ++x) {
                const ShuffleSource s = shuffle_source(order, c, y, x, r, C);
                out[(static_cast<size_t>(c) * H * r + y) * W * r + x] =
                    in[s.channel * cs + s.y * hs + s.x * ws];
            }
    return out;
}

struct ShuffleCase {
    int C, r, H, W;
};

class ShuffleOrders : public ::testing::TestWithParam<ShuffleCase> {};

TEST_P(ShuffleOrders, CrdMatchesTorchPixelShuffle) {
    const auto [C, r, H, W] = GetParam();
    std::mt19937 rng(11 + C * 7 + r);
    const auto in = test::random_values(rng, static_cast<size_t>(C) * r * r * H * W, 1.0f);
    const auto expect = torch_pixel_shuffle(in, C, r, H, W);
    EXPECT_EQ(shared_shuffle(in, kShuffleCRD, C, r, H, W, static_cast<ptrdiff_t>(H) * W, W, 1), expect);
}

TEST_P(ShuffleOrders, DcrMatchesTfDepthToSpace) {
    const auto [C, r, H, W] = GetParam();
    std::mt19937 rng(23 + C * 5 + r);
    const int Cin = C * r * r;
    const auto in_hwc = test::random_values(rng, static_cast<size_t>(Cin) * H * W, 1.0f);
    const auto expect = tf_depth_to_space_chw(in_hwc, C, r, H, W);
    // NHWC strides: channel 1, row W·Cin, pixel Cin.
    EXPECT_EQ(shared_shuffle(in_hwc, kShuffleDCR, C, r, H, W, 1, static_cast<ptrdiff_t>(W) * Cin, Cin),
              expect);
}

TEST_P(ShuffleOrders, OrdersCoincideForOneChannelOnly) {
    const auto [C, r, H, W] = GetParam();
    std::mt19937 rng(5);
    const auto in = test::random_values(rng, static_cast<size_t>(C) * r * r * H * W, 1.0f);
    const ptrdiff_t cs = static_cast<ptrdiff_t>(H) * W;
    const bool same = shared_shuffle(in, kShuffleCRD, C, r, H, W, cs, W, 1) ==
                      shared_shuffle(in, kShuffleDCR, C, r, H, W, cs, W, 1);
    EXPECT_EQ(same, C == 1);
}

INSTANTIATE_TEST_SUITE_P(OddSizes, ShuffleOrders,
                         ::testing::Values(ShuffleCase{1, 2, 1, 1}, ShuffleCase{1, 3, 7, 5},
                                           ShuffleCase{1, 4, 3, 11}, ShuffleCase{2, 2, 5, 3},
                                           ShuffleCase{3, 3, 4, 7}, ShuffleCase{3, 4, 1, 9},
                                           ShuffleCase{2, 5, 3, 2}));

TEST(SampleCodec, DecodeIsSampleOverMax) {
    const SampleRange unit{};
    EXPECT_FLOAT_EQ(decode_sample(0, 255, unit), 0.0f);
    EXPECT_FLOAT_EQ(decode_sample(255, 255, unit), 1.0f);
    EXPECT_FLOAT_EQ(decode_sample(512, 1023, unit), 512.0f / 1023.0f);
    const SampleRange sym{-1.0f, 1.0f};
    EXPECT_FLOAT_EQ(decode_sample(0, 65535, sym), -1.0f);
    EXPECT_FLOAT_EQ(decode_sample(65535, 65535, sym), 1.0f);
}

TEST(SampleCodec, EncodeRoundsHalfUpAndClamps) {
    const SampleRange unit{};
    EXPECT_EQ(encode_sample(-0.5f, 255, unit), 0u);
    EXPECT_EQ(encode_sample(2.0f, 255, unit), 255u);
    EXPECT_EQ(encode_sample(std::numeric_limits<float>::quiet_NaN(), 255, unit), 0u);
    EXPECT_EQ(encode_sample(std::numeric_limits<float>::infinity(), 1023, unit), 1023u);
    EXPECT_EQ(encode_sample(-std::numeric_limits<float>::infinity(), 1023, unit), 0u);
    EXPECT_EQ(encode_sample(0.5f, 255, unit), 128u);  // 127.5: half rounds up
    EXPECT_EQ(encode_sample(0.5f, 1023, unit), 512u);
    EXPECT_EQ(encode_sample(0.498f, 255, unit), 127u);
    for (uint32_t bits : {8u, 10u, 12u, 16u}) {  // decode then encode is the identity
        const uint32_t m = max_sample(static_cast<int>(bits));
        for (uint32_t v = 0; v <= m; v += (m / 97) + 1)
            EXPECT_EQ(encode_sample(decode_sample(v, m, unit), m, unit), v) << bits << " bits";
    }
}

TEST(PlaneConvert, ShuffleEncodeMatchesNaiveForEveryDepthAndLayout) {
    std::mt19937 rng(3);
    for (int r : {2, 3, 4})
        for (int bits : {8, 10, 16})
            for (bool nhwc : {false, true}) {
                const int H = 5, W = 7;
                const auto lr = test::random_values(rng, static_cast<size_t>(r * r) * H * W, 0.7f);
                // Shift to [−0.2, 1.2] so clamping on both sides is exercised.
                std::vector<float> v(lr);
                for (float &x : v) x = x + 0.5f;
                const LrTensorView view = nhwc ? LrTensorView{v.data(), 1, W * r * r, r * r}
                                               : LrTensorView{v.data(), H * W, W, 1};
                test::TestPlane out = test::make_plane(W * r, H * r, bits, nullptr, /*bottom_up=*/true);
                shuffle_encode_plane(view, r, kShuffleCRD, SampleRange{}, out.plane, 2);
                const uint32_t m = max_sample(bits);
                for (int y = 0; y < H * r; ++y)
                    for (int x = 0; x < W * r; ++x) {
                        const int ch = (y % r) * r + (x % r);
                        const float f = nhwc ? v[(static_cast<size_t>(y / r) * W + x / r) * r * r + ch]
                                             : v[(static_cast<size_t>(ch) * H + y / r) * W + x / r];
                        // Same float arithmetic as the codec (tested on its own above).
                        const float t = std::min(1.0f, std::max(0.0f, f));
                        ASSERT_EQ(out.at(x, y), static_cast<uint32_t>(std::floor(t * static_cast<float>(m) + 0.5f)))
                            << "r=" << r << " bits=" << bits << " at " << x << "," << y;
                    }
            }
}

TEST(PlaneConvert, DecodeMasksBitsAboveTheDepth) {
    test::TestPlane p = test::make_plane(3, 2, 10, nullptr);
    uint16_t *row = static_cast<uint16_t *>(p.plane.data);
    row[0] = 0xFC00u | 1023u;  // garbage in the high bits
    row[1] = 0;
    row[2] = 512;
    std::vector<float> dst(6, -1.0f);
    decode_plane(p.plane, SampleRange{}, dst.data(), 3, 1, 1);
    EXPECT_FLOAT_EQ(dst[0], 1.0f);
    EXPECT_FLOAT_EQ(dst[1], 0.0f);
    EXPECT_FLOAT_EQ(dst[2], 512.0f / 1023.0f);
}

}  // namespace
}  // namespace espcn
