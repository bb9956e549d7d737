// The C API: argument checking, the context's settings, and the wall that
// keeps every C++ exception inside the library. The work is the backend's
// (backend.hpp); which backend, the table's (backend_registry.hpp).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "backend.hpp"
#include "backend_registry.hpp"
#include "color_frames.hpp"
#include "espcn/espcn.h"
#include "model_dir.hpp"
#include "model_loader.hpp"
#include "plane_resample.hpp"

// A loaded, validated network; contexts share it (and keep it alive).
struct espcn_model {
    std::shared_ptr<const espcn::Network> net;
};

struct espcn_context {
    std::shared_ptr<const espcn::Network> net;
    espcn::BackendConfig settings;  // resolved once from espcn_params
    std::unique_ptr<espcn::Backend> backend;
    std::vector<espcn::PlaneTask> tasks;  // a frame's checked tasks; capacity reused per frame
    espcn::ColorFrames color;  // networks of RGB: the conversions of host frames in flight
    mutable std::string details;          // espcn_backend_details()'s last answer
};

namespace {

using espcn::Status;

thread_local std::string t_last_error;

// Largest plane side we accept; keeps every index product inside 64 bits and
// every per-plane buffer under a sane size.
constexpr int kMaxSide = 1 << 16;
constexpr int64_t kMaxInputPixels = int64_t{1} << 28;

espcn_status fail(const espcn::Logger &log, const Status &s) {
    t_last_error = s.message();
    log.error(s.message());
    return s.code();
}

espcn_status succeed() {
    t_last_error.clear();
    return ESPCN_OK;
}

// Runs f, turning any exception into a status: nothing crosses the C API.
template <typename F>
espcn_status guarded(const espcn::Logger &log, F &&f) {
    try {
        const Status s = f();
        return s.is_ok() ? succeed() : fail(log, s);
    } catch (const std::bad_alloc &) {
        return fail(log, Status(ESPCN_ERROR_OUT_OF_MEMORY, "out of memory"));
    } catch (const std::exception &e) {
        return fail(log, Status(ESPCN_ERROR_INTERNAL, espcn::concat("internal error: ", e.what())));
    } catch (...) {
        return fail(log, Status(ESPCN_ERROR_INTERNAL, "internal error: unknown exception"));
    }
}

// A C caller may store any int in an enum field; loading an out-of-range value
// as the C++ enum is undefined, so read the raw integer instead.
template <typename E>
int raw_enum(const E &e) {
    static_assert(sizeof(E) == sizeof(int));
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

Status check_plane(const espcn_plane *p, const char *what, int components = 1) {
    ESPCN_RETURN_IF(!p, ESPCN_ERROR_INVALID_ARGUMENT, what, " plane is NULL");
    ESPCN_RETURN_IF(!p->data, ESPCN_ERROR_INVALID_ARGUMENT, what, " plane has no data");
    ESPCN_RETURN_IF(p->width < 1 || p->height < 1 || p->width > kMaxSide || p->height > kMaxSide,
                    ESPCN_ERROR_INVALID_ARGUMENT, what, " plane is ", p->width, "x", p->height,
                    "; each side must be in [1, ", kMaxSide, "]");
    ESPCN_RETURN_IF(p->bit_depth < 8 || p->bit_depth > 16, ESPCN_ERROR_INVALID_ARGUMENT, what,
                    " plane bit depth ", p->bit_depth, " is outside [8, 16]");
    ESPCN_RETURN_IF(p->shift < 0 || p->shift + p->bit_depth > 16 || (p->bit_depth == 8 && p->shift),
                    ESPCN_ERROR_INVALID_ARGUMENT, what, " plane shift ", p->shift,
                    " does not fit bit depth ", p->bit_depth, " in its sample");
    const ptrdiff_t row_bytes =
        static_cast<ptrdiff_t>(p->width) * components * (p->bit_depth > 8 ? 2 : 1);
    ESPCN_RETURN_IF(std::llabs(static_cast<long long>(p->stride)) < row_bytes,
                    ESPCN_ERROR_INVALID_ARGUMENT, what, " plane stride ", p->stride,
                    " is smaller than a row (", row_bytes, " bytes)");
    return Status::ok();
}

// The checks of espcn_process_plane (network) and espcn_upscale_plane (resample).
Status check_network_planes(const espcn_context &ctx, const espcn_plane *in, const espcn_plane *out) {
    ESPCN_RETURN_IF_ERROR(check_plane(in, "input"));
    ESPCN_RETURN_IF_ERROR(check_plane(out, "output"));
    ESPCN_RETURN_IF(static_cast<int64_t>(in->width) * in->height > kMaxInputPixels,
                    ESPCN_ERROR_INVALID_ARGUMENT, "input plane has more than ", kMaxInputPixels,
                    " pixels");
    const int r = ctx.net->scale;
    ESPCN_RETURN_IF(out->width != in->width * r || out->height != in->height * r,
                    ESPCN_ERROR_INVALID_ARGUMENT, "output plane is ", out->width, "x", out->height,
                    " but a x", r, " model makes ", in->width * r, "x", in->height * r, " from ",
                    in->width, "x", in->height);
    return Status::ok();
}

Status check_resample_planes(const espcn_context &ctx, const espcn_plane *in, const espcn_plane *out,
                             int components, int filter) {
    ESPCN_RETURN_IF(components != 1 && components != 2, ESPCN_ERROR_INVALID_ARGUMENT,
                    "components = ", components, "; 1 or 2 (interleaved UV)");
    ESPCN_RETURN_IF(filter < ESPCN_RESAMPLE_BICUBIC || filter > ESPCN_RESAMPLE_NEAREST,
                    ESPCN_ERROR_INVALID_ARGUMENT, "unknown resample filter ", filter);
    ESPCN_RETURN_IF_ERROR(check_plane(in, "input", components));
    ESPCN_RETURN_IF_ERROR(check_plane(out, "output", components));
    ESPCN_RETURN_IF(in->bit_depth != out->bit_depth || in->shift != out->shift,
                    ESPCN_ERROR_INVALID_ARGUMENT,
                    "input and output planes differ in bit depth or shift");
    const int r = ctx.net->scale;
    ESPCN_RETURN_IF(out->width > in->width * r + r || out->height > in->height * r + r,
                    ESPCN_ERROR_INVALID_ARGUMENT, "output plane ", out->width, "x", out->height,
                    " is larger than x", r, " of ", in->width, "x", in->height);
    return Status::ok();
}

// A plane in device memory with 9..16-bit samples is read and written as
// 16-bit words there: an odd address or stride is a misaligned access, which
// on the GPU is a sticky error that ends the whole CUDA context (FFmpeg's own,
// for CUDA frames). Host planes are staged through aligned buffers.
Status check_device_alignment(const espcn_plane &p, const char *what) {
    if (p.bit_depth <= 8) return Status::ok();
    const auto address = reinterpret_cast<uintptr_t>(p.data);
    ESPCN_RETURN_IF(address % 2 != 0 || p.stride % 2 != 0, ESPCN_ERROR_INVALID_ARGUMENT, what,
                    " plane in device memory has ", p.bit_depth, "-bit samples (16-bit words) at ",
                    p.data, " with stride ", p.stride, ": both must be even (2-byte aligned)");
    return Status::ok();
}

// Checks every task of a frame and converts it for the backend: each task
// alone, then the network tasks in groups of the network's channels
// (colour groups: describe_color_group). in_device: the planes are in device
// memory (espcn_cuda_enqueue).
Status check_tasks(const espcn_context &ctx, const espcn_plane_task *tasks, int n,
                   const espcn::FrameColor &color, std::vector<espcn::PlaneTask> &out, bool in_device = false) {
    ESPCN_RETURN_IF(!tasks || n < 1 || n > 8, ESPCN_ERROR_INVALID_ARGUMENT,
                    "a frame needs 1 to 8 plane tasks (got ", n, tasks ? "" : ", tasks NULL", ")");
    const int channels = ctx.net->in_channels;
    out.clear();
    std::vector<int> network;  // indexes of the network tasks
    for (int i = 0; i < n; ++i) {
        const espcn_plane_task &t = tasks[i];
        const int filter = raw_enum(t.filter);
        espcn::PlaneTask p;
        p.in = t.in;
        p.out = t.out;
        p.resample = t.resample != 0;
        Status s;
        if (t.resample) {
            s = check_resample_planes(ctx, &t.in, &t.out, t.components, filter);
            p.components = t.components;
            p.kind = static_cast<espcn::ResampleKind>(filter);
        } else if (channels == 1) {
            // A luma network's task: components and filter are not read.
            s = check_network_planes(ctx, &t.in, &t.out);
        } else {
            // A plane of a colour group: packed (components samples per
            // pixel) or planar; `filter` interpolates subsampled chroma.
            const int components = t.components < 1 ? 1 : t.components;
            ESPCN_RETURN_IF(filter < ESPCN_RESAMPLE_BICUBIC || filter > ESPCN_RESAMPLE_NEAREST,
                            ESPCN_ERROR_INVALID_ARGUMENT, "task ", i, ": unknown resample filter ", filter);
            s = check_plane(&t.in, "input", components);
            if (s.is_ok()) s = check_plane(&t.out, "output", components);
            if (s.is_ok() && static_cast<int64_t>(t.in.width) * t.in.height > kMaxInputPixels)
                s = Status(ESPCN_ERROR_INVALID_ARGUMENT,
                           espcn::concat("input plane has more than ", kMaxInputPixels, " pixels"));
            p.components = components;
            p.kind = static_cast<espcn::ResampleKind>(filter);
        }
        if (s.is_ok() && in_device) s = check_device_alignment(t.in, "input");
        if (s.is_ok() && in_device) s = check_device_alignment(t.out, "output");
        if (!s.is_ok()) return std::move(s).with_context(espcn::concat("task ", i, ": "));
        if (!p.resample) network.push_back(i);
        out.push_back(p);
    }
    ESPCN_RETURN_IF(network.size() % static_cast<size_t>(channels) != 0, ESPCN_ERROR_INVALID_ARGUMENT, "the frame has ",
                    network.size(), " network tasks; a network of ", channels,
                    " planes takes them in groups of ", channels, " (channel order)");
    if (channels == 1) return Status::ok();
    std::vector<espcn::PlaneTask> group(static_cast<size_t>(channels));
    for (size_t g = 0; g < network.size(); g += static_cast<size_t>(channels)) {
        for (size_t k = 0; k < group.size(); ++k) group[k] = out[static_cast<size_t>(network[g + k])];
        espcn::Result<espcn::ColorGroup> d = espcn::describe_color_group(group, color, ctx.net->scale);
        if (!d.is_ok())
            return std::move(d.status()).with_context(
                espcn::concat("tasks ", network[g], "..", network[g + group.size() - 1], ": "));
    }
    return Status::ok();
}

// The checks of espcn_process_planes: the network's planes, one size in and
// one depth per side (a pass reads every plane alike).
Status check_pass(const espcn_context &ctx, const espcn_plane *in, int num_in, const espcn_plane *out,
                  int num_out) {
    const espcn::Network &net = *ctx.net;
    ESPCN_RETURN_IF(!in || !out, ESPCN_ERROR_INVALID_ARGUMENT, "in and out must not be NULL");
    ESPCN_RETURN_IF(num_in != net.in_channels || num_out != net.out_channels, ESPCN_ERROR_INVALID_ARGUMENT,
                    "model '", net.name, "' reads ", net.in_channels, " plane(s) and writes ", net.out_channels,
                    "; got ", num_in, " and ", num_out);
    for (int c = 0; c < num_in; ++c) {
        Status s = check_network_planes(ctx, &in[c], &out[c]);
        if (!s.is_ok()) return std::move(s).with_context(espcn::concat("plane ", c, ": "));
        ESPCN_RETURN_IF(in[c].width != in[0].width || in[c].height != in[0].height ||
                            in[c].bit_depth != in[0].bit_depth || out[c].bit_depth != out[0].bit_depth,
                        ESPCN_ERROR_INVALID_ARGUMENT, "plane ", c, " differs from plane 0 in size or bit depth");
    }
    return Status::ok();
}

// The colour of a frame (espcn_frame), its enums read as raw integers.
espcn::Result<espcn::FrameColor> frame_color(const espcn_frame *frame) {
    ESPCN_RETURN_IF(!frame, ESPCN_ERROR_INVALID_ARGUMENT, "frame is NULL");
    const int matrix = raw_enum(frame->matrix), range = raw_enum(frame->range);
    ESPCN_RETURN_IF(matrix < ESPCN_MATRIX_RGB || matrix > ESPCN_MATRIX_BT2020_NCL, ESPCN_ERROR_INVALID_ARGUMENT,
                    "unknown colour matrix ", matrix);
    ESPCN_RETURN_IF(range != ESPCN_RANGE_FULL && range != ESPCN_RANGE_LIMITED, ESPCN_ERROR_INVALID_ARGUMENT,
                    "unknown colour range ", range);
    espcn::FrameColor c;
    c.matrix = static_cast<espcn_matrix>(matrix);
    c.range = static_cast<espcn_range>(range);
    return c;
}

// The network of a file or a buffer (model_path or model_data).
espcn::Result<std::shared_ptr<const espcn::Network>> load_model(const espcn_params &p,
                                                                const espcn::Logger &log) {
    ESPCN_RETURN_IF(!p.model_path == !p.model_data, ESPCN_ERROR_INVALID_ARGUMENT,
                    "give exactly one of model_path and model_data");
    espcn::Result<espcn::Network> net = espcn::Status(ESPCN_ERROR_INTERNAL, "");
    if (p.model_path) {
        net = espcn::load_network_file(p.model_path, log);
    } else {
        espcn::Result<espcn::SafetensorsFile> f = espcn::SafetensorsFile::parse_copy(
            static_cast<const uint8_t *>(p.model_data), p.model_size);
        if (!f.is_ok()) return std::move(f.status()).with_context("model data: ");
        net = espcn::load_network(f.value(), log);
        if (!net.is_ok()) return std::move(net.status()).with_context("model data: ");
    }
    ESPCN_RETURN_IF_ERROR(net.status());
    return std::make_shared<const espcn::Network>(std::move(net).value());
}

// Everything the context's backend and calls need from params, resolved once
// (checked by create() before).
espcn::BackendConfig resolve_settings(const espcn_params &p, espcn_precision precision,
                                      const espcn::Logger &log) {
    espcn::BackendConfig cfg;
    cfg.threads = p.threads;  // 0: all cores, resolved below
    cfg.device = p.device;
    cfg.precision = precision;
    cfg.use_current_context = p.cuda_use_current_context != 0;
    cfg.log = log;
    cfg.memory_budget = p.memory_budget ? p.memory_budget : ESPCN_DEFAULT_MEMORY_BUDGET;
    cfg.cancel = espcn::CancelCheck(p.cancel_callback, p.cancel_opaque);
    return espcn::with_host_resources(std::move(cfg));
}

Status create(const espcn_params &p, const espcn::Logger &log, espcn_context **out) {
    ESPCN_RETURN_IF((p.model_path != nullptr) + (p.model_data != nullptr) + (p.model != nullptr) != 1,
                    ESPCN_ERROR_INVALID_ARGUMENT,
                    "give exactly one of model_path, model_data and model");
    ESPCN_RETURN_IF(p.threads < 0 || p.threads > 1024, ESPCN_ERROR_INVALID_ARGUMENT,
                    "threads = ", p.threads, " is outside [0, 1024]");
    ESPCN_RETURN_IF(p.device < 0, ESPCN_ERROR_INVALID_ARGUMENT, "device = ", p.device,
                    " is negative");

    std::shared_ptr<const espcn::Network> shared_net;
    if (p.model) {
        shared_net = p.model->net;
    } else {
        espcn::Result<std::shared_ptr<const espcn::Network>> loaded = load_model(p, log);
        ESPCN_RETURN_IF_ERROR(loaded.status());
        shared_net = std::move(loaded).value();
    }

    const int precision = raw_enum(p.precision);
    ESPCN_RETURN_IF(precision < ESPCN_PRECISION_AUTO || precision > ESPCN_PRECISION_BF16,
                    ESPCN_ERROR_INVALID_ARGUMENT, "unknown precision ", precision);
    const int requested = raw_enum(p.backend);
    ESPCN_RETURN_IF(requested != ESPCN_BACKEND_AUTO &&
                        !espcn::find_backend(static_cast<espcn_backend>(requested)),
                    ESPCN_ERROR_INVALID_ARGUMENT, "unknown backend ", requested);
    const espcn::BackendConfig settings =
        resolve_settings(p, static_cast<espcn_precision>(precision), log);
    espcn::Result<std::unique_ptr<espcn::Backend>> backend =
        espcn::make_backend(static_cast<espcn_backend>(requested), shared_net, settings);
    ESPCN_RETURN_IF_ERROR(backend.status());

    auto ctx = std::make_unique<espcn_context>();
    ctx->net = std::move(shared_net);
    ctx->settings = settings;
    ctx->backend = std::move(backend).value();
    log.info(espcn::concat("model '", ctx->net->name, "': x", ctx->net->scale, ", ",
                           ctx->net->convs.size(), " LR convs, ",
                           ctx->net->macs_per_lr_pixel(), " MACs per input pixel, backend ",
                           espcn_backend_name(ctx->backend->kind()), " (",
                           espcn_precision_name(ctx->backend->precision()), ")"));
    *out = ctx.release();
    return Status::ok();
}

void describe_network(const espcn::Network &n, espcn_model_info *info) {
    info->name = n.name.c_str();
    info->scale = n.scale;
    info->in_channels = n.in_channels;
    info->out_channels = n.out_channels;
    info->num_convs = static_cast<int>(n.convs.size());
    info->receptive_radius = n.receptive_radius();
    info->macs_per_lr_pixel = n.macs_per_lr_pixel();
    info->upsampler = n.source_upsampler;
    info->backend = ESPCN_BACKEND_AUTO;
    info->precision = ESPCN_PRECISION_AUTO;
}

espcn::Logger logger_of(const espcn_params *params) {
    if (!params) return espcn::Logger();
    const int level = raw_enum(params->log_level);
    return espcn::Logger(params->log_callback, params->log_opaque,
                         static_cast<espcn_log_level>(level < ESPCN_LOG_ERROR   ? ESPCN_LOG_ERROR
                                                      : level > ESPCN_LOG_DEBUG ? ESPCN_LOG_DEBUG
                                                                                : level));
}

}  // namespace

extern "C" {

espcn_status espcn_create(const espcn_params *params, espcn_context **out) {
    if (out) *out = nullptr;
    const espcn::Logger log = logger_of(params);
    if (!params || !out)
        return fail(log, Status(ESPCN_ERROR_INVALID_ARGUMENT, "params and out must not be NULL"));
    return guarded(log, [&] { return create(*params, log, out); });
}

void espcn_destroy(espcn_context **ctx) {
    if (!ctx) return;
    try {
        delete *ctx;
    } catch (...) {  // destructors do not throw, but nothing may cross the API
    }
    *ctx = nullptr;
}

espcn_status espcn_process_plane(espcn_context *ctx, const espcn_plane *in,
                                 const espcn_plane *out) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->settings.log, [&]() -> Status {
        ESPCN_RETURN_IF(ctx->net->in_channels != 1, ESPCN_ERROR_INVALID_ARGUMENT, "model '", ctx->net->name,
                        "' reads ", ctx->net->in_channels, " planes; use espcn_process_planes()");
        ESPCN_RETURN_IF_ERROR(check_network_planes(*ctx, in, out));
        return ctx->backend->process(*in, *out);
    });
}

