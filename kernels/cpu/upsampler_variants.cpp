#include "upsampler_variants.hpp"

#include <cstring>

#include <oneapi/dnnl/dnnl.hpp>

#include "../core/deconv_conversion.hpp"
#include "../core/shuffle_index.hpp"
#include "onednn_compat.hpp"

namespace espcn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

const char *upsampler_method_name(UpsamplerMethod m) {
    switch (m) {
    case UpsamplerMethod::deconvolution: return "deconvolution";
    case UpsamplerMethod::zero_insertion: return "zero-insertion conv";
    case UpsamplerMethod::lr_conv_shuffle: return "LR conv + shuffle";
    }
    return "?";
}

// One primitive with its memories: plain user input -> preferred src ->
// primitive -> preferred dst -> plain user output.
struct Stage {
    dnnl::primitive prim;
    memory user_src, src, weights, bias, dst, user_dst;
    void run(dnnl::stream &s) {
        if (src != user_src) dnnl::reorder(user_src, src).execute(s, user_src, src);
        prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights},
                         {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
        if (dst != user_dst) dnnl::reorder(dst, user_dst).execute(s, dst, user_dst);
    }
};

struct UpsamplerVariants::Impl {
    DeconvLayer layer;
    ConvLayer lr_conv;
    int w = 0, h = 0, r = 0;
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    Stage deconv, zero_conv, lr;
    std::vector<float> stuffed;  // zero-inserted HR-grid input for (b)
    std::vector<float> lr_out;   // C·r² LR channels for (c)

    template <typename PD>
    void finish(Stage &st, dnnl::primitive prim, const PD &pd, const memory::desc &user_src_md,
                const memory::desc &user_wei_md, const float *weights, const memory::desc &bias_md,
                const float *bias, const memory::desc &user_dst_md) {
        st.prim = std::move(prim);
        st.user_src = memory(user_src_md, eng, nullptr);
        st.src = pd.src_desc() == user_src_md ? st.user_src : memory(pd.src_desc(), eng);
        memory uw(user_wei_md, eng, const_cast<float *>(weights));
        st.weights = memory(pd.weights_desc(), eng);
        dnnl::reorder(uw, st.weights).execute(strm, uw, st.weights);
        st.bias = memory(bias_md, eng);
        std::memcpy(st.bias.get_data_handle(), bias, bias_md.get_size());
        st.user_dst = memory(user_dst_md, eng, nullptr);
        st.dst = pd.dst_desc() == user_dst_md ? st.user_dst : memory(pd.dst_desc(), eng);
        strm.wait();
    }
};

UpsamplerVariants::~UpsamplerVariants() = default;

Result<std::unique_ptr<UpsamplerVariants>> UpsamplerVariants::create(const DeconvLayer &d,
                                                                     int width, int height) {
    Result<ConvLayer> lr = deconv_to_lr_conv(d);
    ESPCN_RETURN_IF_ERROR(lr.status());
    std::unique_ptr<UpsamplerVariants> v(new UpsamplerVariants);
    v->impl_ = std::make_unique<Impl>();
    Impl &m = *v->impl_;
    m.layer = d;
    m.lr_conv = std::move(lr).value();
    m.w = width;
    m.h = height;
    m.r = d.stride;
    const memory::dim I = d.in_channels, O = d.out_channels, K = d.kernel, r = d.stride;
    const memory::dim H = height, W = width;
    try {
        const memory::desc lr_src({1, I, H, W}, dt::f32, tag::nchw);
        const memory::desc hr_dst({1, O, H * r, W * r}, dt::f32, tag::nchw);
        const memory::desc bias_md({O}, dt::f32, tag::x);
        const memory::desc src_any({1, I, H, W}, dt::f32, tag::any);
        const memory::desc hr_any({1, O, H * r, W * r}, dt::f32, tag::any);

        // (a) oneDNN deconvolution: weights (O, I, K, K), output position
        //     ih·r − pad_l + kh, exactly PyTorch's ConvTranspose2d.
        std::vector<float> w_oi(static_cast<size_t>(O * I * K * K));
        for (memory::dim o = 0; o < O; ++o)
            for (memory::dim i = 0; i < I; ++i)
                for (memory::dim ky = 0; ky < K; ++ky)
                    for (memory::dim kx = 0; kx < K; ++kx)
                        w_oi[((o * I + i) * K + ky) * K + kx] = d.w(i, o, ky, kx);
        const memory::desc wei_any({O, I, K, K}, dt::f32, tag::any);
        const memory::desc wei_oihw({O, I, K, K}, dt::f32, tag::oihw);
        const memory::dim p = d.pad, pr = d.pad - d.output_pad;
        auto dpd = onednn::make_deconv_pd(m.eng, src_any, wei_any, bias_md, hr_any, {r, r},
                                          {p, p}, {pr, pr});
        m.finish(m.deconv, dnnl::deconvolution_forward(dpd), dpd, lr_src, wei_oihw, w_oi.data(), bias_md, d.bias.data(), hr_dst);

        // (b) zeros inserted: HR grid of (H−1)·r+1 rows, conv with the flipped
        //     kernel and padding K−1−p (left) / K−1−p+output_pad (right).
        std::vector<float> w_flip(w_oi.size());
        for (memory::dim o = 0; o < O; ++o)
            for (memory::dim i = 0; i < I; ++i)
                for (memory::dim ky = 0; ky < K; ++ky)
                    for (memory::dim kx = 0; kx < K; ++kx)
                        w_flip[((o * I + i) * K + ky) * K + kx] =
                            d.w(i, o, K - 1 - ky, K - 1 - kx);
        const memory::dim HS = (H - 1) * r + 1, WS = (W - 1) * r + 1;
        const memory::desc stuffed_md({1, I, HS, WS}, dt::f32, tag::nchw);
        const memory::desc stuffed_any({1, I, HS, WS}, dt::f32, tag::any);
        const memory::dim zl = K - 1 - p, zr = K - 1 - p + d.output_pad;
        ESPCN_RETURN_IF(zl < 0, ESPCN_ERROR_UNSUPPORTED,
                        "zero-insertion form needs padding <= kernel - 1");
        auto zpd = onednn::make_conv_pd(m.eng, stuffed_any, wei_any, bias_md, hr_any, {1, 1},
                                        {zl, zl}, {zr, zr}, dnnl::primitive_attr());
        m.finish(m.zero_conv, dnnl::convolution_forward(zpd), zpd, stuffed_md, wei_oihw, w_flip.data(), bias_md, d.bias.data(),
                 hr_dst);
        m.stuffed.assign(static_cast<size_t>(I * HS * WS), 0.0f);

        // (c) LR conv with O·r² outputs, then the shuffle.
        const ConvLayer &c = m.lr_conv;
        const memory::dim KL = c.kernel, OL = c.out_channels, pl = c.pad();
        const memory::desc lr_dst({1, OL, H, W}, dt::f32, tag::nchw);
        const memory::desc lr_dst_any({1, OL, H, W}, dt::f32, tag::any);
        const memory::desc lbias({OL}, dt::f32, tag::x);
        auto lpd = onednn::make_conv_pd(m.eng, src_any, {{OL, I, KL, KL}, dt::f32, tag::any},
                                        lbias, lr_dst_any, {1, 1}, {pl, pl}, {pl, pl},
                                        dnnl::primitive_attr());
        m.finish(m.lr, dnnl::convolution_forward(lpd), lpd, lr_src, {{OL, I, KL, KL}, dt::f32, tag::oihw}, c.weight.data(), lbias,
                 c.bias.data(), lr_dst);
        m.lr_out.assign(static_cast<size_t>(OL * H * W), 0.0f);
    } catch (const dnnl::error &e) {
        return Status(ESPCN_ERROR_BACKEND, concat("oneDNN: ", e.what()));
    }
    return v;
}

