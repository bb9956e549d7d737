#include "bicubic_resize.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "color.hpp"

namespace espcn {

namespace {

// Beyond this the output sizes stop fitting comfortably in an int.
constexpr int64_t kMaxOutputSide = int64_t{1} << 24;

// Which input samples, with which weights, make each output sample of a
// 1-D resample. Every output sample has the same number of taps.
struct Contributions {
    int taps = 0;
    std::vector<int> index;     // out_len · taps, edge handling already applied
    std::vector<float> weight;  // out_len · taps
};

int map_edge(int64_t i, int n, EdgeMode edge) {
    if (edge == EdgeMode::replicate) return static_cast<int>(std::clamp<int64_t>(i, 0, n - 1));
    // Mirror repeating the edge pixel: ... 1 0 | 0 1 ... n−1 | n−1 n−2 ...
    const int64_t period = 2 * int64_t{n};
    int64_t m = i % period;
    if (m < 0) m += period;
    return static_cast<int>(m < n ? m : period - 1 - m);
}

Contributions upscale_contributions(int in_len, int scale, EdgeMode edge) {
    std::vector<std::array<double, 5>> phase_taps(scale);
    for (int phase = 0; phase < scale; ++phase) phase_taps[phase] = bicubic_upscale_taps(scale, phase);
    Contributions c;
    c.taps = 5;
    const int out_len = in_len * scale;
    c.index.resize(static_cast<size_t>(out_len) * c.taps);
    c.weight.resize(c.index.size());
    for (int x = 0; x < out_len; ++x) {
        const int x0 = x / scale, phase = x % scale;
        for (int k = 0; k < c.taps; ++k) {
            c.index[static_cast<size_t>(x) * c.taps + k] = map_edge(x0 + k - 2, in_len, edge);
            c.weight[static_cast<size_t>(x) * c.taps + k] = static_cast<float>(phase_taps[phase][k]);
        }
    }
    return c;
}

// MATLAB imresize's contributions() for a bicubic shrink by `factor`.
Contributions downscale_contributions(int in_len, int factor, EdgeMode edge) {
    const int out_len = (in_len + factor - 1) / factor;
    const double kernel_width = 4.0 * factor;
    Contributions c;
    c.taps = static_cast<int>(std::ceil(kernel_width)) + 2;
    c.index.resize(static_cast<size_t>(out_len) * c.taps);
    c.weight.resize(c.index.size());
    std::vector<double> w(c.taps);
    for (int x = 0; x < out_len; ++x) {
        const double u = (x + 0.5) * factor - 0.5;
        const int64_t left = static_cast<int64_t>(std::floor(u - kernel_width / 2));
        double sum = 0.0;
        for (int k = 0; k < c.taps; ++k) {
            // The kernel stretched by `factor` (and scaled to keep unit area).
            w[k] = keys_cubic((u - static_cast<double>(left + k)) / factor) / factor;
            sum += w[k];
        }
        for (int k = 0; k < c.taps; ++k) {
            c.index[static_cast<size_t>(x) * c.taps + k] = map_edge(left + k, in_len, edge);
            c.weight[static_cast<size_t>(x) * c.taps + k] = static_cast<float>(w[k] / sum);
        }
    }
    return c;
}

// Horizontal pass: each row resampled to out_width.
FloatPlane resample_rows(const FloatPlane &in, const Contributions &c, int out_width) {
    FloatPlane out(out_width, in.height);
#pragma omp parallel for schedule(static)
    for (int y = 0; y < in.height; ++y) {
        const float *src = &in.values[static_cast<size_t>(y) * in.width];
        float *dst = &out.values[static_cast<size_t>(y) * out_width];
        for (int x = 0; x < out_width; ++x) {
            const int *idx = &c.index[static_cast<size_t>(x) * c.taps];
            const float *w = &c.weight[static_cast<size_t>(x) * c.taps];
            float acc = 0.0f;
            for (int k = 0; k < c.taps; ++k) acc += w[k] * src[idx[k]];
            dst[x] = acc;
        }
    }
    return out;
}

// Vertical pass: whole rows combined, so the inner loop runs along memory.
FloatPlane resample_columns(const FloatPlane &in, const Contributions &c, int out_height) {
    FloatPlane out(in.width, out_height);
#pragma omp parallel for schedule(static)
    for (int y = 0; y < out_height; ++y) {
        float *dst = &out.values[static_cast<size_t>(y) * in.width];
        for (int k = 0; k < c.taps; ++k) {
            const float w = c.weight[static_cast<size_t>(y) * c.taps + k];
            const float *src = &in.values[static_cast<size_t>(c.index[static_cast<size_t>(y) * c.taps + k]) * in.width];
            for (int x = 0; x < in.width; ++x) dst[x] += w * src[x];
        }
    }
    return out;
}

Status check_plane(const FloatPlane &in) {
    ESPCN_RETURN_IF(in.width < 1 || in.height < 1 ||
                        in.values.size() != static_cast<size_t>(in.width) * in.height,
                    ESPCN_ERROR_INVALID_ARGUMENT, "plane is ", in.width, "x", in.height, " with ",
                    in.values.size(), " values");
    return Status::ok();
}

Status check_factor(int factor) {
    ESPCN_RETURN_IF(factor < 1 || factor > kMaxResizeFactor, ESPCN_ERROR_INVALID_ARGUMENT,
                    "resize factor ", factor, " is outside [1, ", kMaxResizeFactor, "]");
    return Status::ok();
}

// Applies a plane resize to every channel of an integer image.
template <typename ResizePlane>
Result<Image> resize_channels(const Image &in, int out_bits, ResizePlane &&resize_plane) {
    ESPCN_RETURN_IF(out_bits < 8 || out_bits > 16, ESPCN_ERROR_INVALID_ARGUMENT, "bit depth ",
                    out_bits, " is outside [8, 16]");
    Image out;
    out.channels = in.channels;
    out.bit_depth = out_bits;
    for (int ch = 0; ch < in.channels; ++ch) {
        Result<FloatPlane> plane = normalized_channel(in, ch);
        ESPCN_RETURN_IF_ERROR(plane.status());
        Result<FloatPlane> resized = resize_plane(plane.value());
        ESPCN_RETURN_IF_ERROR(resized.status());
        const FloatPlane &r = resized.value();
        if (ch == 0) {
            out.width = r.width;
            out.height = r.height;
            out.samples.resize(r.values.size() * in.channels);
        }
        for (size_t k = 0; k < r.values.size(); ++k)
            out.samples[k * in.channels + ch] = quantize_sample(r.values[k], out_bits);
    }
    return out;
}

}  // namespace

double keys_cubic(double t) {
    constexpr double a = -0.5;
    const double x = std::fabs(t);
    if (x <= 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    return 0.0;
}

std::array<double, 5> bicubic_upscale_taps(int scale, int phase) {
    // Output x0·r + phase sits at u = x0 + d with d = (2·phase + 1 − r) / 2r,
    // in (−½, ½); input pixel x0 + o gets keys(d − o).
    const double d = (2.0 * phase + 1.0 - scale) / (2.0 * scale);
    std::array<double, 5> taps{};
    for (int k = 0; k < 5; ++k) taps[k] = keys_cubic(d - (k - 2));
    return taps;
}

Result<FloatPlane> bicubic_upscale(const FloatPlane &in, int scale, EdgeMode edge) {
    ESPCN_RETURN_IF_ERROR(check_plane(in));
    ESPCN_RETURN_IF_ERROR(check_factor(scale));
    ESPCN_RETURN_IF(int64_t{in.width} * scale > kMaxOutputSide ||
                        int64_t{in.height} * scale > kMaxOutputSide,
                    ESPCN_ERROR_INVALID_ARGUMENT, "upscaled plane would be larger than ",
                    kMaxOutputSide, " on a side");
    const FloatPlane wide = resample_rows(in, upscale_contributions(in.width, scale, edge),
                                          in.width * scale);
    return resample_columns(wide, upscale_contributions(in.height, scale, edge),
                            in.height * scale);
}

Result<FloatPlane> bicubic_downscale(const FloatPlane &in, int factor, EdgeMode edge) {
    ESPCN_RETURN_IF_ERROR(check_plane(in));
    ESPCN_RETURN_IF_ERROR(check_factor(factor));
    const int out_width = (in.width + factor - 1) / factor;
    const int out_height = (in.height + factor - 1) / factor;
    const FloatPlane narrow =
        resample_rows(in, downscale_contributions(in.width, factor, edge), out_width);
    return resample_columns(narrow, downscale_contributions(in.height, factor, edge), out_height);
}

Result<Image> bicubic_upscale(const Image &in, int scale, int out_bits, EdgeMode edge) {
    return resize_channels(in, out_bits, [&](const FloatPlane &p) {
        return bicubic_upscale(p, scale, edge);
    });
}

Result<Image> bicubic_downscale(const Image &in, int factor, EdgeMode edge) {
    return resize_channels(in, in.bit_depth, [&](const FloatPlane &p) {
        return bicubic_downscale(p, factor, edge);
    });
}

}  // namespace espcn
