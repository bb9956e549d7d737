// espcn-bench --upsampler: the note's three equivalent computations of one
// upsampling layer, side by side on oneDNN (UpsamplerVariants):
//   (a) transposed convolution,
//   (b) zeros inserted between LR pixels, then a convolution on the HR grid,
//   (c) a convolution in LR space with C·r² outputs, then the periodic shuffle.
// Same input, same weights; the table shows the MACs each performs, its time,
// and that all three outputs agree.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "bench_support.hpp"
#include "core/deconv_conversion.hpp"
#include "core/deconv_taps.hpp"
#include "cpu/upsampler_variants.hpp"

namespace espcn::bench {

namespace {

constexpr uint64_t kWeightSeed = 2;
constexpr uint64_t kInputSeed = 3;
// float32 sums of a few hundred products of O(1) values in different orders
// differ by ~1e-6; 1e-4 (relative to the output's magnitude) leaves room for
// oneDNN's different accumulation orders and still catches any wrong tap.
constexpr double kAgreementTolerance = 1e-4;

struct UpsamplingLayer {
    DeconvLayer deconv;
    std::string origin;  // where the weights come from, for the header
};

// ESPCN's last layer (3x3 conv 32 -> r², then the shuffle) written as the
// transposed conv it equals: 32 -> 1, kernel 3r, stride r, padding r.
DeconvLayer random_espcn_upsampler(int scale) {
    SplitMix64 rng(kWeightSeed + static_cast<uint64_t>(scale));
    DeconvLayer d;
    d.in_channels = 32;
    d.out_channels = 1;
    d.kernel = 3 * scale;
    d.stride = scale;
    d.pad = scale;
    d.output_pad = 0;
    // Each HR output sums 32·3·3 products: PyTorch's init range for that
    // fan-in keeps outputs O(1), so the agreement tolerance is meaningful.
    const float bound = 1.0f / std::sqrt(32.0f * 9.0f);
    d.weight.resize(static_cast<size_t>(d.in_channels) * d.out_channels * d.kernel * d.kernel);
    for (float &w : d.weight) w = rng.uniform(-bound, bound);
    d.bias.resize(static_cast<size_t>(d.out_channels));
    for (float &b : d.bias) b = rng.uniform(-bound, bound);
    return d;
}

// The model's last LR conv (which feeds the shuffle) as a transposed conv.
// A transposed conv has one bias per output channel, while the shuffle's r²
// phases may have learnt different ones: then their mean is used, which
// changes no MAC and no timing.
Result<UpsamplingLayer> model_upsampler(const Network &net) {
    ConvLayer last = net.convs.back();
    std::string origin = concat("the last conv of ", net.name, " (", last.kernel, "x", last.kernel,
                                " ", last.in_channels, "->", last.out_channels, ", activation ",
                                activation_name(last.activation), " not part of the comparison)");
    if (net.source_upsampler == ESPCN_UPSAMPLER_DECONV)
        origin += "; the file's transposed conv was converted to this LR conv at load, and "
                  "converting back gives kernel k*r, possibly larger than the file's";
    Result<DeconvLayer> deconv = lr_conv_to_deconv(last, net.scale, net.order);
    if (!deconv.is_ok() && deconv.status().code() == ESPCN_ERROR_UNSUPPORTED) {
        const int r2 = net.scale * net.scale;
        const int channels = last.out_channels / r2;
        for (int o = 0; o < channels; ++o) {
            double sum = 0.0;
            for (int p = 0; p < r2; ++p)
                sum += last.bias[shuffle_channel(net.order, o, p / net.scale, p % net.scale,
                                                 net.scale, channels)];
            for (int p = 0; p < r2; ++p)
                last.bias[shuffle_channel(net.order, o, p / net.scale, p % net.scale, net.scale,
                                          channels)] = static_cast<float>(sum / r2);
        }
        origin += "; its r^2 phase biases differ (a transposed conv cannot express that), so "
                  "their mean is used here";
        deconv = lr_conv_to_deconv(last, net.scale, net.order);
    }
    if (!deconv.is_ok()) return deconv.status();
    return UpsamplingLayer{std::move(deconv).value(), std::move(origin)};
}

// Roughly what UpsamplerVariants::create and this benchmark allocate, in
// bytes, counting every tensor oneDNN might reorder into its own layout twice.
// oneDNN 2.6 runs the zero-insertion conv (one output channel) as im2col +
// GEMM, whose per-thread im2col buffer is not visible from here: it is
// allowed for as in_channels·K² values per HR pixel for 16 HR rows per thread,
// which covered what was measured (640x360, r = 2 and 3, 2 threads).
double estimated_working_set(const DeconvLayer &d, int width, int height, int threads) {
    const double r = d.stride, w = width, h = height;
    const double lr_kernel = 2 * deconv_lr_radius(d.kernel, d.stride, d.pad) + 1;
    const double stuffed = d.in_channels * ((h - 1) * r + 1) * ((w - 1) * r + 1);
    const double lr_in = d.in_channels * h * w;
    const double hr_out = d.out_channels * h * r * w * r;
    const double lr_out = d.out_channels * r * r * h * w;
    const double weights = d.in_channels * d.out_channels * (3.0 * d.kernel * d.kernel +
                                                             r * r * lr_kernel * lr_kernel);
    const double im2col = threads * 16.0 * w * r * d.in_channels * d.kernel * d.kernel;
    // input: ours + reorders for (a) and (c); outputs: our three + (a), (b)'s own.
    return 4.0 * (2 * stuffed + 3 * lr_in + 5 * hr_out + 2 * lr_out + weights + im2col);
}

std::string scientific(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1e", value);
    return buf;
}

const char *csv_method_name(UpsamplerMethod m) {
    switch (m) {
    case UpsamplerMethod::deconvolution: return "deconvolution";
    case UpsamplerMethod::zero_insertion: return "zero_insertion";
    case UpsamplerMethod::lr_conv_shuffle: return "lr_conv_shuffle";
    }
    return "?";
}

struct MethodResult {
    UpsamplerMethod method;
    LoopTiming timing;
    std::vector<float> output;
    double max_abs_diff = 0.0;  // vs the LR conv + shuffle output
};

// Largest |a − b|; a NaN anywhere counts as infinitely far.
double max_abs_difference(const std::vector<float> &a, const std::vector<float> &b) {
    double worst = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
        if (std::isnan(d)) return std::numeric_limits<double>::infinity();
        worst = std::max(worst, d);
    }
    return worst;
}

}  // namespace

