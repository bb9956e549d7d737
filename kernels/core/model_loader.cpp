#include "model_loader.hpp"

#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "deconv_conversion.hpp"
#include "deconv_taps.hpp"
#include "json_limits.hpp"

namespace espcn {

using json = nlohmann::json;

namespace {

constexpr const char *kFormatKey = "espcn.format";
constexpr const char *kNetworkKey = "espcn.network";
// "2" = "1" + the network's "residual" field; a file with a residual says "2",
// so engines that predate it refuse the file instead of ignoring the field.
constexpr const char *kFormatVersion = "1";
constexpr const char *kFormatVersionResidual = "2";

Status get_int(const json &obj, const char *key, int lo, int hi, int &out) {
    const auto it = obj.find(key);
    ESPCN_RETURN_IF(it == obj.end(), ESPCN_ERROR_MODEL, "missing '", key, "'");
    ESPCN_RETURN_IF(!it->is_number_integer(), ESPCN_ERROR_MODEL, "'", key,
                    "' must be an integer");
    // Above INT64_MAX the value is only representable unsigned: say it as written.
    ESPCN_RETURN_IF(it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(hi),
                    ESPCN_ERROR_MODEL, "'", key, "' = ", it->get<uint64_t>(), " is outside [", lo,
                    ", ", hi, "]");
    const int64_t v = it->get<int64_t>();
    ESPCN_RETURN_IF(v < lo || v > hi, ESPCN_ERROR_MODEL, "'", key, "' = ", v,
                    " is outside [", lo, ", ", hi, "]");
    out = static_cast<int>(v);
    return Status::ok();
}

Status get_string(const json &obj, const char *key, std::string &out) {
    const auto it = obj.find(key);
    ESPCN_RETURN_IF(it == obj.end() || !it->is_string(), ESPCN_ERROR_MODEL, "missing string '",
                    key, "'");
    out = it->get<std::string>();
    return Status::ok();
}

// Optional tensor name: absent or null means "none".
Status get_optional_name(const json &obj, const char *key, std::optional<std::string> &out) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return Status::ok();
    ESPCN_RETURN_IF(!it->is_string(), ESPCN_ERROR_MODEL, "'", key,
                    "' must be a tensor name or null");
    out = it->get<std::string>();
    return Status::ok();
}

// Counts the parameters the loader materialises as fp32, against
// kMaxParameters, before each allocation: a tensor named by many layers is
// converted once per layer, so a small file cannot ask for unbounded memory.
class ParameterBudget {
public:
    Status take(int64_t count, const char *what) {
        total_ += count;
        ESPCN_RETURN_IF(total_ > kMaxParameters, ESPCN_ERROR_MODEL, what, " brings the network to ",
                        total_, " parameters, over the limit of ", kMaxParameters, " (",
                        kMaxParameters * 4 / (1 << 20),
                        " MiB as fp32; a tensor named by several layers counts once per layer)");
        return Status::ok();
    }

private:
    int64_t total_ = 0;
};

Status parse_conv(const json &l, const SafetensorsFile &f, ParameterBudget &budget, ConvLayer &c) {
    ESPCN_RETURN_IF_ERROR(get_int(l, "in", 1, kMaxChannels, c.in_channels));
    ESPCN_RETURN_IF_ERROR(get_int(l, "out", 1, kMaxChannels, c.out_channels));
    ESPCN_RETURN_IF_ERROR(get_int(l, "kernel", 1, kMaxKernel, c.kernel));
    ESPCN_RETURN_IF(c.kernel % 2 == 0, ESPCN_ERROR_MODEL, "kernel ", c.kernel,
                    " is even; 'same' padding needs an odd kernel");
    if (const auto p = l.find("padding"); p != l.end()) {
        const bool same = (p->is_string() && p->get<std::string>() == "same") ||
                          (p->is_number_integer() && p->get<int64_t>() == c.kernel / 2);
        ESPCN_RETURN_IF(!same, ESPCN_ERROR_MODEL, "padding must be \"same\" (or ", c.kernel / 2,
                        " for kernel ", c.kernel, ")");
    }
    std::string weight;
    std::optional<std::string> bias;
    ESPCN_RETURN_IF_ERROR(get_string(l, "weight", weight));
    ESPCN_RETURN_IF_ERROR(get_optional_name(l, "bias", bias));
    ESPCN_RETURN_IF_ERROR(budget.take(int64_t{c.out_channels} * c.in_channels * c.kernel * c.kernel +
                                          c.out_channels,
                                      "this conv"));
    ESPCN_RETURN_IF_ERROR(f.read_f32(weight, {c.out_channels, c.in_channels, c.kernel, c.kernel},
                                     c.weight));
    if (bias) ESPCN_RETURN_IF_ERROR(f.read_f32(*bias, {c.out_channels}, c.bias));
    else c.bias.assign(c.out_channels, 0.0f);
    return Status::ok();
}

Status parse_deconv(const json &l, const SafetensorsFile &f, int scale, ParameterBudget &budget,
                    DeconvLayer &d) {
    ESPCN_RETURN_IF_ERROR(get_int(l, "in", 1, kMaxChannels, d.in_channels));
    ESPCN_RETURN_IF_ERROR(get_int(l, "out", 1, kMaxChannels, d.out_channels));
    ESPCN_RETURN_IF_ERROR(get_int(l, "kernel", 1, kMaxKernel * kMaxScale, d.kernel));
    ESPCN_RETURN_IF_ERROR(get_int(l, "stride", 1, kMaxScale, d.stride));
    ESPCN_RETURN_IF_ERROR(get_int(l, "padding", 0, d.kernel, d.pad));
    d.output_pad = 0;
    if (l.contains("output_padding"))
        ESPCN_RETURN_IF_ERROR(get_int(l, "output_padding", 0, d.stride - 1, d.output_pad));
    std::string weight;
    std::optional<std::string> bias;
    ESPCN_RETURN_IF_ERROR(get_string(l, "weight", weight));
    ESPCN_RETURN_IF_ERROR(get_optional_name(l, "bias", bias));
    ESPCN_RETURN_IF(d.stride != scale, ESPCN_ERROR_MODEL, "deconv stride ", d.stride,
                    " differs from the network scale ", scale);
    // The file's weights, and the LR conv they become (out·r² outputs, a
    // (2R+1)² kernel), both exist during the conversion.
    const int64_t lr_kernel = 2 * int64_t{deconv_lr_radius(d.kernel, d.stride, d.pad)} + 1;
    ESPCN_RETURN_IF_ERROR(budget.take(
        int64_t{d.in_channels} * d.out_channels * d.kernel * d.kernel + d.out_channels +
            int64_t{d.out_channels} * d.stride * d.stride * (d.in_channels * lr_kernel * lr_kernel + 1),
        "this deconv and its LR conversion"));
    // PyTorch ConvTranspose2d layout: (in, out, kH, kW).
    ESPCN_RETURN_IF_ERROR(f.read_f32(weight, {d.in_channels, d.out_channels, d.kernel, d.kernel},
                                     d.weight));
    if (bias) ESPCN_RETURN_IF_ERROR(f.read_f32(*bias, {d.out_channels}, d.bias));
    else d.bias.assign(d.out_channels, 0.0f);
    return Status::ok();
}

Status parse_activation(const std::string &type, const json &l, const SafetensorsFile &f,
                        int channels, ParameterBudget &budget, Activation &act,
                        std::vector<float> &slope) {
    if (type == "identity") act = Activation::identity;
    else if (type == "relu") act = Activation::relu;
    else if (type == "tanh") act = Activation::tanh;
    else if (type == "sigmoid") act = Activation::sigmoid;
    else if (type == "prelu") {
        act = Activation::prelu;
        std::string weight;
        ESPCN_RETURN_IF_ERROR(get_string(l, "weight", weight));
        const auto it = f.tensors().find(weight);
        // nn.PReLU() has one slope shared by all channels; nn.PReLU(C) one each.
        const bool shared = it != f.tensors().end() && it->second.shape == std::vector<int64_t>{1};
        ESPCN_RETURN_IF_ERROR(budget.take(2 * int64_t{channels}, "this prelu"));
        ESPCN_RETURN_IF_ERROR(f.read_f32(weight, {shared ? 1 : channels}, slope));
        if (shared) slope.assign(channels, slope[0]);
    } else {
        return Status(ESPCN_ERROR_MODEL, concat("unknown layer type '", type, "'"));
    }
    return Status::ok();
}

bool is_activation(const std::string &t) {
    return t == "identity" || t == "relu" || t == "tanh" || t == "sigmoid" || t == "prelu";
}

// Network-level "residual": absent, null, "none" or "nearest".
Status parse_residual(const json &net, Residual &residual) {
    residual = Residual::none;
    const auto it = net.find("residual");
    if (it == net.end() || it->is_null()) return Status::ok();
    ESPCN_RETURN_IF(!it->is_string(), ESPCN_ERROR_MODEL, "'residual' must be a string");
    const std::string kind = it->get<std::string>();
    if (kind == "none") return Status::ok();
    if (kind == "nearest") {
        residual = Residual::nearest;
        return Status::ok();
    }
    return Status(ESPCN_ERROR_UNSUPPORTED,
                  concat("residual '", kind, "' is not supported (\"none\", \"nearest\")"));
}

// Network-level "range": [lo, hi] with lo != hi, both finite.
Status parse_range(const json &net, SampleRange &range) {
    const auto it = net.find("range");
    if (it == net.end()) return Status::ok();
    ESPCN_RETURN_IF(!it->is_array() || it->size() != 2 || !(*it)[0].is_number() ||
                        !(*it)[1].is_number(),
                    ESPCN_ERROR_MODEL, "'range' must be [lo, hi]");
    range.lo = (*it)[0].get<float>();
    range.hi = (*it)[1].get<float>();
    ESPCN_RETURN_IF(!std::isfinite(range.lo) || !std::isfinite(range.hi) || range.lo == range.hi,
                    ESPCN_ERROR_MODEL, "'range' must be two different finite numbers");
    return Status::ok();
}

}  // namespace

