// The C API: argument checking, backend choice, and the wall that keeps every
// C++ exception inside the library.
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include <omp.h>

#include "../cpu/plane_resample.hpp"
#include "backend.hpp"
#include "espcn/espcn.h"
#include "model_dir.hpp"
#include "model_loader.hpp"
#include "row_tiles.hpp"

// A loaded, validated network; contexts share it (and keep it alive).
struct espcn_model {
    std::shared_ptr<const espcn::Network> net;
};

struct espcn_context {
    std::shared_ptr<const espcn::Network> net;
    std::unique_ptr<espcn::Backend> backend;
    espcn::PlaneResampler resampler;  // for the planes that bypass the network
    std::shared_ptr<espcn::WorkerPool> pool;  // the CPU threads of cpu-fast and the resampler
    int threads = 1;
    espcn::Logger log;
    int cpu_frames_in_flight = 0;  // backends without a frame queue: 0 or 1
    std::vector<espcn::PlaneTask> tasks;  // a frame's checked tasks; capacity reused per frame
    size_t memory_budget = ESPCN_DEFAULT_MEMORY_BUDGET;
    espcn::CancelCheck cancel;
    bool responsive = false;  // a cancel callback: bands also capped by work
    espcn::RowTilePlan plan;  // for plan_width × plan.height planes
    int plan_width = 0;
    // The last plane size a streaming backend's working memory was checked
    // against the budget for (the check builds its plan: not once per frame).
    int streaming_checked_width = 0, streaming_checked_height = 0;
    size_t working_bytes = 0;  // planned for the last plane size (espcn_memory_info)
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

// Checks every task of a frame and converts it for the backend.
Status check_tasks(const espcn_context &ctx, const espcn_plane_task *tasks, int n,
                   std::vector<espcn::PlaneTask> &out) {
    ESPCN_RETURN_IF(!tasks || n < 1 || n > 8, ESPCN_ERROR_INVALID_ARGUMENT,
                    "a frame needs 1 to 8 plane tasks (got ", n, tasks ? "" : ", tasks NULL", ")");
    out.clear();
    for (int i = 0; i < n; ++i) {
        const espcn_plane_task &t = tasks[i];
        const int filter = raw_enum(t.filter);
        Status s = t.resample ? check_resample_planes(ctx, &t.in, &t.out, t.components, filter)
                              : check_network_planes(ctx, &t.in, &t.out);
        if (!s.is_ok()) return std::move(s).with_context(espcn::concat("task ", i, ": "));
        espcn::PlaneTask p;
        p.in = t.in;
        p.out = t.out;
        p.resample = t.resample != 0;
        p.components = t.resample ? t.components : 1;
        p.kind = static_cast<espcn::ResampleKind>(t.resample ? filter : 0);
        out.push_back(p);
    }
    return Status::ok();
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
    espcn::BackendConfig cfg;
    cfg.threads = p.threads;
    cfg.device = p.device;
    cfg.precision = static_cast<espcn_precision>(precision);
    cfg.use_current_context = p.cuda_use_current_context != 0;
    cfg.log = log;
    cfg.memory_budget = p.memory_budget ? p.memory_budget : ESPCN_DEFAULT_MEMORY_BUDGET;
    cfg.cancel = espcn::CancelCheck(p.cancel_callback, p.cancel_opaque);
    cfg.pool = std::make_shared<espcn::WorkerPool>(p.threads > 0 ? p.threads : omp_get_num_procs());
    espcn::Result<std::unique_ptr<espcn::Backend>> backend = espcn::Status(ESPCN_ERROR_INTERNAL, "");
    const int requested = raw_enum(p.backend);
    ESPCN_RETURN_IF(requested < ESPCN_BACKEND_AUTO || requested > ESPCN_BACKEND_CPU_FAST,
                    ESPCN_ERROR_INVALID_ARGUMENT, "unknown backend ", requested);
    ESPCN_RETURN_IF(cfg.precision == ESPCN_PRECISION_FP16 &&
                        (requested == ESPCN_BACKEND_REFERENCE || requested == ESPCN_BACKEND_ONEDNN ||
                         requested == ESPCN_BACKEND_CPU_FAST),
                    ESPCN_ERROR_UNSUPPORTED, "precision fp16 needs the cuda backend; the ",
                    espcn_backend_name(static_cast<espcn_backend>(requested)),
                    " backend computes in fp32",
                    requested == ESPCN_BACKEND_CPU_FAST ? " or bf16" : "");
    ESPCN_RETURN_IF(cfg.precision == ESPCN_PRECISION_BF16 && requested != ESPCN_BACKEND_AUTO &&
                        requested != ESPCN_BACKEND_CPU_FAST,
                    ESPCN_ERROR_UNSUPPORTED, "precision bf16 runs on the cpu-fast backend; the ",
                    espcn_backend_name(static_cast<espcn_backend>(requested)), " backend computes in ",
                    requested == ESPCN_BACKEND_CUDA ? "fp32 or fp16" : "fp32");
    auto make_cpu_backend = [&]() -> espcn::Result<std::unique_ptr<espcn::Backend>> {
        // bf16 is cpu-fast's alone (on any CPU: its portable kernels too).
        if (espcn::cpu_fast_preferred() || cfg.precision == ESPCN_PRECISION_BF16) {
            auto fast = espcn::make_cpu_fast_backend(shared_net, cfg);
            // A network it does not take (absurd sizes) goes to oneDNN; a bad
            // ESPCN_CPU_ISA is the user's error and is reported.
            if (fast.is_ok() || fast.status().code() != ESPCN_ERROR_UNSUPPORTED) return fast;
            log.info(fast.status().message());
        }
        if (espcn::onednn_available()) return espcn::make_onednn_backend(shared_net, cfg);
        log.warning("no fast CPU backend in this build; using the slow reference backend");
        return espcn::make_reference_backend(shared_net, cfg);
    };
    switch (static_cast<espcn_backend>(requested)) {
    case ESPCN_BACKEND_CUDA:
        backend = espcn::make_cuda_backend(shared_net, cfg);
        if (!backend.is_ok())
            return std::move(backend.status()).with_context("the cuda backend cannot start: ");
        break;
    case ESPCN_BACKEND_REFERENCE:
        backend = espcn::make_reference_backend(shared_net, cfg);
        break;
    case ESPCN_BACKEND_ONEDNN:
        backend = espcn::make_onednn_backend(shared_net, cfg);
        break;
    case ESPCN_BACKEND_CPU_FAST:
        backend = espcn::make_cpu_fast_backend(shared_net, cfg);
        break;
    case ESPCN_BACKEND_AUTO:
        if (cfg.precision == ESPCN_PRECISION_BF16) {  // no GPU kernels in bf16
            backend = make_cpu_backend();
            break;
        }
        backend = espcn::make_cuda_backend(shared_net, cfg);
        if (!backend.is_ok()) {
            // The one warning of a fallback: what failed, and what runs instead.
            log.warning(espcn::concat("GPU not used (", backend.status().message(),
                                      "); running on the CPU in fp32"));
            cfg.precision = ESPCN_PRECISION_FP32;
            backend = make_cpu_backend();
        }
        break;
    }
    ESPCN_RETURN_IF_ERROR(backend.status());

    auto ctx = std::make_unique<espcn_context>();
    ctx->net = std::move(shared_net);
    ctx->backend = std::move(backend).value();
    ctx->log = log;
    ctx->threads = p.threads > 0 ? p.threads : omp_get_num_procs();
    ctx->memory_budget = p.memory_budget ? p.memory_budget : ESPCN_DEFAULT_MEMORY_BUDGET;
    ctx->cancel = espcn::CancelCheck(p.cancel_callback, p.cancel_opaque);
    ctx->responsive = p.cancel_callback != nullptr;
    ctx->pool = cfg.pool;
    log.info(espcn::concat("model '", ctx->net->name, "': x", ctx->net->scale, ", ",
                           ctx->net->convs.size(), " LR convs, ",
                           ctx->net->macs_per_lr_pixel(), " MACs per input pixel, backend ",
                           espcn_backend_name(ctx->backend->kind()), " (",
                           espcn_precision_name(ctx->backend->precision()), ")"));
    *out = ctx.release();
    return Status::ok();
}

// One plane through the network: in row tiles within the memory budget where
// the backend runs them, else whole.
Status run_network(espcn_context &ctx, const espcn_plane &in, const espcn_plane &out) {
    if (ctx.cancel.requested()) return espcn::cancelled();
    espcn::Backend &b = *ctx.backend;
    if (!b.runs_row_tiles()) {
        // A backend that streams or bounds its memory itself: its working
        // memory (when it knows it) must still fit the budget.
        if (ctx.streaming_checked_width != in.width || ctx.streaming_checked_height != in.height) {
            const std::optional<espcn::FrameMemory> need = b.frame_memory(in.width, in.height);
            ESPCN_RETURN_IF(need && need->bytes > ctx.memory_budget, ESPCN_ERROR_OUT_OF_MEMORY, "a ",
                            in.width, "x", in.height, " plane needs ", need->bytes,
                            " bytes of working memory in the ", espcn_backend_name(b.kind()),
                            " backend's narrowest work items (", need->workers, " thread(s) x ",
                            need->bytes / static_cast<size_t>(std::max(need->workers, 1)),
                            " bytes), over the memory budget of ", ctx.memory_budget,
                            " bytes; raise the budget (memory_budget) or use fewer threads");
            ctx.streaming_checked_width = in.width;
            ctx.streaming_checked_height = in.height;
            ctx.working_bytes = need ? need->bytes : 0;
        }
        return b.process(in, out);
    }
    if (ctx.plan_width != in.width || ctx.plan.height != in.height || ctx.plan.count == 0) {
        ctx.plan_width = 0;
        espcn::Result<espcn::RowTilePlan> plan = espcn::plan_for_budget(
            b, in.width, in.height, ctx.net->receptive_radius(), ctx.memory_budget,
            ctx.responsive ? espcn::responsive_row_cap(*ctx.net, in.width) : INT_MAX);
        ESPCN_RETURN_IF_ERROR(plan.status());
        ctx.plan = plan.value();
        ctx.plan_width = in.width;
        ctx.working_bytes = ctx.plan.working_bytes;
        ctx.log.debug(espcn::concat("a ", in.width, "x", in.height, " plane runs in ", ctx.plan.count,
                                    " band(s) of ", ctx.plan.rows, " rows: ",
                                    ctx.plan.working_bytes, " bytes of working memory (budget ",
                                    ctx.memory_budget, ")"));
    }
    return espcn::run_row_tiles(b, ctx.plan, in, out, ctx.cancel);
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
    return guarded(ctx->log, [&]() -> Status {
        ESPCN_RETURN_IF_ERROR(check_network_planes(*ctx, in, out));
        return run_network(*ctx, *in, *out);
    });
}

espcn_status espcn_upscale_plane(espcn_context *ctx, const espcn_plane *in, const espcn_plane *out,
                                 int components, espcn_resample_filter filter) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->log, [&]() -> Status {
        const int kind = raw_enum(filter);
        ESPCN_RETURN_IF_ERROR(check_resample_planes(*ctx, in, out, components, kind));
        return ctx->resampler.upscale(*in, *out, components, ctx->net->scale,
                                      static_cast<espcn::ResampleKind>(kind), *ctx->pool);
    });
}

