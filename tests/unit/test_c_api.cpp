// The C API contract: argument checks, create/destroy, errors, logging, info,
// and thread safety of distinct contexts.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "test_support.hpp"

namespace espcn {
namespace {

using test::Context;

std::vector<uint8_t> model_bytes(int scale = 2) {
    test::ModelBuilder b(scale, 9);
    b.conv(1, 8, 3).activation("tanh").conv(8, scale * scale, 3).pixel_shuffle();
    return b.bytes();
}

espcn_status create(const std::vector<uint8_t> &model, espcn_backend backend, espcn_context **out,
                    espcn_log_fn log = nullptr, void *opaque = nullptr) {
    espcn_params p = test::params_of(model, backend);
    p.log_callback = log;
    p.log_opaque = opaque;
    p.log_level = ESPCN_LOG_DEBUG;
    return espcn_create(&p, out);
}

TEST(CApi, DestroyNullsThePointerAndAcceptsNull) {
    const auto m = model_bytes();
    espcn_context *ctx = nullptr;
    ASSERT_EQ(create(m, ESPCN_BACKEND_REFERENCE, &ctx), ESPCN_OK) << espcn_last_error();
    ASSERT_NE(ctx, nullptr);
    espcn_destroy(&ctx);
    EXPECT_EQ(ctx, nullptr);
    espcn_destroy(&ctx);
    espcn_destroy(nullptr);
}

TEST(CApi, RejectsBadParams) {
    espcn_context *ctx = nullptr;
    EXPECT_EQ(espcn_create(nullptr, &ctx), ESPCN_ERROR_INVALID_ARGUMENT);
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_ERROR_INVALID_ARGUMENT);  // no model at all
    EXPECT_NE(std::string(espcn_last_error()).find("exactly one"), std::string::npos);
    const auto m = model_bytes();
    p.model_data = m.data();
    p.model_size = m.size();
    p.model_path = "x";
    EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_ERROR_INVALID_ARGUMENT);  // both
    p.model_path = nullptr;
    p.threads = -1;
    EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_ERROR_INVALID_ARGUMENT);
    p.threads = 0;
    p.backend = static_cast<espcn_backend>(42);
    EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_create(&p, nullptr), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(ctx, nullptr);
}

