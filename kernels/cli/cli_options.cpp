#include "cli_options.hpp"

#include "tool_main.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace espcn {

Status parse_backend(std::string_view text, espcn_backend &out) {
    // The library's own names (its backend table), in enum order.
    std::string names;
    for (int b = ESPCN_BACKEND_AUTO;; ++b) {
        const char *name = espcn_backend_name(static_cast<espcn_backend>(b));
        if (std::string_view(name) == "unknown") break;
        if (text == name) {
            out = static_cast<espcn_backend>(b);
            return Status::ok();
        }
        names += (names.empty() ? "" : ", ") + std::string(name);
    }
    return Status(ESPCN_ERROR_INVALID_ARGUMENT,
                  concat("--backend: '", text, "' is not one of ", names));
}

Status parse_precision(std::string_view text, espcn_precision &out) {
    if (text == "auto") out = ESPCN_PRECISION_AUTO;
    else if (text == "fp32") out = ESPCN_PRECISION_FP32;
    else if (text == "fp16") out = ESPCN_PRECISION_FP16;
    else if (text == "bf16") out = ESPCN_PRECISION_BF16;
    else
        return Status(ESPCN_ERROR_INVALID_ARGUMENT,
                      concat("--precision: '", text, "' is not auto, fp32, fp16 or bf16"));
    return Status::ok();
}

namespace {

// "WxH" or "WxH:bits".
Status parse_raw_format(std::string_view text, RawPlaneFormat &out) {
    const size_t x = text.find('x');
    ESPCN_RETURN_IF(x == std::string_view::npos, ESPCN_ERROR_INVALID_ARGUMENT, "--raw-in: '",
                    text, "' is not WxH or WxH:bits");
    const size_t colon = text.find(':', x);
    const std::string_view height = text.substr(x + 1, colon == std::string_view::npos
                                                           ? std::string_view::npos
                                                           : colon - x - 1);
    ESPCN_RETURN_IF_ERROR(parse_integer(text.substr(0, x), "--raw-in width", 1, 1 << 16, out.width));
    ESPCN_RETURN_IF_ERROR(parse_integer(height, "--raw-in height", 1, 1 << 16, out.height));
    out.bits = 8;
    if (colon != std::string_view::npos)
        ESPCN_RETURN_IF_ERROR(parse_integer(text.substr(colon + 1), "--raw-in bits", 8, 16, out.bits));
    return Status::ok();
}

}  // namespace

const char *cli_usage() {
    return "usage: espcn-cli -m MODEL -i IN -o OUT [options]\n"
           "       espcn-cli -m MODEL --info [--backend B]\n"
           "\n"
           "Upscales IN by the model's factor. IN and OUT are .png, .ppm, .pgm or .pnm\n"
           "(IN is recognised by content). Gray images go through the network as they\n"
           "are; RGB images are converted to YCbCr (BT.601, as MATLAB rgb2ycbcr), Y goes\n"
           "through the network, Cb and Cr are upscaled bicubically.\n"
           "\n"
           "  -m, --model FILE      the model (.safetensors)\n"
           "  -i, --input FILE      the image to upscale\n"
           "  -o, --output FILE     where to write the result\n"
           "      --backend B       auto (default), reference, onednn, cpu-fast or cuda\n"
           "      --precision P     auto (default: fp16 on GPUs with tensor cores, else fp32),\n"
           "                        fp32, fp16 (cuda) or bf16 (cpu-fast)\n"
           "      --threads N       CPU threads (default 0: all cores)\n"
           "      --bits N          output bit depth, 8..16; PNG holds 8 or 16 (default:\n"
           "                        the input's, or 16 for PNG from a 9..15-bit input)\n"
           "      --repeat N        time N runs after one warm-up and report the mean\n"
           "      --memory-budget B working memory of the engine per frame, in bytes, or\n"
           "                        with a suffix k, m, g (KiB, MiB, GiB); default 512m.\n"
           "                        Larger frames run in bands of rows (same output)\n"
           "      --raw-in WxH[:B]  IN is a raw plane of W x H samples of B bits (default\n"
           "                        8; above 8: 2 bytes little-endian); OUT is written\n"
           "                        the same way\n"
           "      --info            print the model and the backend chosen, then exit\n"
           "  -v, --verbose         print engine messages and details\n"
           "  -h, --help            this text\n"
           "\n"
           "Ctrl-C stops the frame in progress within a fraction of a second; nothing is\n"
           "written then (OUT appears only when complete).\n"
           "\n"
           "Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C).\n";
}

