#include "network.hpp"

namespace espcn {

const char *activation_name(Activation a) {
    switch (a) {
    case Activation::identity: return "identity";
    case Activation::relu: return "relu";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
    case Activation::prelu: return "prelu";
    }
    return "?";
}

const char *residual_name(Residual r) {
    switch (r) {
    case Residual::none: return "none";
    case Residual::nearest: return "nearest";
    }
    return "?";
}

double Network::macs_per_lr_pixel() const {
    double macs = 0.0;
    for (const ConvLayer &c : convs)
        macs += static_cast<double>(c.kernel) * c.kernel * c.in_channels * c.out_channels;
    return macs;
}

int Network::receptive_radius() const {
    int r = 0;
    for (const ConvLayer &c : convs) r += c.pad();
    return r;
}

}  // namespace espcn