TEST(CApi, ProcessRejectsBadPlanes) {
    const auto m = model_bytes(2);
    Context c;
    ASSERT_EQ(create(m, ESPCN_BACKEND_REFERENCE, &c.ctx), ESPCN_OK);
    std::mt19937 rng(1);
    test::TestPlane in = test::make_plane(9, 7, 8, &rng);
    test::TestPlane out = test::make_plane(18, 14, 8, nullptr);
    ASSERT_EQ(espcn_process_plane(c.ctx, &in.plane, &out.plane), ESPCN_OK) << espcn_last_error();

    test::TestPlane wrong = test::make_plane(18, 15, 8, nullptr);
    EXPECT_EQ(espcn_process_plane(c.ctx, &in.plane, &wrong.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("makes 18x14"), std::string::npos)
        << espcn_last_error();
    EXPECT_EQ(espcn_process_plane(nullptr, &in.plane, &out.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_process_plane(c.ctx, nullptr, &out.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_process_plane(c.ctx, &in.plane, nullptr), ESPCN_ERROR_INVALID_ARGUMENT);

    espcn_plane bad = in.plane;
    bad.data = nullptr;
    EXPECT_EQ(espcn_process_plane(c.ctx, &bad, &out.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    bad = in.plane;
    bad.bit_depth = 7;
    EXPECT_EQ(espcn_process_plane(c.ctx, &bad, &out.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    bad.bit_depth = 17;
    EXPECT_EQ(espcn_process_plane(c.ctx, &bad, &out.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    bad = in.plane;
    bad.stride = 8;  // shorter than a 9-pixel row
    EXPECT_EQ(espcn_process_plane(c.ctx, &bad, &out.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    bad = in.plane;
    bad.width = 0;
    EXPECT_EQ(espcn_process_plane(c.ctx, &bad, &out.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    bad = in.plane;
    bad.bit_depth = 10;  // 2 bytes a sample: the 16-byte stride is now too short
    EXPECT_EQ(espcn_process_plane(c.ctx, &bad, &out.plane), ESPCN_ERROR_INVALID_ARGUMENT);
    // The context still works after all of that.
    EXPECT_EQ(espcn_process_plane(c.ctx, &in.plane, &out.plane), ESPCN_OK);
    EXPECT_STREQ(espcn_last_error(), "");
}

TEST(CApi, ModelInfoDescribesTheNetwork) {
    const auto m = model_bytes(3);
    Context c;
    ASSERT_EQ(create(m, ESPCN_BACKEND_REFERENCE, &c.ctx), ESPCN_OK);
    espcn_model_info info{};
    ASSERT_EQ(espcn_get_model_info(c.ctx, &info), ESPCN_OK);
    EXPECT_STREQ(info.name, "test-x3");
    EXPECT_EQ(info.scale, 3);
    EXPECT_EQ(info.in_channels, 1);
    EXPECT_EQ(info.out_channels, 1);
    EXPECT_EQ(info.num_convs, 2);
    EXPECT_EQ(info.receptive_radius, 2);
    EXPECT_DOUBLE_EQ(info.macs_per_lr_pixel, 3 * 3 * 8 + 3 * 3 * 8 * 9);
    EXPECT_EQ(info.upsampler, ESPCN_UPSAMPLER_PIXEL_SHUFFLE);
    EXPECT_EQ(info.backend, ESPCN_BACKEND_REFERENCE);
    EXPECT_EQ(espcn_get_model_info(c.ctx, nullptr), ESPCN_ERROR_INVALID_ARGUMENT);
}

TEST(CApi, LogCallbackReceivesErrorsAndInfo) {
    std::vector<std::pair<espcn_log_level, std::string>> got;
    auto cb = [](void *opaque, espcn_log_level level, const char *msg) {
        static_cast<decltype(got) *>(opaque)->emplace_back(level, msg);
    };
    auto m = model_bytes();
    espcn_context *ctx = nullptr;
    ASSERT_EQ(create(m, ESPCN_BACKEND_REFERENCE, &ctx, cb, &got), ESPCN_OK);
    espcn_destroy(&ctx);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back().first, ESPCN_LOG_INFO);
    EXPECT_NE(got.back().second.find("backend reference"), std::string::npos) << got.back().second;
    got.clear();
    m.resize(20);
    EXPECT_NE(create(m, ESPCN_BACKEND_REFERENCE, &ctx, cb, &got), ESPCN_OK);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].first, ESPCN_LOG_ERROR);
    EXPECT_EQ(got[0].second, espcn_last_error());
}

TEST(CApi, NamesAndVersion) {
    EXPECT_STREQ(espcn_backend_name(ESPCN_BACKEND_ONEDNN), "onednn");
    EXPECT_STREQ(espcn_backend_name(ESPCN_BACKEND_CPU_FAST), "cpu-fast");
    EXPECT_STREQ(espcn_status_string(ESPCN_ERROR_MODEL), "malformed model");
    EXPECT_STREQ(espcn_status_string(static_cast<espcn_status>(99)), "unknown status");
    EXPECT_STREQ(espcn_version(), "0.1.0");
    EXPECT_EQ(espcn_backend_available(ESPCN_BACKEND_REFERENCE), 1);
}

TEST(CApi, AutoPicksTheFastestCpuBackendBuiltIn) {
    const auto m = model_bytes();
    Context c;
    ASSERT_EQ(create(m, ESPCN_BACKEND_AUTO, &c.ctx), ESPCN_OK);
    espcn_model_info info{};
    ASSERT_EQ(espcn_get_model_info(c.ctx, &info), ESPCN_OK);
    // The GPU where one is usable (a CUDA build on a GPU machine, e.g.
    // scripts/gpu_check.sh --run), else cpu-fast where the CPU has a vector
    // unit it has kernels for, else oneDNN if built in, else the reference.
    EXPECT_EQ(info.backend, espcn_backend_available(ESPCN_BACKEND_CUDA)       ? ESPCN_BACKEND_CUDA
                            : espcn_backend_available(ESPCN_BACKEND_CPU_FAST) ? ESPCN_BACKEND_CPU_FAST
                            : espcn_backend_available(ESPCN_BACKEND_ONEDNN)   ? ESPCN_BACKEND_ONEDNN
                                                                              : ESPCN_BACKEND_REFERENCE);
}

// Distinct contexts on distinct threads give the same result as one thread.
TEST(CApi, DistinctContextsRunConcurrently) {
    const auto m = model_bytes(2);
    std::mt19937 rng(4);
    test::TestPlane in = test::make_plane(23, 17, 8, &rng);
    test::TestPlane expect = test::make_plane(46, 34, 8, nullptr);
    {
        Context c;
        ASSERT_EQ(create(m, ESPCN_BACKEND_AUTO, &c.ctx), ESPCN_OK);
        ASSERT_EQ(espcn_process_plane(c.ctx, &in.plane, &expect.plane), ESPCN_OK);
    }
    std::vector<test::TestPlane> outs;
    for (int t = 0; t < 4; ++t) outs.push_back(test::make_plane(46, 34, 8, nullptr));
    std::vector<std::thread> threads;
    std::vector<espcn_status> status(4, ESPCN_ERROR_INTERNAL);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            Context c;
            status[t] = create(m, ESPCN_BACKEND_AUTO, &c.ctx);
            for (int rep = 0; rep < 3 && status[t] == ESPCN_OK; ++rep)
                status[t] = espcn_process_plane(c.ctx, &in.plane, &outs[t].plane);
        });
    for (auto &th : threads) th.join();
    for (int t = 0; t < 4; ++t) {
        ASSERT_EQ(status[t], ESPCN_OK);
        for (int y = 0; y < 34; ++y)
            for (int x = 0; x < 46; ++x) ASSERT_EQ(outs[t].at(x, y), expect.at(x, y));
    }
}

// The defaults macro fills every field, by name (C99 / C++20) or position.
TEST(CApi, DefaultParamsAreTheDocumentedDefaults) {
    const espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    EXPECT_EQ(p.model_path, nullptr);
    EXPECT_EQ(p.model_data, nullptr);
    EXPECT_EQ(p.model, nullptr);
    EXPECT_EQ(p.backend, ESPCN_BACKEND_AUTO);
    EXPECT_EQ(p.log_level, ESPCN_LOG_WARNING);
    EXPECT_EQ(p.precision, ESPCN_PRECISION_AUTO);
    EXPECT_EQ(p.memory_budget, 0u);  // ESPCN_DEFAULT_MEMORY_BUDGET
    EXPECT_EQ(p.cancel_callback, nullptr);
    EXPECT_EQ(ESPCN_DEFAULT_MEMORY_BUDGET, size_t{512} << 20);
}

// A model read once serves any number of contexts, which keep it alive.
TEST(CApi, LoadedModelIsSharedAndOutlivesItsHandle) {
    const auto m = model_bytes(3);
    espcn_params lp = test::params_of(m);
    espcn_model *model = reinterpret_cast<espcn_model *>(0x1);
    ASSERT_EQ(espcn_model_load(&lp, &model), ESPCN_OK) << espcn_last_error();
    espcn_model_info info{};
    ASSERT_EQ(espcn_model_get_info(model, &info), ESPCN_OK);
    EXPECT_EQ(info.scale, 3);
    EXPECT_EQ(info.backend, ESPCN_BACKEND_AUTO);

    Context a, b;
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    p.model = model;
    p.backend = ESPCN_BACKEND_REFERENCE;
    ASSERT_EQ(espcn_create(&p, &a.ctx), ESPCN_OK) << espcn_last_error();
    p.backend = ESPCN_BACKEND_AUTO;
    ASSERT_EQ(espcn_create(&p, &b.ctx), ESPCN_OK) << espcn_last_error();
    espcn_model_release(&model);
    EXPECT_EQ(model, nullptr);
    espcn_model_release(&model);  // NULL is fine
    espcn_model_release(nullptr);

    std::mt19937 rng(5);
    test::TestPlane in = test::make_plane(7, 5, 8, &rng);
    test::TestPlane out_a = test::make_plane(21, 15, 8, nullptr);
    test::TestPlane out_b = test::make_plane(21, 15, 8, nullptr);
    ASSERT_EQ(espcn_process_plane(a.ctx, &in.plane, &out_a.plane), ESPCN_OK);
    ASSERT_EQ(espcn_process_plane(b.ctx, &in.plane, &out_b.plane), ESPCN_OK);

    // Exactly one model source.
    Context c;
    espcn_params both = ESPCN_PARAMS_DEFAULT_INIT;
    ASSERT_EQ(espcn_model_load(&lp, &model), ESPCN_OK);
    both.model = model;
    both.model_data = m.data();
    both.model_size = m.size();
    EXPECT_EQ(espcn_create(&both, &c.ctx), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(espcn_last_error()).find("exactly one of model_path, model_data and model"),
              std::string::npos);
    lp.model = model;  // a loaded model is not a source for espcn_model_load
    espcn_model *again = nullptr;
    EXPECT_EQ(espcn_model_load(&lp, &again), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(again, nullptr);
    espcn_model_release(&model);
    EXPECT_EQ(espcn_model_load(nullptr, &again), ESPCN_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(espcn_model_get_info(nullptr, &info), ESPCN_ERROR_INVALID_ARGUMENT);
}

struct Countdown {
    int polls_left;
    int polls = 0;
};

int cancel_when_done(void *opaque) {
    auto *c = static_cast<Countdown *>(opaque);
    ++c->polls;
    return c->polls_left-- <= 0;
}

// The cancel callback is asked between bands and layers (cpu-fast: every few
// rows of a work item); once it says stop, the call returns
// ESPCN_ERROR_CANCELLED, and the next call runs normally.
// Every CPU backend (test::cpu_backends(); the cuda backend asks once per
// plane, a GPU submission, not between layers).
class CpuBackends : public test::BackendTest {};

INSTANTIATE_TEST_SUITE_P(Cpu, CpuBackends, testing::ValuesIn(test::cpu_backends()),
                         test::backend_case_name);

TEST_P(CpuBackends, CancelCallbackStopsAPlaneBetweenBandsAndLayers) {
    const auto m = test::espcn_paper_model(2, 11).bytes();
    std::mt19937 rng(6);
    test::TestPlane in = test::make_plane(32, 160, 8, &rng);
    test::TestPlane out = test::make_plane(64, 320, 8, nullptr);
    const espcn_backend backend = GetParam().kind;
    {
        for (int stop_after : {0, 1, 5}) {
            Countdown countdown{stop_after};
            espcn_params p = test::params_of(m, backend);
            p.threads = 1;
            // reference/onednn: bands of a few dozen rows. cpu-fast streams
            // full-height strips whose memory does not depend on the height;
            // with 24-accumulator blocking (NEON, AVX-512) its narrowest strips
            // of this model need 526,176 bytes (measured on aarch64 under qemu).
            p.memory_budget = backend == ESPCN_BACKEND_CPU_FAST ? size_t{1} << 20 : size_t{512} << 10;
            p.cancel_callback = cancel_when_done;
            p.cancel_opaque = &countdown;
            Context c;
            ASSERT_EQ(espcn_create(&p, &c.ctx), ESPCN_OK) << espcn_last_error();
            EXPECT_EQ(espcn_process_plane(c.ctx, &in.plane, &out.plane), ESPCN_ERROR_CANCELLED)
                << espcn_backend_name(backend) << " stop after " << stop_after;
            EXPECT_EQ(countdown.polls, stop_after + 1);  // stopped at the first "yes"
            EXPECT_NE(std::string(espcn_last_error()).find("cancel"), std::string::npos);
            countdown.polls_left = 1 << 30;
            EXPECT_EQ(espcn_process_plane(c.ctx, &in.plane, &out.plane), ESPCN_OK);
            EXPECT_GT(countdown.polls, stop_after + 1 + 4);  // asked many times on the way
        }
    }
    EXPECT_STREQ(espcn_status_string(ESPCN_ERROR_CANCELLED), "cancelled");
}

}  // namespace
}  // namespace espcn