int run_upsampler_bench(const Options &opts) {
    std::shared_ptr<const Network> model;
    if (!load_model_option(opts, model)) return 1;
    const std::vector<int> scales = scales_to_run(opts, model.get());
    const int threads = opts.threads > 0 ? opts.threads : available_cores();
    // UpsamplerVariants runs on oneDNN's default (OpenMP) thread count.
    const OmpThreadsScope omp_threads(threads);

    // Opened before anything is printed, so a bad path fails at once.
    CsvWriter csv;
    if (!csv.open(opts.csv_path,
                  {"method", "width", "height", "scale", "in_channels", "out_channels", "kernel",
                   "stride", "padding", "threads", "ms", "macs", "gmacs_per_s",
                   "macs_over_lr_conv_shuffle", "time_over_lr_conv_shuffle",
                   "max_abs_diff_vs_lr_conv_shuffle"}))
        return 1;

    std::printf("%s\n", machine_header(opts).c_str());
    std::printf("# --upsampler: one upsampling layer computed three equivalent ways on oneDNN,"
                " %d thread(s); NCHW float32 in and out\n",
                threads);
    std::printf("#   (a) deconvolution: oneDNN's transposed convolution\n"
                "#   (b) zero-insertion conv: r-1 zeros between LR pixels, then a KxK conv on the"
                " HR grid (time includes the zero stuffing)\n"
                "#   (c) LR conv + shuffle: conv in LR space with C*r^2 outputs, then the periodic"
                " shuffle (time includes the shuffle)\n");
    std::printf("# each: one warm-up run, then >= %.2f s and >= %d run(s); input: fixed-seed"
                " random in [-1, 1)\n",
                opts.min_time_s, opts.min_iters);

    std::vector<UpsamplingLayer> layers;
    for (const int scale : scales) {
        UpsamplingLayer layer;
        if (model) {
            Result<UpsamplingLayer> from_model = model_upsampler(*model);
            if (from_model.is_ok()) {
                layer = std::move(from_model).value();
            } else {
                std::fprintf(stderr,
                             "espcn-bench: cannot express the model's last conv as a transposed"
                             " conv (%s); using a random layer\n",
                             from_model.status().message().c_str());
            }
        }
        if (layer.deconv.stride == 0) {
            layer.deconv = random_espcn_upsampler(scale);
            layer.origin = concat("ESPCN's last layer (3x3 conv 32->", scale * scale,
                                  " + shuffle) expressed as a transposed conv; fixed-seed random"
                                  " weights (SplitMix64 seed ",
                                  kWeightSeed + static_cast<uint64_t>(scale), ")");
        }
        const DeconvLayer &d = layer.deconv;
        const int lr_kernel = 2 * deconv_lr_radius(d.kernel, d.stride, d.pad) + 1;
        std::printf("# r=%d: transposed conv %d->%d, kernel %dx%d, stride %d, padding %d"
                    " == LR conv %dx%d %d->%d + shuffle; from %s\n",
                    d.stride, d.in_channels, d.out_channels, d.kernel, d.kernel, d.stride, d.pad,
                    lr_kernel, lr_kernel, d.in_channels, d.out_channels * d.stride * d.stride,
                    layer.origin.c_str());
        layers.push_back(std::move(layer));
    }
    std::printf("\n");

    const TextTable table({{"method", 19, true},
                           {"input", 9, true},
                           {"r", 1},
                           {"ms", 9},
                           {"GMAC", 7},
                           {"GMAC/s", 7},
                           {"MACs/(c)", 8},
                           {"time/(c)", 8},
                           {"max|diff| vs (c)", 16}});
    table.print_header(stdout);

    int failures = 0;
    bool all_agree = true;
    for (const FrameSize &size : opts.sizes) {
        for (const UpsamplingLayer &layer : layers) {
            const DeconvLayer &d = layer.deconv;
            const int scale = d.stride;
            const std::string input = size_string(size.width, size.height);
            const double mib = estimated_working_set(d, size.width, size.height, threads) / (1024.0 * 1024.0);
            if (mib > static_cast<double>(opts.upsampler_max_mib)) {
                table.print_row(stdout, {"(all three)", input, std::to_string(scale),
                                         concat("skipped: needs ~", fixed(mib, 0),
                                                " MiB > --upsampler-max-mib ", opts.upsampler_max_mib)});
                continue;
            }
            auto fail = [&](const Status &status) {
                std::fprintf(stderr, "espcn-bench: upsampler %s x%d: %s\n", input.c_str(), scale,
                             status.message().c_str());
                table.print_row(stdout, {"(all three)", input, std::to_string(scale), "failed"});
                ++failures;
            };
            Result<std::unique_ptr<UpsamplerVariants>> made =
                UpsamplerVariants::create(d, size.width, size.height);
            if (!made.is_ok()) {
                fail(made.status());
                continue;
            }
            UpsamplerVariants &variants = *made.value();

            std::vector<float> lr_input(variants.input_size());
            SplitMix64 rng(kInputSeed);
            for (float &v : lr_input) v = rng.uniform(-1.0f, 1.0f);

            // (c) first: its output is what the others are compared with.
            std::vector<MethodResult> results;
            for (const UpsamplerMethod m : {UpsamplerMethod::lr_conv_shuffle,
                                            UpsamplerMethod::deconvolution,
                                            UpsamplerMethod::zero_insertion})
                results.push_back({m, {}, std::vector<float>(variants.output_size()), 0.0});
            Status s = Status::ok();
            for (MethodResult &res : results) {
                auto run_once = [&] { return variants.run(res.method, lr_input.data(), res.output.data()); };
                s = run_once();  // warm-up
                if (s.is_ok()) s = time_loop(run_once, opts.min_time_s, opts.min_iters, res.timing);
                if (!s.is_ok()) break;
            }
            if (!s.is_ok()) {
                fail(s);
                continue;
            }
            const MethodResult &baseline = results[0];
            double output_magnitude = 0.0;
            for (const float v : baseline.output)
                output_magnitude = std::max(output_magnitude, std::fabs(static_cast<double>(v)));
            const double tolerance = kAgreementTolerance * std::max(1.0, output_magnitude);
            for (MethodResult &res : results) {
                res.max_abs_diff = max_abs_difference(res.output, baseline.output);
                all_agree &= res.max_abs_diff <= tolerance;
            }

            const double baseline_sec = baseline.timing.seconds_per_iteration();
            const double baseline_macs = variants.macs(UpsamplerMethod::lr_conv_shuffle);
            // Printed in the note's order (a), (b), (c).
            for (const size_t i : {size_t{1}, size_t{2}, size_t{0}}) {
                const MethodResult &res = results[i];
                const double sec = res.timing.seconds_per_iteration();
                const double macs = variants.macs(res.method);
                const std::string diff = scientific(res.max_abs_diff) +
                                         (res.max_abs_diff <= tolerance ? " (equal)" : " (DIFFER)");
                table.print_row(stdout, {upsampler_method_name(res.method), input,
                                         std::to_string(scale), fixed(sec * 1e3, 2),
                                         fixed(macs * 1e-9, 3), fixed(macs / sec * 1e-9, 2),
                                         fixed(macs / baseline_macs, 2),
                                         fixed(sec / baseline_sec, 2), diff});
                csv.row({csv_method_name(res.method), std::to_string(size.width),
                         std::to_string(size.height), std::to_string(scale),
                         std::to_string(d.in_channels), std::to_string(d.out_channels),
                         std::to_string(d.kernel), std::to_string(d.stride), std::to_string(d.pad),
                         std::to_string(threads), fixed(sec * 1e3, 4), fixed(macs, 0),
                         fixed(macs / sec * 1e-9, 4), fixed(macs / baseline_macs, 4),
                         fixed(sec / baseline_sec, 4), scientific(res.max_abs_diff)});
            }
        }
    }
    std::printf("\n# MACs/(c), time/(c): relative to LR conv + shuffle; max|diff| vs (c): largest"
                " |output - (c) output|, 'equal' when <= %.0e x max(1, max|output|)\n",
                kAgreementTolerance);
    if (!all_agree) {
        std::printf("# ERROR: the three computations disagree; see the rows marked DIFFER\n");
        return 1;
    }
    return failures ? 1 : 0;
}

}  // namespace espcn::bench