int espcn_frame_queue_depth(const espcn_context *ctx) {
    if (!ctx) return 0;
    const int depth = ctx->backend->frame_queue_depth();
    return depth > 0 ? depth : 1;
}

int espcn_frames_in_flight(const espcn_context *ctx) {
    if (!ctx) return 0;
    return ctx->backend->frame_queue_depth() > 0 ? ctx->backend->frames_in_flight()
                                                 : ctx->cpu_frames_in_flight;
}

espcn_status espcn_submit_frame(espcn_context *ctx, const espcn_plane_task *tasks, int num_tasks) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->log, [&]() -> Status {
        std::vector<espcn::PlaneTask> &checked = ctx->tasks;
        ESPCN_RETURN_IF_ERROR(check_tasks(*ctx, tasks, num_tasks, checked));
        if (ctx->backend->frame_queue_depth() > 0) return ctx->backend->submit_frame(checked);
        ESPCN_RETURN_IF(ctx->cpu_frames_in_flight > 0, ESPCN_ERROR_INVALID_ARGUMENT,
                        "1 frame is in flight; receive it before submitting another");
        for (const espcn::PlaneTask &t : checked) {
            if (ctx->cancel.requested()) return espcn::cancelled();
            if (t.resample)
                ESPCN_RETURN_IF_ERROR(ctx->resampler.upscale(t.in, t.out, t.components,
                                                             ctx->net->scale, t.kind, *ctx->pool));
            else
                ESPCN_RETURN_IF_ERROR(run_network(*ctx, t.in, t.out));
        }
        ctx->cpu_frames_in_flight = 1;
        return Status::ok();
    });
}

