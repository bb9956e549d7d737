// espcn-bench's CPU modes in builds without oneDNN (-DESPCN_WITH_ONEDNN=OFF,
// e.g. the GPU check's build for a machine without libdnnl): both time
// oneDNN's convolutions, so they say so; --cuda still works.
#include <cstdio>

#include "bench_support.hpp"

namespace espcn::bench {

namespace {

int needs_onednn(const char *mode) {
    std::fprintf(stderr, "espcn-bench %s: this build has no oneDNN backend (configured with "
                         "ESPCN_WITH_ONEDNN=OFF); --cuda is available\n", mode);
    return 1;
}

}  // namespace

int run_throughput_bench(const Options &) { return needs_onednn("(throughput)"); }
int run_upsampler_bench(const Options &) { return needs_onednn("--upsampler"); }
int run_bands_bench(const Options &) { return needs_onednn("--bands"); }

}  // namespace espcn::bench
