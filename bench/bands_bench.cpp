// espcn-bench --bands: what bounded memory costs. Three contexts on the
// oneDNN backend, through the public C API, timed in alternation on the same
// frame: no budget (one pass over the whole plane), the default budget (bands
// of rows with a halo of R rows at each inner edge), and the default budget
// with a cancel callback that never stops (bands also capped by work, as in
// espcn-cli). Their outputs are compared too: bands must not change a sample.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench_support.hpp"
#include "core/safetensors.hpp"
#include "espcn/espcn.h"

namespace espcn::bench {

namespace {

int never_cancel(void *) { return 0; }

struct Variant {
    const char *name;
    size_t budget;
    bool cancel;
};

constexpr Variant kVariants[] = {
    {"whole plane", SIZE_MAX, false},
    {"bands (512 MiB)", 0, false},
    {"bands + cancel", 0, true},
};

// A model file of the network (the C API takes files or buffers).
std::vector<uint8_t> model_file(const Network &net) {
    std::vector<TensorToWrite> tensors;
    std::string layers = "[";
    for (size_t k = 0; k < net.convs.size(); ++k) {
        const ConvLayer &c = net.convs[k];
        const std::string w = concat("w", k), b = concat("b", k);
        tensors.push_back({w, {c.out_channels, c.in_channels, c.kernel, c.kernel}, c.weight});
        tensors.push_back({b, {c.out_channels}, c.bias});
        layers += concat(k ? "," : "", "{\"type\":\"conv\",\"in\":", c.in_channels, ",\"out\":",
                         c.out_channels, ",\"kernel\":", c.kernel, ",\"weight\":\"", w,
                         "\",\"bias\":\"", b, "\"}");
        if (c.activation == Activation::tanh) layers += ",{\"type\":\"tanh\"}";
    }
    layers += concat(",{\"type\":\"pixel_shuffle\",\"scale\":", net.scale, "}]");
    const std::string desc = concat("{\"name\":\"", net.name, "\",\"scale\":", net.scale,
                                    ",\"layers\":", layers, "}");
    return write_safetensors({{"espcn.format", "1"}, {"espcn.network", desc}}, tensors);
}

}  // namespace

int run_bands_bench(const Options &opts) {
    std::shared_ptr<const Network> model;
    if (!load_model_option(opts, model)) return 1;
    if (model) {
        std::fprintf(stderr, "espcn-bench --bands: runs the paper's ESPCN; --model is not used here\n");
        return 2;
    }
    std::printf("%s\n", machine_header(opts).c_str());
    std::printf("# oneDNN backend through the C API, %d threads; time per frame, interleaved\n",
                opts.threads > 0 ? opts.threads : available_cores());
    TextTable table({{"input", 11, true}, {"r", 2}, {"whole ms", 9}, {"bands ms", 9},
                     {"cancel ms", 10}, {"bands/whole", 12}, {"cancel/whole", 13}, {"same", 5}});
    table.print_header(stdout);
    CsvWriter csv;
    if (!csv.open(opts.csv_path, {"width", "height", "scale", "whole_ms", "bands_ms", "cancel_ms",
                                  "same_output"}))
        return 1;
    int status = 0;
    for (const FrameSize size : opts.sizes) {
        for (const int r : opts.scales) {
            const std::vector<uint8_t> file = model_file(make_paper_espcn(r, 1));
            espcn_context *ctx[3] = {};
            std::vector<uint8_t> in(static_cast<size_t>(size.width) * size.height);
            for (size_t k = 0; k < in.size(); ++k) in[k] = static_cast<uint8_t>((k * 7 + k / size.width * 3) & 0xff);
            std::vector<std::vector<uint8_t>> out(3, std::vector<uint8_t>(in.size() * r * r));
            const espcn_plane pin = {in.data(), size.width, size.width, size.height, 8, 0};
            bool ok = true;
            for (int v = 0; v < 3 && ok; ++v) {
                espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
                p.model_data = file.data();
                p.model_size = file.size();
                p.backend = ESPCN_BACKEND_ONEDNN;
                p.threads = opts.threads;
                p.memory_budget = kVariants[v].budget;
                p.cancel_callback = kVariants[v].cancel ? never_cancel : nullptr;
                ok = espcn_create(&p, &ctx[v]) == ESPCN_OK;
            }
            double total[3] = {0, 0, 0};
            int frames = 0;
            auto run = [&](int v) {
                const espcn_plane pout = {out[v].data(), size.width * r, size.width * r,
                                          size.height * r, 8, 0};
                const auto t0 = std::chrono::steady_clock::now();
                const bool done = espcn_process_plane(ctx[v], &pin, &pout) == ESPCN_OK;
                total[v] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                return done;
            };
            // One warm-up each (primitives, buffers), then rounds of all three.
            for (int v = 0; v < 3 && ok; ++v) ok = run(v);
            total[0] = total[1] = total[2] = 0;
            while (ok && (frames < opts.min_iters || total[0] < opts.min_time_s)) {
                for (int v = 0; v < 3 && ok; ++v) ok = run(v);
                ++frames;
            }
            if (!ok) {
                std::fprintf(stderr, "espcn-bench --bands: %s\n", espcn_last_error());
                status = 1;
            } else {
                const bool same = out[0] == out[1] && out[0] == out[2];
                if (!same) status = 1;
                const double ms[3] = {1e3 * total[0] / frames, 1e3 * total[1] / frames,
                                      1e3 * total[2] / frames};
                table.print_row(stdout, {size_string(size.width, size.height), std::to_string(r),
                                         fixed(ms[0], 1), fixed(ms[1], 1), fixed(ms[2], 1),
                                         fixed(ms[1] / ms[0], 3), fixed(ms[2] / ms[0], 3),
                                         same ? "yes" : "NO"});
                csv.row({std::to_string(size.width), std::to_string(size.height), std::to_string(r),
                         fixed(ms[0], 3), fixed(ms[1], 3), fixed(ms[2], 3), same ? "1" : "0"});
            }
            for (espcn_context *&c : ctx) espcn_destroy(&c);
        }
    }
    return status;
}

}  // namespace espcn::bench
