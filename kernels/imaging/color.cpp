#include "color.hpp"

#include <array>

namespace espcn {

namespace {

using Matrix3 = std::array<std::array<double, 3>, 3>;

// MATLAB rgb2ycbcr, scaled so inputs and outputs are both in [0, 1].
constexpr Matrix3 kRgbToYcc = {{{65.481 / 255, 128.553 / 255, 24.966 / 255},
                                {-37.797 / 255, -74.203 / 255, 112.0 / 255},
                                {112.0 / 255, -93.786 / 255, -18.214 / 255}}};
constexpr std::array<double, 3> kYccOffset = {16.0 / 255, 128.0 / 255, 128.0 / 255};

// ycbcr2rgb is the exact inverse (MATLAB inverts the same matrix), computed
// here rather than copied as rounded constants.
constexpr Matrix3 inverse(const Matrix3 &m) {
    const double c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1];
    const double c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2];
    const double c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    const double det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02;
    return {{{c00 / det, (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det,
              (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det},
             {c01 / det, (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det,
              (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det},
             {c02 / det, (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det,
              (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det}}};
}
constexpr Matrix3 kYccToRgb = inverse(kRgbToYcc);

Status check_same_size(const FloatPlane &a, const FloatPlane &b, const char *what) {
    ESPCN_RETURN_IF(a.width != b.width || a.height != b.height ||
                        a.values.size() != b.values.size(),
                    ESPCN_ERROR_INVALID_ARGUMENT, what, " plane is ", b.width, "x", b.height,
                    " but Y is ", a.width, "x", a.height);
    return Status::ok();
}

}  // namespace

void rgb_to_ycbcr(float r, float g, float b, float &y, float &cb, float &cr) {
    const double in[3] = {r, g, b};
    double out[3];
    for (int row = 0; row < 3; ++row)
        out[row] = kYccOffset[row] + kRgbToYcc[row][0] * in[0] + kRgbToYcc[row][1] * in[1] +
                   kRgbToYcc[row][2] * in[2];
    y = static_cast<float>(out[0]);
    cb = static_cast<float>(out[1]);
    cr = static_cast<float>(out[2]);
}

void ycbcr_to_rgb(float y, float cb, float cr, float &r, float &g, float &b) {
    const double in[3] = {y - kYccOffset[0], cb - kYccOffset[1], cr - kYccOffset[2]};
    double out[3];
    for (int row = 0; row < 3; ++row)
        out[row] = kYccToRgb[row][0] * in[0] + kYccToRgb[row][1] * in[1] + kYccToRgb[row][2] * in[2];
    r = static_cast<float>(out[0]);
    g = static_cast<float>(out[1]);
    b = static_cast<float>(out[2]);
}

Result<FloatPlane> normalized_channel(const Image &image, int channel) {
    ESPCN_RETURN_IF(channel < 0 || channel >= image.channels, ESPCN_ERROR_INVALID_ARGUMENT,
                    "channel ", channel, " of a ", image.channels, "-channel image");
    ESPCN_RETURN_IF(image.samples.size() !=
                        static_cast<size_t>(image.width) * image.height * image.channels,
                    ESPCN_ERROR_INVALID_ARGUMENT, "image sample count does not match its size");
    FloatPlane plane(image.width, image.height);
    const float scale = 1.0f / static_cast<float>(image.max_value());
    for (size_t k = 0; k < plane.values.size(); ++k)
        plane.values[k] = static_cast<float>(image.samples[k * image.channels + channel]) * scale;
    return plane;
}

Result<Image> quantize_plane(const FloatPlane &plane, int bits) {
    ESPCN_RETURN_IF(bits < 8 || bits > 16, ESPCN_ERROR_INVALID_ARGUMENT, "bit depth ", bits,
                    " is outside [8, 16]");
    ESPCN_RETURN_IF(plane.values.size() != static_cast<size_t>(plane.width) * plane.height,
                    ESPCN_ERROR_INVALID_ARGUMENT, "plane value count does not match its size");
    Image image;
    image.width = plane.width;
    image.height = plane.height;
    image.channels = 1;
    image.bit_depth = bits;
    image.samples.resize(plane.values.size());
    for (size_t k = 0; k < plane.values.size(); ++k)
        image.samples[k] = quantize_sample(plane.values[k], bits);
    return image;
}

Result<YCbCrPlanes> rgb_to_ycbcr(const Image &rgb) {
    ESPCN_RETURN_IF(rgb.channels != 3, ESPCN_ERROR_INVALID_ARGUMENT,
                    "RGB to YCbCr needs 3 channels, not ", rgb.channels);
    ESPCN_RETURN_IF(rgb.samples.size() != static_cast<size_t>(rgb.width) * rgb.height * 3,
                    ESPCN_ERROR_INVALID_ARGUMENT, "image sample count does not match its size");
    YCbCrPlanes out{FloatPlane(rgb.width, rgb.height), FloatPlane(rgb.width, rgb.height),
                    FloatPlane(rgb.width, rgb.height)};
    const float scale = 1.0f / static_cast<float>(rgb.max_value());
    const int64_t pixels = static_cast<int64_t>(rgb.width) * rgb.height;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < pixels; ++k) {
        const uint16_t *px = &rgb.samples[static_cast<size_t>(k) * 3];
        rgb_to_ycbcr(px[0] * scale, px[1] * scale, px[2] * scale, out.y.values[k],
                     out.cb.values[k], out.cr.values[k]);
    }
    return out;
}

Result<Image> ycbcr_to_rgb(const YCbCrPlanes &planes, int bits) {
    ESPCN_RETURN_IF(bits < 8 || bits > 16, ESPCN_ERROR_INVALID_ARGUMENT, "bit depth ", bits,
                    " is outside [8, 16]");
    ESPCN_RETURN_IF(planes.y.values.size() !=
                        static_cast<size_t>(planes.y.width) * planes.y.height,
                    ESPCN_ERROR_INVALID_ARGUMENT, "plane value count does not match its size");
    ESPCN_RETURN_IF_ERROR(check_same_size(planes.y, planes.cb, "Cb"));
    ESPCN_RETURN_IF_ERROR(check_same_size(planes.y, planes.cr, "Cr"));
    Image rgb;
    rgb.width = planes.y.width;
    rgb.height = planes.y.height;
    rgb.channels = 3;
    rgb.bit_depth = bits;
    rgb.samples.resize(planes.y.values.size() * 3);
    const int64_t pixels = static_cast<int64_t>(planes.y.values.size());
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < pixels; ++k) {
        float r, g, b;
        ycbcr_to_rgb(planes.y.values[k], planes.cb.values[k], planes.cr.values[k], r, g, b);
        uint16_t *px = &rgb.samples[static_cast<size_t>(k) * 3];
        px[0] = quantize_sample(r, bits);
        px[1] = quantize_sample(g, bits);
        px[2] = quantize_sample(b, bits);
    }
    return rgb;
}

}  // namespace espcn
