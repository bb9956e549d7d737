#include "quality.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace espcn {

namespace {

Status check_pair(const Image &a, const Image &b, int shave, int min_side) {
    ESPCN_RETURN_IF(a.channels != 1 || b.channels != 1 || a.bit_depth != 8 || b.bit_depth != 8,
                    ESPCN_ERROR_INVALID_ARGUMENT, "quality is measured on one 8-bit channel");
    ESPCN_RETURN_IF(a.width != b.width || a.height != b.height, ESPCN_ERROR_INVALID_ARGUMENT,
                    "sizes differ: ", a.width, "x", a.height, " vs ", b.width, "x", b.height);
    ESPCN_RETURN_IF(shave < 0 || a.width - 2 * shave < min_side || a.height - 2 * shave < min_side,
                    ESPCN_ERROR_INVALID_ARGUMENT, "a ", a.width, "x", a.height, " image shaved by ",
                    shave, " leaves less than ", min_side, " pixel(s) each way");
    return Status::ok();
}

// The shaved plane as doubles.
std::vector<double> shaved(const Image &im, int shave, int &w, int &h) {
    w = im.width - 2 * shave;
    h = im.height - 2 * shave;
    std::vector<double> v(static_cast<size_t>(w) * h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            v[static_cast<size_t>(y) * w + x] = im.samples[static_cast<size_t>(y + shave) * im.width + x + shave];
    return v;
}

// 'valid' correlation with a separable, symmetric window.
std::vector<double> filter_valid(const std::vector<double> &in, int w, int h,
                                 const std::vector<double> &g) {
    const int n = static_cast<int>(g.size()), ow = w - n + 1, oh = h - n + 1;
    std::vector<double> tmp(static_cast<size_t>(ow) * h), out(static_cast<size_t>(ow) * oh);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < ow; ++x) {
            double acc = 0.0;
            for (int k = 0; k < n; ++k) acc += g[k] * in[static_cast<size_t>(y) * w + x + k];
            tmp[static_cast<size_t>(y) * ow + x] = acc;
        }
    for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x) {
            double acc = 0.0;
            for (int k = 0; k < n; ++k) acc += g[k] * tmp[static_cast<size_t>(y + k) * ow + x];
            out[static_cast<size_t>(y) * ow + x] = acc;
        }
    return out;
}

}  // namespace

Result<Image> luma_bt601_u8(const Image &image) {
    ESPCN_RETURN_IF(image.bit_depth != 8 || (image.channels != 1 && image.channels != 3),
                    ESPCN_ERROR_INVALID_ARGUMENT, "expected an 8-bit gray or RGB image, not ",
                    image.channels, " channel(s) of ", image.bit_depth, " bits");
    if (image.channels == 1) return image;
    Image y{image.width, image.height, 1, 8,
            std::vector<uint16_t>(static_cast<size_t>(image.width) * image.height)};
    for (size_t i = 0; i < y.samples.size(); ++i) {
        const double r = image.samples[3 * i], g = image.samples[3 * i + 1],
                     b = image.samples[3 * i + 2];
        const double v = std::floor(16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0 + 0.5);
        y.samples[i] = static_cast<uint16_t>(v < 0.0 ? 0.0 : (v > 255.0 ? 255.0 : v));
    }
    return y;
}

Image modcrop(const Image &image, int r) {
    const int w = image.width - image.width % r, h = image.height - image.height % r;
    Image out{w, h, image.channels, image.bit_depth,
              std::vector<uint16_t>(static_cast<size_t>(w) * h * image.channels)};
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < image.channels; ++c) out.samples[out.index(x, y, c)] = image.at(x, y, c);
    return out;
}

Result<double> psnr_u8(const Image &a, const Image &b, int shave) {
    ESPCN_RETURN_IF_ERROR(check_pair(a, b, shave, 1));
    double sse = 0.0;
    for (int y = shave; y < a.height - shave; ++y)
        for (int x = shave; x < a.width - shave; ++x) {
            const double d = double(a.at(x, y, 0)) - double(b.at(x, y, 0));
            sse += d * d;
        }
    const double mse = sse / (double(a.width - 2 * shave) * double(a.height - 2 * shave));
    if (mse == 0.0) return std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(255.0 * 255.0 / mse);
}

Result<double> ssim_u8(const Image &a, const Image &b, int shave) {
    constexpr int kWindow = 11;
    ESPCN_RETURN_IF_ERROR(check_pair(a, b, shave, kWindow));
    std::vector<double> g(kWindow);
    double sum = 0.0;
    for (int k = 0; k < kWindow; ++k) {
        const double d = k - (kWindow - 1) / 2.0;
        g[k] = std::exp(-d * d / (2.0 * 1.5 * 1.5));
        sum += g[k];
    }
    for (double &v : g) v /= sum;  // the 2-D window g gᵀ then sums to 1

    int w = 0, h = 0;
    const std::vector<double> x = shaved(a, shave, w, h), y = shaved(b, shave, w, h);
    std::vector<double> xx(x.size()), yy(x.size()), xy(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        xx[i] = x[i] * x[i];
        yy[i] = y[i] * y[i];
        xy[i] = x[i] * y[i];
    }
    const std::vector<double> mx = filter_valid(x, w, h, g), my = filter_valid(y, w, h, g),
                              sxx = filter_valid(xx, w, h, g), syy = filter_valid(yy, w, h, g),
                              sxy = filter_valid(xy, w, h, g);
    const double c1 = (0.01 * 255.0) * (0.01 * 255.0), c2 = (0.03 * 255.0) * (0.03 * 255.0);
    double total = 0.0;
    for (size_t i = 0; i < mx.size(); ++i) {
        const double mxy = mx[i] * my[i], mx2 = mx[i] * mx[i], my2 = my[i] * my[i];
        total += ((2.0 * mxy + c1) * (2.0 * (sxy[i] - mxy) + c2)) /
                 ((mx2 + my2 + c1) * ((sxx[i] - mx2) + (syy[i] - my2) + c2));
    }
    return total / double(mx.size());
}

}  // namespace espcn
