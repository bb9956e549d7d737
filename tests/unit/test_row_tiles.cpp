// Row tiles (core/row_tiles.hpp): the plans cover every row once with exact
// bands, and on both CPU backends a plane run in bands is bit-identical to the
// whole plane in one pass — random networks (every activation, PReLU, kernels
// 1/3/5), both shuffle orders, a deconvolution model, odd sizes, 8/10/16-bit,
// bottom-up planes, every band height from the smallest to the plane. Through
// the C API: a small memory budget gives the same bytes as an unlimited one,
// stays within the budget (allocator statistics), and a budget too small for
// one band is out-of-memory naming the bytes needed.
#include <gtest/gtest.h>

#include <malloc.h>

#include <cstring>
#include <random>

#include "cpu/cpu_backend.hpp"
#include "core/model_loader.hpp"
#include "core/row_tiles.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

bool same_samples(const test::TestPlane &a, const test::TestPlane &b) {
    for (int y = 0; y < a.plane.height; ++y)
        for (int x = 0; x < a.plane.width; ++x)
            if (a.at(x, y) != b.at(x, y)) return false;
    return true;
}

// One thread mostly: the banding is what is tested, and a shared machine
// makes OpenMP barriers slow; some cases use two.
std::unique_ptr<Backend> make(espcn_backend kind, std::shared_ptr<const Network> net,
                              int threads = 1) {
    auto r = test::make_backend_fp32(kind, std::move(net), threads);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return std::move(r).value();
}

// The backends of the table that run row tiles (their CPU backend has the
// RowTiled capability): reference and onednn today.
std::vector<espcn_backend> row_tile_backends() {
    std::vector<espcn_backend> v;
    const auto net = test::load(test::espcn_paper_model(2, 1));
    for (const test::BackendCase &b : test::cpu_backends()) {
        if (!b.unusable.empty()) continue;  // this test is built only with oneDNN
        std::unique_ptr<Backend> made = make(b.kind, net);
        CpuBackend *engine = cpu_engine(*made);
        if (engine && engine->row_tiles()) v.push_back(b.kind);
    }
    EXPECT_GE(v.size(), 2u) << "reference and onednn run row tiles";
    return v;
}

TEST(RowTiles, PlansCoverEveryRowOnceWithExactBands) {
    for (int height = 1; height <= 90; ++height)
        for (int radius = 0; radius <= 9; ++radius) {
            const int smallest = std::min(height, 2 * radius + 1);
            for (int max_rows = smallest; max_rows <= height + 2; ++max_rows) {
                const RowTilePlan p = plan_row_tiles(height, radius, max_rows);
                SCOPED_TRACE(testing::Message() << "H " << height << " R " << radius << " max "
                                                << max_rows);
                ASSERT_GE(p.count, 1);
                ASSERT_LE(p.rows, std::max(max_rows, 1));
                ASSERT_LE(p.rows, height);
                int next = 0;
                for (int i = 0; i < p.count; ++i) {
                    const RowTile t = p.tile(i);
                    ASSERT_EQ(t.in_rows(), p.rows);  // one band shape per frame size
                    ASSERT_GE(t.in_begin, 0);
                    ASSERT_LE(t.in_end, height);
                    ASSERT_EQ(t.out_begin, next);
                    ASSERT_GE(t.out_end, t.out_begin);
                    // Exact rows only: R rows inside an edge that is not the plane's.
                    if (t.in_begin > 0) {
                        ASSERT_GE(t.out_begin, t.in_begin + radius);
                    }
                    if (t.in_end < height) {
                        ASSERT_LE(t.out_end, t.in_end - radius);
                    }
                    next = t.out_end;
                }
                ASSERT_EQ(next, height);
                // The fewest bands: one fewer could not cover the plane.
                if (p.count > 1) {
                    ASSERT_LT(max_rows + int64_t{p.count - 2} * (max_rows - 2 * radius), height);
                }
            }
        }
}

