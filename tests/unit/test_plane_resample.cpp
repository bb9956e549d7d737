// espcn_upscale_plane (chroma) against a direct double-precision evaluation
// of its stated definition, and MSB-aligned (P010-style) samples.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/resample_taps.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

struct Context {
    espcn_context *ctx = nullptr;
    explicit Context(int scale) {
        test::ModelBuilder b(scale, 3);
        b.conv(1, scale * scale, 3).pixel_shuffle();
        const auto bytes = b.bytes();
        espcn_params p = test::params_of(bytes);
        p.threads = 2;
        EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_OK) << espcn_last_error();
    }
    ~Context() { espcn_destroy(&ctx); }
};

double keys(double x) {
    x = std::fabs(x);
    if (x <= 1) return 1.5 * x * x * x - 2.5 * x * x + 1;
    if (x < 2) return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2;
    return 0;
}

// Output (x, y, c) of a factor-r bicubic upscale with centre alignment and
// clamped edges, straight from the definition, in double.
double expected_bicubic(const test::TestPlane &in, int comps, int r, int x, int y, int c) {
    auto at = [&](int xx, int yy) {
        xx = std::clamp(xx, 0, in.plane.width - 1);
        yy = std::clamp(yy, 0, in.plane.height - 1);
        const uint8_t *row = static_cast<const uint8_t *>(in.plane.data) + yy * in.plane.stride;
        if (in.plane.bit_depth == 8) return static_cast<double>(row[xx * comps + c]);
        uint16_t v;
        std::memcpy(&v, row + 2 * (xx * comps + c), 2);
        return static_cast<double>((v >> in.plane.shift) & ((1u << in.plane.bit_depth) - 1));
    };
    const double u = (x + 0.5) / r - 0.5, v = (y + 0.5) / r - 0.5;
    const int bx = static_cast<int>(std::floor(u)), by = static_cast<int>(std::floor(v));
    double acc = 0;
    for (int j = by - 1; j <= by + 2; ++j)
        for (int i = bx - 1; i <= bx + 2; ++i) acc += keys(u - i) * keys(v - j) * at(i, j);
    const double top = (1 << in.plane.bit_depth) - 1;
    return std::floor(std::clamp(acc, 0.0, top) + 0.5);
}

uint32_t sample(const test::TestPlane &p, int comps, int x, int y, int c) {
    const uint8_t *row = static_cast<const uint8_t *>(p.plane.data) + y * p.plane.stride;
    if (p.plane.bit_depth == 8) return row[x * comps + c];
    uint16_t v;
    std::memcpy(&v, row + 2 * (x * comps + c), 2);
    return v >> p.plane.shift;
}

// Tolerance: 1 code value, where float32 accumulation lands on the other
// side of a rounding boundary than double; at least 99% must be identical.
TEST(PlaneResample, BicubicMatchesTheDefinition) {
    for (int r : {2, 3, 4})
        for (int comps : {1, 2})
            for (int bits : {8, 10}) {
                Context c(r);
                std::mt19937 rng(r * 10 + comps + bits);
                const int w = 13, h = 7;  // odd: the chroma of a 25x13 or 26x14 frame
                test::TestPlane in = test::make_plane(w * comps, h, bits, &rng);
                in.plane.width = w;
                const int ow = w * r - (r - 1), oh = h * r;  // odd-frame chroma is short by up to r
                test::TestPlane out = test::make_plane(ow * comps, oh, bits, nullptr);
                out.plane.width = ow;
                ASSERT_EQ(espcn_upscale_plane(c.ctx, &in.plane, &out.plane, comps, ESPCN_RESAMPLE_BICUBIC),
                          ESPCN_OK) << espcn_last_error();
                size_t differing = 0, total = 0;
                for (int y = 0; y < oh; ++y)
                    for (int x = 0; x < ow; ++x)
                        for (int k = 0; k < comps; ++k) {
                            const double e = expected_bicubic(in, comps, r, x, y, k);
                            const double g = sample(out, comps, x, y, k);
                            ASSERT_LE(std::fabs(e - g), 1.0) << r << " " << comps << " " << bits;
                            differing += e != g;
                            ++total;
                        }
                EXPECT_LE(differing * 100, total);
            }
}

// Wide planes are resampled in bands of output rows (the horizontally
// resampled rows of the whole plane would not fit the resampler's 8 MiB):
// every sample equals one pass over the whole plane with the same float
// arithmetic (written out here: horizontal taps, then vertical).
TEST(PlaneResample, BandsOfAWidePlaneEqualOnePass) {
    const int r = 2, comps = 2, w = 2100, h = 600, ow = w * r, oh = h * r;
    Context c(r);
    std::mt19937 rng(77);
    test::TestPlane in = test::make_plane(w * comps, h, 10, &rng);
    in.plane.width = w;
    test::TestPlane out = test::make_plane(ow * comps, oh, 10, nullptr);
    out.plane.width = ow;
    for (auto filter : {ESPCN_RESAMPLE_BICUBIC, ESPCN_RESAMPLE_BILINEAR}) {
        ASSERT_EQ(espcn_upscale_plane(c.ctx, &in.plane, &out.plane, comps, filter), ESPCN_OK);
        const ResampleKind kind = static_cast<ResampleKind>(filter);
        std::vector<float> rows(static_cast<size_t>(h) * ow * comps);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < ow; ++x) {
                const ResampleTaps t = resample_taps(kind, x, r);
                for (int k = 0; k < comps; ++k) {
                    float acc = 0.0f;
                    for (int i = 0; i < t.count; ++i)
                        acc += t.weight[i] * static_cast<float>(sample(in, comps, clamp_index(t.first + i, w), y, k));
                    rows[(static_cast<size_t>(y) * ow + x) * comps + k] = acc;
                }
            }
        for (int y = 0; y < oh; ++y) {
            const ResampleTaps t = resample_taps(kind, y, r);
            for (int i = 0; i < ow * comps; ++i) {
                float acc = 0.0f;
                for (int k = 0; k < t.count; ++k)
                    acc += t.weight[k] * rows[static_cast<size_t>(clamp_index(t.first + k, h)) * ow * comps + i];
                acc = acc > 0.0f ? (acc < 1023.0f ? acc : 1023.0f) : 0.0f;
                ASSERT_EQ(sample(out, comps, i / comps, y, i % comps), static_cast<uint32_t>(acc + 0.5f))
                    << "row " << y << " sample " << i;
            }
        }
    }
}