double UpsamplerVariants::macs(UpsamplerMethod method) const {
    const Impl &m = *impl_;
    const double lr_pixels = static_cast<double>(m.w) * m.h;
    const double io = static_cast<double>(m.layer.in_channels) * m.layer.out_channels;
    const double k2 = static_cast<double>(m.layer.kernel) * m.layer.kernel;
    switch (method) {
    case UpsamplerMethod::deconvolution: return lr_pixels * k2 * io;
    case UpsamplerMethod::zero_insertion: return lr_pixels * m.r * m.r * k2 * io;
    case UpsamplerMethod::lr_conv_shuffle:
        return lr_pixels * m.lr_conv.kernel * m.lr_conv.kernel * m.lr_conv.in_channels *
               m.lr_conv.out_channels;
    }
    return 0.0;
}

size_t UpsamplerVariants::input_size() const {
    return static_cast<size_t>(impl_->layer.in_channels) * impl_->w * impl_->h;
}
size_t UpsamplerVariants::output_size() const {
    return static_cast<size_t>(impl_->layer.out_channels) * impl_->w * impl_->h * impl_->r *
           impl_->r;
}

Status UpsamplerVariants::run(UpsamplerMethod method, const float *input, float *output) {
    Impl &m = *impl_;
    try {
        switch (method) {
        case UpsamplerMethod::deconvolution:
            m.deconv.user_src.set_data_handle(const_cast<float *>(input));
            m.deconv.user_dst.set_data_handle(output);
            m.deconv.run(m.strm);
            break;
        case UpsamplerMethod::zero_insertion: {
            const int ws = (m.w - 1) * m.r + 1, hs = (m.h - 1) * m.r + 1;
            // Threaded like oneDNN's own work, so each method is timed on all cores.
#pragma omp parallel for collapse(2) schedule(static)
            for (int i = 0; i < m.layer.in_channels; ++i)
                for (int y = 0; y < m.h; ++y)
                    for (int x = 0; x < m.w; ++x)
                        m.stuffed[(static_cast<size_t>(i) * hs + y * m.r) * ws + x * m.r] =
                            input[(static_cast<size_t>(i) * m.h + y) * m.w + x];
            m.zero_conv.user_src.set_data_handle(m.stuffed.data());
            m.zero_conv.user_dst.set_data_handle(output);
            m.zero_conv.run(m.strm);
            break;
        }
        case UpsamplerMethod::lr_conv_shuffle: {
            m.lr.user_src.set_data_handle(const_cast<float *>(input));
            m.lr.user_dst.set_data_handle(m.lr_out.data());
            m.lr.run(m.strm);
            m.strm.wait();
            const int C = m.layer.out_channels, W = m.w * m.r, H = m.h * m.r;
            const size_t plane = static_cast<size_t>(m.w) * m.h;
#pragma omp parallel for collapse(2) schedule(static)
            for (int c = 0; c < C; ++c)
                for (int y = 0; y < H; ++y)
                    for (int x = 0; x < W; ++x) {
                        const ShuffleSource s = shuffle_source(kShuffleCRD, c, y, x, m.r, C);
                        output[(static_cast<size_t>(c) * H + y) * W + x] =
                            m.lr_out[s.channel * plane + static_cast<size_t>(s.y) * m.w + s.x];
                    }
            break;
        }
        }
        m.strm.wait();
    } catch (const dnnl::error &e) {
        return Status(ESPCN_ERROR_BACKEND, concat("oneDNN: ", e.what()));
    }
    return Status::ok();
}

}  // namespace espcn
