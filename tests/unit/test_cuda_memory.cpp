// The cuda backend's memory rules as arithmetic (cuda/device_memory.hpp,
// core/lru_cache.hpp), on any machine (label unit; no CUDA needed):
//  - a plane's device memory (activations + the workspace allowance) stays
//    within what the memory budget leaves: bands of rows when one pass does
//    not fit, a refusal naming the bytes when the smallest band does not;
//  - every band stays under cuDNN's 2^31 - 1 elements per tensor, even with
//    no budget, and a plane too wide for that in its smallest band is
//    refused up front naming the limit (not a cuDNN error at the first frame);
//  - a host frame's staging (pinned + device copies, aligned);
//  - the per-shape plan cache keeps the most recently used shapes only.
// The CUDA calls that act on these numbers run only on a GPU (test_cuda_backend).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/lru_cache.hpp"
#include "core/model_loader.hpp"
#include "cuda/device_memory.hpp"

namespace espcn::cuda {
namespace {

// The shipped lrnet-x2 default's footprint (its widths are what the
// production path allocates for).
NetworkFootprint lrnet_x2(bool fp16) {
    Result<Network> net = load_network_file(ESPCN_TEST_WEIGHTS_DIR "/lrnet-x2.safetensors", Logger());
    EXPECT_TRUE(net.is_ok()) << net.status().message();
    return net.is_ok() ? footprint_of(net.value(), fp16) : NetworkFootprint{};
}

// Every LR row written exactly once, by bands of equal height, each within `budget`.
void expect_bands_cover(const NetworkFootprint &f, const RowTilePlan &p, int width, int height, size_t budget) {
    ASSERT_GE(p.count, 1);
    int next = 0;
    for (int i = 0; i < p.count; ++i) {
        const RowTile t = p.tile(i);
        EXPECT_EQ(t.in_rows(), p.count == 1 ? height : p.rows) << "band " << i;
        EXPECT_GE(t.in_begin, 0);
        EXPECT_LE(t.in_end, height);
        if (t.out_end <= t.out_begin) continue;
        EXPECT_EQ(t.out_begin, next) << "band " << i;
        next = t.out_end;
        // Exact rows: at least the radius inside a band edge that is not the plane's.
        if (t.in_begin > 0) {
            EXPECT_GE(t.out_begin - t.in_begin, f.radius) << "band " << i;
        }
        if (t.in_end < height) {
            EXPECT_GE(t.in_end - t.out_end, f.radius) << "band " << i;
        }
    }
    EXPECT_EQ(next, height);
    EXPECT_LE(band_bytes(f, width, p.rows), budget);
    const int64_t elements = int64_t{p.rows} * width * std::max(f.input_channels, f.widest_channels);
    EXPECT_LE(elements, kMaxTensorElements);
}

TEST(CudaMemory, FootprintPadsFp16ChannelsToEight) {
    const NetworkFootprint h = lrnet_x2(true), s = lrnet_x2(false);
    EXPECT_EQ(h.input_channels, 8);
    EXPECT_EQ(s.input_channels, 1);
    EXPECT_EQ(h.widest_channels % 8, 0);
    EXPECT_GE(h.widest_channels, s.widest_channels);
    EXPECT_EQ(h.element_bytes, 2u);
    EXPECT_EQ(s.element_bytes, 4u);
    EXPECT_GT(s.radius, 0);
    // input + ping + pong, and a quarter of that for the workspace (<= 256 MiB).
    const size_t a = activation_bytes(s, 100, 10);
    EXPECT_EQ(a, size_t{1000} * 4 * (1 + 2 * static_cast<size_t>(s.widest_channels)));
    EXPECT_EQ(band_bytes(s, 100, 10), a + a / 4);
    EXPECT_EQ(workspace_allowance(size_t{8} << 30), kMaxWorkspace);
}

TEST(CudaMemory, TheDefaultsUnderTheDefaultBudget) {
    const size_t budget = ESPCN_DEFAULT_MEMORY_BUDGET;
    const NetworkFootprint h = lrnet_x2(true), s = lrnet_x2(false);
    // 1920x1080 input: one pass in fp32 and fp16, with room for the queue's
    // three staged yuv420p frames (2 x (3.1 + 12.4) MB each).
    for (const NetworkFootprint &f : {h, s}) {
        Result<RowTilePlan> p = plan_device_bands(f, 1920, 1080, budget);
        ASSERT_TRUE(p.is_ok()) << p.status().message();
        EXPECT_EQ(p.value().count, 1) << f.element_bytes;
        EXPECT_LE(band_bytes(f, 1920, 1080) + 3 * size_t{31104000}, budget) << f.element_bytes;
    }
    // 3840x2160 in fp32 and 7680x4320 (an 8K x2 input) in fp16: bands, within the budget.
    Result<RowTilePlan> p4k = plan_device_bands(s, 3840, 2160, budget);
    ASSERT_TRUE(p4k.is_ok()) << p4k.status().message();
    EXPECT_GE(p4k.value().count, 2) << band_bytes(s, 3840, 2160) << " bytes for one pass";
    ASSERT_NO_FATAL_FAILURE(expect_bands_cover(s, p4k.value(), 3840, 2160, budget));
    Result<RowTilePlan> p8k = plan_device_bands(h, 7680, 4320, budget);
    ASSERT_TRUE(p8k.is_ok()) << p8k.status().message();
    EXPECT_GT(p8k.value().count, 1);
    ASSERT_NO_FATAL_FAILURE(expect_bands_cover(h, p8k.value(), 7680, 4320, budget));
    std::printf("lrnet-x2 under %zu bytes: 1920x1080 one pass %zu (fp32) / %zu (fp16) bytes; 3840x2160 fp32: "
                "%d bands of %d rows (%zu bytes); 7680x4320 fp16: %d bands of %d rows (%zu bytes)\n",
                budget, band_bytes(s, 1920, 1080), band_bytes(h, 1920, 1080), p4k.value().count, p4k.value().rows,
                band_bytes(s, 3840, p4k.value().rows), p8k.value().count, p8k.value().rows,
                band_bytes(h, 7680, p8k.value().rows));
}

TEST(CudaMemory, NoBudgetIsOnePassAndATightOneIsManyBands) {
    const NetworkFootprint f = lrnet_x2(true);
    Result<RowTilePlan> all = plan_device_bands(f, 640, 360, SIZE_MAX);
    ASSERT_TRUE(all.is_ok());
    EXPECT_EQ(all.value().count, 1);
    EXPECT_EQ(all.value().rows, 360);
    const size_t tight = band_bytes(f, 640, 4 * f.radius + 1);
    Result<RowTilePlan> banded = plan_device_bands(f, 640, 360, tight);
    ASSERT_TRUE(banded.is_ok()) << banded.status().message();
    EXPECT_GT(banded.value().count, 10);
    ASSERT_NO_FATAL_FAILURE(expect_bands_cover(f, banded.value(), 640, 360, tight));
}

TEST(CudaMemory, APlaneWhoseSmallestBandDoesNotFitIsRefusedNamingTheBytes) {
    const NetworkFootprint f = lrnet_x2(false);
    const size_t smallest = band_bytes(f, 1920, 2 * f.radius + 1);
    Result<RowTilePlan> p = plan_device_bands(f, 1920, 1080, smallest - 1);
    ASSERT_FALSE(p.is_ok());
    EXPECT_EQ(p.status().code(), ESPCN_ERROR_OUT_OF_MEMORY);
    const std::string m = p.status().message();
    EXPECT_NE(m.find("cuda, device memory: "), std::string::npos) << m;
    EXPECT_NE(m.find(std::to_string(smallest) + " bytes"), std::string::npos) << m;
    EXPECT_NE(m.find(std::to_string(smallest - 1) + " bytes"), std::string::npos) << m;
    EXPECT_NE(m.find("memory_budget"), std::string::npos) << m;
}

TEST(CudaMemory, BandsStayUnderCudnnsElementLimitEvenWithoutABudget) {
    // The largest plane the C API takes (2^28 pixels) in fp16 at 64 maps:
    // one pass would be 2^34 elements.
    NetworkFootprint f;
    f.input_channels = 8;
    f.widest_channels = 64;
    f.element_bytes = 2;
    f.radius = 4;
    Result<RowTilePlan> p = plan_device_bands(f, 16384, 16384, SIZE_MAX);
    ASSERT_TRUE(p.is_ok()) << p.status().message();
    EXPECT_GT(p.value().count, 1);
    EXPECT_EQ(element_row_cap(f, 16384), kMaxTensorElements / (int64_t{16384} * 64));
    ASSERT_NO_FATAL_FAILURE(expect_bands_cover(f, p.value(), 16384, 16384, SIZE_MAX));
}

TEST(CudaMemory, APlaneTooWideForTheElementLimitIsRefusedUpFrontNamingIt) {
    NetworkFootprint f;
    f.input_channels = 8;
    f.widest_channels = 8192;  // a row of 65536 pixels: 2^29 elements; 9 rows (radius 4) are over 2^31
    f.element_bytes = 2;
    f.radius = 4;
    Result<RowTilePlan> p = plan_device_bands(f, 65536, 64, SIZE_MAX);
    ASSERT_FALSE(p.is_ok());
    EXPECT_EQ(p.status().code(), ESPCN_ERROR_UNSUPPORTED);
    const std::string m = p.status().message();
    EXPECT_NE(m.find("65536x64 plane is too wide for cuDNN"), std::string::npos) << m;
    EXPECT_NE(m.find("2147483647 (2^31 - 1)"), std::string::npos) << m;
}

TEST(CudaMemory, AHostFrameStagesEveryPlaneTwiceAligned) {
    std::vector<PlaneTask> tasks(3);
    tasks[0].in = espcn_plane{nullptr, 0, 101, 7, 10, 0};   // 202 B rows
    tasks[0].out = espcn_plane{nullptr, 0, 202, 14, 10, 0};
    tasks[1].in = espcn_plane{nullptr, 0, 51, 4, 8, 0};
    tasks[1].out = espcn_plane{nullptr, 0, 101, 7, 8, 0};
    tasks[1].resample = true;
    tasks[2] = tasks[1];
    tasks[2].components = 2;  // interleaved UV
    const StagedFrame s = stage_layout(tasks);
    EXPECT_EQ(s.in_at[0], 0u);
    EXPECT_EQ(s.in_at[1], align_plane(101 * 2 * 7));
    EXPECT_EQ(s.in_at[2], s.in_at[1] + align_plane(51 * 4));
    EXPECT_EQ(s.in_bytes, s.in_at[2] + align_plane(51 * 2 * 4));
    EXPECT_EQ(s.out_at[1], align_plane(202 * 2 * 14));
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(s.in_at[i] % kPlaneAlignment, 0u);
        EXPECT_EQ(s.out_at[i] % kPlaneAlignment, 0u);
    }
    EXPECT_EQ(s.staging_bytes(), 2 * (s.in_bytes + s.out_bytes));
}

TEST(PlanCache, KeepsTheMostRecentlyUsedShapesOnly) {
    LruCache<std::pair<int, int>, int> cache(3);
    cache.put({1, 1}, 1);
    cache.put({2, 2}, 2);
    cache.put({3, 3}, 3);
    ASSERT_NE(cache.find({1, 1}), nullptr);  // now the most recent
    cache.put({4, 4}, 4);                    // drops {2, 2}, the least recent
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_FALSE(cache.contains({2, 2}));
    EXPECT_TRUE(cache.contains({1, 1}));
    EXPECT_TRUE(cache.contains({3, 3}));
    EXPECT_EQ(*cache.find({4, 4}), 4);
    cache.put({3, 3}, 33);  // replaced, not duplicated
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_EQ(*cache.find({3, 3}), 33);
    // A stream whose size changes every frame keeps a bounded cache.
    for (int w = 10; w < 1000; ++w) cache.put({w, w}, w);
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_TRUE(cache.contains({999, 999}));
}

}  // namespace
}  // namespace espcn::cuda
