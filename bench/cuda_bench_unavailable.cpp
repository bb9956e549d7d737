// espcn-bench --cuda in builds without the cuda backend.
#include <cstdio>

#include "bench_support.hpp"

namespace espcn::bench {

int run_cuda_bench(const Options &) {
    std::fprintf(stderr, "espcn-bench --cuda: this build has no cuda backend (configured without "
                         "CUDA or cuDNN)\n");
    return 1;
}

}  // namespace espcn::bench