Result<Network> load_network(const SafetensorsFile &f, const Logger &log) {
    const auto fmt = f.metadata().find(kFormatKey);
    ESPCN_RETURN_IF(fmt == f.metadata().end(), ESPCN_ERROR_MODEL, "__metadata__ has no '",
                    kFormatKey, "': not an espcn model (see weights/FORMAT.md)");
    ESPCN_RETURN_IF(fmt->second != kFormatVersion && fmt->second != kFormatVersionResidual,
                    ESPCN_ERROR_UNSUPPORTED, "model format version '", fmt->second,
                    "' is not supported (this build reads ", kFormatVersion, " and ",
                    kFormatVersionResidual, ")");
    const auto desc = f.metadata().find(kNetworkKey);
    ESPCN_RETURN_IF(desc == f.metadata().end(), ESPCN_ERROR_MODEL, "__metadata__ has no '",
                    kNetworkKey, "'");
    Result<json> parsed = parse_json_limited(desc->second.data(), desc->second.size(), "'espcn.network'");
    ESPCN_RETURN_IF_ERROR(parsed.status());
    const json &net = parsed.value();
    ESPCN_RETURN_IF(!net.is_object(), ESPCN_ERROR_MODEL, "'", kNetworkKey,
                    "' is not a JSON object");
    ParameterBudget budget;

    Network n;
    if (net.contains("name")) {
        ESPCN_RETURN_IF_ERROR(get_string(net, "name", n.name).with_context("network: "));
    }
    ESPCN_RETURN_IF_ERROR(get_int(net, "scale", 1, kMaxScale, n.scale).with_context("network: "));
    std::string plane = "luma";
    if (net.contains("plane")) ESPCN_RETURN_IF_ERROR(get_string(net, "plane", plane));
    ESPCN_RETURN_IF(plane != "luma" && plane != "rgb", ESPCN_ERROR_UNSUPPORTED, "network: plane '",
                    plane, "' is not supported (\"luma\": one channel, \"rgb\": R, G, B)");
    // The image channels the network reads and writes: 1 (luma) or 3 (R, G, B).
    n.in_channels = n.out_channels = plane == "rgb" ? 3 : 1;
    const int image_channels = n.in_channels;
    ESPCN_RETURN_IF_ERROR(parse_range(net, n.range).with_context("network: "));
    ESPCN_RETURN_IF_ERROR(parse_residual(net, n.residual).with_context("network: "));
    ESPCN_RETURN_IF(n.residual != Residual::none && fmt->second != kFormatVersionResidual,
                    ESPCN_ERROR_MODEL, "network: a residual needs '", kFormatKey, "' \"",
                    kFormatVersionResidual, "\" (engines reading only \"", kFormatVersion,
                    "\" would ignore it)");

    const auto layers = net.find("layers");
    ESPCN_RETURN_IF(layers == net.end() || !layers->is_array() || layers->empty(),
                    ESPCN_ERROR_MODEL, "network: 'layers' must be a non-empty array");
    ESPCN_RETURN_IF(layers->size() > static_cast<size_t>(kMaxLayers), ESPCN_ERROR_MODEL,
                    "network: ", layers->size(), " layers, more than ", kMaxLayers);

    int channels = n.in_channels;
    bool upsampled = false;       // the upsampler has been seen
    bool last_was_conv = false;   // an activation may follow a conv once
    for (size_t k = 0; k < layers->size(); ++k) {
        const json &l = (*layers)[k];
        const std::string where = concat("layer ", k, ": ");
        ESPCN_RETURN_IF(!l.is_object(), ESPCN_ERROR_MODEL, where, "not a JSON object");
        std::string type;
        ESPCN_RETURN_IF_ERROR(get_string(l, "type", type).with_context(where));

        if (type == "conv" || type == "deconv") {
            ESPCN_RETURN_IF(upsampled, ESPCN_ERROR_MODEL, where, type,
                            " after the upsampler; only activations may follow it");
            ConvLayer c;
            if (type == "conv") {
                ESPCN_RETURN_IF_ERROR(parse_conv(l, f, budget, c).with_context(where));
            } else {
                DeconvLayer d;
                ESPCN_RETURN_IF_ERROR(parse_deconv(l, f, n.scale, budget, d).with_context(where));
                Result<ConvLayer> lr = deconv_to_lr_conv(d);
                ESPCN_RETURN_IF_ERROR(lr.status().with_context(where));
                c = std::move(lr).value();
                log.debug(concat(where, "deconv (", d.in_channels, ", ", d.out_channels, ", ",
                                 d.kernel, ", ", d.kernel, ") stride ", d.stride,
                                 " -> LR conv (", c.out_channels, ", ", c.in_channels, ", ",
                                 c.kernel, ", ", c.kernel, ") + shuffle"));
                n.order = kShuffleCRD;
                n.source_upsampler = ESPCN_UPSAMPLER_DECONV;
                n.out_channels = d.out_channels;
                upsampled = true;
            }
            ESPCN_RETURN_IF(c.in_channels != channels, ESPCN_ERROR_MODEL, where, type,
                            " takes ", c.in_channels, " channels but receives ", channels);
            channels = type == "conv" ? c.out_channels : n.out_channels;
            n.convs.push_back(std::move(c));
            last_was_conv = true;
        } else if (type == "pixel_shuffle") {
            ESPCN_RETURN_IF(upsampled, ESPCN_ERROR_MODEL, where, "a second upsampler");
            ESPCN_RETURN_IF(n.convs.empty() || !last_was_conv, ESPCN_ERROR_MODEL, where,
                            "pixel_shuffle must directly follow a conv");
            int r = 0;
            ESPCN_RETURN_IF_ERROR(get_int(l, "scale", 1, kMaxScale, r).with_context(where));
            ESPCN_RETURN_IF(r != n.scale, ESPCN_ERROR_MODEL, where, "pixel_shuffle scale ", r,
                            " differs from the network scale ", n.scale);
            std::string order = "crd";
            if (l.contains("order")) ESPCN_RETURN_IF_ERROR(get_string(l, "order", order).with_context(where));
            ESPCN_RETURN_IF(order != "crd" && order != "dcr", ESPCN_ERROR_MODEL, where,
                            "order '", order, "' is neither \"crd\" nor \"dcr\"");
            n.order = order == "crd" ? kShuffleCRD : kShuffleDCR;
            ESPCN_RETURN_IF(channels % (r * r) != 0, ESPCN_ERROR_MODEL, where, channels,
                            " channels cannot be shuffled by r^2 = ", r * r);
            channels /= r * r;
            n.out_channels = channels;
            n.source_upsampler = ESPCN_UPSAMPLER_PIXEL_SHUFFLE;
            upsampled = true;
            last_was_conv = true;  // an activation may follow the shuffle
        } else if (is_activation(type)) {
            ESPCN_RETURN_IF(n.convs.empty(), ESPCN_ERROR_MODEL, where,
                            "an activation before any conv");
            ESPCN_RETURN_IF(!last_was_conv, ESPCN_ERROR_MODEL, where,
                            "two activations in a row");
            ConvLayer &c = n.convs.back();
            Activation act = Activation::identity;  // set by parse_activation on success
            std::vector<float> slope;
            ESPCN_RETURN_IF_ERROR(parse_activation(type, l, f, channels, budget, act, slope).with_context(where));
            // After the upsampler the activation is per HR channel; it is fused
            // into the LR conv, so a PReLU slope is repeated over the r² phases.
            if (act == Activation::prelu && upsampled) {
                std::vector<float> lr_slope(c.out_channels);
                for (int o = 0; o < channels; ++o)
                    for (int a = 0; a < n.scale; ++a)
                        for (int b = 0; b < n.scale; ++b)
                            lr_slope[shuffle_channel(n.order, o, a, b, n.scale, channels)] = slope[o];
                slope = std::move(lr_slope);
            }
            c.activation = act;
            c.prelu_slope = std::move(slope);
            last_was_conv = false;
        } else {
            return Status(ESPCN_ERROR_MODEL, concat(where, "unknown layer type '", type, "'"));
        }
    }
    ESPCN_RETURN_IF(!upsampled, ESPCN_ERROR_MODEL,
                    "network has no upsampler (pixel_shuffle or deconv)");
    ESPCN_RETURN_IF(n.out_channels != image_channels, ESPCN_ERROR_MODEL, "network outputs ",
                    n.out_channels, " channel(s) but its plane '", plane, "' has ", image_channels);
    ESPCN_RETURN_IF(n.convs.back().out_channels != n.out_channels * n.scale * n.scale,
                    ESPCN_ERROR_INTERNAL, "last conv does not feed the shuffle");
    if (n.name.empty()) n.name = concat("unnamed-x", n.scale);
    return n;
}

Result<Network> load_network_file(const std::string &path, const Logger &log) {
    Result<SafetensorsFile> f = SafetensorsFile::read(path);
    if (!f.is_ok()) {
        // I/O messages already name the file; format errors do not.
        if (f.status().code() == ESPCN_ERROR_IO) return f.status();
        return std::move(f.status()).with_context(concat(path, ": "));
    }
    Result<Network> n = load_network(f.value(), log);
    if (!n.is_ok()) return std::move(n.status()).with_context(concat(path, ": "));
    return n;
}

}  // namespace espcn
