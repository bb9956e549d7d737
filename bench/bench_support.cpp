#include "bench_support.hpp"

#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string_view>

#include <omp.h>
#if ESPCN_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

namespace espcn::bench {

namespace {

constexpr const char *kUsage = R"(usage: espcn-bench [options]

Default mode: end-to-end throughput of espcn's plane path (8-bit decode,
convolutions, shuffle + encode) per input size x scale x backend. For the
oneDNN backend the bare convolutions (OnednnBackend::run_convolutions) are
timed as well, and e2e/conv = end-to-end fps / bare-convolution fps shows what
the plane conversion costs.

--cuda mode: the cuda backend per size x scale x precision (fp32, fp16), on
--model or else the shipped default model of each scale (default-x<r> in the
installed models folder, weights/DEFAULTS: what ffmpeg -vf espcn runs):
device-resident luma and yuv420p frames, the bare convolutions, host frames
synchronous and through the frame queue, and the roofline from ceilings
(copy bandwidth, convolution rate) measured in the same run.

--bands mode: what bounded memory costs. The oneDNN backend through the
public C API, per size x scale, timed in alternation: one pass over the whole
plane (no memory budget), bands of rows within the default budget (512 MiB),
and those bands capped for cancellation (a cancel callback that never says
stop, as espcn-cli and espcn-eval install), with fps and each one's ratio to
the whole-plane pass.

--upsampler mode: the three equivalent computations of one upsampling layer
(transposed convolution, zero insertion + HR convolution, LR convolution +
periodic shuffle) side by side on oneDNN, with MACs, time and the largest
difference of each output from the LR-conv + shuffle output.

Options:
  --model FILE              a safetensors model (loaded as espcn loads it); its
                            scale replaces --scales. Default: the paper's ESPCN
                            architecture (5x5 1->64 tanh, 3x3 64->32 tanh,
                            3x3 32->r^2, shuffle) with fixed-seed random weights
                            (timing does not depend on weight values); with
                            --cuda, the shipped default of each scale.
  --upsampler               run the upsampling-layer comparison instead.
  --bands                   run the row-band (memory budget, cancel) comparison.
  --cuda                    run the cuda backend benchmark instead.
  --device N                GPU index for --cuda (default 0).
  --backends LIST           reference,onednn,cpu-fast (default: all three);
                            cpu-fast-avx2, cpu-fast-baseline, cpu-fast-avx512
                            cap cpu-fast's instruction set (each is a row).
  --tiling WxH              cpu-fast work items of W columns x H rows
                            (default: the backend's choice).
  --scales LIST             e.g. 2,3,4 (default 2,3,4).
  --sizes LIST              LR input sizes WxH, e.g. 640x360,1920x1080
                            (default 640x360,960x540,1280x720,1920x1080).
  --threads N               CPU threads for oneDNN; 0 = all cores (default 0).
                            The reference backend is always single-threaded.
  --min-time S              seconds each timed loop runs at least (default 1.0).
  --min-iters N             iterations each timed loop runs at least (default 1).
  --reference-max-pixels N  skip the reference backend (shown as "skipped")
                            for inputs of more than N pixels (default 921600 =
                            1280x720). It runs at about 1 GFLOP/s, so it gets no
                            warm-up and exactly one timed frame.
  --upsampler-max-mib N     in --upsampler mode, skip a size x scale whose
                            estimated working set exceeds N MiB (default 4096);
                            zero insertion needs an r^2-times larger input.
  --csv FILE                also write machine-readable rows to FILE.
  -h, --help                this text.
)";

bool parse_int64(std::string_view text, int64_t &out) {
    const char *end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && ptr == end && !text.empty();
}

bool parse_int(std::string_view text, int &out) {
    int64_t v = 0;
    if (!parse_int64(text, v) || v < INT_MIN || v > INT_MAX) return false;
    out = static_cast<int>(v);
    return true;
}

bool parse_double(std::string_view text, double &out) {
    const char *end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && ptr == end && !text.empty() && std::isfinite(out);
}

std::vector<std::string_view> split_commas(std::string_view text) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
        const size_t comma = text.find(',', start);
        parts.push_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return parts;
}

bool parse_size(std::string_view text, FrameSize &out) {
    const size_t x = text.find_first_of("xX");
    if (x == std::string_view::npos) return false;
    return parse_int(text.substr(0, x), out.width) && parse_int(text.substr(x + 1), out.height) &&
           out.width > 0 && out.height > 0 && out.width <= 16384 && out.height <= 16384;
}

// Quotes an argument for the header so the printed command can be re-run.
std::string shell_quoted(const std::string &arg) {
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_./=,:+@%") == std::string::npos;
    if (plain) return arg;
    std::string q = "'";
    for (const char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string cpu_model_name() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) != 0) continue;
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const size_t begin = line.find_first_not_of(" \t", colon + 1);
        return begin == std::string::npos ? std::string("unknown") : line.substr(begin);
    }
    return "unknown";  // e.g. some ARM kernels have no "model name"
}

