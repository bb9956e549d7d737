// Networks of RGB through the C API: the plane-level call, frames whose
// network tasks come in groups of three, and the colour conversion of
// espcn_submit() (core/color_convert.hpp): known values of each matrix and
// range, an identity network round-tripping Y'CbCr within one code, packed
// RGB, alpha beside the group, the debug dump, and the errors.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <array>
#include <string>

#include "core/color_convert.hpp"
#include "core/color_frames.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

using test::Context;
using test::TestPlane;

// x2, 3 → 12 maps by a zero 1×1 conv, plus the nearest residual: each output
// plane is its input plane replicated (an identity up to the shuffle).
std::vector<uint8_t> identity_rgb_model(int scale = 2) {
    test::ModelBuilder b(scale, 1);
    b.plane("rgb").conv(3, 3 * scale * scale, 1, false).pixel_shuffle();
    for (float &v : b.tensors()[0].values) v = 0.0f;
    return test::with_nearest_residual(b);
}

void create(Context &c, const std::vector<uint8_t> &model, espcn_backend backend = ESPCN_BACKEND_REFERENCE) {
    espcn_params p = test::params_of(model, backend);
    p.threads = 2;
    p.precision = ESPCN_PRECISION_FP32;
    ASSERT_EQ(espcn_create(&p, &c.ctx), ESPCN_OK) << espcn_last_error();
}

espcn_plane_task network_task(const espcn_plane &in, const espcn_plane &out,
                              espcn_resample_filter filter = ESPCN_RESAMPLE_BICUBIC, int components = 1) {
    espcn_plane_task t{};
    t.in = in;
    t.out = out;
    t.filter = filter;
    t.components = components;
    return t;
}

espcn_status run(Context &c, const espcn_plane_task *tasks, int n, espcn_matrix m, espcn_range r) {
    espcn_frame f = ESPCN_FRAME_INIT;
    f.tasks = tasks;
    f.num_tasks = n;
    f.matrix = m;
    f.range = r;
    const espcn_status s = espcn_submit(c.ctx, &f);
    if (s != ESPCN_OK) return s;
    return espcn_receive_frame(c.ctx);
}

// One pixel of each plane (4:4:4, 1×1 → 2×2) through the identity network.
struct Yuv {
    uint32_t y, cb, cr;
};
Yuv through_identity(Context &c, Yuv in, int bits, espcn_matrix m, espcn_range r) {
    TestPlane p[3], o[3];
    const uint32_t v[3] = {in.y, in.cb, in.cr};
    espcn_plane_task t[3];
    for (int k = 0; k < 3; ++k) {
        p[k] = test::make_plane(1, 1, bits, nullptr);
        if (bits == 8) static_cast<uint8_t *>(p[k].plane.data)[0] = static_cast<uint8_t>(v[k]);
        else static_cast<uint16_t *>(p[k].plane.data)[0] = static_cast<uint16_t>(v[k]);
        o[k] = test::make_plane(2, 2, bits, nullptr);
        t[k] = network_task(p[k].plane, o[k].plane);
    }
    EXPECT_EQ(run(c, t, 3, m, r), ESPCN_OK) << espcn_last_error();
    for (int k = 0; k < 3; ++k)
        for (int q = 1; q < 4; ++q) EXPECT_EQ(o[k].at(q % 2, q / 2), o[k].at(0, 0));
    return {o[0].at(0, 0), o[1].at(0, 0), o[2].at(0, 0)};
}

