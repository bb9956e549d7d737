// The note's three equivalent ways to compute one upsampling layer, on oneDNN,
// so espcn-bench --upsampler can show where the r²-fold saving comes from:
//   (a) transposed convolution (oneDNN's deconvolution primitive);
//   (b) "sub-pixel convolution with fractional stride": r−1 zeros inserted
//       between LR pixels, then a plain K×K conv on the HR grid;
//   (c) our LR convolution with C·r² outputs plus the periodic shuffle.
// Each takes a plain NCHW LR tensor and writes a plain NCHW HR tensor.
#pragma once

#include <memory>
#include <vector>

#include "../core/network.hpp"
#include "../core/status.hpp"

namespace espcn {

enum class UpsamplerMethod { deconvolution, zero_insertion, lr_conv_shuffle };
const char *upsampler_method_name(UpsamplerMethod m);

class UpsamplerVariants {
public:
    // The layer as a transposed conv (PyTorch layout) whose output is exactly
    // stride× its input, for a width×height LR input.
    [[nodiscard]] static Result<std::unique_ptr<UpsamplerVariants>> create(const DeconvLayer &layer,
                                                                           int width, int height);
    ~UpsamplerVariants();

    // Multiply-accumulates each method performs for one LR input.
    double macs(UpsamplerMethod m) const;
    size_t input_size() const;   // in_channels · h · w
    size_t output_size() const;  // out_channels · rh · rw

    [[nodiscard]] Status run(UpsamplerMethod m, const float *input_nchw, float *output_nchw);

private:
    UpsamplerVariants() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace espcn
