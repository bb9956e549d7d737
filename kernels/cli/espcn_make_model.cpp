// espcn-make-model: writes model files for speed tests (random weights) and
// an exact bicubic model, with the engine's own safetensors writer.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "imaging/image_io.hpp"
#include "model_builders.hpp"
#include "tool_main.hpp"

namespace espcn {

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

const char *kUsage =
    "usage: espcn-make-model --arch espcn|fsrcnn|bicubic|compact|rgb-identity --scale R -o FILE [options]\n"
    "\n"
    "  --arch espcn     conv 5x5 1->64, tanh, conv 3x3 64->32, tanh, conv 3x3 32->R*R,\n"
    "                   pixel shuffle (Shi et al. 2016); random weights, UNTRAINED:\n"
    "                   for speed tests only\n"
    "  --arch fsrcnn    FSRCNN(56, 12, 4) with PReLU and a 9x9 stride-R deconv; random\n"
    "                   weights, UNTRAINED: for speed tests only\n"
    "  --arch bicubic   one 5x5 conv + pixel shuffle computing bicubic upscaling\n"
    "                   (Keys a = -0.5), exact except within 2 LR pixels of the border\n"
    "  --arch compact   a network of RGB of realesr-animevideov3's shape (SRVGGNetCompact:\n"
    "                   3 -> 64 maps, 16 body convs, PReLU, 64 -> 3*R*R, nearest residual);\n"
    "                   random weights, UNTRAINED: for speed and plumbing tests only\n"
    "  --arch rgb-identity  a network of RGB whose output is its input replicated\n"
    "                   (a zero 1x1 conv + the nearest residual): exact\n"
    "  --scale R        upscaling factor, 2..8\n"
    "  -o, --output F   the .safetensors file to write\n"
    "  --seed S         random seed (default 1)\n"
    "  --order crd|dcr  pixel shuffle channel order (espcn, bicubic; default crd)\n"
    "  --f16            store the tensors as float16\n"
    "  -h, --help       this text\n";

struct MakeModelOptions {
    ModelSpec spec;
    std::string output_path;
    bool help = false;
};

Result<MakeModelOptions> parse_options(int argc, char **argv) {
    MakeModelOptions o;
    std::optional<ModelArch> arch;
    bool have_scale = false, have_order = false;
    for (int k = 1; k < argc; ++k) {
        const std::string arg = argv[k];
        auto value = [&](std::string &out) -> Status {
            ESPCN_RETURN_IF(k + 1 >= argc, ESPCN_ERROR_INVALID_ARGUMENT, arg, " needs a value");
            out = argv[++k];
            return Status::ok();
        };
        std::string v;
        uint64_t n = 0;
        if (arg == "--arch") {
            ESPCN_RETURN_IF_ERROR(value(v));
            if (v == "espcn") arch = ModelArch::espcn;
            else if (v == "fsrcnn") arch = ModelArch::fsrcnn;
            else if (v == "bicubic") arch = ModelArch::bicubic;
            else if (v == "compact") arch = ModelArch::compact;
            else if (v == "rgb-identity") arch = ModelArch::rgb_identity;
            else
                return Status(ESPCN_ERROR_INVALID_ARGUMENT,
                              concat("--arch: '", v, "' is not espcn, fsrcnn, bicubic, compact or rgb-identity"));
        } else if (arg == "--scale") {
            ESPCN_RETURN_IF_ERROR(value(v));
            ESPCN_RETURN_IF_ERROR(parse_integer<uint64_t>(v, arg, 2, 8, n));
            o.spec.scale = static_cast<int>(n);
            have_scale = true;
        } else if (arg == "--seed") {
            ESPCN_RETURN_IF_ERROR(value(v));
            ESPCN_RETURN_IF_ERROR(parse_integer<uint64_t>(v, arg, 0, UINT32_MAX, n));
            o.spec.seed = static_cast<uint32_t>(n);
        } else if (arg == "--order") {
            ESPCN_RETURN_IF_ERROR(value(v));
            ESPCN_RETURN_IF(v != "crd" && v != "dcr", ESPCN_ERROR_INVALID_ARGUMENT,
                            "--order: '", v, "' is not crd or dcr");
            o.spec.order = v == "crd" ? kShuffleCRD : kShuffleDCR;
            have_order = true;
        } else if (arg == "--f16") {
            o.spec.f16 = true;
        } else if (arg == "-o" || arg == "--output") {
            ESPCN_RETURN_IF_ERROR(value(o.output_path));
        } else if (arg == "-h" || arg == "--help") {
            o.help = true;
        } else {
            return Status(ESPCN_ERROR_INVALID_ARGUMENT, concat("unknown option '", arg, "'"));
        }
    }
    if (o.help) return o;
    ESPCN_RETURN_IF(!arch, ESPCN_ERROR_INVALID_ARGUMENT, "no --arch");
    ESPCN_RETURN_IF(!have_scale, ESPCN_ERROR_INVALID_ARGUMENT, "no --scale");
    ESPCN_RETURN_IF(o.output_path.empty(), ESPCN_ERROR_INVALID_ARGUMENT, "no output (-o)");
    ESPCN_RETURN_IF(have_order && (*arch == ModelArch::fsrcnn || *arch == ModelArch::compact),
                    ESPCN_ERROR_INVALID_ARGUMENT,
                    "--order applies to espcn, bicubic and rgb-identity, not fsrcnn or compact (CRD)");
    o.spec.arch = *arch;
    return o;
}

int run(int argc, char **argv) {
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return kExitUsage;
    }
    Result<MakeModelOptions> parsed = parse_options(argc, argv);
    if (!parsed.is_ok()) {
        std::fprintf(stderr, "espcn-make-model: %s\nTry 'espcn-make-model --help'.\n",
                     parsed.status().message().c_str());
        return kExitUsage;
    }
    const MakeModelOptions &o = parsed.value();
    if (o.help) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    Result<BuiltModel> model = build_model(o.spec);
    Status status = model.status();
    std::vector<uint8_t> bytes;
    if (status.is_ok()) {
        bytes = serialize_model(model.value());
        status = write_file(o.output_path, bytes);
    }
    if (!status.is_ok()) {
        std::fprintf(stderr, "espcn-make-model: %s\n", status.message().c_str());
        return kExitFailure;
    }
    const BuiltModel &m = model.value();
    std::printf("wrote %s: model '%s', x%d, %lld parameters (%s), %zu bytes\n",
                o.output_path.c_str(), m.name.c_str(), o.spec.scale,
                static_cast<long long>(m.parameters), o.spec.f16 ? "F16" : "F32", bytes.size());
    if (o.spec.arch != ModelArch::bicubic && o.spec.arch != ModelArch::rgb_identity)
        std::printf("note: random weights, untrained: for speed tests only\n");
    return 0;
}

}  // namespace

}  // namespace espcn

int main(int argc, char **argv) { return espcn::run_tool("espcn-make-model", espcn::run, argc, argv); }
