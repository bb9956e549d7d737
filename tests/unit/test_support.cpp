#include "test_support.hpp"

#include <algorithm>
#include <cstring>

#include "core/backend_registry.hpp"
#include "core/model_loader.hpp"

namespace espcn::test {

std::vector<float> random_values(std::mt19937 &rng, size_t n, float scale) {
    std::uniform_real_distribution<float> d(-scale, scale);
    std::vector<float> v(n);
    for (float &x : v) x = d(rng);
    return v;
}

std::string ModelBuilder::add_tensor(std::vector<int64_t> shape, float scale) {
    const std::string name = "t" + std::to_string(tensors_.size());
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    tensors_.push_back({name, std::move(shape), random_values(rng_, n, scale), dtype_});
    return name;
}

ModelBuilder &ModelBuilder::conv(int in, int out, int kernel, bool bias) {
    const float s = 1.0f / std::sqrt(static_cast<float>(in * kernel * kernel));
    nlohmann::json l = {{"type", "conv"}, {"in", in}, {"out", out}, {"kernel", kernel},
                        {"padding", "same"}, {"weight", add_tensor({out, in, kernel, kernel}, s)}};
    l["bias"] = bias ? nlohmann::json(add_tensor({out}, 0.1f)) : nlohmann::json(nullptr);
    layers_.push_back(l);
    return *this;
}

ModelBuilder &ModelBuilder::activation(const std::string &type) {
    layers_.push_back({{"type", type}});
    return *this;
}

ModelBuilder &ModelBuilder::prelu(int channels) {
    layers_.push_back({{"type", "prelu"}, {"weight", add_tensor({channels}, 0.5f)}});
    return *this;
}

ModelBuilder &ModelBuilder::pixel_shuffle(const std::string &order) {
    layers_.push_back({{"type", "pixel_shuffle"}, {"scale", scale_}, {"order", order}});
    return *this;
}

ModelBuilder &ModelBuilder::deconv(int in, int out, int kernel, int pad, int output_pad) {
    const float s = 1.0f / std::sqrt(static_cast<float>(in * kernel * kernel / (scale_ * scale_) + 1));
    layers_.push_back({{"type", "deconv"}, {"in", in}, {"out", out}, {"kernel", kernel},
                       {"stride", scale_}, {"padding", pad}, {"output_padding", output_pad},
                       {"weight", add_tensor({in, out, kernel, kernel}, s)},
                       {"bias", add_tensor({out}, 0.1f)}});
    return *this;
}

nlohmann::json ModelBuilder::network() const {
    return {{"name", "test-x" + std::to_string(scale_)}, {"scale", scale_}, {"plane", plane_},
            {"range", {0.0, 1.0}}, {"layers", layers_}};
}

std::vector<uint8_t> ModelBuilder::bytes_with(const nlohmann::json &net,
                                              const std::string &format_version) const {
    return write_safetensors({{"espcn.format", format_version}, {"espcn.network", net.dump()}},
                             tensors_);
}

ModelBuilder espcn_paper_model(int scale, uint32_t seed) {
    ModelBuilder b(scale, seed);
    b.conv(1, 64, 5).activation("tanh").conv(64, 32, 3).activation("tanh")
        .conv(32, scale * scale, 3).pixel_shuffle();
    return b;
}

Network random_network(std::mt19937 &rng, int scale, ShuffleOrder order, int channels) {
    Network n;
    n.name = "random";
    n.scale = scale;
    n.order = order;
    n.in_channels = n.out_channels = channels;
    std::uniform_int_distribution<int> hidden(1, 3), kpick(0, 2), chans(1, 12), actpick(0, 4);
    const int kernels[] = {1, 3, 5};
    int in = channels;
    const int layers = hidden(rng) + 1;
    for (int k = 0; k < layers; ++k) {
        ConvLayer c;
        c.in_channels = in;
        c.out_channels = k + 1 == layers ? channels * scale * scale : chans(rng);
        c.kernel = kernels[kpick(rng)];
        const float s = 1.5f / std::sqrt(static_cast<float>(c.in_channels * c.kernel * c.kernel));
        c.weight = random_values(rng, static_cast<size_t>(c.out_channels) * c.in_channels *
                                          c.kernel * c.kernel, s);
        c.bias = random_values(rng, c.out_channels, 0.2f);
        for (float &b : c.bias) b += 0.3f;  // keep outputs around mid-grey
        c.activation = static_cast<Activation>(actpick(rng));
        if (c.activation == Activation::prelu) c.prelu_slope = random_values(rng, c.out_channels, 0.5f);
        in = c.out_channels;
        n.convs.push_back(std::move(c));
    }
    return n;
}

uint32_t TestPlane::at(int x, int y) const {
    const uint8_t *row = static_cast<const uint8_t *>(plane.data) + static_cast<ptrdiff_t>(y) * plane.stride;
    if (plane.bit_depth == 8) return row[x];
    uint16_t v;
    std::memcpy(&v, row + 2 * x, 2);
    return v;
}

TestPlane make_plane(int w, int h, int bits, std::mt19937 *rng, bool bottom_up,
                     int extra_stride_bytes) {
    TestPlane p;
    const int bps = bits > 8 ? 2 : 1;
    const ptrdiff_t stride = static_cast<ptrdiff_t>(w) * bps + extra_stride_bytes * bps;
    p.storage.assign(static_cast<size_t>(stride) * h, 0xAB);  // padding holds junk
    uint8_t *base = p.storage.data();
    p.plane.width = w;
    p.plane.height = h;
    p.plane.bit_depth = bits;
    p.plane.stride = bottom_up ? -stride : stride;
    p.plane.data = bottom_up ? base + static_cast<ptrdiff_t>(h - 1) * stride : base;
    if (rng) {
        std::uniform_int_distribution<uint32_t> d(0, (1u << bits) - 1);
        for (int y = 0; y < h; ++y) {
            uint8_t *row = static_cast<uint8_t *>(p.plane.data) + static_cast<ptrdiff_t>(y) * p.plane.stride;
            for (int x = 0; x < w; ++x) {
                const uint32_t v = d(*rng);
                if (bps == 1) row[x] = static_cast<uint8_t>(v);
                else {
                    const uint16_t s = static_cast<uint16_t>(v);
                    std::memcpy(row + 2 * x, &s, 2);
                }
            }
        }
    }
    return p;
}

PlaneDiff compare_planes(const TestPlane &a, const TestPlane &b) {
    PlaneDiff d;
    for (int y = 0; y < a.plane.height; ++y)
        for (int x = 0; x < a.plane.width; ++x) {
            const uint32_t u = a.at(x, y), v = b.at(x, y);
            const uint32_t e = u > v ? u - v : v - u;
            d.max = std::max(d.max, e);
            d.differing += e != 0;
            ++d.total;
        }
    return d;
}

// PyTorch ConvTranspose2d, directly from its definition: input (i, h, w)
// with tap (ky, kx) adds to output (o, h·r − p + ky, w·r − p + kx).
std::vector<double> direct_transposed_conv(const DeconvLayer &d, const std::vector<float> &in,
                                           int H, int W, int &Ho, int &Wo) {
    Ho = static_cast<int>(d.output_size(H));
    Wo = static_cast<int>(d.output_size(W));
    std::vector<double> out(static_cast<size_t>(d.out_channels) * Ho * Wo);
    for (int o = 0; o < d.out_channels; ++o)
        for (size_t k = 0; k < static_cast<size_t>(Ho) * Wo; ++k) out[o * Ho * Wo + k] = d.bias[o];
    for (int i = 0; i < d.in_channels; ++i)
        for (int h = 0; h < H; ++h)
            for (int w = 0; w < W; ++w)
                for (int o = 0; o < d.out_channels; ++o)
                    for (int ky = 0; ky < d.kernel; ++ky)
                        for (int kx = 0; kx < d.kernel; ++kx) {
                            const int y = h * d.stride - d.pad + ky, x = w * d.stride - d.pad + kx;
                            if (y < 0 || y >= Ho || x < 0 || x >= Wo) continue;
                            out[(static_cast<size_t>(o) * Ho + y) * Wo + x] +=
                                static_cast<double>(in[(static_cast<size_t>(i) * H + h) * W + w]) *
                                d.w(i, o, ky, kx);
                        }
    return out;
}

ModelBuilder fsrcnn_model(int scale, uint32_t seed, int d, int s, int m, bool shared_slope) {
    ModelBuilder b(scale, seed);
    b.conv(1, d, 5).prelu(d).conv(d, s, 1).prelu(s);
    for (int k = 0; k < m; ++k) b.conv(s, s, 3).prelu(shared_slope ? 1 : s);
    b.conv(s, d, 1).prelu(d).deconv(d, 1, 9, scale == 2 ? 4 : 3, scale == 3 ? 0 : 1);
    return b;
}

ModelBuilder lrnet_model(int scale, uint32_t seed, int middle, int f) {
    ModelBuilder b(scale, seed);
    b.conv(1, f, 5).prelu(f);
    for (int k = 0; k < middle; ++k) b.conv(f, f, 3).prelu(f);
    b.conv(f, scale * scale, 5).pixel_shuffle();
    return b;
}

std::vector<uint8_t> compact_rgb_model(int scale, uint32_t seed, int body, int f) {
    ModelBuilder b(scale, seed);
    b.plane("rgb").conv(3, f, 3).prelu(f);
    for (int k = 0; k < body; ++k) b.conv(f, f, 3).prelu(f);
    b.conv(f, 3 * scale * scale, 3).pixel_shuffle("crd");
    return with_nearest_residual(b);
}

std::vector<uint8_t> with_nearest_residual(const ModelBuilder &b) {
    nlohmann::json net = b.network();
    net["residual"] = "nearest";
    return b.bytes_with(net, "2");
}

std::shared_ptr<const Network> load(const std::vector<uint8_t> &bytes) {
    Result<SafetensorsFile> file = SafetensorsFile::parse(bytes);
    EXPECT_TRUE(file.is_ok()) << file.status().message();
    if (!file.is_ok()) return nullptr;
    Result<Network> loaded = load_network(file.value(), Logger());
    EXPECT_TRUE(loaded.is_ok()) << loaded.status().message();
    if (!loaded.is_ok()) return nullptr;
    return std::make_shared<const Network>(std::move(loaded).value());
}

std::shared_ptr<const Network> load(const ModelBuilder &b) { return load(b.bytes()); }

Result<std::unique_ptr<Backend>> make_backend_fp32(espcn_backend kind, std::shared_ptr<const Network> net,
                                                   int threads) {
    BackendConfig cfg;
    cfg.threads = threads;
    cfg.precision = ESPCN_PRECISION_FP32;
    return make_backend(kind, std::move(net), cfg);
}

const std::vector<BackendCase> &all_backends() {
    static const std::vector<BackendCase> cases = [] {
        // A small x2 network to probe each backend with.
        const std::shared_ptr<const Network> probe = load(espcn_paper_model(2, 1).bytes());
        std::vector<BackendCase> v;
        for (const BackendEntry &e : backend_table()) {
            BackendCase c;
            c.kind = e.kind;
            c.name = e.name;
            std::replace(c.name.begin(), c.name.end(), '-', '_');
            c.gpu = e.gpu;
            Result<std::unique_ptr<Backend>> made = make_backend_fp32(e.kind, probe, 1);
            if (!made.is_ok()) c.unusable = made.status().message();
            v.push_back(c);
        }
        return v;
    }();
    return cases;
}

std::vector<BackendCase> cpu_backends() {
    std::vector<BackendCase> v;
    for (const BackendCase &c : all_backends())
        if (!c.gpu) v.push_back(c);
    return v;
}

std::string backend_case_name(const testing::TestParamInfo<BackendCase> &info) { return info.param.name; }

void BackendTest::SetUp() { ESPCN_SKIP_UNUSABLE(GetParam()); }

}  // namespace espcn::test