void fill_conv(ConvLayer &c, int in, int out, int kernel, Activation act, SplitMix64 &rng) {
    c.in_channels = in;
    c.out_channels = out;
    c.kernel = kernel;
    c.activation = act;
    // PyTorch's default init range keeps tanh out of saturation, so the
    // activations look like those of a trained network.
    const float bound = 1.0f / std::sqrt(static_cast<float>(in * kernel * kernel));
    c.weight.resize(static_cast<size_t>(out) * in * kernel * kernel);
    for (float &w : c.weight) w = rng.uniform(-bound, bound);
    c.bias.resize(static_cast<size_t>(out));
    for (float &b : c.bias) b = rng.uniform(-bound, bound);
}

}  // namespace

ParseOutcome parse_options(int argc, char **argv, Options &opts) {
    opts.command_line.clear();
    for (int i = 0; i < argc; ++i) {
        if (i) opts.command_line += ' ';
        opts.command_line += shell_quoted(argv[i]);
    }
    auto fail = [](const std::string &message) {
        std::fprintf(stderr, "espcn-bench: %s (try --help)\n", message.c_str());
        return ParseOutcome::error;
    };
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        std::string value;
        bool has_inline_value = false;
        if (const size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = flag.substr(eq + 1);
            flag.resize(eq);
            has_inline_value = true;
        }
        auto take_value = [&]() -> bool {
            if (has_inline_value) return true;
            if (i + 1 >= argc) return false;
            value = argv[++i];
            return true;
        };
        if (flag == "-h" || flag == "--help") {
            std::fputs(kUsage, stdout);
            return ParseOutcome::help_shown;
        }
        if (flag == "--upsampler") {
            opts.upsampler_mode = true;
            continue;
        }
        if (flag == "--cuda") {
            opts.cuda_mode = true;
            continue;
        }
        if (flag == "--bands") {
            opts.bands_mode = true;
            continue;
        }
        static constexpr std::string_view kValueFlags[] = {
            "--model", "--backends", "--scales", "--sizes", "--threads", "--min-time", "--tiling",
            "--min-iters", "--reference-max-pixels", "--upsampler-max-mib", "--csv", "--device"};
        bool known = false;
        for (const std::string_view f : kValueFlags) known |= flag == f;
        if (!known) return fail("unknown option '" + flag + "'");
        if (!take_value()) return fail(flag + " needs a value");
        if (flag == "--model") {
            opts.model_path = value;
        } else if (flag == "--backends") {
            opts.run_reference = opts.run_onednn = false;
            opts.fast_variants.clear();
            for (const std::string_view name : split_commas(value)) {
                if (name == "reference") opts.run_reference = true;
                else if (name == "onednn") opts.run_onednn = true;
                else if (name == "cpu-fast" || name == "cpu-fast-avx512" || name == "cpu-fast-avx2" ||
                         name == "cpu-fast-baseline")
                    opts.fast_variants.emplace_back(name);
                else
                    return fail("unknown backend '" + std::string(name) +
                                "' (reference, onednn, cpu-fast, cpu-fast-avx512, cpu-fast-avx2, "
                                "cpu-fast-baseline)");
            }
        } else if (flag == "--tiling") {
            FrameSize t;
            if (!parse_size(value, t)) return fail("--tiling needs WxH");
            opts.fast_strip_width = t.width;
            opts.fast_band_rows = t.height;
        } else if (flag == "--scales") {
            opts.scales.clear();
            opts.scales_given = true;
            for (const std::string_view s : split_commas(value)) {
                int r = 0;
                if (!parse_int(s, r) || r < 1 || r > kMaxScale)
                    return fail(concat("bad scale '", s, "' (integers 1..", kMaxScale, ")"));
                opts.scales.push_back(r);
            }
        } else if (flag == "--sizes") {
            opts.sizes.clear();
            for (const std::string_view s : split_commas(value)) {
                FrameSize size;
                if (!parse_size(s, size)) return fail("bad size '" + std::string(s) + "' (WxH)");
                opts.sizes.push_back(size);
            }
        } else if (flag == "--threads") {
            if (!parse_int(value, opts.threads) || opts.threads < 0)
                return fail("--threads needs an integer >= 0");
        } else if (flag == "--min-time") {
            if (!parse_double(value, opts.min_time_s) || opts.min_time_s < 0.0)
                return fail("--min-time needs seconds >= 0");
        } else if (flag == "--min-iters") {
            if (!parse_int(value, opts.min_iters) || opts.min_iters < 1)
                return fail("--min-iters needs an integer >= 1");
        } else if (flag == "--reference-max-pixels") {
            if (!parse_int64(value, opts.reference_max_pixels) || opts.reference_max_pixels < 0)
                return fail("--reference-max-pixels needs an integer >= 0");
        } else if (flag == "--upsampler-max-mib") {
            if (!parse_int64(value, opts.upsampler_max_mib) || opts.upsampler_max_mib < 1)
                return fail("--upsampler-max-mib needs an integer >= 1");
        } else if (flag == "--csv") {
            opts.csv_path = value;
        } else if (flag == "--device") {
            if (!parse_int(value, opts.device) || opts.device < 0)
                return fail("--device needs an integer >= 0");
        }
    }
    if (!opts.run_reference && !opts.run_onednn && opts.fast_variants.empty())
        return fail("--backends selects nothing");
    return ParseOutcome::run;
}

