#include "deconv_conversion.hpp"

#include "deconv_taps.hpp"

namespace espcn {

Result<ConvLayer> deconv_to_lr_conv(const DeconvLayer &d) {
    const int r = d.stride;
    ESPCN_RETURN_IF(r < 1 || d.kernel < 1 || d.pad < 0 || d.output_pad < 0, ESPCN_ERROR_MODEL,
                    "deconv: stride, kernel must be >= 1 and paddings >= 0");
    ESPCN_RETURN_IF(d.kernel - 2 * d.pad + d.output_pad != r, ESPCN_ERROR_MODEL,
                    "deconv: output must be exactly ", r, "x the input, but kernel ", d.kernel,
                    " - 2*padding ", d.pad, " + output_padding ", d.output_pad, " = ",
                    d.kernel - 2 * d.pad + d.output_pad, " (need ", r, ")");
    ESPCN_RETURN_IF(d.weight.size() != static_cast<size_t>(d.in_channels) * d.out_channels *
                                           d.kernel * d.kernel,
                    ESPCN_ERROR_INTERNAL, "deconv: weight size does not match its shape");

    const int radius = deconv_lr_radius(d.kernel, r, d.pad);
    ConvLayer c;
    c.in_channels = d.in_channels;
    c.out_channels = d.out_channels * r * r;
    c.kernel = 2 * radius + 1;
    c.weight.assign(static_cast<size_t>(c.out_channels) * c.in_channels * c.kernel * c.kernel,
                    0.0f);
    c.bias.assign(c.out_channels, 0.0f);
    for (int o = 0; o < d.out_channels; ++o) {
        for (int a = 0; a < r; ++a) {
            for (int b = 0; b < r; ++b) {
                const int oc = shuffle_channel(kShuffleCRD, o, a, b, r, d.out_channels);
                c.bias[oc] = d.bias.empty() ? 0.0f : d.bias[o];
                for (int i = 0; i < d.in_channels; ++i)
                    for (int ty = 0; ty < c.kernel; ++ty) {
                        const int ky = deconv_tap_for_lr_tap(ty, radius, a, d.kernel, r, d.pad);
                        if (ky < 0) continue;
                        for (int tx = 0; tx < c.kernel; ++tx) {
                            const int kx =
                                deconv_tap_for_lr_tap(tx, radius, b, d.kernel, r, d.pad);
                            if (kx < 0) continue;
                            const size_t idx =
                                ((static_cast<size_t>(oc) * c.in_channels + i) * c.kernel + ty) *
                                    c.kernel + tx;
                            c.weight[idx] = d.w(i, o, ky, kx);
                        }
                    }
            }
        }
    }
    return c;
}

Result<DeconvLayer> lr_conv_to_deconv(const ConvLayer &c, int r, ShuffleOrder order) {
    ESPCN_RETURN_IF(r < 1 || c.out_channels % (r * r) != 0 || c.kernel % 2 == 0,
                    ESPCN_ERROR_INVALID_ARGUMENT, "lr_conv_to_deconv: need odd kernel and ",
                    "out_channels divisible by r^2");
    const int channels = c.out_channels / (r * r);
    const int radius = c.kernel / 2;
    DeconvLayer d;
    d.in_channels = c.in_channels;
    d.out_channels = channels;
    d.stride = r;
    d.kernel = c.kernel * r;
    d.pad = radius * r;
    d.output_pad = 0;
    d.weight.assign(static_cast<size_t>(d.in_channels) * channels * d.kernel * d.kernel, 0.0f);
    d.bias.assign(channels, 0.0f);
    for (int o = 0; o < channels; ++o) {
        // The shuffle makes one HR channel of r² LR channels; a deconv has a
        // single bias per output channel, so those r² biases must agree.
        const float b0 = c.bias.empty() ? 0.0f : c.bias[shuffle_channel(order, o, 0, 0, r, channels)];
        for (int a = 0; a < r; ++a)
            for (int b = 0; b < r; ++b) {
                const int oc = shuffle_channel(order, o, a, b, r, channels);
                const float bias = c.bias.empty() ? 0.0f : c.bias[oc];
                ESPCN_RETURN_IF(bias != b0, ESPCN_ERROR_UNSUPPORTED, "lr_conv_to_deconv: the ",
                                r * r, " phases of output channel ", o,
                                " have different biases; a transposed conv cannot express that");
                for (int i = 0; i < c.in_channels; ++i)
                    for (int ty = 0; ty < c.kernel; ++ty)
                        for (int tx = 0; tx < c.kernel; ++tx) {
                            const int ky = deconv_tap_for_lr_tap(ty, radius, a, d.kernel, r, d.pad);
                            const int kx = deconv_tap_for_lr_tap(tx, radius, b, d.kernel, r, d.pad);
                            const size_t idx =
                                ((static_cast<size_t>(i) * channels + o) * d.kernel + ky) *
                                    d.kernel + kx;
                            d.weight[idx] = c.w(oc, i, ty, tx);
                        }
            }
        d.bias[o] = b0;
    }
    return d;
}

}  // namespace espcn