espcn_status espcn_process_planes(espcn_context *ctx, const espcn_plane *in, int num_in,
                                  const espcn_plane *out, int num_out) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->settings.log, [&]() -> Status {
        ESPCN_RETURN_IF_ERROR(check_pass(*ctx, in, num_in, out, num_out));
        return ctx->backend->process(espcn::Planes(in, static_cast<size_t>(num_in)),
                                     espcn::Planes(out, static_cast<size_t>(num_out)));
    });
}

espcn_status espcn_upscale_plane(espcn_context *ctx, const espcn_plane *in, const espcn_plane *out,
                                 int components, espcn_resample_filter filter) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->settings.log, [&]() -> Status {
        const int kind = raw_enum(filter);
        ESPCN_RETURN_IF_ERROR(check_resample_planes(*ctx, in, out, components, kind));
        return ctx->settings.resampler->upscale(*in, *out, components, ctx->net->scale,
                                                static_cast<espcn::ResampleKind>(kind),
                                                *ctx->settings.pool);
    });
}

int espcn_frame_queue_depth(const espcn_context *ctx) {
    return ctx ? ctx->backend->frame_queue_depth() : 0;
}

int espcn_frames_in_flight(const espcn_context *ctx) {
    return ctx ? ctx->backend->frames_in_flight() : 0;
}