// Runs `net` on `in` whole and in bands of every height from the smallest
// possible to the plane's, expecting the same samples each time.
void expect_bands_identical(Backend &backend, const Network &net, const test::TestPlane &in,
                            int out_bits, bool bottom_up) {
    CpuBackend &b = *cpu_engine(backend);
    const int r = net.scale, R = net.receptive_radius();
    const int w = in.plane.width, h = in.plane.height;
    test::TestPlane whole = test::make_plane(w * r, h * r, out_bits, nullptr, bottom_up);
    ASSERT_TRUE(b.process(in.plane, whole.plane).is_ok());
    // Every band height for short planes; else the smallest few, one in the
    // middle and the largest below the plane.
    std::vector<int> heights;
    const int smallest = std::min(h, 2 * R + 1);
    for (int m = smallest; m <= h; ++m)
        if (h <= 24 || m < smallest + 3 || m == (smallest + h) / 2 || m >= h - 1) heights.push_back(m);
    for (const int max_rows : heights) {
        const RowTilePlan plan = plan_row_tiles(h, R, max_rows);
        test::TestPlane banded = test::make_plane(w * r, h * r, out_bits, nullptr, !bottom_up);
        const Status s = run_row_tiles(*b.row_tiles(), plan, Planes(&in.plane, 1), Planes(&banded.plane, 1), CancelCheck());
        ASSERT_TRUE(s.is_ok()) << s.message();
        ASSERT_TRUE(same_samples(whole, banded))
            << espcn_backend_name(b.kind()) << " " << w << "x" << h << " R " << R << ": "
            << plan.count << " bands of " << plan.rows << " rows differ from the whole plane";
    }
}

TEST(RowTiles, BandsAreBitIdenticalToTheWholePlaneOnBothBackends) {
    struct Size {
        int w, h;
    };
    const Size sizes[] = {{17, 13}, {5, 31}, {33, 24}, {1, 19}};
    const int depths[][2] = {{8, 8}, {10, 10}, {16, 16}, {8, 16}};
    for (uint32_t seed = 0; seed < 10; ++seed) {
        std::mt19937 rng(1000 + seed);
        const int scale = 2 + static_cast<int>(seed % 3);
        const ShuffleOrder order = seed % 2 ? kShuffleDCR : kShuffleCRD;
        auto net = std::make_shared<const Network>(test::random_network(rng, scale, order));
        for (espcn_backend kind : row_tile_backends()) {
            auto b = make(kind, net, seed % 4 == 0 ? 2 : 1);
            const Size s = sizes[seed % 4];
            const auto &bits = depths[(seed / 2) % 4];
            test::TestPlane in = test::make_plane(s.w, s.h, bits[0], &rng, seed % 3 == 0);
            expect_bands_identical(*b, *net, in, bits[1], seed % 2 == 0);
        }
    }
}

TEST(RowTiles, DeconvModelBandsAreBitIdentical) {
    for (int scale : {2, 3, 4}) {
        test::ModelBuilder builder(scale, 500 + static_cast<uint32_t>(scale));
        const int pad = scale == 2 ? 4 : 3, opad = scale == 3 ? 0 : 1;
        builder.conv(1, 8, 5).prelu(8).conv(8, 4, 3).activation("tanh").deconv(4, 1, 9, pad, opad);
        auto net = test::load(builder);
        ASSERT_TRUE(net);
        std::mt19937 rng(scale);
        test::TestPlane in = test::make_plane(23, 29, 8, &rng);
        for (espcn_backend kind : row_tile_backends()) {
            auto b = make(kind, net);
            expect_bands_identical(*b, *net, in, 8, false);
        }
    }
}

// --- through the C API --------------------------------------------------------

using test::Context;

espcn_status create(const std::vector<uint8_t> &model, espcn_backend backend, size_t budget,
                    Context &c) {
    espcn_params p = test::params_of(model, backend);
    p.threads = 1;
    p.memory_budget = budget;
    return espcn_create(&p, &c.ctx);
}

// Bytes the allocator has handed out and not taken back (heap and mmap).
size_t allocated_bytes() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAllocatorIsGlibc = false;  // ASan's allocator keeps its own statistics
#else
constexpr bool kAllocatorIsGlibc = true;
#endif