// What the network sees: the frame's dump of its input (ESPCN_DEBUG_RGB_DIR is
// read when a context is created).
struct Dump {
    std::string dir;
    Dump() {
        char tmpl[] = "/tmp/espcn-rgb-dump-XXXXXX";
        dir = mkdtemp(tmpl);
        setenv("ESPCN_DEBUG_RGB_DIR", dir.c_str(), 1);
    }
    ~Dump() {
        unsetenv("ESPCN_DEBUG_RGB_DIR");
        for (const char *f : {"/000000-in.ppm", "/000000-out.ppm"}) std::remove((dir + f).c_str());
        rmdir(dir.c_str());
    }
    // R, G, B of pixel (x, y) of a 16-bit PPM.
    std::array<uint32_t, 3> pixel(const char *name, int x, int y) const {
        std::FILE *f = std::fopen((dir + name).c_str(), "rb");
        EXPECT_TRUE(f) << name;
        std::array<uint32_t, 3> rgb{};
        if (!f) return rgb;
        int w = 0, h = 0, maxv = 0;
        EXPECT_EQ(std::fscanf(f, "P6 %d %d %d", &w, &h, &maxv), 3);
        std::fgetc(f);
        EXPECT_EQ(maxv, 65535);
        std::fseek(f, static_cast<long>((static_cast<long>(y) * w + x) * 6), SEEK_CUR);
        for (uint32_t &c : rgb) {
            const int hi = std::fgetc(f), lo = std::fgetc(f);
            c = static_cast<uint32_t>(hi << 8 | lo);
        }
        std::fclose(f);
        return rgb;
    }
};

// The standard's own numbers: BT.709 limited 8-bit red is (63, 102, 240),
// white (235, 128, 128), black (16, 128, 128); BT.601 full-range red (76, 85,
// 255); a 10-bit BT.2020 limited mid grey (502, 512, 512) stays itself.
TEST(Color, KnownValuesOfEachMatrixAndRange) {
    Context c;
    create(c, identity_rgb_model());
    {
        Dump dump;
        Context d;
        create(d, identity_rgb_model());
        const Yuv red = through_identity(d, {63, 102, 240}, 8, ESPCN_MATRIX_BT709, ESPCN_RANGE_LIMITED);
        EXPECT_EQ(red.y, 63u);
        EXPECT_EQ(red.cb, 102u);
        EXPECT_EQ(red.cr, 240u);
        // What the network read: R = 1, G = B = 0, within the 8-bit rounding of the code values.
        const auto rgb = dump.pixel("/000000-in.ppm", 0, 0);
        EXPECT_NEAR(rgb[0] / 65535.0, 1.0, 0.01);
        EXPECT_NEAR(rgb[1] / 65535.0, 0.0, 0.01);
        EXPECT_NEAR(rgb[2] / 65535.0, 0.0, 0.01);
    }
    const Yuv white = through_identity(c, {235, 128, 128}, 8, ESPCN_MATRIX_BT709, ESPCN_RANGE_LIMITED);
    EXPECT_EQ(white.y, 235u);
    EXPECT_EQ(white.cb, 128u);
    const Yuv black = through_identity(c, {16, 128, 128}, 8, ESPCN_MATRIX_BT709, ESPCN_RANGE_LIMITED);
    EXPECT_EQ(black.y, 16u);
    EXPECT_EQ(black.cr, 128u);
    const Yuv red601 = through_identity(c, {76, 85, 255}, 8, ESPCN_MATRIX_BT601, ESPCN_RANGE_FULL);
    EXPECT_EQ(red601.y, 76u);
    EXPECT_EQ(red601.cb, 85u);
    EXPECT_EQ(red601.cr, 255u);
    const Yuv grey = through_identity(c, {502, 512, 512}, 10, ESPCN_MATRIX_BT2020_NCL, ESPCN_RANGE_LIMITED);
    EXPECT_EQ(grey.y, 502u);
    EXPECT_EQ(grey.cb, 512u);
    EXPECT_EQ(grey.cr, 512u);
    // Super-white of limited range clamps to R = G = B = 1: white.
    const Yuv over = through_identity(c, {250, 128, 128}, 8, ESPCN_MATRIX_BT709, ESPCN_RANGE_LIMITED);
    EXPECT_EQ(over.y, 235u);
}

