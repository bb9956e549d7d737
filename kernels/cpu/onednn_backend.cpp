#include "onednn_backend.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include <omp.h>

#include "onednn_compat.hpp"
#include "plane_convert.hpp"

namespace espcn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// oneDNN reports errors by throwing dnnl::error; nothing may escape us.
template <typename F>
Status guarded(const char *what, F &&f) {
    try {
        return f();
    } catch (const dnnl::error &e) {
        // oneDNN's own allocations (reordered weights) fail with this status.
        if (e.status == dnnl_out_of_memory)
            return Status(ESPCN_ERROR_OUT_OF_MEMORY,
                          concat("oneDNN: ", what, ": out of memory (", e.what(), ")"));
        return Status(ESPCN_ERROR_BACKEND, concat("oneDNN: ", what, ": ", e.what(), " (status ",
                                                  static_cast<int>(e.status), ")"));
    } catch (const std::bad_alloc &) {
        return Status(ESPCN_ERROR_OUT_OF_MEMORY, concat("oneDNN: ", what, ": out of memory"));
    } catch (const std::exception &e) {
        return Status(ESPCN_ERROR_INTERNAL, concat("oneDNN: ", what, ": ", e.what()));
    }
}

// OpenMP's thread count is a per-thread setting of the caller; set ours for
// the duration of a call and give the caller theirs back.
class OmpThreadsScope {
public:
    explicit OmpThreadsScope(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
    ~OmpThreadsScope() { omp_set_num_threads(saved_); }
    OmpThreadsScope(const OmpThreadsScope &) = delete;
    OmpThreadsScope &operator=(const OmpThreadsScope &) = delete;

private:
    int saved_;
};

void zero_fill(const memory &m) {
    std::memset(m.get_data_handle(), 0, m.get_desc().get_size());
}

// y = x >= 0 ? x : slope[c] · x, in place, in whatever layout oneDNN chose
// (checked readable by plane_strides when the layer was built).
void apply_prelu(const memory &m, const std::vector<float> &slope, int h, int w, int threads) {
    const int channels = static_cast<int>(slope.size());
    const onednn::PlaneStrides s = onednn::plane_strides(m.get_desc(), channels);
    float *data = static_cast<float *>(m.get_data_handle());
    const int block = static_cast<int>(std::min<int64_t>(s.block, channels));
    const int blocks = (channels + block - 1) / block;
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static)
    for (int b = 0; b < blocks; ++b)
        for (int y = 0; y < h; ++y) {
            const int c0 = b * block, c1 = std::min(channels, c0 + block);
            float *row = data + b * s.block_stride + y * s.h;
            for (int x = 0; x < w; ++x) {
                float *px = row + x * s.w;
                for (int c = c0; c < c1; ++c) {
                    float &v = px[(c - c0) * s.c];
                    if (v < 0.0f) v *= slope[static_cast<size_t>(c)];
                }
            }
        }
}

}  // namespace

OnednnBackend::OnednnBackend(std::shared_ptr<const Network> net, const BackendConfig &cfg)
    : net_(std::move(net)), log_(cfg.log),
      threads_(cfg.threads > 0 ? cfg.threads : omp_get_num_procs()),
      engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

Status OnednnBackend::configure(int width, int height) {
    if (width == width_ && height == height_) return Status::ok();
    layers_.clear();
    width_ = height_ = 0;
    ESPCN_RETURN_IF_ERROR(guarded("building convolutions", [&] { return build(width, height); }));
    width_ = width;
    height_ = height;
    return Status::ok();
}

Status OnednnBackend::describe(int width, int height, Shape &shape) const {
    const memory::dim h = height, w = width;
    memory::desc in_md({1, net_->in_channels, h, w}, dt::f32, tag::any);
    shape = Shape();
    for (size_t k = 0; k < net_->convs.size(); ++k) {
        const ConvLayer &c = net_->convs[k];
        const memory::dim p = c.pad();
        dnnl::post_ops ops;
        switch (c.activation) {
        case Activation::identity: break;
        case Activation::relu: onednn::append_eltwise(ops, dnnl::algorithm::eltwise_relu, 0, 0); break;
        case Activation::tanh: onednn::append_eltwise(ops, dnnl::algorithm::eltwise_tanh, 0, 0); break;
        case Activation::sigmoid: onednn::append_eltwise(ops, dnnl::algorithm::eltwise_logistic, 0, 0); break;
        // oneDNN 2.6 has a PReLU post-op, but with it every convolution falls
        // back to the generic "ref:any" kernel (20x slower, measured); PReLU
        // runs as our own pass over the conv output instead.
        case Activation::prelu: break;
        }
        dnnl::primitive_attr attr;
        attr.set_post_ops(ops);
        attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

        const memory::desc wei_any({c.out_channels, c.in_channels, c.kernel, c.kernel}, dt::f32,
                                   tag::any);
        const memory::desc bias_md({c.out_channels}, dt::f32, tag::x);
        const memory::desc dst_any({1, c.out_channels, h, w}, dt::f32, tag::any);
        // Layer k reads exactly what layer k−1 wrote (format chosen by oneDNN).
        auto pd = onednn::make_conv_pd(engine_, in_md, wei_any, bias_md, dst_any, {1, 1}, {p, p},
                                       {p, p}, attr);
        if (k == 0) shape.src_bytes = pd.src_desc().get_size();
        size_t &act = shape.activation_bytes[k % 2];
        act = std::max(act, pd.dst_desc().get_size());
        shape.scratch_bytes = std::max(shape.scratch_bytes, pd.scratchpad_desc().get_size());
        in_md = pd.dst_desc();
        shape.pds.push_back(std::move(pd));
    }
    return Status::ok();
}