TEST(PlaneResample, NearestReplicatesAndBilinearKeepsConstants) {
    Context c(3);
    std::mt19937 rng(1);
    test::TestPlane in = test::make_plane(5, 4, 8, &rng);
    test::TestPlane out = test::make_plane(15, 12, 8, nullptr);
    ASSERT_EQ(espcn_upscale_plane(c.ctx, &in.plane, &out.plane, 1, ESPCN_RESAMPLE_NEAREST), ESPCN_OK);
    for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 15; ++x) ASSERT_EQ(out.at(x, y), in.at(x / 3, y / 3));
    test::TestPlane flat = test::make_plane(5, 4, 8, nullptr);
    std::memset(flat.storage.data(), 77, flat.storage.size());
    ASSERT_EQ(espcn_upscale_plane(c.ctx, &flat.plane, &out.plane, 1, ESPCN_RESAMPLE_BILINEAR), ESPCN_OK);
    for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 15; ++x) ASSERT_EQ(out.at(x, y), 77u);
}

TEST(PlaneResample, RejectsBadArguments) {
    Context c(2);
    test::TestPlane in = test::make_plane(5, 4, 8, nullptr);
    test::TestPlane out = test::make_plane(10, 8, 8, nullptr);
    test::TestPlane out10 = test::make_plane(10, 8, 10, nullptr);
    test::TestPlane huge = test::make_plane(40, 8, 8, nullptr);
    EXPECT_EQ(espcn_upscale_plane(c.ctx, &in.plane, &out.plane, 3, ESPCN_RESAMPLE_BICUBIC),
              ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_upscale_plane(c.ctx, &in.plane, &out10.plane, 1, ESPCN_RESAMPLE_BICUBIC),
              ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_upscale_plane(c.ctx, &in.plane, &huge.plane, 1, ESPCN_RESAMPLE_BICUBIC),
              ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_upscale_plane(c.ctx, &in.plane, &out.plane, 1, static_cast<espcn_resample_filter>(9)),
              ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_upscale_plane(nullptr, &in.plane, &out.plane, 1, ESPCN_RESAMPLE_BICUBIC),
              ESPCN_ERROR_INVALID_ARGUMENT);
    espcn_plane bad = in.plane;
    bad.shift = 1;  // 8-bit samples have no room for a shift
    EXPECT_EQ(espcn_upscale_plane(c.ctx, &bad, &out.plane, 1, ESPCN_RESAMPLE_BICUBIC),
              ESPCN_ERROR_INVALID_ARGUMENT);
}

// P010 keeps 10-bit values in the high bits: the network and the resampler
// must give the same values as for low-bit storage, shifted, low bits zero.
TEST(PlaneShift, MsbAlignedSamplesGiveTheSameResult) {
    Context c(2);
    std::mt19937 rng(5);
    test::TestPlane low = test::make_plane(9, 6, 10, &rng);
    test::TestPlane high = test::make_plane(9, 6, 10, nullptr);
    high.plane.shift = 6;
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 9; ++x) {
            const uint16_t v = static_cast<uint16_t>(low.at(x, y) << 6 | 0x2A);  // junk in low bits
            std::memcpy(static_cast<uint8_t *>(high.plane.data) + y * high.plane.stride + 2 * x, &v, 2);
        }
    test::TestPlane out_low = test::make_plane(18, 12, 10, nullptr);
    test::TestPlane out_high = test::make_plane(18, 12, 10, nullptr);
    out_high.plane.shift = 6;
    ASSERT_EQ(espcn_process_plane(c.ctx, &low.plane, &out_low.plane), ESPCN_OK);
    ASSERT_EQ(espcn_process_plane(c.ctx, &high.plane, &out_high.plane), ESPCN_OK) << espcn_last_error();
    for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 18; ++x) ASSERT_EQ(out_high.at(x, y), out_low.at(x, y) << 6);
    ASSERT_EQ(espcn_upscale_plane(c.ctx, &low.plane, &out_low.plane, 1, ESPCN_RESAMPLE_BICUBIC), ESPCN_OK);
    ASSERT_EQ(espcn_upscale_plane(c.ctx, &high.plane, &out_high.plane, 1, ESPCN_RESAMPLE_BICUBIC), ESPCN_OK);
    for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 18; ++x) ASSERT_EQ(out_high.at(x, y), out_low.at(x, y) << 6);
    espcn_plane bad = high.plane;
    bad.shift = 7;  // 10 + 7 > 16
    EXPECT_EQ(espcn_process_plane(c.ctx, &bad, &out_low.plane), ESPCN_ERROR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace espcn
