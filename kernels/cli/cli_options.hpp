// Command line of espcn-cli.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.hpp"
#include "espcn/espcn.h"

namespace espcn {

// A headerless plane file: width·height samples, one byte each for 8 bits,
// two bytes little-endian (value in the low bits) above that.
struct RawPlaneFormat {
    int width = 0;
    int height = 0;
    int bits = 8;
};

struct CliOptions {
    std::string model_path;
    std::string input_path;
    std::string output_path;
    espcn_backend backend = ESPCN_BACKEND_AUTO;
    espcn_precision precision = ESPCN_PRECISION_AUTO;
    int threads = 0;      // 0: all cores
    int output_bits = 0;  // 0: as the input
    int repeat = 0;       // 0: time the one run; N: mean of N runs after a warm-up
    size_t memory_budget = 0;  // bytes; 0: the engine's default
    bool verbose = false;
    bool info = false;    // print the model and backend, process nothing
    bool help = false;
    std::optional<RawPlaneFormat> raw_in;
};

// A name espcn_backend_name() gives: "auto", "reference", "onednn", "cuda",
// "cpu-fast" (also used by espcn-eval).
[[nodiscard]] Status parse_backend(std::string_view text, espcn_backend &out);
// "auto", "fp32", "fp16" or "bf16" (also used by espcn-eval).
[[nodiscard]] Status parse_precision(std::string_view text, espcn_precision &out);

const char *cli_usage();

// A failed Status here is a usage error (exit code 2).
[[nodiscard]] Result<CliOptions> parse_cli_options(int argc, char **argv);

}  // namespace espcn