Result<CliOptions> parse_cli_options(int argc, char **argv) {
    CliOptions o;
    for (int k = 1; k < argc; ++k) {
        std::string arg = argv[k];
        std::optional<std::string> inline_value;  // from --option=value
        if (arg.rfind("--", 0) == 0) {
            if (const size_t eq = arg.find('='); eq != std::string::npos) {
                inline_value = arg.substr(eq + 1);
                arg.resize(eq);
            }
        }
        // Fetches the option's value: inline, or the next argument.
        auto value = [&](std::string &out) -> Status {
            if (inline_value) {
                out = *inline_value;
                return Status::ok();
            }
            ESPCN_RETURN_IF(k + 1 >= argc, ESPCN_ERROR_INVALID_ARGUMENT, arg, " needs a value");
            out = argv[++k];
            return Status::ok();
        };
        auto flag = [&]() -> Status {
            ESPCN_RETURN_IF(inline_value.has_value(), ESPCN_ERROR_INVALID_ARGUMENT, arg,
                            " takes no value");
            return Status::ok();
        };

        std::string v;
        if (arg == "-m" || arg == "--model") {
            ESPCN_RETURN_IF_ERROR(value(o.model_path));
        } else if (arg == "-i" || arg == "--input") {
            ESPCN_RETURN_IF_ERROR(value(o.input_path));
        } else if (arg == "-o" || arg == "--output") {
            ESPCN_RETURN_IF_ERROR(value(o.output_path));
        } else if (arg == "--backend") {
            ESPCN_RETURN_IF_ERROR(value(v));
            ESPCN_RETURN_IF_ERROR(parse_backend(v, o.backend));
        } else if (arg == "--precision") {
            ESPCN_RETURN_IF_ERROR(value(v));
            ESPCN_RETURN_IF_ERROR(parse_precision(v, o.precision));
        } else if (arg == "--threads") {
            ESPCN_RETURN_IF_ERROR(value(v));
            ESPCN_RETURN_IF_ERROR(parse_integer(v, arg, 0, 1024, o.threads));
        } else if (arg == "--bits") {
            ESPCN_RETURN_IF_ERROR(value(v));
            ESPCN_RETURN_IF_ERROR(parse_integer(v, arg, 8, 16, o.output_bits));
        } else if (arg == "--repeat") {
            ESPCN_RETURN_IF_ERROR(value(v));
            ESPCN_RETURN_IF_ERROR(parse_integer(v, arg, 1, 1000000, o.repeat));
        } else if (arg == "--memory-budget") {
            ESPCN_RETURN_IF_ERROR(value(v));
            uint64_t bytes = 0;
            ESPCN_RETURN_IF_ERROR(parse_byte_size(v, arg, SIZE_MAX, bytes));
            o.memory_budget = static_cast<size_t>(bytes);
        } else if (arg == "--raw-in") {
            ESPCN_RETURN_IF_ERROR(value(v));
            RawPlaneFormat raw;
            ESPCN_RETURN_IF_ERROR(parse_raw_format(v, raw));
            o.raw_in = raw;
        } else if (arg == "--info") {
            ESPCN_RETURN_IF_ERROR(flag());
            o.info = true;
        } else if (arg == "-v" || arg == "--verbose") {
            ESPCN_RETURN_IF_ERROR(flag());
            o.verbose = true;
        } else if (arg == "-h" || arg == "--help") {
            ESPCN_RETURN_IF_ERROR(flag());
            o.help = true;
        } else {
            return Status(ESPCN_ERROR_INVALID_ARGUMENT, concat("unknown option '", arg, "'"));
        }
    }
    if (o.help) return o;
    ESPCN_RETURN_IF(o.model_path.empty(), ESPCN_ERROR_INVALID_ARGUMENT, "no model (-m)");
    if (o.info) return o;
    ESPCN_RETURN_IF(o.input_path.empty(), ESPCN_ERROR_INVALID_ARGUMENT, "no input (-i)");
    ESPCN_RETURN_IF(o.output_path.empty(), ESPCN_ERROR_INVALID_ARGUMENT, "no output (-o)");
    return o;
}

}  // namespace espcn
