// An espcn context (through the public C API, as any user would) plus the
// colour handling around it: gray planes go through the network as they
// are, RGB is split into YCbCr, Y goes through the network and Cb/Cr are
// upscaled bicubically; a network of RGB takes the R, G, B planes.
#pragma once

#include <memory>
#include <string>

#include "core/status.hpp"
#include "imaging/image.hpp"
#include "espcn/espcn.h"

namespace espcn {

struct UpscalerConfig {
    std::string model_path;
    espcn_backend backend = ESPCN_BACKEND_AUTO;
    espcn_precision precision = ESPCN_PRECISION_AUTO;
    int threads = 0;
    bool verbose = false;  // engine messages down to debug level
    size_t memory_budget = 0;  // 0: the engine's default
    espcn_cancel_fn cancel = nullptr;  // e.g. cancel_on_interrupt
};

// Time spent in espcn_process_plane.
struct PlaneTiming {
    int timed_runs = 0;   // runs the mean is over
    bool warmed_up = false;  // an untimed run came first
    double mean_ms = 0.0;
};

class Upscaler {
public:
    [[nodiscard]] static Result<Upscaler> create(const UpscalerConfig &config);

    const espcn_model_info &info() const { return info_; }
    // espcn_backend_details(): what the backend chose.
    std::string details() const { return espcn_backend_details(ctx_.get()); }
    int scale() const { return info_.scale; }

    // One gray plane through the network, at out_bits. repeat = 0: one timed
    // run; repeat = N: one warm-up, then N timed runs.
    [[nodiscard]] Result<Image> upscale_plane(const Image &gray, int out_bits, int repeat,
                                              PlaneTiming &timing);

    // An RGB image through a network of RGB (R, G, B planes, one pass).
    [[nodiscard]] Result<Image> upscale_rgb(const Image &rgb, int out_bits, int repeat, PlaneTiming &timing);

    // A gray or RGB image (luma model: RGB as Y'CbCr, Y' through the
    // network; RGB model: upscale_rgb); only the network is timed.
    [[nodiscard]] Result<Image> upscale_image(const Image &image, int out_bits, int repeat,
                                              PlaneTiming &timing);

private:
    struct ContextDeleter {
        void operator()(espcn_context *ctx) const { espcn_destroy(&ctx); }
    };

    std::unique_ptr<espcn_context, ContextDeleter> ctx_;
    espcn_model_info info_{};
};

// The engine's last error as a Status, prefixed with what was being done.
Status engine_error(espcn_status status, const std::string &doing);

}  // namespace espcn
