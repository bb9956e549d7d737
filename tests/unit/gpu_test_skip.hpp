// How GPU tests skip. Where no GPU (driver, device, cuDNN) is usable they
// skip, saying why, so CI machines without one stay green; with
// ESPCN_GPU_REQUIRED=1 in the environment (scripts/gpu_check.sh --run sets it)
// the same condition is a failure, so a run meant to exercise the GPU cannot
// pass by skipping.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace espcn::test {

inline bool gpu_required() {
    const char *v = std::getenv("ESPCN_GPU_REQUIRED");
    return v && std::strcmp(v, "1") == 0;
}

}  // namespace espcn::test

// Skips the test (or, with ESPCN_GPU_REQUIRED=1, fails it) with `reason`
// (anything streamable); returns from the test function either way.
#define ESPCN_GPU_SKIP(reason)                                                        \
    do {                                                                              \
        if (::espcn::test::gpu_required()) GTEST_FAIL() << "ESPCN_GPU_REQUIRED=1: " << reason; \
        else GTEST_SKIP() << reason;                                                  \
    } while (0)
