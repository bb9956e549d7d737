// Transposed conv  <->  LR conv + periodic shuffle, exactly (see deconv_taps.hpp).
#pragma once

#include "network.hpp"
#include "status.hpp"

namespace espcn {

// A (in, out, K, K) stride-r transposed conv whose output is exactly r times
// its input (K − 2p + output_pad == r) becomes a "same" LR conv with
// out·r² outputs in CRD order and a (2R+1)² kernel. Bias is replicated over
// the r² phases. Activation fields of the result are left identity.
[[nodiscard]] Result<ConvLayer> deconv_to_lr_conv(const DeconvLayer &deconv);

// The inverse: an LR conv with C·r² outputs (in the given shuffle order)
// followed by the shuffle equals a transposed conv with C outputs, stride r,
// kernel k·r and padding (k/2)·r. The note's (9,32,3,3) <-> (1,32,9,9).
[[nodiscard]] Result<DeconvLayer> lr_conv_to_deconv(const ConvLayer &conv, int scale,
                                                    ShuffleOrder order);

}  // namespace espcn