Result<size_t> OnednnBackend::tile_working_bytes(int width, int rows) {
    const auto key = std::make_pair(width, rows);
    if (const auto it = working_bytes_.find(key); it != working_bytes_.end()) return it->second;
    Shape shape;
    ESPCN_RETURN_IF_ERROR(
        guarded("sizing convolutions", [&] { return describe(width, rows, shape); }));
    if (working_bytes_.size() >= 256) working_bytes_.clear();  // sizes seen: keep the memo small
    working_bytes_.emplace(key, shape.total());
    return shape.total();
}

size_t OnednnBackend::state_bytes() const {
    size_t bytes = 0;
    for (const AlignedBuffer &w : weight_buffers_) bytes += w.size();
    for (const Layer &L : layers_)
        bytes += (L.bias ? L.bias.get_desc().get_size() : 0) + L.prelu_slope.size() * sizeof(float);
    return bytes;
}

Status OnednnBackend::build(int width, int height) {
    Shape shape;
    ESPCN_RETURN_IF_ERROR(describe(width, height, shape));
    // Our buffers, grown (never shrunk) to this shape; every memory object
    // below is a view of them, so all are rebuilt here.
    ESPCN_RETURN_IF_ERROR(src_buffer_.reserve(shape.src_bytes, "the decoded input rows"));
    ESPCN_RETURN_IF_ERROR(activations_[0].reserve(shape.activation_bytes[0], "activations"));
    ESPCN_RETURN_IF_ERROR(activations_[1].reserve(shape.activation_bytes[1], "activations"));
    ESPCN_RETURN_IF_ERROR(scratch_buffer_.reserve(shape.scratch_bytes, "the convolution scratchpad"));

    const memory::desc src_md = shape.pds.front().src_desc();
    const onednn::PlaneStrides s = onednn::plane_strides(src_md, net_->in_channels);
    ESPCN_RETURN_IF(!s.ok, ESPCN_ERROR_BACKEND,
                    "oneDNN chose an input layout this backend cannot fill");
    src_ = memory(src_md, engine_, src_buffer_.data());
    zero_fill(src_);  // channel padding of a blocked layout must read as zero
    scratchpad_ = memory(memory::desc({static_cast<memory::dim>(shape.scratch_bytes)}, dt::u8, tag::x),
                         engine_, scratch_buffer_.data());
    std::vector<Layer> layers;
    weight_buffers_.resize(net_->convs.size());
    for (size_t k = 0; k < net_->convs.size(); ++k) {
        const ConvLayer &c = net_->convs[k];
        const auto &pd = shape.pds[k];
        Layer L;
        L.prim = dnnl::convolution_forward(pd);
        // Weights are reordered into the primitive's preferred layout once per shape.
        memory user_w({{c.out_channels, c.in_channels, c.kernel, c.kernel}, dt::f32, tag::oihw},
                      engine_, const_cast<float *>(c.weight.data()));
        // In our buffer (zeroed: a blocked layout's padding must read as zero),
        // so that a failed allocation says how large it was.
        AlignedBuffer &wbuf = weight_buffers_[k];
        ESPCN_RETURN_IF_ERROR(wbuf.reserve(pd.weights_desc().get_size(), "reordered weights"));
        std::memset(wbuf.data(), 0, pd.weights_desc().get_size());
        L.weights = memory(pd.weights_desc(), engine_, wbuf.data());
        dnnl::reorder(user_w, L.weights).execute(stream_, user_w, L.weights);
        L.bias = memory(memory::desc({c.out_channels}, dt::f32, tag::x), engine_);
        std::memcpy(L.bias.get_data_handle(), c.bias.data(), c.bias.size() * sizeof(float));
        if (c.activation == Activation::prelu) L.prelu_slope = c.prelu_slope;
        L.dst = memory(pd.dst_desc(), engine_, activations_[k % 2].data());
        ESPCN_RETURN_IF(c.activation == Activation::prelu &&
                            !onednn::plane_strides(pd.dst_desc(), c.out_channels).ok,
                        ESPCN_ERROR_BACKEND, "oneDNN chose a layout the PReLU pass cannot read");
        zero_fill(L.dst);
        L.args = {{DNNL_ARG_SRC, k == 0 ? src_ : layers.back().dst},
                  {DNNL_ARG_WEIGHTS, L.weights},
                  {DNNL_ARG_BIAS, L.bias},
                  {DNNL_ARG_DST, L.dst},
                  {DNNL_ARG_SCRATCHPAD, scratchpad_}};
        log_.debug(concat("onednn: layer ", k, " (", c.out_channels, ", ", c.in_channels, ", ",
                          c.kernel, ", ", c.kernel, ") ", pd.impl_info_str()));
        layers.push_back(std::move(L));
    }
    stream_.wait();
    const onednn::PlaneStrides out = onednn::plane_strides(layers.back().dst.get_desc(),
                                                           net_->convs.back().out_channels);
    ESPCN_RETURN_IF(!out.ok, ESPCN_ERROR_BACKEND,
                    "oneDNN chose an output layout the shuffle cannot read");
    log_.debug(concat("onednn: ", width, "x", height, " input rows: ", shape.total(),
                      " bytes of working memory (input ", shape.src_bytes, ", activations ",
                      shape.activation_bytes[0], " + ", shape.activation_bytes[1], ", scratch ",
                      shape.scratch_bytes, ")"));
    layers_ = std::move(layers);
    return Status::ok();
}

