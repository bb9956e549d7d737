// Colour conversion for networks of RGB, per sample, shared with CUDA: the
// CPU runs these functions over rows (core/color_frames.cpp), the GPU as one
// thread per sample (cuda/color_convert.cu), so both compute the same bits.
//
// Frame → network (to_rgb_pixel): each plane's code value v of b bits is
// normalised with the frame's range, n = (v − offset) / span (ColorCoding);
// subsampled chroma is first interpolated at the luma pixel with the
// resampler's taps (core/resample_taps.hpp: centres aligned, edges clamped),
// in float; Y'CbCr becomes R, G, B with the matrix's Kr, Kb:
//   R = Y' + 2 (1 − Kr) Cr,  B = Y' + 2 (1 − Kb) Cb,  G = (Y' − Kr R − Kb B) / Kg
// and R, G, B in [0, 1] (clamped) are stored as 16-bit samples (rounded half
// up): the network's planes.
//
// Network → frame (from_rgb_*): R, G, B of the network's 16-bit planes,
//   Y' = Kr R + Kg G + Kb B,  Cb = (B − Y') / (2 (1 − Kb)),  Cr = (R − Y') / (2 (1 − Kr))
// each stored as offset + span · value, rounded half up, clamped to the
// sample range; a subsampled chroma sample takes the mean R, G, B of the
// output pixels it covers (centre-sited, as above).
#pragma once

#include <cstddef>
#include <cstdint>

#include "host_device.hpp"
#include "resample_taps.hpp"
#include "sample_access.hpp"
#include "sample_codec.hpp"

