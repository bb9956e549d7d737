// Kernel: the network's output step in one pass. Each HR pixel reads its
// source in the C·r²-channel LR tensor (shuffle_source of
// core/shuffle_index.hpp, CRD or DCR), adds the last layer's bias, applies its activation,
// maps the model's range to [0, 1], rounds, clamps (encode_sample of
// core/sample_codec.hpp) and writes the HR plane directly: the shuffled
// tensor never exists.
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

#include "../core/sample_codec.hpp"
#include "../core/shuffle_index.hpp"
#include "tensor_types.hpp"

namespace espcn::cuda {

struct ShuffleEncodeParams {
    const void *src = nullptr;          // device LR tensor, C·r² channels
    TensorType src_type = TensorType::f32;
    ptrdiff_t src_row_stride = 0;       // elements
    ptrdiff_t src_pixel_stride = 0;     // elements (NHWC: the channel count)
    ptrdiff_t src_channel_stride = 1;   // elements (NHWC: 1)
    int lr_width = 0;
    int lr_height = 0;
    int scale = 2;
    ShuffleOrder order = kShuffleCRD;
    // The image channel written (one launch per channel: each has its plane)
    // and the network's image channels C, which place it in the shuffle order.
    int channel = 0;
    int channels = 1;
    // The last conv's bias and activation, fused here: cuDNN writes the bare
    // convolution. Device arrays of one float per LR channel; NULL: no bias
    // (slopes are read only for prelu).
    const float *bias = nullptr;
    const float *prelu_slope = nullptr;
    Activation activation = Activation::identity;
    SampleRange range{};
    // Global residual (Network::residual == nearest): the network's LR input
    // plane of image channel `channel` itself (one plane per launch, like
    // dst), decoded here in fp32 with `range` (decode_sample, as the CPU
    // decodes it), added nearest-upsampled after the activation: HR (c, Y, X)
    // adds decode(in_c(Y div r, X div r)). Not the fp16 input tensor: rounded
    // to 11 bits there, the identity path would lose up to 16 codes of a
    // 16-bit plane. NULL: none.
    const void *residual = nullptr;  // device LR plane, sample (y, x) as sample_access.hpp reads it
    ptrdiff_t residual_stride = 0;   // bytes; may be negative
    int residual_bit_depth = 8;
    int residual_shift = 0;
    void *dst = nullptr;                // device HR plane; may be smaller than r× the LR size
    ptrdiff_t dst_stride = 0;           // bytes; may be negative
    int dst_width = 0;                  // <= scale · lr_width
    int dst_height = 0;                 // <= scale · lr_height
    int dst_bit_depth = 8;
    int dst_shift = 0;
};

[[nodiscard]] cudaError_t launch_shuffle_encode(const ShuffleEncodeParams &p, cudaStream_t stream);

}  // namespace espcn::cuda
