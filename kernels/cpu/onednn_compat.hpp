// oneDNN 2.x (Debian 12: 2.6) and 3.x (Debian 13) differ in how primitive
// descriptors are built, in append_eltwise and in memory::desc queries. Every
// such difference lives here, keyed on DNNL_VERSION_MAJOR.
#pragma once

#include <cstdint>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace espcn::onednn {

using dnnl::algorithm;
using dnnl::engine;
using dnnl::memory;
using dnnl::primitive_attr;
using dnnl::prop_kind;

inline dnnl::convolution_forward::primitive_desc make_conv_pd(
    const engine &eng, const memory::desc &src, const memory::desc &weights,
    const memory::desc &bias, const memory::desc &dst, const memory::dims &strides,
    const memory::dims &pad_l, const memory::dims &pad_r, const primitive_attr &attr) {
#if DNNL_VERSION_MAJOR >= 3
    return {eng, prop_kind::forward_inference, algorithm::convolution_direct, src, weights, bias,
            dst, strides, pad_l, pad_r, attr};
#else
    const dnnl::convolution_forward::desc d(prop_kind::forward_inference,
                                            algorithm::convolution_direct, src, weights, bias,
                                            dst, strides, pad_l, pad_r);
    return {d, attr, eng};
#endif
}

inline dnnl::deconvolution_forward::primitive_desc make_deconv_pd(
    const engine &eng, const memory::desc &src, const memory::desc &weights,
    const memory::desc &bias, const memory::desc &dst, const memory::dims &strides,
    const memory::dims &pad_l, const memory::dims &pad_r) {
#if DNNL_VERSION_MAJOR >= 3
    return {eng, prop_kind::forward_inference, algorithm::deconvolution_direct, src, weights,
            bias, dst, strides, pad_l, pad_r};
#else
    const dnnl::deconvolution_forward::desc d(prop_kind::forward_inference,
                                              algorithm::deconvolution_direct, src, weights, bias,
                                              dst, strides, pad_l, pad_r);
    return {d, eng};
#endif
}

inline void append_eltwise(dnnl::post_ops &ops, algorithm alg, float alpha, float beta) {
#if DNNL_VERSION_MAJOR >= 3
    ops.append_eltwise(alg, alpha, beta);
#else
    ops.append_eltwise(1.0f, alg, alpha, beta);
#endif
}

// The layout of a 4-D (n = 1, c, h, w) memory, when it can be addressed as
//   data[(c / block)·block_stride + (c % block)·c + h·hs + w·ws]:
// plain layouts (nchw, nhwc, …; block = channels) and layouts blocked over
// channels only (nChw8c, nChw16c, as oneDNN prefers on AVX2/AVX-512).
struct PlaneStrides {
    bool ok = false;
    int64_t c = 0, h = 0, w = 0;
    int64_t block = 1, block_stride = 0;
};

inline PlaneStrides plane_strides(const memory::desc &md, int64_t channels) {
    PlaneStrides s;
#if DNNL_VERSION_MAJOR >= 3
    if (md.get_format_kind() != memory::format_kind::blocked || md.get_ndims() != 4) return s;
    const memory::dims strides = md.get_strides();
    const int nblks = md.get_inner_nblks();
    const memory::dims blks = md.get_inner_blks();
    const memory::dims idxs = md.get_inner_idxs();
#else
    const dnnl_memory_desc_t &d = md.data;
    if (d.format_kind != dnnl_blocked || d.ndims != 4) return s;
    const auto &b = d.format_desc.blocking;
    const std::vector<int64_t> strides(b.strides, b.strides + 4);
    const int nblks = b.inner_nblks;
    const std::vector<int64_t> blks(b.inner_blks, b.inner_blks + nblks);
    const std::vector<int64_t> idxs(b.inner_idxs, b.inner_idxs + nblks);
#endif
    if (nblks == 0) {
        s = {true, strides[1], strides[2], strides[3], channels, 0};
    } else if (nblks == 1 && idxs[0] == 1) {
        s = {true, 1, strides[2], strides[3], blks[0], strides[1]};
    }
    return s;
}

}  // namespace espcn::onednn