// A smooth frame of in-gamut colours as Y'CbCr 4:2:0 of `bits` bits (each
// chroma sample the mean of its 2×2 pixels' chroma).
struct Frame420 {
    TestPlane y, cb, cr;
};
Frame420 smooth_frame(int w, int h, int bits, espcn_matrix m, espcn_range range) {
    const ColorMatrix mx = color_matrix(m);
    const ColorCoding cod = color_coding(true, range == ESPCN_RANGE_LIMITED, bits);
    Frame420 f;
    f.y = test::make_plane(w, h, bits, nullptr);
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    f.cb = test::make_plane(cw, ch, bits, nullptr);
    f.cr = test::make_plane(cw, ch, bits, nullptr);
    std::vector<double> cb(static_cast<size_t>(w) * h), cr(cb.size());
    auto put = [bits](TestPlane &p, int x, int y, double code) {
        const uint32_t v = static_cast<uint32_t>(std::lround(code));
        uint8_t *row = static_cast<uint8_t *>(p.plane.data) + static_cast<ptrdiff_t>(y) * p.plane.stride;
        if (bits == 8) row[x] = static_cast<uint8_t>(v);
        else reinterpret_cast<uint16_t *>(row)[x] = static_cast<uint16_t>(v);
    };
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const double r = 0.2 + 0.6 * x / w, g = 0.3 + 0.4 * y / h, b = 0.5 + 0.3 * std::sin(0.3 * (x + y));
            const double luma = mx.kr * r + (1.0 - mx.kr - mx.kb) * g + mx.kb * b;
            put(f.y, x, y, cod.offset[0] + cod.span[0] * luma);
            cb[static_cast<size_t>(y) * w + x] = (b - luma) / (2.0 * (1.0 - mx.kb));
            cr[static_cast<size_t>(y) * w + x] = (r - luma) / (2.0 * (1.0 - mx.kr));
        }
    for (int y = 0; y < ch; ++y)
        for (int x = 0; x < cw; ++x) {
            double sb = 0, sr = 0;
            int n = 0;
            for (int dy = 0; dy < 2 && 2 * y + dy < h; ++dy)
                for (int dx = 0; dx < 2 && 2 * x + dx < w; ++dx, ++n) {
                    sb += cb[static_cast<size_t>(2 * y + dy) * w + 2 * x + dx];
                    sr += cr[static_cast<size_t>(2 * y + dy) * w + 2 * x + dx];
                }
            put(f.cb, x, y, cod.offset[1] + cod.span[1] * sb / n);
            put(f.cr, x, y, cod.offset[2] + cod.span[2] * sr / n);
        }
    return f;
}

// The acceptance's round trip: a 10-bit BT.2020 limited 4:2:0 frame through
// an identity RGB network comes back within one code: Y' replicated; each
// output chroma sample (4:2:0 of the x2 frame: one per input pixel) the input
// chroma interpolated at that pixel, as espcn_upscale_plane() interpolates it.
TEST(Color, IdentityNetworkRoundTripsYCbCrWithinOneCode) {
    const auto model = identity_rgb_model();
    for (const espcn_backend backend : {ESPCN_BACKEND_REFERENCE, ESPCN_BACKEND_CPU_FAST}) {
        for (const espcn_resample_filter filter : {ESPCN_RESAMPLE_BICUBIC, ESPCN_RESAMPLE_NEAREST}) {
            SCOPED_TRACE(testing::Message() << espcn_backend_name(backend) << " filter " << filter);
            Context c;
            create(c, model, backend);
            const int w = 37, h = 23;  // odd: the last chroma sample covers one column / row
            Frame420 in = smooth_frame(w, h, 10, ESPCN_MATRIX_BT2020_NCL, ESPCN_RANGE_LIMITED);
            TestPlane y = test::make_plane(2 * w, 2 * h, 10, nullptr);
            TestPlane cb = test::make_plane(w, h, 10, nullptr), cr = test::make_plane(w, h, 10, nullptr);
            TestPlane alpha = test::make_plane(w, h, 10, nullptr), alpha_out = test::make_plane(2 * w, 2 * h, 10, nullptr);
            espcn_plane_task t[4] = {network_task(in.y.plane, y.plane), network_task(in.cb.plane, cb.plane, filter),
                                     network_task(in.cr.plane, cr.plane, filter), {}};
            t[3].in = alpha.plane;  // a resample task beside the group (alpha)
            t[3].out = alpha_out.plane;
            t[3].resample = 1;
            t[3].components = 1;
            ASSERT_EQ(run(c, t, 4, ESPCN_MATRIX_BT2020_NCL, ESPCN_RANGE_LIMITED), ESPCN_OK) << espcn_last_error();
            test::PlaneDiff dy;
            for (int yy = 0; yy < 2 * h; ++yy)
                for (int x = 0; x < 2 * w; ++x) {
                    const uint32_t a = y.at(x, yy), b = in.y.at(x / 2, yy / 2);
                    dy.max = std::max(dy.max, a > b ? a - b : b - a);
                }
            EXPECT_LE(dy.max, 1u) << "Y'";
            std::printf("[ info ] %s, filter %d: Y' within %u code(s)", espcn_backend_name(backend), filter, dy.max);
            const TestPlane *ins[2] = {&in.cb, &in.cr}, *outs[2] = {&cb, &cr};
            for (int k = 0; k < 2; ++k) {
                TestPlane want = test::make_plane(w, h, 10, nullptr);
                ASSERT_EQ(espcn_upscale_plane(c.ctx, &ins[k]->plane, &want.plane, 1, filter), ESPCN_OK)
                    << espcn_last_error();
                const test::PlaneDiff d = test::compare_planes(want, *outs[k]);
                EXPECT_LE(d.max, 1u) << (k ? "Cr" : "Cb");
                std::printf(", %s within %u (%zu of %zu differ)", k ? "Cr" : "Cb", d.max, d.differing, d.total);
            }
            std::printf("\n");
        }
    }
}

