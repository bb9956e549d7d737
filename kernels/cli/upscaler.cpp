#include "upscaler.hpp"

#include <chrono>
#include <cstdio>
#include <vector>

#include "imaging/bicubic_resize.hpp"
#include "imaging/color.hpp"
#include "plane_buffer.hpp"

namespace espcn {

namespace {

// Errors are not printed here: the CLI prints espcn_last_error() itself.
void log_to_stderr(void *, espcn_log_level level, const char *message) {
    if (level == ESPCN_LOG_ERROR) return;
    const char *name = level == ESPCN_LOG_WARNING ? "warning"
                       : level == ESPCN_LOG_INFO  ? "info"
                                                  : "debug";
    std::fprintf(stderr, "espcn %s: %s\n", name, message);
}

}  // namespace

Status engine_error(espcn_status status, const std::string &doing) {
    const std::string detail = espcn_last_error();
    return Status(status, concat(doing, ": ", detail.empty() ? espcn_status_string(status)
                                                            : detail.c_str()));
}

Result<Upscaler> Upscaler::create(const UpscalerConfig &config) {
    espcn_params params = ESPCN_PARAMS_DEFAULT_INIT;
    params.model_path = config.model_path.c_str();
    params.backend = config.backend;
    params.precision = config.precision;
    params.threads = config.threads;
    params.log_callback = log_to_stderr;
    params.log_level = config.verbose ? ESPCN_LOG_DEBUG : ESPCN_LOG_WARNING;
    params.memory_budget = config.memory_budget;
    params.cancel_callback = config.cancel;

    Upscaler u;
    espcn_context *raw = nullptr;
    const espcn_status created = espcn_create(&params, &raw);
    if (created != ESPCN_OK) return engine_error(created, "cannot create the engine");
    u.ctx_.reset(raw);
    const espcn_status got = espcn_get_model_info(u.ctx_.get(), &u.info_);
    if (got != ESPCN_OK) return engine_error(got, "cannot query the model");
    return u;
}

namespace {
// Runs `run` once, or (repeat > 0) once untimed and then `repeat` times
// timed: the first call allocates the context's buffers (and the backend
// picks its kernels), so it stays out of the mean.
template <class Run>
Status timed_runs(int repeat, PlaneTiming &timing, Run &&run) {
    using Clock = std::chrono::steady_clock;
    timing = PlaneTiming{};
    if (repeat > 0) {
        ESPCN_RETURN_IF_ERROR(run());
        timing.warmed_up = true;
    }
    const int runs = repeat > 0 ? repeat : 1;
    const Clock::time_point start = Clock::now();
    for (int k = 0; k < runs; ++k) ESPCN_RETURN_IF_ERROR(run());
    const std::chrono::duration<double, std::milli> elapsed = Clock::now() - start;
    timing.timed_runs = runs;
    timing.mean_ms = elapsed.count() / runs;
    return Status::ok();
}
}  // namespace

Result<Image> Upscaler::upscale_plane(const Image &gray, int out_bits, int repeat,
                                      PlaneTiming &timing) {
    ESPCN_RETURN_IF(gray.channels != 1, ESPCN_ERROR_INTERNAL, "upscale_plane takes one channel");
    ESPCN_RETURN_IF(info_.in_channels != 1, ESPCN_ERROR_INVALID_ARGUMENT, "model '", info_.name,
                    "' is a network of RGB; it needs an RGB image, not one plane");
    const int r = info_.scale;
    PlaneBuffer in = PlaneBuffer::from_image(gray);
    PlaneBuffer out(gray.width * r, gray.height * r, out_bits);
    const espcn_plane in_plane = in.view();
    const espcn_plane out_plane = out.view();

    ESPCN_RETURN_IF_ERROR(timed_runs(repeat, timing, [&]() -> Status {
        const espcn_status s = espcn_process_plane(ctx_.get(), &in_plane, &out_plane);
        return s == ESPCN_OK ? Status::ok() : engine_error(s, "espcn_process_plane");
    }));
    return out.to_image();
}

Result<Image> Upscaler::upscale_rgb(const Image &rgb, int out_bits, int repeat, PlaneTiming &timing) {
    ESPCN_RETURN_IF(rgb.channels != 3, ESPCN_ERROR_INVALID_ARGUMENT, "model '", info_.name,
                    "' is a network of RGB; it needs an RGB image (this one has ", rgb.channels, " channel(s))");
    const int r = info_.scale;
    std::vector<PlaneBuffer> in, out;
    espcn_plane in_planes[3], out_planes[3];
    for (int c = 0; c < 3; ++c) {
        Image channel{rgb.width, rgb.height, 1, rgb.bit_depth,
                      std::vector<uint16_t>(static_cast<size_t>(rgb.width) * rgb.height)};
        for (int y = 0; y < rgb.height; ++y)
            for (int x = 0; x < rgb.width; ++x)
                channel.samples[static_cast<size_t>(y) * rgb.width + x] = rgb.at(x, y, c);
        in.push_back(PlaneBuffer::from_image(channel));
        out.emplace_back(rgb.width * r, rgb.height * r, out_bits);
    }
    for (int c = 0; c < 3; ++c) {
        in_planes[c] = in[static_cast<size_t>(c)].view();
        out_planes[c] = out[static_cast<size_t>(c)].view();
    }
    ESPCN_RETURN_IF_ERROR(timed_runs(repeat, timing, [&]() -> Status {
        const espcn_status s = espcn_process_planes(ctx_.get(), in_planes, 3, out_planes, 3);
        return s == ESPCN_OK ? Status::ok() : engine_error(s, "espcn_process_planes");
    }));
    Image result{rgb.width * r, rgb.height * r, 3, out_bits,
                 std::vector<uint16_t>(static_cast<size_t>(rgb.width) * r * rgb.height * r * 3)};
    for (int c = 0; c < 3; ++c) {
        const Image plane = out[static_cast<size_t>(c)].to_image();
        for (size_t k = 0; k < plane.samples.size(); ++k) result.samples[k * 3 + static_cast<size_t>(c)] = plane.samples[k];
    }
    return result;
}

Result<Image> Upscaler::upscale_image(const Image &image, int out_bits, int repeat,
                                      PlaneTiming &timing) {
    if (info_.in_channels == 3) return upscale_rgb(image, out_bits, repeat, timing);
    if (image.channels == 1) return upscale_plane(image, out_bits, repeat, timing);
    ESPCN_RETURN_IF(image.channels != 3, ESPCN_ERROR_INVALID_ARGUMENT, "an image with ",
                    image.channels, " channels");

    Result<YCbCrPlanes> ycc = rgb_to_ycbcr(image);
    ESPCN_RETURN_IF_ERROR(ycc.status());
    // The network sees Y as a decoder would hand it over: integer samples at
    // the image's depth (MATLAB's rgb2ycbcr also rounds).
    Result<Image> luma = quantize_plane(ycc.value().y, image.bit_depth);
    ESPCN_RETURN_IF_ERROR(luma.status());
    Result<Image> luma_hr = upscale_plane(luma.value(), out_bits, repeat, timing);
    ESPCN_RETURN_IF_ERROR(luma_hr.status());

    YCbCrPlanes hr;
    Result<FloatPlane> y = normalized_channel(luma_hr.value(), 0);
    ESPCN_RETURN_IF_ERROR(y.status());
    hr.y = std::move(y).value();
    // Chroma stays in floats: no rounding before the final RGB quantization.
    Result<FloatPlane> cb = bicubic_upscale(ycc.value().cb, info_.scale);
    ESPCN_RETURN_IF_ERROR(cb.status());
    hr.cb = std::move(cb).value();
    Result<FloatPlane> cr = bicubic_upscale(ycc.value().cr, info_.scale);
    ESPCN_RETURN_IF_ERROR(cr.status());
    hr.cr = std::move(cr).value();
    return ycbcr_to_rgb(hr, out_bits);
}

}  // namespace espcn