espcn_status espcn_submit_frame(espcn_context *ctx, const espcn_plane_task *tasks, int num_tasks) {
    espcn_frame frame = ESPCN_FRAME_INIT;
    frame.tasks = tasks;
    frame.num_tasks = num_tasks;
    return espcn_submit(ctx, &frame);
}

espcn_status espcn_submit(espcn_context *ctx, const espcn_frame *frame) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->settings.log, [&]() -> Status {
        espcn::Result<espcn::FrameColor> color = frame_color(frame);
        ESPCN_RETURN_IF_ERROR(color.status());
        ESPCN_RETURN_IF_ERROR(check_tasks(*ctx, frame->tasks, frame->num_tasks, color.value(), ctx->tasks));
        const bool colour = ctx->net->in_channels > 1;
        if (colour) {
            ESPCN_RETURN_IF(ctx->backend->frames_in_flight() >= ctx->backend->frame_queue_depth(),
                            ESPCN_ERROR_INVALID_ARGUMENT, ctx->backend->frames_in_flight(),
                            " frame(s) are in flight; receive one before submitting another");
            ESPCN_RETURN_IF_ERROR(ctx->color.submit(ctx->tasks, color.value(), ctx->net->scale,
                                                    ctx->backend->frame_queue_depth(), *ctx->settings.pool));
        }
        const Status s = ctx->backend->submit_frame(ctx->tasks);
        if (!s.is_ok() && colour) ctx->color.drop_newest();
        return s;
    });
}