Status OnednnBackend::run_convolutions(const CancelCheck &cancel) {
    return guarded("executing convolutions", [&] {
        for (Layer &L : layers_) {
            if (cancel.requested()) return cancelled();
            L.prim.execute(stream_, L.args);
            if (!L.prelu_slope.empty()) {
                stream_.wait();
                apply_prelu(L.dst, L.prelu_slope, height_, width_, threads_);
            }
            stream_.wait();
        }
        return Status::ok();
    });
}

Status OnednnBackend::process_tile(Planes in, Planes out, const RowTile &t, const CancelCheck &cancel) {
    OmpThreadsScope omp_threads(threads_);
    const int rows = t.in_rows();
    ESPCN_RETURN_IF_ERROR(configure(in.front().width, rows));

    const onednn::PlaneStrides s = onednn::plane_strides(src_.get_desc(), net_->in_channels);
    // Channel c of the input (plain or channel-blocked layout) is plane c.
    const LrTensorView src{static_cast<const float *>(src_.get_data_handle()), s.c, s.h, s.w,
                           static_cast<int>(s.block), s.block_stride};
    for (int c = 0; c < net_->in_channels; ++c)
        decode_plane(plane_rows(in[static_cast<size_t>(c)], t.in_begin, rows), net_->range,
                     static_cast<float *>(src_.get_data_handle()) + src.channel_offset(c), s.h, s.w,
                     threads_);
    ESPCN_RETURN_IF_ERROR(run_convolutions(cancel));

    const memory &lr = layers_.back().dst;
    const onednn::PlaneStrides o =
        onednn::plane_strides(lr.get_desc(), net_->convs.back().out_channels);
    const ptrdiff_t skip = static_cast<ptrdiff_t>(t.out_begin - t.in_begin);
    const float *first_row = static_cast<const float *>(lr.get_data_handle()) + skip * o.h;
    const LrTensorView view{first_row, o.c, o.h, o.w, static_cast<int>(o.block), o.block_stride};
    const int r = net_->scale, channels = net_->out_channels;
    for (int c = 0; c < channels; ++c) {
        // The decoded input rows are still in src_: the residual reads
        // channel c of the rows of this tile's output there.
        const LrTensorView input{src.data + src.channel_offset(c) + skip * s.h, s.c, s.h, s.w};
        shuffle_encode_plane(view, r, net_->order, net_->range,
                             plane_rows(out[static_cast<size_t>(c)], t.out_begin * r,
                                        (t.out_end - t.out_begin) * r),
                             threads_, net_->residual == Residual::nearest ? &input : nullptr,
                             {c, channels});
    }
    return Status::ok();
}

Status onednn_usable() { return Status::ok(); }

Result<std::unique_ptr<CpuBackend>> make_onednn_backend(std::shared_ptr<const Network> net,
                                                        const BackendConfig &cfg) {
    std::unique_ptr<CpuBackend> b;
    const Status s = guarded("creating the CPU engine", [&] {
        b = std::make_unique<OnednnBackend>(std::move(net), cfg);
        return Status::ok();
    });
    if (!s.is_ok()) return s;
    return b;
}

}  // namespace espcn
