// Weight packing for the cpu-fast kernels: done once per context, in the
// order the micro-kernels stream the weights.
#include <algorithm>

#include "fast_kernels.hpp"

namespace espcn::fast {

std::vector<int> vector_groups(int out_vectors, int max_group_vectors) {
    std::vector<int> groups;
    for (int v = 0; v < out_vectors; v += max_group_vectors)
        groups.push_back(std::min(max_group_vectors, out_vectors - v));
    return groups;
}

namespace {

// Output vectors: the channels, padded to `padded_out` if that is more.
int out_vectors_of(const ConvLayer &c, int lanes, int padded_out) {
    return (std::max(c.out_channels, padded_out) + lanes - 1) / lanes;
}

}  // namespace

std::vector<float> pack_direct_weights(const ConvLayer &c, int lanes, int max_group_vectors,
                                       int padded_out) {
    const int k = c.kernel;
    const int nv = out_vectors_of(c, lanes, padded_out);
    std::vector<float> packed;
    packed.reserve(static_cast<size_t>(k) * k * c.in_channels * nv * lanes);
    int vec0 = 0;
    for (const int g : vector_groups(nv, max_group_vectors)) {
        for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx)
                for (int i = 0; i < c.in_channels; ++i)
                    for (int o = vec0 * lanes; o < (vec0 + g) * lanes; ++o)
                        packed.push_back(o < c.out_channels ? c.w(o, i, ky, kx) : 0.0f);
        vec0 += g;
    }
    return packed;
}

std::vector<float> pack_dot_weights(const ConvLayer &c, int in_pixel_stride) {
    const int k = c.kernel, n = c.out_channels;
    std::vector<float> packed;
    packed.reserve(static_cast<size_t>(n) * k * k * in_pixel_stride);
    for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx)
            for (int c0 = 0; c0 < in_pixel_stride; c0 += kDotWeightBlock) {
                const int end = std::min(c0 + kDotWeightBlock, in_pixel_stride);
                for (int o = 0; o < n; ++o)
                    for (int i = c0; i < end; ++i) packed.push_back(i < c.in_channels ? c.w(o, i, ky, kx) : 0.0f);
            }
    return packed;
}

std::vector<float> pack_winograd_weights(const ConvLayer &c, int lanes, int max_group_vectors,
                                         int padded_out) {
    // G of F(4×4, 3×3) for the points 0, ±1, ±2 (and ∞): U = G g Gᵀ.
    static constexpr double G[kWinoTile][3] = {
        {1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    const int nv = out_vectors_of(c, lanes, padded_out);
    const int cin = c.in_channels, cout = c.out_channels;
    // u[(o · cin + i) · 36 + pos]
    std::vector<float> u(static_cast<size_t>(cout) * cin * kWinoPositions);
    for (int o = 0; o < cout; ++o)
        for (int i = 0; i < cin; ++i) {
            double gg[kWinoTile][3];  // G g
            for (int a = 0; a < kWinoTile; ++a)
                for (int kx = 0; kx < 3; ++kx) {
                    double s = 0;
                    for (int ky = 0; ky < 3; ++ky) s += G[a][ky] * c.w(o, i, ky, kx);
                    gg[a][kx] = s;
                }
            for (int a = 0; a < kWinoTile; ++a)
                for (int b = 0; b < kWinoTile; ++b) {
                    double s = 0;
                    for (int kx = 0; kx < 3; ++kx) s += gg[a][kx] * G[b][kx];
                    u[(static_cast<size_t>(o) * cin + i) * kWinoPositions + a * kWinoTile + b] =
                        static_cast<float>(s);
                }
        }
    std::vector<float> packed;
    packed.reserve(static_cast<size_t>(kWinoPositions) * cin * nv * lanes);
    const std::vector<int> groups = vector_groups(nv, max_group_vectors);
    for (int pos = 0; pos < kWinoPositions; ++pos) {
        int vec0 = 0;
        for (const int g : groups) {
            for (int i = 0; i < cin; ++i)
                for (int o = vec0 * lanes; o < (vec0 + g) * lanes; ++o)
                    packed.push_back(o < cout ? u[(static_cast<size_t>(o) * cin + i) * kWinoPositions + pos]
                                              : 0.0f);
            vec0 += g;
        }
    }
    return packed;
}

}  // namespace espcn::fast
