// The cpu-fast kernels once more, in namespace espcn::fast_wide, with the
// AVX-512 blocking (24 accumulators per micro-kernel, up to 4 output vectors)
// on every target: test_backends runs these tables too, so that blocking is
// checked against the reference on CPUs without AVX-512 (with AVX2's 8-lane
// instructions and the baseline's; the AVX-512 instructions themselves only
// run on an AVX-512 CPU).
#define ESPCN_FAST_WIDE_BLOCKS 1
#define ESPCN_FAST_KERNELS_NAMESPACE fast_wide
#include "cpu/fast/fast_kernels.cpp"  // NOLINT: compiled again on purpose