// Packed RGB (rgb24: three samples per pixel, each task's data at its own)
// gives what planar R, G, B give through espcn_process_planes(); limited-range
// RGB is converted too.
TEST(Color, PackedRgbGoesThroughTheSamePath) {
    std::mt19937 rng(5);
    const auto model = test::compact_rgb_model(2, 3, 1, 8);
    Context c;
    create(c, model, ESPCN_BACKEND_CPU_FAST);
    const int w = 19, h = 11;
    TestPlane planar[3], planar_out[3];
    espcn_plane in[3], out[3];
    std::vector<uint8_t> packed(static_cast<size_t>(w) * h * 3), packed_out(static_cast<size_t>(w) * h * 12);
    for (int k = 0; k < 3; ++k) {
        planar[k] = test::make_plane(w, h, 8, &rng);
        planar_out[k] = test::make_plane(2 * w, 2 * h, 8, nullptr);
        in[k] = planar[k].plane;
        out[k] = planar_out[k].plane;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) packed[(static_cast<size_t>(y) * w + x) * 3 + k] = static_cast<uint8_t>(planar[k].at(x, y));
    }
    ASSERT_EQ(espcn_process_planes(c.ctx, in, 3, out, 3), ESPCN_OK) << espcn_last_error();
    espcn_plane_task t[3];
    for (int k = 0; k < 3; ++k) {
        const espcn_plane pi{packed.data() + k, w * 3, w, h, 8, 0};
        const espcn_plane po{packed_out.data() + k, 2 * w * 3, 2 * w, 2 * h, 8, 0};
        t[k] = network_task(pi, po, ESPCN_RESAMPLE_BICUBIC, 3);
    }
    ASSERT_EQ(run(c, t, 3, ESPCN_MATRIX_RGB, ESPCN_RANGE_FULL), ESPCN_OK) << espcn_last_error();
    uint32_t worst = 0;
    for (int k = 0; k < 3; ++k)
        for (int y = 0; y < 2 * h; ++y)
            for (int x = 0; x < 2 * w; ++x) {
                const uint32_t a = planar_out[k].at(x, y), b = packed_out[(static_cast<size_t>(y) * 2 * w + x) * 3 + k];
                worst = std::max(worst, a > b ? a - b : b - a);
            }
    // 8-bit through 16-bit planes: the network sees v·257/65535 = v/255 exactly.
    EXPECT_EQ(worst, 0u);
    espcn_memory_info info;
    ASSERT_EQ(espcn_get_memory_info(c.ctx, &info), ESPCN_OK);
    EXPECT_GE(info.working_bytes, static_cast<size_t>(w) * h * 3 * 2 * 5) << "the 16-bit planes are counted";
}