namespace espcn {

// The network's side: 16-bit samples, [0, 1] ↔ [0, 65535].
inline constexpr int kColorNetworkBits = 16;

// A plane as the converter reads or writes it: `step` samples per pixel
// (1: planar; 3: rgb24's R, G or B, data at the first pixel's own sample).
struct ColorPlane {
    void *data = nullptr;
    ptrdiff_t stride = 0;
    int width = 0, height = 0;
    int bit_depth = 8, shift = 0;
    int step = 1;
};

// The matrix: Y'CbCr with Kr, Kb (color_frames.hpp: color_matrix), or R,
// G, B as they are.
struct ColorMatrix {
    bool ycbcr = false;
    float kr = 0.0f, kb = 0.0f;
};

// Code value of channel k (Y', Cb, Cr or R, G, B) = offset[k] + span[k] · value.
struct ColorCoding {
    float offset[3] = {0.0f, 0.0f, 0.0f};
    float span[3] = {1.0f, 1.0f, 1.0f};
};

// Full range: 0 .. 2^b − 1, chroma zero at 2^(b−1); limited: 16 .. 235
// (chroma 16 .. 240) times 2^(b−8).
ESPCN_HD ColorCoding color_coding(bool ycbcr, bool limited, int bits) {
    ColorCoding c;
    const float maxv = static_cast<float>(max_sample(bits));
    const float unit = static_cast<float>(1u << (bits - 8));  // one 8-bit step
    for (int k = 0; k < 3; ++k) {
        const bool chroma = ycbcr && k > 0;
        if (limited) {
            c.offset[k] = (chroma ? 128.0f : 16.0f) * unit;
            c.span[k] = (chroma ? 224.0f : 219.0f) * unit;
        } else {
            c.offset[k] = chroma ? static_cast<float>(1u << (bits - 1)) : 0.0f;
            c.span[k] = maxv;
        }
    }
    return c;
}

ESPCN_HD float color_load(const ColorPlane &p, int x, int y) {
    return static_cast<float>(load_sample(sample_row(p.data, p.stride, y), x * p.step, p.bit_depth,
                                          p.shift, max_sample(p.bit_depth)));
}

ESPCN_HD void color_store(const ColorPlane &p, int x, int y, float code) {
    store_sample(sample_row(p.data, p.stride, y), x * p.step, p.bit_depth, p.shift,
                 round_resampled(code, max_sample(p.bit_depth)));
}

// Plane p's code value at luma pixel (x, y) of a plane 2^log2_w × 2^log2_h
// times its size: interpolated (horizontally, then vertically, as the
// resampler) where it is subsampled.
ESPCN_HD float color_sample_at(const ColorPlane &p, int x, int y, int log2_w, int log2_h, ResampleKind kind) {
    if (log2_w == 0 && log2_h == 0) return color_load(p, x, y);
    const ResampleTaps tx = resample_taps(kind, x, 1 << log2_w);
    const ResampleTaps ty = resample_taps(kind, y, 1 << log2_h);
    float acc = 0.0f;
    for (int j = 0; j < ty.count; ++j) {
        const int sy = clamp_index(ty.first + j, p.height);
        float row = 0.0f;
        for (int i = 0; i < tx.count; ++i) row += tx.weight[i] * color_load(p, clamp_index(tx.first + i, p.width), sy);
        acc += ty.weight[j] * row;
    }
    return acc;
}

// The frame's planes → the network's 16-bit R, G, B planes at luma pixel (x, y).
struct ToRgbParams {
    ColorPlane src[3];        // Y', Cb, Cr (Cb, Cr possibly subsampled) or R, G, B
    int log2_w = 0, log2_h = 0;  // subsampling of src[1], src[2]
    ResampleKind chroma_filter = kResampleBicubic;
    ColorMatrix matrix;
    ColorCoding coding[3];     // per source plane's depth: coding[k] for plane k
    ColorPlane dst[3];         // R, G, B: 16-bit, planar, the luma size
};

ESPCN_HD void to_rgb_pixel(const ToRgbParams &p, int x, int y) {
    float n[3];
    for (int k = 0; k < 3; ++k) {
        const bool sub = k > 0;
        const float v = color_sample_at(p.src[k], x, y, sub ? p.log2_w : 0, sub ? p.log2_h : 0, p.chroma_filter);
        n[k] = (v - p.coding[k].offset[k]) / p.coding[k].span[k];
    }
    float rgb[3] = {n[0], n[1], n[2]};
    if (p.matrix.ycbcr) {
        const float kr = p.matrix.kr, kb = p.matrix.kb, kg = 1.0f - kr - kb;
        rgb[0] = n[0] + 2.0f * (1.0f - kr) * n[2];
        rgb[2] = n[0] + 2.0f * (1.0f - kb) * n[1];
        rgb[1] = (n[0] - kr * rgb[0] - kb * rgb[2]) / kg;
    }
    const uint32_t top = max_sample(kColorNetworkBits);
    for (int k = 0; k < 3; ++k)
        store_sample(sample_row(p.dst[k].data, p.dst[k].stride, y), x, kColorNetworkBits, 0,
                     encode_sample(rgb[k], top, SampleRange{}));
}

// The network's 16-bit R, G, B planes → the frame's planes.
struct FromRgbParams {
    ColorPlane src[3];         // R, G, B: 16-bit, planar, the output's luma size
    ColorPlane dst[3];         // Y', Cb, Cr (Cb, Cr possibly subsampled) or R, G, B
    int log2_w = 0, log2_h = 0;  // subsampling of dst[1], dst[2]
    ColorMatrix matrix;
    ColorCoding coding[3];     // per destination plane's depth
};

ESPCN_HD float color_network_value(const ColorPlane &p, int x, int y) {
    return color_load(p, x, y) / static_cast<float>(max_sample(kColorNetworkBits));
}

// Every full-size sample at (x, y): Y' (Y'CbCr), or R, G and B.
ESPCN_HD void from_rgb_pixel(const FromRgbParams &p, int x, int y) {
    float rgb[3];
    for (int k = 0; k < 3; ++k) rgb[k] = color_network_value(p.src[k], x, y);
    if (!p.matrix.ycbcr) {
        for (int k = 0; k < 3; ++k) color_store(p.dst[k], x, y, p.coding[k].offset[k] + p.coding[k].span[k] * rgb[k]);
        return;
    }
    const float kr = p.matrix.kr, kb = p.matrix.kb, kg = 1.0f - kr - kb;
    const float luma = kr * rgb[0] + kg * rgb[1] + kb * rgb[2];
    color_store(p.dst[0], x, y, p.coding[0].offset[0] + p.coding[0].span[0] * luma);
}

// Y'CbCr only: the chroma samples (cx, cy) of dst[1] and dst[2], from the
// mean R, G, B of the output pixels they cover.
ESPCN_HD void from_rgb_chroma(const FromRgbParams &p, int cx, int cy) {
    const int x0 = cx << p.log2_w, y0 = cy << p.log2_h;
    const int x1 = (cx + 1) << p.log2_w, y1 = (cy + 1) << p.log2_h;
    const int xe = x1 < p.src[0].width ? x1 : p.src[0].width;
    const int ye = y1 < p.src[0].height ? y1 : p.src[0].height;
    float sum[3] = {0.0f, 0.0f, 0.0f};
    for (int y = y0; y < ye; ++y)
        for (int x = x0; x < xe; ++x)
            for (int k = 0; k < 3; ++k) sum[k] += color_network_value(p.src[k], x, y);
    const float count = static_cast<float>((xe - x0) * (ye - y0));
    const float r = sum[0] / count, g = sum[1] / count, b = sum[2] / count;
    const float kr = p.matrix.kr, kb = p.matrix.kb, kg = 1.0f - kr - kb;
    const float luma = kr * r + kg * g + kb * b;
    const float cb = (b - luma) / (2.0f * (1.0f - kb));
    const float cr = (r - luma) / (2.0f * (1.0f - kr));
    color_store(p.dst[1], cx, cy, p.coding[1].offset[1] + p.coding[1].span[1] * cb);
    color_store(p.dst[2], cx, cy, p.coding[2].offset[2] + p.coding[2].span[2] * cr);
}

}  // namespace espcn
