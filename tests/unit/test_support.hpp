// Helpers shared by the unit tests: model-file builders, random networks,
// random planes. Everything is seeded; nothing reads external data.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/network.hpp"
#include "core/safetensors.hpp"
#include "espcn/espcn.h"

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
    nlohmann::json layers_ = nlohmann::json::array();
    std::vector<TensorToWrite> tensors_;
};

// The paper's ESPCN (5×5×64 → 3×3×32 → 3×3×r², tanh) with random weights.
ModelBuilder espcn_paper_model(int scale, uint32_t seed);

// A random LR network for backend comparisons: 1..3 hidden convs of kernel
// 1/3/5, random activations (PReLU included), the given shuffle order.
Network random_network(std::mt19937 &rng, int scale, ShuffleOrder order);

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
