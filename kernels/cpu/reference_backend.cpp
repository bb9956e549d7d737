// The reference backend: a direct transcription of the definitions, with no
// cleverness, one thread. It is the oracle every other backend is tested
// against; keep it obviously correct rather than fast. It runs row tiles
// (core/row_tiles.hpp): two activation buffers, used in turn by the layers.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/allocation.hpp"
#include "cpu_backend.hpp"
#include "plane_convert.hpp"
#include "reference_ops.hpp"

namespace espcn {

void reference_conv(const ConvLayer &c, const float *src, int w, int h, float *dst) {
    reference_conv_channels(c, src, w, h, dst, 0, c.out_channels);
}

void reference_conv_channels(const ConvLayer &c, const float *src, int w, int h, float *dst,
                             int o_begin, int o_end) {
    const int pad = c.pad();
    for (int o = o_begin; o < o_end; ++o) {
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

class ReferenceBackend final : public RowTiledCpuBackend {
public:
    explicit ReferenceBackend(std::shared_ptr<const Network> net) : net_(std::move(net)) {
        for (const ConvLayer &c : net_->convs) max_channels_ = std::max(max_channels_, c.out_channels);
    }
    espcn_backend kind() const override { return ESPCN_BACKEND_REFERENCE; }

    Result<size_t> tile_working_bytes(int width, int rows) override {
        // The decoded input and two activation buffers.
        return static_cast<size_t>(width) * rows * sizeof(float) *
               (static_cast<size_t>(net_->in_channels) + 2 * static_cast<size_t>(max_channels_));
    }

    Status process_tile(Planes in, Planes out, const RowTile &t, const CancelCheck &cancel) override {
        const int w = in.front().width, rows = t.in_rows();
        const size_t plane = static_cast<size_t>(w) * rows;
        ESPCN_RETURN_IF_ERROR(try_resize(input_, plane * net_->in_channels, "the decoded input rows"));
        for (std::vector<float> *b : {&even_, &odd_})
            ESPCN_RETURN_IF_ERROR(try_resize(*b, plane * max_channels_, "the activations"));
        // Channel c of the input tensor (CHW) is plane c.
        for (int c = 0; c < net_->in_channels; ++c)
            decode_plane(plane_rows(in[static_cast<size_t>(c)], t.in_begin, rows), net_->range,
                         input_.data() + plane * static_cast<size_t>(c), w, 1, 1);
        const float *cur = input_.data();
        for (size_t k = 0; k < net_->convs.size(); ++k) {
            const ConvLayer &c = net_->convs[k];
            float *dst = (k % 2 ? odd_ : even_).data();
            // One output channel at a time, so a cancel takes effect within
            // one channel of one layer even on this slow backend.
            for (int o = 0; o < c.out_channels; ++o) {
                if (cancel.requested()) return cancelled();
                reference_conv_channels(c, cur, w, rows, dst, o, o + 1);
            }
            cur = dst;
        }
        const ptrdiff_t skip = static_cast<ptrdiff_t>(t.out_begin - t.in_begin) * w;
        const LrTensorView view{cur + skip, static_cast<ptrdiff_t>(plane), w, 1};
        const int r = net_->scale, channels = net_->out_channels;
        for (int c = 0; c < channels; ++c) {
            // The residual: the decoded input rows of this tile's output, channel c.
            const LrTensorView input{input_.data() + plane * static_cast<size_t>(c) + skip,
                                     static_cast<ptrdiff_t>(plane), w, 1};
            shuffle_encode_plane(view, r, net_->order, net_->range,
                                 plane_rows(out[static_cast<size_t>(c)], t.out_begin * r,
                                            (t.out_end - t.out_begin) * r),
                                 1, net_->residual == Residual::nearest ? &input : nullptr,
                                 {c, channels});
        }
        return Status::ok();
    }

private:
    std::shared_ptr<const Network> net_;
    int max_channels_ = 0;
    std::vector<float> input_, even_, odd_;
};

}  // namespace

Result<std::unique_ptr<CpuBackend>> make_reference_backend(std::shared_ptr<const Network> net,
                                                           const BackendConfig &) {
    return std::unique_ptr<CpuBackend>(new ReferenceBackend(std::move(net)));
}

}  // namespace espcn
