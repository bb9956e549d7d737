// The network as the backends run it: LR-space convolutions, each with its
// fused activation, then a periodic shuffle. Whatever the file said (pixel
// shuffle or transposed conv), the loader produces this form.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "activation.hpp"
#include "espcn/espcn.h"
#include "sample_codec.hpp"
#include "shuffle_index.hpp"

namespace espcn {

const char *activation_name(Activation a);

// A global residual: the network's input, upsampled, added to its HR output
// (after the upsampler and its activation, before the output mapping). Every
// backend fuses it into its shuffle + encode step (FORMAT.md "residual").
enum class Residual {
    none,
    nearest,  // HR (Y, X) adds input (Y div r, X div r): pixel replication
};

const char *residual_name(Residual r);

// A "same"-padded, stride-1 2-D cross-correlation (PyTorch Conv2d).
struct ConvLayer {
    int in_channels = 0;
    int out_channels = 0;
    int kernel = 0;             // odd; padding is kernel / 2 on every side
    std::vector<float> weight;  // (out, in, kernel, kernel), row-major
    std::vector<float> bias;    // (out); zeros when the file has none
    Activation activation = Activation::identity;
    std::vector<float> prelu_slope;  // (out) when activation == prelu

    int pad() const { return kernel / 2; }
    float w(int o, int i, int ky, int kx) const {
        return weight[((static_cast<size_t>(o) * in_channels + i) * kernel + ky) * kernel + kx];
    }
};

// A transposed conv as PyTorch ConvTranspose2d stores it.
struct DeconvLayer {
    int in_channels = 0;
    int out_channels = 0;
    int kernel = 0;
    int stride = 0;  // = the upscaling factor r
    int pad = 0;
    int output_pad = 0;
    std::vector<float> weight;  // (in, out, kernel, kernel), row-major
    std::vector<float> bias;    // (out)

    float w(int i, int o, int ky, int kx) const {
        return weight[((static_cast<size_t>(i) * out_channels + o) * kernel + ky) * kernel + kx];
    }
    // Output length for input length n: (n − 1)·r − 2p + K + output_pad.
    int64_t output_size(int64_t n) const {
        return (n - 1) * stride - 2 * pad + kernel + output_pad;
    }
};

struct Network {
    std::string name;
    int scale = 0;           // r
    int in_channels = 1;     // planes fed to the network (1: luma)
    int out_channels = 1;    // image channels after the shuffle
    ShuffleOrder order = kShuffleCRD;
    SampleRange range;       // network value of black and white
    espcn_upsampler source_upsampler = ESPCN_UPSAMPLER_PIXEL_SHUFFLE;
    Residual residual = Residual::none;
    std::vector<ConvLayer> convs;  // the last emits out_channels · r² channels

    double macs_per_lr_pixel() const;
    int receptive_radius() const;  // sum of kernel radii
};

}  // namespace espcn
