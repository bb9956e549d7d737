// espcn-bench's default mode: end-to-end throughput of the plane path
// (CpuBackend::process: 8-bit decode, convolutions, shuffle + encode) per input
// size x scale x backend. For oneDNN the bare convolutions are timed too, on
// the same configured backend, so e2e/conv shows what everything around the
// convolutions costs.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>

#include "bench_support.hpp"
#include "cpu/cpu_backend.hpp"
#include "cpu/fast/fast_backend.hpp"
#include "cpu/onednn_backend.hpp"

namespace espcn::bench {

namespace {

constexpr uint64_t kWeightSeed = 1;
// The plane conversion is O(pixels) next to O(pixels * MACs) of convolution;
// if end-to-end falls below this share of the bare convolution rate, the
// conversion (or its threading) is worth a look.
constexpr double kMinE2eOverConv = 0.7;

// An 8-bit plane and the descriptor that points into it (so not copyable).
class Plane8 {
public:
    Plane8(int width, int height)
        : samples_(static_cast<size_t>(width) * static_cast<size_t>(height)),
          plane_{samples_.data(), width, width, height, 8, 0} {}
    Plane8(const Plane8 &) = delete;
    Plane8 &operator=(const Plane8 &) = delete;

    const espcn_plane &plane() const { return plane_; }
    // Diagonal gradients with a multiplicative grain: deterministic, and not
    // flat anywhere, so every layer works on varied values.
    void fill_test_pattern() {
        for (int y = 0; y < plane_.height; ++y)
            for (int x = 0; x < plane_.width; ++x)
                samples_[static_cast<size_t>(y) * plane_.width + x] =
                    static_cast<uint8_t>((x * 3 + y * 2 + ((x * y) >> 3)) & 0xff);
    }

private:
    std::vector<uint8_t> samples_;
    espcn_plane plane_;
};

// The reference backend runs at ~1 GFLOP/s, so a frame takes seconds: one
// frame is the measurement (no warm-up; its first-call allocations are noise).
Status time_one_reference_frame(CpuBackend &backend, const Plane8 &in, const Plane8 &out,
                                LoopTiming &timing) {
    return time_loop([&] { return backend.process(in.plane(), out.plane()); }, 0.0, 1, timing);
}

// End-to-end frames and bare convolutions (of the same configured backend,
// with the thread count process() uses) in alternation, so both see the same
// background load and their ratio stays meaningful on a busy machine. Stops
// when each has run min_seconds and min_iterations.
Status time_process_and_convolutions(OnednnBackend &backend, const Plane8 &in, const Plane8 &out,
                                     double min_seconds, int min_iterations, LoopTiming &e2e,
                                     LoopTiming &conv) {
    using clock = std::chrono::steady_clock;
    ESPCN_RETURN_IF_ERROR(backend.process(in.plane(), out.plane()));  // warm-up, configures
    const OmpThreadsScope threads(backend.threads());
    ESPCN_RETURN_IF_ERROR(backend.run_convolutions());  // warm-up
    const int required = min_iterations > 1 ? min_iterations : 1;
    e2e = conv = LoopTiming{};
    while (e2e.iterations < required || conv.iterations < required ||
           e2e.seconds < min_seconds || conv.seconds < min_seconds) {
        clock::time_point start = clock::now();
        ESPCN_RETURN_IF_ERROR(backend.process(in.plane(), out.plane()));
        clock::time_point end = clock::now();
        e2e.seconds += std::chrono::duration<double>(end - start).count();
        ++e2e.iterations;
        start = clock::now();
        ESPCN_RETURN_IF_ERROR(backend.run_convolutions());
        end = clock::now();
        conv.seconds += std::chrono::duration<double>(end - start).count();
        ++conv.iterations;
    }
    return Status::ok();
}

void describe_network(const Network &net) {
    std::printf("# network: %s, %zu convs:", net.name.c_str(), net.convs.size());
    for (const ConvLayer &c : net.convs)
        std::printf(" %dx%d %d->%d %s;", c.kernel, c.kernel, c.in_channels, c.out_channels,
                    activation_name(c.activation));
    std::printf(" then %s shuffle, %.0f MACs per LR pixel\n",
                net.order == kShuffleCRD ? "CRD" : "DCR", net.macs_per_lr_pixel());
}

}  // namespace

int run_throughput_bench(const Options &opts) {
    std::shared_ptr<const Network> model;
    if (!load_model_option(opts, model)) return 1;
    const std::vector<int> scales = scales_to_run(opts, model.get());
    const int onednn_threads = opts.threads > 0 ? opts.threads : available_cores();

    // Opened before anything is printed, so a bad path fails at once.
    CsvWriter csv;
    if (!csv.open(opts.csv_path, {"backend", "width", "height", "scale", "threads", "ms", "fps",
                                  "gflops", "bare_conv_fps", "e2e_over_bare",
                                  "speedup_vs_reference"}))
        return 1;

    std::printf("%s\n", machine_header(opts).c_str());
    if (model) {
        describe_network(*model);
        std::printf("# weights: from %s\n", opts.model_path.c_str());
    } else {
        for (const int r : scales) describe_network(make_paper_espcn(r, kWeightSeed));
        std::printf("# weights: fixed-seed random (SplitMix64 seed %" PRIu64
                    "); timing does not depend on weight values\n",
                    kWeightSeed);
    }
    std::printf("# end-to-end = CpuBackend::process on an 8-bit plane (decode + convs + shuffle/encode);"
                " conv = OnednnBackend::run_convolutions alone, timed alternately with it\n");
    std::printf("# GFLOP/s = 2 * MACs per LR pixel * W * H / time; oneDNN: %d thread(s), one"
                " warm-up frame, then >= %.2f s and >= %d frame(s)\n",
                onednn_threads, opts.min_time_s, opts.min_iters);
    std::printf("# reference: 1 thread, no warm-up, exactly one timed frame, skipped above %" PRId64
                " input pixels (--reference-max-pixels)\n\n",
                opts.reference_max_pixels);

    const TextTable table({{"backend", 22, true},
                           {"input", 9, true},
                           {"r", 1},
                           {"thr", 3},
                           {"ms/frame", 10},
                           {"fps", 8},
                           {"GFLOP/s", 7},
                           {"conv ms", 8},
                           {"conv fps", 8},
                           {"conv GFLOP/s", 12},
                           {"e2e/conv", 8},
                           {"vs ref", 7}});
    table.print_header(stdout);

    int failures = 0;
    bool below_expected_ratio = false;
    for (const FrameSize &size : opts.sizes) {
        for (const int scale : scales) {
            const std::shared_ptr<const Network> net =
                model ? model : std::make_shared<const Network>(make_paper_espcn(scale, kWeightSeed));
            const int64_t lr_pixels = int64_t{size.width} * size.height;
            const double flop_per_frame = 2.0 * net->macs_per_lr_pixel() * static_cast<double>(lr_pixels);
            const std::string input = size_string(size.width, size.height);
            Plane8 in(size.width, size.height);
            in.fill_test_pattern();
            Plane8 out(size.width * scale, size.height * scale);

            auto fail = [&](const char *backend, const Status &status) {
                std::fprintf(stderr, "espcn-bench: %s %s x%d: %s\n", backend, input.c_str(), scale,
                             status.message().c_str());
                table.print_row(stdout, {backend, input, std::to_string(scale), "", "failed"});
                ++failures;
            };

            std::optional<double> reference_fps;
            if (opts.run_reference) {
                if (lr_pixels > opts.reference_max_pixels) {
                    table.print_row(stdout, {"reference", input, std::to_string(scale), "1", "skipped"});
                    csv.row({"reference", std::to_string(size.width), std::to_string(size.height),
                             std::to_string(scale), "1", "", "", "", "", "", ""});
                } else {
                    Result<std::unique_ptr<CpuBackend>> made = make_reference_backend(net, BackendConfig{});
                    LoopTiming t;
                    Status s = made.status();
                    if (s.is_ok()) s = time_one_reference_frame(*made.value(), in, out, t);
                    if (!s.is_ok()) {
                        fail("reference", s);
                    } else {
                        const double sec = t.seconds_per_iteration();
                        reference_fps = 1.0 / sec;
                        table.print_row(stdout, {"reference", input, std::to_string(scale), "1",
                                                 fixed(sec * 1e3, 1), fixed(1.0 / sec, 3),
                                                 fixed(flop_per_frame / sec * 1e-9, 2), "-", "-",
                                                 "-", "-", "1.0"});
                        csv.row({"reference", std::to_string(size.width),
                                 std::to_string(size.height), std::to_string(scale), "1",
                                 fixed(sec * 1e3, 4), fixed(1.0 / sec, 5),
                                 fixed(flop_per_frame / sec * 1e-9, 4), "", "", "1"});
                    }
                }
            }

            std::optional<double> onednn_fps;
            if (opts.run_onednn) {
                BackendConfig cfg;
                cfg.threads = opts.threads;
                Result<std::unique_ptr<CpuBackend>> made = make_onednn_backend(net, cfg);
                Status s = made.status();
                auto *onednn = s.is_ok() ? dynamic_cast<OnednnBackend *>(made.value().get()) : nullptr;
                if (s.is_ok() && !onednn)
                    s = Status(ESPCN_ERROR_INTERNAL, "make_onednn_backend made no OnednnBackend");
                LoopTiming e2e, conv;
                if (s.is_ok())
                    s = time_process_and_convolutions(*onednn, in, out, opts.min_time_s,
                                                      opts.min_iters, e2e, conv);
                if (!s.is_ok()) {
                    fail("onednn", s);
                    continue;
                }
                const double sec = e2e.seconds_per_iteration();
                const double conv_sec = conv.seconds_per_iteration();
                const double ratio = conv_sec / sec;  // = e2e fps / conv fps
                below_expected_ratio |= ratio < kMinE2eOverConv;
                const std::string threads = std::to_string(onednn->threads());
                table.print_row(stdout,
                                {"onednn", input, std::to_string(scale), threads, fixed(sec * 1e3, 2),
                                 fixed(1.0 / sec, 2), fixed(flop_per_frame / sec * 1e-9, 2),
                                 fixed(conv_sec * 1e3, 2), fixed(1.0 / conv_sec, 2),
                                 fixed(flop_per_frame / conv_sec * 1e-9, 2),
                                 fixed(ratio, 3) + (ratio < kMinE2eOverConv ? "!" : ""),
                                 reference_fps ? fixed(1.0 / sec / *reference_fps, 1) : "-"});
                onednn_fps = 1.0 / sec;
                csv.row({"onednn", std::to_string(size.width), std::to_string(size.height),
                         std::to_string(scale), threads, fixed(sec * 1e3, 4), fixed(1.0 / sec, 4),
                         fixed(flop_per_frame / sec * 1e-9, 4), fixed(1.0 / conv_sec, 4),
                         fixed(ratio, 4),
                         reference_fps ? fixed(1.0 / sec / *reference_fps, 3) : ""});
            }
            for (const std::string &variant : opts.fast_variants) {
                BackendConfig cfg;
                cfg.threads = opts.threads;
                if (variant == "cpu-fast-avx512") cfg.max_cpu_isa = CpuIsa::avx512;
                if (variant == "cpu-fast-avx2") cfg.max_cpu_isa = CpuIsa::avx2;
                if (variant == "cpu-fast-baseline") cfg.max_cpu_isa = CpuIsa::baseline;
                Result<std::unique_ptr<CpuBackend>> made = make_cpu_fast_backend(net, cfg);
                Status s = made.status();
                auto *fast = s.is_ok() ? dynamic_cast<FastBackend *>(made.value().get()) : nullptr;
                if (fast) fast->set_tiling({opts.fast_strip_width, opts.fast_band_rows});
                LoopTiming e2e;
                if (fast) s = fast->process(in.plane(), out.plane());  // warm-up, configures
                if (s.is_ok())
                    s = time_loop([&] { return fast->process(in.plane(), out.plane()); },
                                  opts.min_time_s, opts.min_iters, e2e);
                if (!s.is_ok()) {
                    fail(variant.c_str(), s);
                    continue;
                }
                const double sec = e2e.seconds_per_iteration();
                const std::string name = variant + "/" + fast::isa_name(fast->kernels().isa);
                const std::string threads = std::to_string(fast->threads());
                table.print_row(stdout, {name, input, std::to_string(scale), threads,
                                         fixed(sec * 1e3, 2), fixed(1.0 / sec, 2),
                                         fixed(flop_per_frame / sec * 1e-9, 2), "-", "-", "-",
                                         onednn_fps ? fixed(1.0 / sec / *onednn_fps, 2) + "x dnn" : "-",
                                         reference_fps ? fixed(1.0 / sec / *reference_fps, 1) : "-"});
                csv.row({name, std::to_string(size.width), std::to_string(size.height),
                         std::to_string(scale), threads, fixed(sec * 1e3, 4), fixed(1.0 / sec, 4),
                         fixed(flop_per_frame / sec * 1e-9, 4), "", "",
                         reference_fps ? fixed(1.0 / sec / *reference_fps, 3) : ""});
                std::printf("#   %s: %d work items of %d columns x %d rows\n", name.c_str(),
                            fast->work_items(), fast->strip_width(), fast->band_rows());
            }
        }
    }
    std::printf("\n# e2e/conv = end-to-end fps / bare-convolution fps (expected >= %.1f%s);"
                " vs ref = onednn fps / reference fps\n",
                kMinE2eOverConv, below_expected_ratio ? "; '!' marks rows below it" : "");
    return failures ? 1 : 0;
}

}  // namespace espcn::bench
