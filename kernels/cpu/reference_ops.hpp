// Naive building blocks of the reference backend, exposed for tests and the
// upsampler comparison.
#pragma once

#include <vector>

#include "../core/network.hpp"

namespace espcn {

// "same" conv of a CHW float tensor (w×h), fused activation; dst is CHW.
void reference_conv(const ConvLayer &c, const float *src, int w, int h, float *dst);
// Output channels [o_begin, o_end) only.
void reference_conv_channels(const ConvLayer &c, const float *src, int w, int h, float *dst,
                             int o_begin, int o_end);

// All convs of the network; lr_out holds C·r² channels of w×h (CHW).
void reference_forward(const Network &net, const float *input, int w, int h,
                       std::vector<float> &lr_out);

}  // namespace espcn