TEST(RowTiles, SmallBudgetGivesTheSameBytesWithinTheBudget) {
    const auto model = test::espcn_paper_model(2, 77).bytes();  // 64 and 32 channels, R = 4
    const int w = 160, h = 121;
    std::mt19937 rng(3);
    test::TestPlane in = test::make_plane(w, h, 8, &rng);
    for (espcn_backend kind : row_tile_backends()) {
        test::TestPlane unlimited = test::make_plane(2 * w, 2 * h, 8, nullptr);
        test::TestPlane budgeted = test::make_plane(2 * w, 2 * h, 8, nullptr);
        {
            Context c;
            ASSERT_EQ(create(model, kind, SIZE_MAX, c), ESPCN_OK) << espcn_last_error();
            ASSERT_EQ(espcn_process_plane(c.ctx, &in.plane, &unlimited.plane), ESPCN_OK);
        }
        // A whole 160x121 plane needs (1 + 64 + 32) x 4 x 160 x 121 = 7.5 MB
        // on the reference backend; 1 MiB allows bands of ~16 rows.
        const size_t budget = size_t{1} << 20;
        // oneDNN compiles its kernels into a process-wide cache that every
        // context shares (how large depends on the CPU: 0.6 MB more for its
        // AVX-512 brgemm kernels than for AVX2 ones); a first context with
        // the same band shape fills it, so that what the second holds is its
        // own.
        {
            Context warm;
            ASSERT_EQ(create(model, kind, budget, warm), ESPCN_OK) << espcn_last_error();
            ASSERT_EQ(espcn_process_plane(warm.ctx, &in.plane, &budgeted.plane), ESPCN_OK)
                << espcn_last_error();
        }
        Context c;
        ASSERT_EQ(create(model, kind, budget, c), ESPCN_OK) << espcn_last_error();
        const size_t before = allocated_bytes();
        ASSERT_EQ(espcn_process_plane(c.ctx, &in.plane, &budgeted.plane), ESPCN_OK)
            << espcn_last_error();
        const size_t grown = allocated_bytes() - before;
        espcn_memory_info held{};
        ASSERT_EQ(espcn_get_memory_info(c.ctx, &held), ESPCN_OK);
        const std::string name = espcn_backend_name(kind);
        RecordProperty(name + "_grown_bytes", std::to_string(grown));
        RecordProperty(name + "_working_bytes", std::to_string(held.working_bytes));
        RecordProperty(name + "_state_bytes", std::to_string(held.state_bytes));
        EXPECT_TRUE(same_samples(unlimited, budgeted)) << espcn_backend_name(kind);
        // The backend's own account: the bands' working memory within the
        // budget, its weights (oneDNN reorders them into its blocked layout,
        // whose size depends on the CPU's vector width) beside it.
        EXPECT_GT(held.working_bytes, 0u) << espcn_backend_name(kind);
        EXPECT_LE(held.working_bytes, budget) << espcn_backend_name(kind);
        // What the allocator saw: that account plus the library's small
        // objects (primitive descriptors, memory objects, the plan): 64 KiB.
        if (kAllocatorIsGlibc) {
            EXPECT_LE(grown, held.working_bytes + held.state_bytes + (size_t{64} << 10))
                << espcn_backend_name(kind) << ": working " << held.working_bytes << ", state "
                << held.state_bytes;
        }
    }
}

TEST(RowTiles, BudgetTooSmallForOneBandIsOutOfMemoryWithTheSize) {
    const auto model = test::espcn_paper_model(2, 77).bytes();
    std::mt19937 rng(4);
    test::TestPlane in = test::make_plane(1000, 50, 8, &rng);
    test::TestPlane out = test::make_plane(2000, 100, 8, nullptr);
    for (espcn_backend kind : row_tile_backends()) {
        Context c;
        ASSERT_EQ(create(model, kind, 100000, c), ESPCN_OK) << espcn_last_error();
        EXPECT_EQ(espcn_process_plane(c.ctx, &in.plane, &out.plane), ESPCN_ERROR_OUT_OF_MEMORY);
        const std::string m = espcn_last_error();
        EXPECT_NE(m.find("a 1000x50 plane needs "), std::string::npos) << m;
        EXPECT_NE(m.find("bytes of working memory for its smallest band of rows (9 rows"),
                  std::string::npos)
            << m;
        EXPECT_NE(m.find("over the memory budget of 100000 bytes"), std::string::npos) << m;
    }
}

}  // namespace
}  // namespace espcn
