// Compiles the index math shared between CPU and CUDA in device code, so a
// change that breaks __host__ __device__ use fails the build here too.
#include "core/deconv_taps.hpp"
#include "core/sample_codec.hpp"
#include "core/shuffle_index.hpp"

__global__ void espcn_shared_math_check(unsigned *out, int r) {
    const espcn::ShuffleSource s = espcn::shuffle_source(espcn::kShuffleDCR, 0, threadIdx.y,
                                                         threadIdx.x, r, 1);
    const float v = espcn::decode_sample(s.channel, 255u, espcn::SampleRange{});
    out[threadIdx.x] = espcn::encode_sample(v, 1023u, espcn::SampleRange{}) +
                       espcn::deconv_tap_for_lr_tap(0, espcn::deconv_lr_radius(9, r, 4), 0, 9, r, 4);
}
