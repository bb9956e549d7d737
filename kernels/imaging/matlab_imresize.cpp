#include "matlab_imresize.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

namespace espcn {

namespace {

// MATLAB's cubic(): the same expression, support |x| <= 2.
double matlab_cubic(double x) {
    const double a = std::fabs(x), a2 = a * a, a3 = a2 * a;
    if (a <= 1.0) return 1.5 * a3 - 2.5 * a2 + 1.0;
    if (a <= 2.0) return -0.5 * a3 + 2.5 * a2 - 4.0 * a + 2.0;
    return 0.0;
}

struct Taps {
    int count = 0;
    std::vector<int> index;      // out_len · count, 0-based, mirrored
    std::vector<double> weight;  // out_len · count
};

// MATLAB's contributions() for imresize by `scale` (factor or 1/factor).
Taps contributions(int in_len, int out_len, double scale) {
    const bool shrink = scale < 1.0;
    const double width = shrink ? 4.0 / scale : 4.0;
    Taps t;
    t.count = static_cast<int>(std::ceil(width)) + 2;
    t.index.resize(static_cast<size_t>(out_len) * t.count);
    t.weight.resize(t.index.size());
    const int64_t period = 2 * int64_t{in_len};
    for (int x = 0; x < out_len; ++x) {
        const double u = (x + 1) / scale + 0.5 * (1.0 - 1.0 / scale);
        const double left = std::floor(u - width / 2.0);
        double sum = 0.0;
        double *w = &t.weight[static_cast<size_t>(x) * t.count];
        int *idx = &t.index[static_cast<size_t>(x) * t.count];
        for (int k = 0; k < t.count; ++k) {
            const double j = left + k;  // 1-based, as MATLAB
            const double d = u - j;
            w[k] = shrink ? scale * matlab_cubic(scale * d) : matlab_cubic(d);
            sum += w[k];
            // aux = [1:n, n:-1:1]; index = aux(mod(j - 1, 2n) + 1)
            int64_t m = (static_cast<int64_t>(j) - 1) % period;
            if (m < 0) m += period;
            idx[k] = static_cast<int>(m < in_len ? m : period - 1 - m);
        }
        for (int k = 0; k < t.count; ++k) w[k] /= sum;
    }
    return t;
}

// Double to uint8 as MATLAB converts: round half away from zero, saturate.
uint16_t to_u8(double v) {
    const double r = v >= 0.0 ? std::floor(v + 0.5) : std::ceil(v - 0.5);
    return static_cast<uint16_t>(r < 0.0 ? 0.0 : (r > 255.0 ? 255.0 : r));
}

// One pass along the height (columns of samples), then one along the width,
// each rounded to uint8, the taps summed in order as MATLAB sums them.
Image resize_u8(const Image &in, int out_w, int out_h, double scale) {
    const Taps tv = contributions(in.height, out_h, scale);
    Image mid{in.width, out_h, 1, 8, std::vector<uint16_t>(static_cast<size_t>(in.width) * out_h)};
    for (int y = 0; y < out_h; ++y)
        for (int x = 0; x < in.width; ++x) {
            double acc = 0.0;
            for (int k = 0; k < tv.count; ++k) {
                const size_t t = static_cast<size_t>(y) * tv.count + k;
                acc += tv.weight[t] * in.samples[static_cast<size_t>(tv.index[t]) * in.width + x];
            }
            mid.samples[static_cast<size_t>(y) * in.width + x] = to_u8(acc);
        }
    const Taps th = contributions(in.width, out_w, scale);
    Image out{out_w, out_h, 1, 8, std::vector<uint16_t>(static_cast<size_t>(out_w) * out_h)};
    for (int y = 0; y < out_h; ++y)
        for (int x = 0; x < out_w; ++x) {
            double acc = 0.0;
            for (int k = 0; k < th.count; ++k) {
                const size_t t = static_cast<size_t>(x) * th.count + k;
                acc += th.weight[t] * mid.samples[static_cast<size_t>(y) * in.width + th.index[t]];
            }
            out.samples[static_cast<size_t>(y) * out_w + x] = to_u8(acc);
        }
    return out;
}

Status check_input(const Image &gray, int factor) {
    ESPCN_RETURN_IF(gray.channels != 1 || gray.bit_depth != 8, ESPCN_ERROR_INVALID_ARGUMENT,
                    "MATLAB imresize emulation takes one 8-bit channel, not ", gray.channels,
                    " channel(s) of ", gray.bit_depth, " bits");
    ESPCN_RETURN_IF(gray.width < 1 || gray.height < 1 ||
                        gray.samples.size() != static_cast<size_t>(gray.width) * gray.height,
                    ESPCN_ERROR_INVALID_ARGUMENT, "image is ", gray.width, "x", gray.height,
                    " with ", gray.samples.size(), " samples");
    ESPCN_RETURN_IF(factor < 1 || factor > 16, ESPCN_ERROR_INVALID_ARGUMENT, "factor ", factor,
                    " is outside [1, 16]");
    return Status::ok();
}

}  // namespace

Result<Image> matlab_downscale_u8(const Image &gray, int factor) {
    ESPCN_RETURN_IF_ERROR(check_input(gray, factor));
    // MATLAB's output size: ceil(scale · size).
    return resize_u8(gray, (gray.width + factor - 1) / factor, (gray.height + factor - 1) / factor,
                     1.0 / factor);
}

Result<Image> matlab_upscale_u8(const Image &gray, int factor) {
    ESPCN_RETURN_IF_ERROR(check_input(gray, factor));
    ESPCN_RETURN_IF(int64_t{gray.width} * factor > (int64_t{1} << 20) ||
                        int64_t{gray.height} * factor > (int64_t{1} << 20),
                    ESPCN_ERROR_INVALID_ARGUMENT, "output too large");
    return resize_u8(gray, gray.width * factor, gray.height * factor, double(factor));
}

}  // namespace espcn
