#include "model_builders.hpp"

#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "imaging/bicubic_resize.hpp"

namespace espcn {

namespace {

using json = nlohmann::json;

constexpr int kMinScale = 2;
constexpr int kMaxScale = 8;  // the loader's limit

// Standard normal samples from std::mt19937 by Box-Muller, written out
// because std::normal_distribution differs between standard libraries and a
// seed should name the same model everywhere.
class NormalSource {
public:
    explicit NormalSource(uint32_t seed) : gen_(seed) {}

    double next() {
        // Uniforms in (0, 1): never 0, so the log is finite.
        const double u1 = (static_cast<double>(gen_()) + 0.5) / 4294967296.0;
        const double u2 = (static_cast<double>(gen_()) + 0.5) / 4294967296.0;
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

private:
    std::mt19937 gen_;
};

// Accumulates layers and tensors in the model format.
class ModelWriter {
public:
    ModelWriter(std::string name, int scale, uint32_t seed, bool f16)
        : name_(std::move(name)), scale_(scale), normal_(seed), f16_(f16) {}

    // He-style initialisation: N(0, 2 / fan_in), bias 0.
    std::vector<float> he_weights(size_t count, double fan_in) {
        const double std_dev = std::sqrt(2.0 / fan_in);
        std::vector<float> w(count);
        for (float &v : w) v = static_cast<float>(normal_.next() * std_dev);
        return w;
    }

    void conv(const std::string &name, int in, int out, int kernel, std::vector<float> weight) {
        layers_.push_back({{"type", "conv"}, {"in", in}, {"out", out}, {"kernel", kernel},
                           {"padding", "same"}, {"weight", name + ".weight"},
                           {"bias", name + ".bias"}});
        tensor(name + ".weight", {out, in, kernel, kernel}, std::move(weight));
        tensor(name + ".bias", {out}, std::vector<float>(out, 0.0f));
    }

    void random_conv(const std::string &name, int in, int out, int kernel) {
        conv(name, in, out, kernel,
             he_weights(static_cast<size_t>(out) * in * kernel * kernel,
                        static_cast<double>(in) * kernel * kernel));
    }

    void activation(const char *type) { layers_.push_back({{"type", type}}); }

    // nn.PReLU(channels) with PyTorch's initial slope.
    void prelu(const std::string &name, int channels) {
        layers_.push_back({{"type", "prelu"}, {"weight", name + ".weight"}});
        tensor(name + ".weight", {channels}, std::vector<float>(channels, 0.25f));
    }

    void pixel_shuffle(ShuffleOrder order) {
        layers_.push_back({{"type", "pixel_shuffle"}, {"scale", scale_},
                           {"order", order == kShuffleCRD ? "crd" : "dcr"}});
    }

    // A random nn.ConvTranspose2d(in, out, kernel, stride=scale, padding,
    // output_padding); weights (in, out, kernel, kernel).
    void random_deconv(const std::string &name, int in, int out, int kernel, int padding,
                       int output_padding) {
        layers_.push_back({{"type", "deconv"}, {"in", in}, {"out", out}, {"kernel", kernel},
                           {"stride", scale_}, {"padding", padding},
                           {"output_padding", output_padding}, {"weight", name + ".weight"},
                           {"bias", name + ".bias"}});
        // Each output pixel sums about in·(kernel/stride)² products.
        const double fan_in = in * std::pow(static_cast<double>(kernel) / scale_, 2);
        tensor(name + ".weight", {in, out, kernel, kernel},
               he_weights(static_cast<size_t>(in) * out * kernel * kernel, fan_in));
        tensor(name + ".bias", {out}, std::vector<float>(out, 0.0f));
    }

    // A network of RGB ("plane": "rgb"), with the nearest residual.
    void rgb_with_residual() { rgb_ = true; }

    BuiltModel finish() {
        json network = {{"name", name_}, {"scale", scale_}, {"plane", rgb_ ? "rgb" : "luma"},
                        {"range", {0.0, 1.0}}, {"layers", layers_}};
        BuiltModel m;
        if (rgb_) {
            network["residual"] = "nearest";
            m.format_version = 2;
        }
        m.name = name_;
        m.network_json = network.dump();
        m.tensors = std::move(tensors_);
        return m;
    }

private:
    void tensor(const std::string &name, std::vector<int64_t> shape, std::vector<float> values) {
        tensors_.push_back({name, std::move(shape), std::move(values),
                            f16_ ? DType::f16 : DType::f32});
    }

