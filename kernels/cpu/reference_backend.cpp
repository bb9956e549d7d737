// The reference backend: a direct transcription of the definitions, with no
// cleverness, one thread. It is the oracle every other backend is tested
// against; keep it obviously correct rather than fast.
#include <cmath>
#include <vector>

#include "../core/backend.hpp"
#include "plane_convert.hpp"
#include "reference_ops.hpp"

namespace espcn {

void reference_conv(const ConvLayer &c, const float *src, int w, int h, float *dst) {
    const int pad = c.pad();
    for (int o = 0; o < c.out_channels; ++o) {
        const float slope = c.activation == Activation::prelu ? c.prelu_slope[o] : 0.0f;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                double acc = c.bias[o];
                for (int i = 0; i < c.in_channels; ++i)
                    for (int ky = 0; ky < c.kernel; ++ky) {
                        const int sy = y + ky - pad;
                        if (sy < 0 || sy >= h) continue;  // zero padding
                        for (int kx = 0; kx < c.kernel; ++kx) {
                            const int sx = x + kx - pad;
                            if (sx < 0 || sx >= w) continue;
                            acc += static_cast<double>(c.w(o, i, ky, kx)) *
                                   src[(static_cast<size_t>(i) * h + sy) * w + sx];
                        }
                    }
                dst[(static_cast<size_t>(o) * h + y) * w + x] =
                    apply_activation(c.activation, static_cast<float>(acc), slope);
            }
    }
}

void reference_forward(const Network &net, const float *input, int w, int h,
                       std::vector<float> &lr_out) {
    std::vector<float> cur(input, input + static_cast<size_t>(w) * h * net.in_channels);
    for (const ConvLayer &c : net.convs) {
        std::vector<float> next(static_cast<size_t>(c.out_channels) * w * h);
        reference_conv(c, cur.data(), w, h, next.data());
        cur.swap(next);
    }
    lr_out.swap(cur);
}

namespace {

class ReferenceBackend final : public Backend {
public:
    explicit ReferenceBackend(std::shared_ptr<const Network> net) : net_(std::move(net)) {}
    espcn_backend kind() const override { return ESPCN_BACKEND_REFERENCE; }

    Status process(const espcn_plane &in, const espcn_plane &out) override {
        std::vector<float> x(static_cast<size_t>(in.width) * in.height);
        decode_plane(in, net_->range, x.data(), in.width, 1, 1);
        std::vector<float> lr;
        reference_forward(*net_, x.data(), in.width, in.height, lr);
        const LrTensorView view{lr.data(), static_cast<ptrdiff_t>(in.width) * in.height,
                                in.width, 1};
        const LrTensorView input{x.data(), static_cast<ptrdiff_t>(in.width) * in.height, in.width, 1};
        shuffle_encode_plane(view, net_->scale, net_->order, net_->range, out, 1,
                             net_->residual == Residual::nearest ? &input : nullptr);
        return Status::ok();
    }

private:
    std::shared_ptr<const Network> net_;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_reference_backend(std::shared_ptr<const Network> net,
                                                        const BackendConfig &) {
    return std::unique_ptr<Backend>(new ReferenceBackend(std::move(net)));
}

}  // namespace espcn
