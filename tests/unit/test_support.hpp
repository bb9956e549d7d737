// Helpers shared by the unit tests: the backends to run, model-file builders,
// random networks, random planes. Everything is seeded; nothing reads
// external data.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/backend.hpp"
#include "core/network.hpp"
#include "core/safetensors.hpp"
#include "espcn/espcn.h"
#include "gpu_test_skip.hpp"

namespace espcn::test {

std::vector<float> random_values(std::mt19937 &rng, size_t n, float scale);

// Builds a model file layer by layer, with random weights.
class ModelBuilder {
public:
    explicit ModelBuilder(int scale, uint32_t seed = 1) : scale_(scale), rng_(seed) {}

    ModelBuilder &conv(int in, int out, int kernel, bool bias = true);
    ModelBuilder &activation(const std::string &type);  // relu, tanh, sigmoid, identity
    ModelBuilder &prelu(int channels);                  // channels = 1: one shared slope
    ModelBuilder &pixel_shuffle(const std::string &order = "crd");
    ModelBuilder &deconv(int in, int out, int kernel, int pad, int output_pad);
    ModelBuilder &dtype(DType t) { dtype_ = t; return *this; }
    ModelBuilder &plane(const std::string &p) { plane_ = p; return *this; }  // "luma" or "rgb"