TEST(Color, RefusesWhatItCannotConvert) {
    Context c;
    create(c, identity_rgb_model());
    TestPlane a = test::make_plane(8, 6, 8, nullptr), b = test::make_plane(16, 12, 8, nullptr);
    TestPlane small = test::make_plane(4, 3, 8, nullptr), small_out = test::make_plane(8, 6, 8, nullptr);
    TestPlane odd = test::make_plane(5, 3, 8, nullptr);
    // A luma call on an RGB model.
    EXPECT_EQ(espcn_process_plane(c.ctx, &a.plane, &b.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("espcn_process_planes"), std::string::npos) << espcn_last_error();
    // Planes of a pass: three each.
    espcn_plane ins[3] = {a.plane, a.plane, a.plane}, outs[3] = {b.plane, b.plane, b.plane};
    EXPECT_EQ(espcn_process_planes(c.ctx, ins, 2, outs, 2), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("reads 3 plane(s)"), std::string::npos) << espcn_last_error();
    // Two network tasks: not a whole group.
    espcn_plane_task t[3] = {network_task(a.plane, b.plane), network_task(a.plane, b.plane),
                             network_task(a.plane, b.plane)};
    EXPECT_EQ(run(c, t, 2, ESPCN_MATRIX_RGB, ESPCN_RANGE_FULL), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("groups of 3"), std::string::npos) << espcn_last_error();
    // R, G, B of different sizes.
    t[1] = network_task(small.plane, small_out.plane);
    EXPECT_EQ(run(c, t, 3, ESPCN_MATRIX_RGB, ESPCN_RANGE_FULL), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("differ in size"), std::string::npos) << espcn_last_error();
    // Chroma that is not half (rounded up) nor whole.
    t[1] = network_task(odd.plane, small_out.plane);
    t[2] = network_task(odd.plane, small_out.plane);
    EXPECT_EQ(run(c, t, 3, ESPCN_MATRIX_BT709, ESPCN_RANGE_LIMITED), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("Cb input plane"), std::string::npos) << espcn_last_error();
    // Packed Y'CbCr, an unknown matrix.
    TestPlane wide = test::make_plane(4, 3, 8, nullptr, false, 16), wide_out = test::make_plane(8, 6, 8, nullptr, false, 16);
    t[1] = network_task(wide.plane, wide_out.plane, ESPCN_RESAMPLE_BICUBIC, 2);
    t[2] = network_task(small.plane, small_out.plane);
    EXPECT_EQ(run(c, t, 3, ESPCN_MATRIX_BT709, ESPCN_RANGE_LIMITED), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("packed"), std::string::npos) << espcn_last_error();
    EXPECT_EQ(run(c, t, 3, static_cast<espcn_matrix>(9), ESPCN_RANGE_LIMITED), ESPCN_ERROR_INVALID_ARGUMENT);
    // Nothing left in flight after the refusals: a good frame runs.
    TestPlane r[3] = {test::make_plane(8, 6, 8, nullptr), test::make_plane(8, 6, 8, nullptr), test::make_plane(8, 6, 8, nullptr)};
    TestPlane ro[3] = {test::make_plane(16, 12, 8, nullptr), test::make_plane(16, 12, 8, nullptr), test::make_plane(16, 12, 8, nullptr)};
    for (int k = 0; k < 3; ++k) t[k] = network_task(r[k].plane, ro[k].plane);
    EXPECT_EQ(run(c, t, 3, ESPCN_MATRIX_RGB, ESPCN_RANGE_LIMITED), ESPCN_OK) << espcn_last_error();
}

// Luma models ignore the frame's colour: espcn_submit() of one task is
// espcn_submit_frame() of it.
TEST(Color, LumaModelsIgnoreTheMatrix) {
    test::ModelBuilder b(2, 9);
    b.conv(1, 8, 3).activation("tanh").conv(8, 4, 3).pixel_shuffle();
    Context c;
    create(c, b.bytes());
    std::mt19937 rng(2);
    TestPlane in = test::make_plane(9, 7, 8, &rng);
    TestPlane x = test::make_plane(18, 14, 8, nullptr), y = test::make_plane(18, 14, 8, nullptr);
    espcn_plane_task t = network_task(in.plane, x.plane);
    ASSERT_EQ(espcn_submit_frame(c.ctx, &t, 1), ESPCN_OK);
    ASSERT_EQ(espcn_receive_frame(c.ctx), ESPCN_OK);
    t.out = y.plane;
    ASSERT_EQ(run(c, &t, 1, ESPCN_MATRIX_BT709, ESPCN_RANGE_LIMITED), ESPCN_OK);
    EXPECT_EQ(test::compare_planes(x, y).differing, 0u);
}

}  // namespace
}  // namespace espcn
