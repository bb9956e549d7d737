// espcn-cli: upscale an image or a raw plane with an espcn model, and time
// the engine. See cli_usage() for the command line.
#include <omp.h>

#include <cstdio>
#include <exception>
#include <new>
#include <optional>

#include "cli_options.hpp"
#include "imaging/image_io.hpp"
#include "interrupt.hpp"
#include "raw_plane.hpp"
#include "tool_main.hpp"
#include "upscaler.hpp"

namespace espcn {

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

const char *upsampler_name(espcn_upsampler u) {
    return u == ESPCN_UPSAMPLER_DECONV ? "deconv (converted to LR conv + pixel shuffle)"
                                       : "pixel_shuffle";
}

void print_info(const espcn_model_info &info) {
    std::printf("model:             %s\n", info.name);
    std::printf("scale:             x%d\n", info.scale);
    std::printf("upsampler:         %s\n", upsampler_name(info.upsampler));
    std::printf("channels:          %d in, %d out\n", info.in_channels, info.out_channels);
    std::printf("LR convolutions:   %d\n", info.num_convs);
    std::printf("MACs per LR pixel: %.0f\n", info.macs_per_lr_pixel);
    std::printf("receptive radius:  %d LR pixels\n", info.receptive_radius);
    std::printf("backend:           %s\n", espcn_backend_name(info.backend));
    std::printf("precision:         %s\n", espcn_precision_name(info.precision));
}

void print_timing(const Image &in, const Image &out, const espcn_model_info &info,
                  const PlaneTiming &t) {
    std::printf("espcn_process_plane: %dx%d -> %dx%d, %s %s: %.3f ms/frame, %.1f fps", in.width,
                in.height, out.width, out.height, espcn_backend_name(info.backend),
                espcn_precision_name(info.precision), t.mean_ms,
                t.mean_ms > 0.0 ? 1000.0 / t.mean_ms : 0.0);
    if (t.warmed_up) std::printf(" (mean of %d runs after 1 warm-up)\n", t.timed_runs);
    else std::printf(" (single run, including first-call setup)\n");
}

const char *describe_channels(int channels) { return channels == 1 ? "gray" : "RGB"; }

// Checks the output can be written before spending time on the network.
Status check_output(const CliOptions &o, const Image &in, int scale) {
    const int64_t out_w = int64_t{in.width} * scale, out_h = int64_t{in.height} * scale;
    ESPCN_RETURN_IF(out_w > kMaxImageSide || out_h > kMaxImageSide, ESPCN_ERROR_INVALID_ARGUMENT,
                    "the output would be ", out_w, "x", out_h, "; each side must be at most ",
                    kMaxImageSide);
    if (o.raw_in) return Status::ok();
    Result<ImageFormat> format = format_for_path(o.output_path, in.channels);
    ESPCN_RETURN_IF_ERROR(format.status());
    ESPCN_RETURN_IF(format.value() == ImageFormat::png && o.output_bits != 0 &&
                        o.output_bits != 8 && o.output_bits != 16,
                    ESPCN_ERROR_INVALID_ARGUMENT, "PNG holds 8- or 16-bit samples, not ",
                    o.output_bits, " (write .pgm/.ppm/.pnm or a raw plane for that)");
    return Status::ok();
}

// The input's depth, except that PNG output of a 9..15-bit input is 16-bit:
// the engine then rounds once, straight to what the file holds.
int output_bits(const CliOptions &o, const Image &in) {
    if (o.output_bits != 0) return o.output_bits;
    if (o.raw_in || in.bit_depth == 8) return in.bit_depth;
    Result<ImageFormat> format = format_for_path(o.output_path, in.channels);
    return format.is_ok() && format.value() == ImageFormat::png ? 16 : in.bit_depth;
}

// Stops between steps once Ctrl-C was pressed (the engine stops itself).
Status check_interrupt() {
    ESPCN_RETURN_IF(interrupted(), ESPCN_ERROR_CANCELLED, "interrupted");
    return Status::ok();
}

// `output` was created before any work (a missing or read-only folder fails
// at once); it is renamed into place only when complete.
Status upscale_file(const CliOptions &o, Upscaler &upscaler, OutputFile &output_file) {
    Result<Image> input = o.raw_in ? read_raw_plane(o.input_path, *o.raw_in)
                                   : read_image(o.input_path);
    ESPCN_RETURN_IF_ERROR(check_interrupt());
    ESPCN_RETURN_IF_ERROR(input.status());
    const Image &in = input.value();
    if (o.verbose)
        std::fprintf(stderr, "read %s: %dx%d %s, %d-bit\n", o.input_path.c_str(), in.width,
                     in.height, describe_channels(in.channels), in.bit_depth);
    ESPCN_RETURN_IF_ERROR(check_output(o, in, upscaler.scale()));

    PlaneTiming timing;
    Result<Image> output = upscaler.upscale_image(in, output_bits(o, in), o.repeat, timing);
    ESPCN_RETURN_IF_ERROR(check_interrupt());
    ESPCN_RETURN_IF_ERROR(output.status());
    const Image &out = output.value();
    print_timing(in, out, upscaler.info(), timing);
    if (o.repeat > 0) {
        const std::string details = upscaler.details();
        if (!details.empty()) std::printf("backend details: %s\n", details.c_str());
    }

    Result<std::vector<uint8_t>> encoded =
        o.raw_in ? encode_raw_plane(out) : encode_image(o.output_path, out);
    ESPCN_RETURN_IF_ERROR(encoded.status());
    ESPCN_RETURN_IF_ERROR(check_interrupt());
    ESPCN_RETURN_IF_ERROR(output_file.commit(encoded.value()));
    std::printf("wrote %s: %dx%d %s, %d-bit\n", o.output_path.c_str(), out.width, out.height,
                o.raw_in ? "raw plane" : describe_channels(out.channels), out.bit_depth);
    return Status::ok();
}

int run(int argc, char **argv) {
    if (argc < 2) {
        std::fputs(cli_usage(), stderr);
        return kExitUsage;
    }
    Result<CliOptions> parsed = parse_cli_options(argc, argv);
    if (!parsed.is_ok()) {
        std::fprintf(stderr, "espcn-cli: %s\nTry 'espcn-cli --help'.\n",
                     parsed.status().message().c_str());
        return kExitUsage;
    }
    const CliOptions &o = parsed.value();
    if (o.help) {
        std::fputs(cli_usage(), stdout);
        return 0;
    }

    // The colour conversion and chroma resize around the engine use OpenMP
    // too; --threads bounds them as it bounds the engine.
    if (o.threads > 0) omp_set_num_threads(o.threads);
    install_interrupt_handler();

    // The output first: a folder that cannot take it fails before any work.
    std::optional<OutputFile> output_file;
    if (!o.info) {
        if (!o.raw_in && !format_for_path(o.output_path, 1).is_ok() &&
            !format_for_path(o.output_path, 3).is_ok()) {
            std::fprintf(stderr, "espcn-cli: %s\n",
                         format_for_path(o.output_path, 1).status().message().c_str());
            return kExitFailure;
        }
        Result<OutputFile> created = OutputFile::create(o.output_path);
        if (!created.is_ok()) {
            std::fprintf(stderr, "espcn-cli: %s\n", created.status().message().c_str());
            return kExitFailure;
        }
        output_file.emplace(std::move(created).value());
    }

    UpscalerConfig config;
    config.model_path = o.model_path;
    config.backend = o.backend;
    config.precision = o.precision;
    config.threads = o.threads;
    config.verbose = o.verbose;
    config.memory_budget = o.memory_budget;
    config.cancel = cancel_on_interrupt;
    Result<Upscaler> upscaler = Upscaler::create(config);
    Status status = upscaler.status();
    if (status.is_ok()) {
        if (o.info) {
            print_info(upscaler.value().info());
            const std::string details = upscaler.value().details();
            if (!details.empty()) std::printf("backend details:   %s\n", details.c_str());
        }
        else status = upscale_file(o, upscaler.value(), *output_file);
    }
    if (interrupted()) {
        output_file.reset();  // removes the unfinished output
        std::fprintf(stderr, "espcn-cli: interrupted; %s not written\n",
                     o.info ? "nothing" : o.output_path.c_str());
        return interrupted_exit_code();
    }
    if (!status.is_ok()) {
        std::fprintf(stderr, "espcn-cli: %s\n", status.message().c_str());
        return kExitFailure;
    }
    return 0;
}

}  // namespace

}  // namespace espcn

int main(int argc, char **argv) { return espcn::run_tool("espcn-cli", espcn::run, argc, argv); }