    nlohmann::json network() const;  // the "espcn.network" JSON
    std::vector<TensorToWrite> &tensors() { return tensors_; }
    // The file, with the network JSON and metadata as given (tests mutate them).
    std::vector<uint8_t> bytes() const { return bytes_with(network()); }
    std::vector<uint8_t> bytes_with(const nlohmann::json &net,
                                    const std::string &format_version = "1") const;

private:
    std::string add_tensor(std::vector<int64_t> shape, float scale);
    int scale_;
    std::mt19937 rng_;
    DType dtype_ = DType::f32;
    std::string plane_ = "luma";
    nlohmann::json layers_ = nlohmann::json::array();
    std::vector<TensorToWrite> tensors_;
};

// The paper's ESPCN (5×5×64 → 3×3×32 → 3×3×r², tanh) with random weights.
ModelBuilder espcn_paper_model(int scale, uint32_t seed);

// FSRCNN as shipped (weights/fsrcnn-x*: d = 56, s = 12, m = 4), random
// weights: 5×5 1→d, 1×1 d→s, m 3×3 s→s, 1×1 s→d, a PReLU after each (one
// slope per channel; with shared_slope the 3×3 layers' PReLUs share one), a
// 9×9 deconvolution (stride r, padding 4 at x2, 3 at x3 and x4).
ModelBuilder fsrcnn_model(int scale, uint32_t seed, int d = 56, int s = 12, int m = 4,
                          bool shared_slope = false);

// LRNet as shipped (weights/lrnet-x*; MODELS.md), random weights: 5×5 1→f,
// `middle` 3×3 f→f (8 at x2 and x3, 7 at x4), 5×5 f→r², a PReLU after each
// hidden conv, the pixel shuffle. with_nearest_residual() gives its file with
// the global residual the shipped models have.
ModelBuilder lrnet_model(int scale, uint32_t seed, int middle = 8, int f = 16);

// The builder's file with "residual": "nearest" (FORMAT.md, format "2").
std::vector<uint8_t> with_nearest_residual(const ModelBuilder &b);

// ESPCN_PARAMS_DEFAULT_INIT with `model` (a file's bytes, not copied: keep
// them alive until espcn_create() returns) as model_data and `backend`.
inline espcn_params params_of(const std::vector<uint8_t> &model,
                              espcn_backend backend = ESPCN_BACKEND_AUTO) {
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    p.model_data = model.data();
    p.model_size = model.size();
    p.backend = backend;
    return p;
}

// Owns a context: destroyed at the end of the scope.
struct Context {
    espcn_context *ctx = nullptr;
    Context() = default;
    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;
    ~Context() { espcn_destroy(&ctx); }
};

// A model file (or builder) loaded and validated, or a test failure.
std::shared_ptr<const Network> load(const std::vector<uint8_t> &file);
std::shared_ptr<const Network> load(const ModelBuilder &b);

// Every backend of the backend table (core/backend_registry.hpp), in its
// order, each probed once by making it on a small network: `unusable` says
// why it cannot run here (not built in, no device, ...), empty when it can.
// Tests that run over backends take their list from here and skip, with that
// reason, the ones this machine cannot run.
struct BackendCase {
    espcn_backend kind = ESPCN_BACKEND_REFERENCE;
    std::string name;      // espcn_backend_name(), '-' → '_' (a GoogleTest name)
    bool gpu = false;      // a GPU backend (the table's word)
    std::string unusable;  // empty: usable here
};
inline void PrintTo(const BackendCase &c, std::ostream *os) { *os << c.name; }
const std::vector<BackendCase> &all_backends();
// The CPU ones (tests of CPU-only behaviour: frame depth 1, bands, fp32).
std::vector<BackendCase> cpu_backends();
// For INSTANTIATE_TEST_SUITE_P(..., testing::ValuesIn(all_backends()), backend_case_name).
std::string backend_case_name(const testing::TestParamInfo<BackendCase> &info);
// A test suite over backends: `class Suite : public test::BackendTest {};`,
// then INSTANTIATE_TEST_SUITE_P over all_backends() or cpu_backends(); each
// test skips, with the reason, on a backend that cannot run here.
class BackendTest : public testing::TestWithParam<BackendCase> {
protected:
    void SetUp() override;
};
// Makes backend `kind` through the table, fp32 (the CPU oracle's arithmetic).
Result<std::unique_ptr<Backend>> make_backend_fp32(espcn_backend kind,
                                                   std::shared_ptr<const Network> net,
                                                   int threads = 2);

// A random LR network for backend comparisons: 1..3 hidden convs of kernel
// 1/3/5, random activations (PReLU included), the given shuffle order, of
// `channels` image channels (1: luma; 3: RGB).
Network random_network(std::mt19937 &rng, int scale, ShuffleOrder order, int channels = 1);

// SRVGGNetCompact (Real-ESRGAN's compact family: animevideov3 is f = 64,
// body = 16, x4) with random weights: 3×3 3→f + PReLU(f), `body` × [3×3
// f→f + PReLU(f)], 3×3 f→3r², PixelShuffle (CRD), the nearest residual.
std::vector<uint8_t> compact_rgb_model(int scale, uint32_t seed, int body, int f = 64);

// An 8..16-bit plane with random content in a padded, optionally bottom-up buffer.
struct TestPlane {
    std::vector<uint8_t> storage;
    espcn_plane plane{};
    uint32_t at(int x, int y) const;
};
TestPlane make_plane(int w, int h, int bits, std::mt19937 *rng, bool bottom_up = false,
                     int extra_stride_bytes = 7);

// Sample-by-sample difference of two planes of the same size.
struct PlaneDiff {
    uint32_t max = 0;
    size_t differing = 0;
    size_t total = 0;
};
PlaneDiff compare_planes(const TestPlane &a, const TestPlane &b);

// PyTorch ConvTranspose2d straight from its definition (double accumulation);
// input CHW of H×W, output CHW of Ho×Wo.
std::vector<double> direct_transposed_conv(const DeconvLayer &d, const std::vector<float> &in,
                                           int H, int W, int &Ho, int &Wo);

}  // namespace espcn::test

// Skips the running test, naming the backend and why, when it cannot run
// here (a GPU backend as gpu_test_skip.hpp says: a failure with
// ESPCN_GPU_REQUIRED=1).
#define ESPCN_SKIP_UNUSABLE(backend_case)                                                     \
    do {                                                                                      \
        const ::espcn::test::BackendCase &espcn_case_ = (backend_case);                       \
        if (espcn_case_.unusable.empty()) break;                                              \
        if (espcn_case_.gpu)                                                                  \
            ESPCN_GPU_SKIP(espcn_case_.name << " cannot run here: " << espcn_case_.unusable); \
        GTEST_SKIP() << espcn_case_.name << " cannot run here: " << espcn_case_.unusable;     \
    } while (0)