espcn_status espcn_receive_frame(espcn_context *ctx) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->log, [&]() -> Status {
        if (ctx->backend->frame_queue_depth() > 0) return ctx->backend->receive_frame();
        ESPCN_RETURN_IF(ctx->cpu_frames_in_flight == 0, ESPCN_ERROR_INVALID_ARGUMENT,
                        "no frame in flight to receive");
        ctx->cpu_frames_in_flight = 0;
        return Status::ok();
    });
}

espcn_status espcn_cuda_enqueue_frame(espcn_context *ctx, const espcn_plane_task *tasks,
                                      int num_tasks, void *cuda_stream) {
    if (!ctx) return fail(espcn::Logger(), Status(ESPCN_ERROR_INVALID_ARGUMENT, "ctx is NULL"));
    return guarded(ctx->log, [&]() -> Status {
        std::vector<espcn::PlaneTask> &checked = ctx->tasks;
        ESPCN_RETURN_IF_ERROR(check_tasks(*ctx, tasks, num_tasks, checked));
        return ctx->backend->enqueue_device_frame(checked, cuda_stream);
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
    info->working_bytes = ctx->working_bytes;
    info->state_bytes = ctx->backend->state_bytes();
    return ESPCN_OK;
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
    switch (b) {
    case ESPCN_BACKEND_AUTO: return "auto";
    case ESPCN_BACKEND_REFERENCE: return "reference";
    case ESPCN_BACKEND_ONEDNN: return "onednn";
    case ESPCN_BACKEND_CUDA: return "cuda";
    case ESPCN_BACKEND_CPU_FAST: return "cpu-fast";
    }
    return "unknown";
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
    switch (b) {
    case ESPCN_BACKEND_AUTO:
    case ESPCN_BACKEND_REFERENCE: return 1;
    case ESPCN_BACKEND_ONEDNN: return espcn::onednn_available() ? 1 : 0;
    case ESPCN_BACKEND_CPU_FAST: return espcn::cpu_fast_preferred() ? 1 : 0;
    case ESPCN_BACKEND_CUDA:
        try {
            return espcn::cuda_backend_usable(0).is_ok() ? 1 : 0;
        } catch (...) {
            return 0;
        }
    }
    return 0;
}

const char *espcn_version(void) {
#define ESPCN_STR2(x) #x
#define ESPCN_STR(x) ESPCN_STR2(x)
    return ESPCN_STR(ESPCN_VERSION_MAJOR) "." ESPCN_STR(ESPCN_VERSION_MINOR) "." ESPCN_STR(
        ESPCN_VERSION_PATCH);
}

}  // extern "C"