OmpThreadsScope::OmpThreadsScope(int threads) : saved_(omp_get_max_threads()) {
    omp_set_num_threads(threads);
}
OmpThreadsScope::~OmpThreadsScope() { omp_set_num_threads(saved_); }

int available_cores() { return omp_get_num_procs(); }

std::string machine_header(const Options &opts) {
    char date[64] = "unknown date";
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    if (localtime_r(&now, &local)) std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", &local);
#if ESPCN_HAVE_ONEDNN
    const dnnl_version_t *v = dnnl_version();
    const std::string onednn = concat("oneDNN ", v->major, ".", v->minor, ".", v->patch, " (", v->hash, ")");
#else
    const std::string onednn = "no oneDNN";
#endif
    return concat("# espcn-bench ", date, " | cpu: ", cpu_model_name(), " | cores: ",
                  available_cores(), " | ", onednn, " | cmd: ", opts.command_line);
}

std::string fixed(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

std::string size_string(int width, int height) { return concat(width, "x", height); }

Network make_paper_espcn(int scale, uint64_t seed) {
    SplitMix64 rng(seed);
    Network net;
    net.name = concat("ESPCN x", scale, " (paper architecture, random weights)");
    net.scale = scale;
    net.in_channels = 1;
    net.out_channels = 1;
    net.order = kShuffleCRD;
    net.convs.resize(3);
    fill_conv(net.convs[0], 1, 64, 5, Activation::tanh, rng);
    fill_conv(net.convs[1], 64, 32, 3, Activation::tanh, rng);
    fill_conv(net.convs[2], 32, scale * scale, 3, Activation::identity, rng);
    return net;
}

Result<Network> load_model(const std::string &path) {
    const Logger to_stderr(
        [](void *, espcn_log_level level, const char *message) {
            std::fprintf(stderr, "espcn: %s: %s\n", level == ESPCN_LOG_ERROR ? "error" : "warning",
                         message);
        },
        nullptr, ESPCN_LOG_WARNING);
    return load_network_file(path, to_stderr);
}

bool load_model_option(const Options &opts, std::shared_ptr<const Network> &model) {
    model.reset();
    if (opts.model_path.empty()) return true;
    Result<Network> loaded = load_model(opts.model_path);
    if (!loaded.is_ok()) {
        // The loader's message names the file already.
        std::fprintf(stderr, "espcn-bench: %s\n", loaded.status().message().c_str());
        return false;
    }
    model = std::make_shared<const Network>(std::move(loaded).value());
    return true;
}

std::vector<int> scales_to_run(const Options &opts, const Network *model) {
    if (!model) return opts.scales;
    if (opts.scales_given && (opts.scales.size() != 1 || opts.scales[0] != model->scale))
        std::fprintf(stderr, "espcn-bench: --model fixes the scale at %d; --scales is ignored\n",
                     model->scale);
    return {model->scale};
}

void TextTable::print_header(std::FILE *f) const {
    print_row(f, [&] {
        std::vector<std::string> titles;
        for (const Column &c : columns_) titles.push_back(c.title);
        return titles;
    }());
    std::string rule;
    for (size_t i = 0; i < columns_.size(); ++i) {
        if (i) rule += "  ";
        rule += std::string(static_cast<size_t>(columns_[i].width), '-');
    }
    std::fprintf(f, "%s\n", rule.c_str());
    std::fflush(f);
}

void TextTable::print_row(std::FILE *f, const std::vector<std::string> &cells) const {
    std::string line;
    for (size_t i = 0; i < columns_.size(); ++i) {
        const std::string &cell = i < cells.size() ? cells[i] : std::string();
        const Column &c = columns_[i];
        const size_t pad =
            cell.size() < static_cast<size_t>(c.width) ? static_cast<size_t>(c.width) - cell.size() : 0;
        if (i) line += "  ";
        line += c.left_aligned ? cell + std::string(pad, ' ') : std::string(pad, ' ') + cell;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::fprintf(f, "%s\n", line.c_str());
    std::fflush(f);  // rows arrive seconds apart; show each at once
}

bool CsvWriter::open(const std::string &path, const std::vector<std::string> &header) {
    if (path.empty()) return true;
    file_ = std::fopen(path.c_str(), "w");
    if (!file_) {
        std::fprintf(stderr, "espcn-bench: cannot write '%s': %s\n", path.c_str(),
                     std::strerror(errno));
        return false;
    }
    row(header);
    return true;
}

void CsvWriter::row(const std::vector<std::string> &cells) {
    if (!file_) return;
    for (size_t i = 0; i < cells.size(); ++i)
        std::fprintf(file_, "%s%s", i ? "," : "", cells[i].c_str());
    std::fputc('\n', file_);
    std::fflush(file_);  // a long run interrupted still leaves its finished rows
}

CsvWriter::~CsvWriter() {
    if (file_) std::fclose(file_);
}

}  // namespace espcn::bench