    std::string name_;
    int scale_;
    NormalSource normal_;
    bool f16_;
    bool rgb_ = false;
    json layers_ = json::array();
    std::vector<TensorToWrite> tensors_;
};

// Shi et al. 2016: (f1, n1) = (5, 64), (f2, n2) = (3, 32), f3 = 3, tanh.
BuiltModel build_espcn(const ModelSpec &s) {
    const int r = s.scale;
    ModelWriter w(concat("espcn-x", r, "-untrained-seed", s.seed), r, s.seed, s.f16);
    w.random_conv("conv1", 1, 64, 5);
    w.activation("tanh");
    w.random_conv("conv2", 64, 32, 3);
    w.activation("tanh");
    w.random_conv("conv3", 32, r * r, 3);
    w.pixel_shuffle(s.order);
    return w.finish();
}

// FSRCNN(d = 56, s = 12, m = 4), with a stride-r 9×9 deconv whose output is
// exactly r times its input: K − 2p + output_padding = r.
Result<BuiltModel> build_fsrcnn(const ModelSpec &s) {
    const int r = s.scale;
    constexpr int kDeconvKernel = 9;
    // 2p − op = K − r with op in {0, 1}: op is the parity of K − r.
    const int output_padding = (kDeconvKernel - r) % 2 == 0 ? 0 : 1;
    const int padding = (kDeconvKernel - r + output_padding) / 2;
    ESPCN_RETURN_IF(kDeconvKernel - 2 * padding + output_padding != r || padding < 0 ||
                        output_padding >= r,
                    ESPCN_ERROR_INTERNAL, "no deconv padding for x", r);
    ModelWriter w(concat("fsrcnn-x", r, "-untrained-seed", s.seed), r, s.seed, s.f16);
    w.random_conv("feature", 1, 56, 5);
    w.prelu("feature_prelu", 56);
    w.random_conv("shrink", 56, 12, 1);
    w.prelu("shrink_prelu", 12);
    for (int k = 1; k <= 4; ++k) {
        w.random_conv(concat("map", k), 12, 12, 3);
        w.prelu(concat("map", k, "_prelu"), 12);
    }
    w.random_conv("expand", 12, 56, 1);
    w.prelu("expand_prelu", 56);
    w.random_deconv("deconv", 56, 1, kDeconvKernel, padding, output_padding);
    return w.finish();
}

// Output phase (i, j) of LR pixel (y, x) is Σ wy(i, ky)·wx(j, kx)·in(y + ky − 2,
// x + kx − 2): separable bicubic, computed by one 5×5 conv. Zero padding
// instead of edge replication changes only outputs within 2 LR pixels of the
// border.
BuiltModel build_bicubic(const ModelSpec &s) {
    const int r = s.scale;
    constexpr int kKernel = 5;
    ModelWriter w(concat("bicubic-x", r), r, s.seed, s.f16);
    std::vector<float> weight(static_cast<size_t>(r) * r * kKernel * kKernel);
    for (int i = 0; i < r; ++i) {
        const std::array<double, 5> wy = bicubic_upscale_taps(r, i);
        for (int j = 0; j < r; ++j) {
            const std::array<double, 5> wx = bicubic_upscale_taps(r, j);
            const int channel = shuffle_channel(s.order, 0, i, j, r, 1);
            for (int ky = 0; ky < kKernel; ++ky)
                for (int kx = 0; kx < kKernel; ++kx)
                    weight[(static_cast<size_t>(channel) * kKernel + ky) * kKernel + kx] =
                        static_cast<float>(wy[ky] * wx[kx]);
        }
    }
    w.conv("conv", 1, r * r, kKernel, std::move(weight));
    w.pixel_shuffle(s.order);
    return w.finish();
}

// SRVGGNetCompact(num_feat 64, num_conv 16, upscale r, PReLU): realesr-
// animevideov3's shape; the last conv's weights scaled down so the random
// network stays near its residual (the input replicated), as a trained one does.
BuiltModel build_compact(const ModelSpec &s) {
    const int r = s.scale;
    ModelWriter w(concat("compact-x", r, "-untrained-seed", s.seed), r, s.seed, s.f16);
    w.rgb_with_residual();
    w.random_conv("body0", 3, 64, 3);
    w.prelu("body0_prelu", 64);
    for (int k = 1; k <= 16; ++k) {
        w.random_conv(concat("body", k), 64, 64, 3);
        w.prelu(concat("body", k, "_prelu"), 64);
    }
    std::vector<float> last = w.he_weights(static_cast<size_t>(3) * r * r * 64 * 9, 64.0 * 9);
    for (float &v : last) v *= 0.01f;
    w.conv("last", 64, 3 * r * r, 3, std::move(last));
    w.pixel_shuffle(kShuffleCRD);
    return w.finish();
}

// Out (c, Y, X) = in (c, Y div r, X div r): a zero 1x1 conv, the residual.
BuiltModel build_rgb_identity(const ModelSpec &s) {
    const int r = s.scale;
    ModelWriter w(concat("rgb-identity-x", r), r, s.seed, s.f16);
    w.rgb_with_residual();
    w.conv("zero", 3, 3 * r * r, 1, std::vector<float>(static_cast<size_t>(3) * r * r * 3, 0.0f));
    w.pixel_shuffle(s.order);
    return w.finish();
}

}  // namespace

Result<BuiltModel> build_model(const ModelSpec &spec) {
    ESPCN_RETURN_IF(spec.scale < kMinScale || spec.scale > kMaxScale,
                    ESPCN_ERROR_INVALID_ARGUMENT, "scale ", spec.scale, " is outside [",
                    kMinScale, ", ", kMaxScale, "]");
    Result<BuiltModel> model = Status(ESPCN_ERROR_INTERNAL, "unknown architecture");
    switch (spec.arch) {
    case ModelArch::espcn: model = build_espcn(spec); break;
    case ModelArch::fsrcnn: model = build_fsrcnn(spec); break;
    case ModelArch::bicubic: model = build_bicubic(spec); break;
    case ModelArch::compact: model = build_compact(spec); break;
    case ModelArch::rgb_identity: model = build_rgb_identity(spec); break;
    }
    if (model.is_ok()) {
        BuiltModel &m = model.value();
        m.parameters = 0;
        for (const TensorToWrite &t : m.tensors) m.parameters += static_cast<int64_t>(t.values.size());
    }
    return model;
}

std::vector<uint8_t> serialize_model(const BuiltModel &model) {
    return write_safetensors({{"espcn.format", std::to_string(model.format_version)}, {"espcn.network", model.network_json}},
                             model.tensors);
}

}  // namespace espcn