espcn_status espcn_receive_frame(espcn_context *ctx) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->settings.log, [&]() -> Status {
        const bool was_in_flight = ctx->backend->frames_in_flight() > 0;
        const Status s = ctx->backend->receive_frame();
        if (ctx->net->in_channels == 1 || !was_in_flight) return s;
        // The frame's 16-bit R, G, B planes back into the caller's (when it ran).
        const Status converted = ctx->color.finish_oldest(s.is_ok(), *ctx->settings.pool);
        return s.is_ok() ? converted : s;
    });
}

espcn_status espcn_cuda_enqueue_frame(espcn_context *ctx, const espcn_plane_task *tasks,
                                      int num_tasks, void *cuda_stream) {
    espcn_frame frame = ESPCN_FRAME_INIT;
    frame.tasks = tasks;
    frame.num_tasks = num_tasks;
    return espcn_cuda_enqueue(ctx, &frame, cuda_stream);
}

espcn_status espcn_cuda_enqueue(espcn_context *ctx, const espcn_frame *frame, void *cuda_stream) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->settings.log, [&]() -> Status {
        espcn::Result<espcn::FrameColor> color = frame_color(frame);
        ESPCN_RETURN_IF_ERROR(color.status());
        ESPCN_RETURN_IF_ERROR(check_tasks(*ctx, frame->tasks, frame->num_tasks, color.value(), ctx->tasks,
                                          /*in_device=*/true));
        espcn::DeviceFrames *device = ctx->backend->device_frames();
        ESPCN_RETURN_IF(!device, ESPCN_ERROR_UNSUPPORTED, "frames in GPU memory need the cuda backend");
        return device->enqueue_device_frame(ctx->tasks, cuda_stream, color.value());
    });
}

