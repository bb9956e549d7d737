// espcn-bench: how fast espcn upscales planes on this CPU, and why the LR
// convolution + periodic shuffle is the upsampler to use. See --help.
#include <cstdio>
#include <exception>
#include <new>

#include "bench_support.hpp"

int main(int argc, char **argv) {
    // Nothing may escape main as an exception: allocation failures of huge
    // sizes are the likely ones, and they deserve a message, not an abort.
    try {
        espcn::bench::Options opts;
        switch (espcn::bench::parse_options(argc, argv, opts)) {
        case espcn::bench::ParseOutcome::help_shown: return 0;
        case espcn::bench::ParseOutcome::error: return 2;
        case espcn::bench::ParseOutcome::run: break;
        }
        if (opts.cuda_mode) return espcn::bench::run_cuda_bench(opts);
        if (opts.bands_mode) return espcn::bench::run_bands_bench(opts);
        return opts.upsampler_mode ? espcn::bench::run_upsampler_bench(opts)
                                   : espcn::bench::run_throughput_bench(opts);
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "espcn-bench: out of memory (try smaller --sizes or --scales)\n");
    } catch (const std::exception &e) {
        std::fprintf(stderr, "espcn-bench: %s\n", e.what());
    }
    return 1;
}
