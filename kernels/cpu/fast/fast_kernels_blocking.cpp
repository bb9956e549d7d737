// The cpu-fast kernels once more, in namespace espcn::fast_blocking, with 12
// accumulators per micro-kernel where the target's default is 24 (AVX-512,
// NEON): a second candidate blocking for the planner. Measured on an
// Emerald Rapids Xeon, one 168-column strip row of a 16-map layer, ns per
// column-row: Winograd 18.1 with 12 accumulators (batches of 12 tiles stay
// in L1) against 19.8 with 24; a direct 5x5 16->16 layer 81.0 against 74.3:
// which is faster depends on the layer, so the planner measures both.
#define ESPCN_FAST_NARROW_BLOCKS 1
#define ESPCN_FAST_KERNELS_NAMESPACE fast_blocking
#include "cpu/fast/fast_kernels.cpp"  // NOLINT: compiled again on purpose