const char *espcn_default_model_dir(void) {
    // Thread-local: the environment may change between calls (tests set
    // ESPCN_MODEL_DIR), and the pointer must stay valid until the next call.
    thread_local std::string dir;
    try {
        dir = espcn::shipped_model_dir();
    } catch (...) {
        dir = ESPCN_INSTALLED_MODEL_DIR;
    }
    return dir.c_str();
}


espcn_status espcn_get_model_info(const espcn_context *ctx, espcn_model_info *info) {
    if (!ctx || !info)
        return fail(espcn::Logger(),
                    Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx and info must not be NULL"));
    describe_network(*ctx->net, info);
    info->backend = ctx->backend->kind();
    info->precision = ctx->backend->precision();
    return ESPCN_OK;
}

espcn_status espcn_get_memory_info(const espcn_context *ctx, espcn_memory_info *info) {
    if (!ctx || !info)
        return fail(espcn::Logger(),
                    Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx and info must not be NULL"));
    const espcn::MemoryUse use = ctx->backend->memory_use();
    info->working_bytes = use.working_bytes + ctx->color.bytes();
    info->state_bytes = use.state_bytes;
    return ESPCN_OK;
}

const char *espcn_backend_details(const espcn_context *ctx) {
    if (!ctx) return "";
    try {
        ctx->details = ctx->backend->details();
    } catch (...) {
        ctx->details.clear();
    }
    return ctx->details.c_str();
}

espcn_status espcn_model_get_info(const espcn_model *model, espcn_model_info *info) {
    if (!model || !info)
        return fail(espcn::Logger(),
                    Status(ESPCN_ERROR_INVALID_ARGUMENT, "model and info must not be NULL"));
    describe_network(*model->net, info);
    return ESPCN_OK;
}

espcn_status espcn_model_load(const espcn_params *params, espcn_model **out) {
    if (out) *out = nullptr;
    const espcn::Logger log = logger_of(params);
    if (!params || !out)
        return fail(log, Status(ESPCN_ERROR_INVALID_ARGUMENT, "params and out must not be NULL"));
    return guarded(log, [&]() -> Status {
        ESPCN_RETURN_IF(params->model, ESPCN_ERROR_INVALID_ARGUMENT,
                        "espcn_model_load reads model_path or model_data, not a loaded model");
        espcn::Result<std::shared_ptr<const espcn::Network>> net = load_model(*params, log);
        ESPCN_RETURN_IF_ERROR(net.status());
        auto model = std::make_unique<espcn_model>();
        model->net = std::move(net).value();
        *out = model.release();
        return Status::ok();
    });
}

void espcn_model_release(espcn_model **model) {
    if (!model) return;
    delete *model;  // contexts hold their own reference to the network
    *model = nullptr;
}

const char *espcn_last_error(void) { return t_last_error.c_str(); }

const char *espcn_status_string(espcn_status s) {
    switch (s) {
    case ESPCN_OK: return "success";
    case ESPCN_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case ESPCN_ERROR_IO: return "cannot read file";
    case ESPCN_ERROR_MODEL: return "malformed model";
    case ESPCN_ERROR_UNSUPPORTED: return "unsupported";
    case ESPCN_ERROR_BACKEND_UNAVAILABLE: return "backend unavailable";
    case ESPCN_ERROR_OUT_OF_MEMORY: return "out of memory";
    case ESPCN_ERROR_BACKEND: return "backend error";
    case ESPCN_ERROR_INTERNAL: return "internal error";
    case ESPCN_ERROR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

const char *espcn_backend_name(espcn_backend b) {
    if (b == ESPCN_BACKEND_AUTO) return "auto";
    const espcn::BackendEntry *e = espcn::find_backend(b);
    return e ? e->name : "unknown";
}

const char *espcn_precision_name(espcn_precision p) {
    switch (p) {
    case ESPCN_PRECISION_AUTO: return "auto";
    case ESPCN_PRECISION_FP32: return "fp32";
    case ESPCN_PRECISION_FP16: return "fp16";
    case ESPCN_PRECISION_BF16: return "bf16";
    }
    return "unknown";
}

int espcn_backend_available(espcn_backend b) {
    if (b == ESPCN_BACKEND_AUTO) return 1;
    const espcn::BackendEntry *e = espcn::find_backend(b);
    try {
        return e && e->available().is_ok() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

const char *espcn_version(void) {
#define ESPCN_STR2(x) #x
#define ESPCN_STR(x) ESPCN_STR2(x)
    return ESPCN_STR(ESPCN_VERSION_MAJOR) "." ESPCN_STR(ESPCN_VERSION_MINOR) "." ESPCN_STR(
        ESPCN_VERSION_PATCH);
}

}  // extern "C"
