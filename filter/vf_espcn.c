/*
 * espcn: super-resolution with an LR-space CNN and a periodic shuffle
 * (Shi et al., CVPR 2016), through libespcn.
 *
 * A luma model: luma goes through the network; the other planes are
 * upscaled by libespcn's bicubic (or bilinear / nearest) resampler. A model
 * of RGB (Real-ESRGAN's compact family): R, G, B through the network, which
 * libespcn converts from and back to the frame's own Y'CbCr matrix, range and
 * subsampling (gbrp and packed RGB without a matrix); alpha is upscaled
 * bicubic. The output is exactly scale times the input; pts, metadata, colour
 * properties and SAR are carried over.
 *
 * Host frames are submitted to libespcn's frame queue: on the cuda backend
 * up to espcn_frame_queue_depth() frames are in flight, so the copies of one
 * frame overlap the network on another (activate() holds their output
 * frames in order); on the CPU the queue has depth 1. CUDA frames
 * (AV_PIX_FMT_CUDA, FFmpeg built with ffnvcodec) stay on the GPU: libespcn
 * runs in FFmpeg's CUcontext on FFmpeg's stream and writes frames of an
 * output hw_frames_ctx.
 *
 * This file is part of FFmpeg (LGPL 2.1 or later) when built into it.
 */

#include <espcn/espcn.h>

#include <string.h>
#include <sys/stat.h>

#include "config.h"

#include "libavutil/avassert.h"
#include "libavutil/avstring.h"
#include "libavutil/imgutils.h"
#include "libavutil/opt.h"
#include "libavutil/pixdesc.h"
#include "libavutil/thread.h"
#if CONFIG_CUDA
#include "libavutil/hwcontext.h"
#include "libavutil/hwcontext_cuda_internal.h"
#endif

#include "avfilter.h"
#include "espcn_compat.h"

enum ESPCNBackend { ESPCN_FILTER_BACKEND_AUTO, ESPCN_FILTER_BACKEND_CPU, ESPCN_FILTER_BACKEND_CUDA };
/* Which shipped model content= picks when no model= is given (weights/DEFAULTS):
 * default-x<r>.safetensors, trained on clean bicubic LR, or default-video-x<r>.safetensors,
 * trained on H.264/JPEG-compressed LR (issue #23). */
enum ESPCNContent { ESPCN_CONTENT_CLEAN, ESPCN_CONTENT_VIDEO };

#define ESPCN_MAX_QUEUE 8

static const enum AVPixelFormat pix_fmts[] = {
    AV_PIX_FMT_YUV420P,   AV_PIX_FMT_YUV422P,   AV_PIX_FMT_YUV444P,   AV_PIX_FMT_GRAY8,
    AV_PIX_FMT_NV12,
    AV_PIX_FMT_YUV420P10, AV_PIX_FMT_YUV422P10, AV_PIX_FMT_YUV444P10, AV_PIX_FMT_GRAY10,
    AV_PIX_FMT_YUV420P12, AV_PIX_FMT_YUV422P12, AV_PIX_FMT_YUV444P12, AV_PIX_FMT_GRAY12,
    AV_PIX_FMT_YUV420P16, AV_PIX_FMT_YUV422P16, AV_PIX_FMT_YUV444P16, AV_PIX_FMT_GRAY16,
    AV_PIX_FMT_P010,      AV_PIX_FMT_P016,
#if CONFIG_CUDA
    AV_PIX_FMT_CUDA,
#endif
    AV_PIX_FMT_NONE,
};

/* Networks of RGB: Y'CbCr (converted by libespcn with the frame's matrix and
 * range), planar and packed RGB (no matrix), each with alpha where FFmpeg has
 * a planar one. NV12/P010 (interleaved chroma) are converted by FFmpeg first. */
static const enum AVPixelFormat rgb_model_pix_fmts[] = {
    AV_PIX_FMT_YUV420P,     AV_PIX_FMT_YUV422P,     AV_PIX_FMT_YUV444P,
    AV_PIX_FMT_YUV420P10,   AV_PIX_FMT_YUV422P10,   AV_PIX_FMT_YUV444P10,
    AV_PIX_FMT_YUV420P12,   AV_PIX_FMT_YUV422P12,   AV_PIX_FMT_YUV444P12,
    AV_PIX_FMT_YUV420P16,   AV_PIX_FMT_YUV422P16,   AV_PIX_FMT_YUV444P16,
    AV_PIX_FMT_YUVA420P,    AV_PIX_FMT_YUVA422P,    AV_PIX_FMT_YUVA444P,
    AV_PIX_FMT_YUVA420P10,  AV_PIX_FMT_YUVA422P10,  AV_PIX_FMT_YUVA444P10,
    AV_PIX_FMT_YUVA420P16,  AV_PIX_FMT_YUVA422P16,  AV_PIX_FMT_YUVA444P16,
    AV_PIX_FMT_GBRP,        AV_PIX_FMT_GBRP10,      AV_PIX_FMT_GBRP12,
    AV_PIX_FMT_GBRP14,      AV_PIX_FMT_GBRP16,
    AV_PIX_FMT_GBRAP,       AV_PIX_FMT_GBRAP10,     AV_PIX_FMT_GBRAP12,     AV_PIX_FMT_GBRAP16,
    AV_PIX_FMT_RGB24,       AV_PIX_FMT_BGR24,       AV_PIX_FMT_RGB48,       AV_PIX_FMT_BGR48,
#if CONFIG_CUDA
    AV_PIX_FMT_CUDA,
#endif
    AV_PIX_FMT_NONE,
};

#if CONFIG_CUDA
/* Software formats of CUDA frames the filter accepts. */
static const enum AVPixelFormat cuda_sw_formats[] = {
    AV_PIX_FMT_NV12, AV_PIX_FMT_YUV420P, AV_PIX_FMT_P010, AV_PIX_FMT_P016,
    AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUV444P16,
};

/* Of those, a model of RGB takes the planar ones (libespcn's converter reads
 * Cb and Cr from planes of their own). */
static int cuda_sw_format_ok(enum AVPixelFormat f, int rgb_model)
{
    int i;
    for (i = 0; i < FF_ARRAY_ELEMS(cuda_sw_formats); i++)
        if (cuda_sw_formats[i] == f)
            return !rgb_model || (f != AV_PIX_FMT_NV12 && f != AV_PIX_FMT_P010 && f != AV_PIX_FMT_P016);
    return 0;
}
#endif

typedef struct ESPCNContext {
    const AVClass *class;

    /* options */
    char *model_path;
    int scale;
    int content;
    int backend;
    int device;
    int threads;
    int chroma;
    int precision;
    int64_t memory_budget;

    const espcn_model *model;      /* read once (model_cache_get), kept for the process */
    int rgb_model;                 /* the network reads R, G, B (in_channels 3), not luma */
    int said_untagged;             /* the one log line for frames without a colour matrix */
    char model_file[4096];         /* the path it was read from */
    int in_w, in_h;                /* the frame size the output link is set for */
    enum AVPixelFormat in_format;

    espcn_context *engine;
    int engine_on_cuda_frames;     /* the engine lives in FFmpeg's CUcontext */
    const AVPixFmtDescriptor *desc; /* of the (software) pixel format */
    int nb_planes;
    int chroma_components;  /* 2 for the interleaved UV plane of NV12/P010/P016 */

    /* output frames submitted to the engine and not yet received, oldest first */
    AVFrame *queue[ESPCN_MAX_QUEUE];
    int queue_head, queue_len, queue_depth;

#if CONFIG_CUDA
    AVBufferRef *hw_device_ref;    /* FFmpeg's CUDA device, while the engine uses it */
    AVCUDADeviceContext *hwctx;
    CUstream stream;               /* FFmpeg's stream, or ours if it has none */
    int own_stream;
#endif
} ESPCNContext;

static int espcn_averror(espcn_status s)
{
    switch (s) {
    case ESPCN_OK:                        return 0;
    case ESPCN_ERROR_INVALID_ARGUMENT:    return AVERROR(EINVAL);
    case ESPCN_ERROR_IO:                  return AVERROR(EIO);
    case ESPCN_ERROR_MODEL:               return AVERROR_INVALIDDATA;
    case ESPCN_ERROR_UNSUPPORTED:         return AVERROR(ENOSYS);
    case ESPCN_ERROR_BACKEND_UNAVAILABLE: return AVERROR(ENODEV);
    case ESPCN_ERROR_OUT_OF_MEMORY:       return AVERROR(ENOMEM);
    default:                              return AVERROR_EXTERNAL;
    }
}

/* libespcn's messages go to av_log, at the matching level. */
static void log_from_engine(void *opaque, espcn_log_level level, const char *message)
{
    static const int av_level[] = { AV_LOG_ERROR, AV_LOG_WARNING, AV_LOG_VERBOSE, AV_LOG_DEBUG };
    av_log(opaque, av_level[level <= ESPCN_LOG_DEBUG ? level : ESPCN_LOG_DEBUG], "%s\n", message);
}

static espcn_log_level engine_log_level(void)
{
    const int level = av_log_get_level();
    return level >= AV_LOG_DEBUG   ? ESPCN_LOG_DEBUG :
           level >= AV_LOG_VERBOSE ? ESPCN_LOG_INFO  :
           level >= AV_LOG_WARNING ? ESPCN_LOG_WARNING : ESPCN_LOG_ERROR;
}

/*
 * Models read by the espcn filters of this process, by path. The model is
 * read and validated once, by the first instance naming the path, and kept
 * until the process exits: every later engine (a reconfiguration, a graph
 * that ffmpeg rebuilds on a resolution change) runs that same network, even
 * if the file has been deleted, truncated or replaced since. A program that
 * wants a changed file read again must name another path.
 */
typedef struct ModelCacheEntry {
    char *path;
    espcn_model *model;
    struct stat st;                /* the file as it was read */
    struct ModelCacheEntry *next;
} ModelCacheEntry;

static AVMutex model_cache_lock = AV_MUTEX_INITIALIZER;
static ModelCacheEntry *model_cache;

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtime == b->st_mtime;
}

static int model_cache_get(AVFilterContext *ctx, const char *path, const espcn_model **out)
{
    ModelCacheEntry *e;
    espcn_params params = ESPCN_PARAMS_DEFAULT_INIT;
    struct stat now;
    espcn_status st;
    int ret = 0;

    ff_mutex_lock(&model_cache_lock);
    for (e = model_cache; e && strcmp(e->path, path); e = e->next)
        ;
    if (e) {
        if (stat(path, &now) || !same_file(&now, &e->st))
            av_log(ctx, AV_LOG_WARNING, "model file '%s' was deleted or changed since this process "
                   "read it; keeping the network read then (a new process reads the new file)\n",
                   path);
        *out = e->model;
        goto done;
    }
    params.model_path   = path;
    params.log_callback = log_from_engine;
    params.log_opaque   = ctx;
    params.log_level    = engine_log_level();
    e = av_mallocz(sizeof(*e));
    if (!e || !(e->path = av_strdup(path))) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    /* Opened without blocking by libespcn: a FIFO or a device is refused,
     * not waited on. */
    if (stat(path, &e->st))
        memset(&e->st, 0, sizeof(e->st));
    st = espcn_model_load(&params, &e->model);
    if (st != ESPCN_OK) {  /* the engine already logged why */
        ret = espcn_averror(st);
        goto fail;
    }
    e->next = model_cache;
    model_cache = e;
    *out = e->model;
    goto done;
fail:
    if (e)
        av_freep(&e->path);
    av_freep(&e);
done:
    ff_mutex_unlock(&model_cache_lock);
    return ret;
}

static av_cold int init(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
    espcn_model_info info;
    int ret;

    if (s->backend == ESPCN_FILTER_BACKEND_CUDA && !espcn_backend_available(ESPCN_BACKEND_CUDA)) {
        av_log(ctx, AV_LOG_ERROR, "backend=cuda: the CUDA backend is not available "
               "(libespcn %s was built without it, or no NVIDIA driver, GPU or cuDNN was found)\n",
               espcn_version());
        return AVERROR(ENODEV);
    }
    if (s->model_path) {
        av_strlcpy(s->model_file, s->model_path, sizeof(s->model_file));
        if (s->content != ESPCN_CONTENT_CLEAN)
            av_log(ctx, AV_LOG_WARNING, "model=%s is given: content= is ignored\n", s->model_path);
    } else {
        snprintf(s->model_file, sizeof(s->model_file), "%s/default%s-x%d.safetensors",
                 espcn_default_model_dir(), s->content == ESPCN_CONTENT_VIDEO ? "-video" : "",
                 s->scale);
    }
    if ((ret = model_cache_get(ctx, s->model_file, &s->model)) < 0) {
        if (!s->model_path && ret == AVERROR(EIO))
            av_log(ctx, AV_LOG_ERROR, "no model given and no shipped x%d model%s in %s; "
                   "set model=FILE or ESPCN_MODEL_DIR\n", s->scale,
                   s->content == ESPCN_CONTENT_VIDEO ? " for content=video" : "",
                   espcn_default_model_dir());
        return ret;
    }
    if (espcn_model_get_info(s->model, &info) != ESPCN_OK)
        return AVERROR_BUG;
    if (info.scale != s->scale) {
        av_log(ctx, AV_LOG_ERROR, "scale=%d, but model '%s' (%s) upscales x%d; "
               "set scale=%d or give a x%d model\n", s->scale, info.name, s->model_file,
               info.scale, info.scale, s->scale);
        return AVERROR(EINVAL);
    }
    s->rgb_model = info.in_channels == 3;
    return 0;
}

/* The model decides: luma models take the luma formats, RGB models theirs. */
static int query_formats(AVFilterContext *ctx)
{
    const ESPCNContext *s = ctx->priv;
    return ff_set_common_formats_from_list(ctx, (const int *)(s->rgb_model ? rgb_model_pix_fmts : pix_fmts));
}

#if CONFIG_CUDA
static int cuda_push(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
    CudaFunctions *cu = s->hwctx->internal->cuda_dl;
    if (cu->cuCtxPushCurrent(s->hwctx->cuda_ctx) != CUDA_SUCCESS) {
        av_log(ctx, AV_LOG_ERROR, "cannot make FFmpeg's CUDA context current\n");
        return AVERROR_EXTERNAL;
    }
    return 0;
}

static void cuda_pop(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
    CUcontext dummy;
    s->hwctx->internal->cuda_dl->cuCtxPopCurrent(&dummy);
}
#endif

/* Frees the engine; one on CUDA frames inside FFmpeg's CUcontext. */
static void destroy_engine(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
#if CONFIG_CUDA
    int pushed = s->engine && s->hwctx && cuda_push(ctx) == 0;
#endif
    espcn_destroy(&s->engine);  /* waits for its last work on the GPU */
    s->engine_on_cuda_frames = 0;
#if CONFIG_CUDA
    if (pushed)
        cuda_pop(ctx);
#endif
}

/* Frees the engine, our CUDA stream and FFmpeg's device reference, each by
 * whether it is held (any subset may be, e.g. after the engine failed to
 * start on CUDA frames), as vf_scale_cuda's uninit does. */
static void release_engine_and_device(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
    destroy_engine(ctx);
#if CONFIG_CUDA
    if (s->own_stream && s->stream && s->hwctx) {
        int pushed = cuda_push(ctx) == 0;
        s->hwctx->internal->cuda_dl->cuStreamDestroy(s->stream);
        if (pushed)
            cuda_pop(ctx);
    }
    s->stream = NULL;
    s->own_stream = 0;
    s->hwctx = NULL;
    av_buffer_unref(&s->hw_device_ref);
#endif
}

static void drop_queue(ESPCNContext *s)
{
    while (s->queue_len > 0) {
        av_frame_free(&s->queue[s->queue_head]);
        s->queue_head = (s->queue_head + 1) % ESPCN_MAX_QUEUE;
        s->queue_len--;
    }
}

static av_cold void uninit(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
    /* Frames in flight are abandoned: destroying the engine waits for the GPU
     * before their buffers are freed. */
    release_engine_and_device(ctx);
    drop_queue(s);
}

/* Makes the engine once per filter instance and frame kind (host or CUDA)
 * from the model read at init; sizes may change, the model not. For CUDA
 * frames the caller has pushed FFmpeg's CUcontext. */
static int create_engine(AVFilterContext *ctx, int cuda_frames)
{
    ESPCNContext *s = ctx->priv;
    espcn_params params = ESPCN_PARAMS_DEFAULT_INIT;
    espcn_model_info info;
    espcn_status st;

    if (s->engine && s->engine_on_cuda_frames == cuda_frames)
        return 0;
    if (cuda_frames)
        destroy_engine(ctx);  /* the caller has set up FFmpeg's device and stream */
    else
        release_engine_and_device(ctx);
    params.model = s->model;
    switch (s->backend) {
    case ESPCN_FILTER_BACKEND_CPU:
        params.backend = espcn_backend_available(ESPCN_BACKEND_CPU_FAST) ? ESPCN_BACKEND_CPU_FAST
                       : espcn_backend_available(ESPCN_BACKEND_ONEDNN)   ? ESPCN_BACKEND_ONEDNN
                                                                         : ESPCN_BACKEND_REFERENCE;
        break;
    case ESPCN_FILTER_BACKEND_CUDA: params.backend = ESPCN_BACKEND_CUDA; break;
    default:                        params.backend = ESPCN_BACKEND_AUTO; break;
    }
    if (cuda_frames) {
        if (s->backend == ESPCN_FILTER_BACKEND_CPU) {
            av_log(ctx, AV_LOG_ERROR, "backend=cpu cannot take CUDA frames; use backend=auto or "
                   "cuda, or hwdownload the frames first\n");
            return AVERROR(EINVAL);
        }
        params.backend = ESPCN_BACKEND_CUDA;  /* the frames are on the GPU: no CPU fallback */
        params.cuda_use_current_context = 1;
    }
    params.precision    = s->precision;
    params.device       = s->device;
    params.threads      = s->threads ? s->threads : ff_filter_get_nb_threads(ctx);
    params.log_callback = log_from_engine;
    params.log_opaque   = ctx;
    params.log_level    = engine_log_level();
    params.memory_budget = s->memory_budget;

    st = espcn_create(&params, &s->engine);
    if (st != ESPCN_OK)  /* the engine already logged the precise reason through av_log */
        return espcn_averror(st);
    st = espcn_get_model_info(s->engine, &info);
    if (st != ESPCN_OK)
        return espcn_averror(st);
    s->engine_on_cuda_frames = cuda_frames;
    s->queue_depth = FFMIN(espcn_frame_queue_depth(s->engine), ESPCN_MAX_QUEUE);
    av_log(ctx, AV_LOG_VERBOSE, "model '%s' x%d (%s), %d LR convs, %.0f MACs per input pixel, "
           "backend %s (%s), %d threads, %d frame(s) in flight, memory budget %"PRId64" bytes%s\n",
           info.name, info.scale, s->model_file, info.num_convs, info.macs_per_lr_pixel,
           espcn_backend_name(info.backend), espcn_precision_name(info.precision), params.threads,
           s->queue_depth, s->memory_budget ? s->memory_budget : (int64_t)ESPCN_DEFAULT_MEMORY_BUDGET,
           info.backend == ESPCN_BACKEND_CUDA ? " (device memory and pinned staging)" : "");
    return 0;
}

#if CONFIG_CUDA
/* CUDA frames in: check the software format, make the engine in FFmpeg's
 * CUcontext and give the output link its own frames context of the HR size. */
static int config_cuda_frames(AVFilterContext *ctx, AVFilterLink *inlink, AVFilterLink *outlink)
{
    ESPCNContext *s = ctx->priv;
    AVBufferRef *in_ref = ESPCN_LINK_HW_FRAMES(inlink), *out_ref;
    AVHWFramesContext *in_frames, *out_frames;
    const AVPixFmtDescriptor *desc;
    int ret, supported;

    if (!in_ref) {
        av_log(ctx, AV_LOG_ERROR, "CUDA frames arrive without a hardware frames context\n");
        return AVERROR(EINVAL);
    }
    in_frames = (AVHWFramesContext *)in_ref->data;
    supported = cuda_sw_format_ok(in_frames->sw_format, s->rgb_model);
    if (!supported) {
        av_log(ctx, AV_LOG_ERROR, "CUDA frames of %s are not supported%s; use %s\n",
               av_get_pix_fmt_name(in_frames->sw_format), s->rgb_model ? " by a model of RGB" : "",
               s->rgb_model ? "yuv420p, yuv444p or yuv444p16 (planar chroma)"
                            : "nv12, yuv420p, p010, p016, yuv444p or yuv444p16");
        return AVERROR(ENOSYS);
    }
    /* FFmpeg's CUDA frame copies (hwupload_cuda, hwdownload) move h >> 1
     * chroma rows of a vertically subsampled frame: with an odd height the
     * last chroma row is never uploaded, and ours would never come back. */
    desc = av_pix_fmt_desc_get(in_frames->sw_format);
    if (desc->log2_chroma_h && (inlink->h & 1)) {
        av_log(ctx, AV_LOG_ERROR, "CUDA frames of %s need an even height, not %d: FFmpeg's CUDA "
               "frame copies move only h/2 chroma rows, so the last one would be undefined; "
               "crop or pad to an even height first, or use host frames\n",
               desc->name, inlink->h);
        return AVERROR(EINVAL);
    }
    if (!s->engine_on_cuda_frames || !s->hw_device_ref ||
        s->hw_device_ref->data != in_frames->device_ref->data) {
        release_engine_and_device(ctx);
        s->hw_device_ref = av_buffer_ref(in_frames->device_ref);
        if (!s->hw_device_ref)
            return AVERROR(ENOMEM);
        s->hwctx = ((AVHWDeviceContext *)s->hw_device_ref->data)->hwctx;
        if ((ret = cuda_push(ctx)) < 0)
            return ret;
        s->stream = s->hwctx->stream;
        if (!s->stream) {
            /* FFmpeg's legacy default stream: libespcn refuses it, so run on a
             * blocking stream of ours, which the legacy stream waits for and
             * which waits for it, keeping the order with the other filters. */
            /* 0 = CU_STREAM_DEFAULT (blocking), which older ffnvcodec does not name. */
            if (s->hwctx->internal->cuda_dl->cuStreamCreate(&s->stream, 0) != CUDA_SUCCESS) {
                cuda_pop(ctx);
                av_log(ctx, AV_LOG_ERROR, "cannot create a CUDA stream\n");
                return AVERROR_EXTERNAL;
            }
            s->own_stream = 1;
        }
        ret = create_engine(ctx, 1);
        cuda_pop(ctx);
        if (ret < 0)
            return ret;
    }
    s->desc = desc;

    out_ref = av_hwframe_ctx_alloc(in_frames->device_ref);
    if (!out_ref)
        return AVERROR(ENOMEM);
    out_frames = (AVHWFramesContext *)out_ref->data;
    out_frames->format    = AV_PIX_FMT_CUDA;
    out_frames->sw_format = in_frames->sw_format;
    out_frames->width     = outlink->w;
    out_frames->height    = outlink->h;
    if ((ret = av_hwframe_ctx_init(out_ref)) < 0) {
        av_buffer_unref(&out_ref);
        return ret;
    }
    av_buffer_unref(&ESPCN_LINK_HW_FRAMES(outlink));
    ESPCN_LINK_HW_FRAMES(outlink) = out_ref;
    return 0;
}
#endif

static void set_layout(ESPCNContext *s, const AVPixFmtDescriptor *desc)
{
    s->desc = desc;
    s->nb_planes = av_pix_fmt_count_planes(av_pix_fmt_desc_get_id(desc));
    s->chroma_components = desc->nb_components > 2 &&
                           desc->comp[1].plane == desc->comp[2].plane ? 2 : 1;
}

static int config_output(AVFilterLink *outlink)
{
    AVFilterContext *ctx = outlink->src;
    AVFilterLink *inlink = ctx->inputs[0];
    ESPCNContext *s = ctx->priv;
    int ret;

    if (inlink->w > INT_MAX / s->scale || inlink->h > INT_MAX / s->scale ||
        (ret = av_image_check_size(inlink->w * s->scale, inlink->h * s->scale, 0, ctx)) < 0) {
        av_log(ctx, AV_LOG_ERROR, "%dx%d upscaled x%d is too large\n",
               inlink->w, inlink->h, s->scale);
        return AVERROR(EINVAL);
    }
    outlink->w = inlink->w * s->scale;
    outlink->h = inlink->h * s->scale;
    if (inlink->format == AV_PIX_FMT_CUDA) {
#if CONFIG_CUDA
        if ((ret = config_cuda_frames(ctx, inlink, outlink)) < 0)
            return ret;
#endif
    } else {
        if ((ret = create_engine(ctx, 0)) < 0)
            return ret;
        s->desc = av_pix_fmt_desc_get(inlink->format);
    }
    set_layout(s, s->desc);
    s->in_w      = inlink->w;
    s->in_h      = inlink->h;
    s->in_format = inlink->format;
    outlink->sample_aspect_ratio = inlink->sample_aspect_ratio;  /* both axes scale alike */
    av_log(ctx, AV_LOG_VERBOSE, "%dx%d %s%s -> %dx%d, chroma %s\n", inlink->w, inlink->h,
           s->desc->name, inlink->format == AV_PIX_FMT_CUDA ? " (CUDA frames)" : "", outlink->w, outlink->h,
           s->chroma == ESPCN_RESAMPLE_BILINEAR ? "bilinear" :
           s->chroma == ESPCN_RESAMPLE_NEAREST  ? "nearest"  : "bicubic");
    return 0;
}

static espcn_plane plane_of(const AVFrame *f, const AVPixFmtDescriptor *desc, int plane,
                            int w, int h)
{
    const int chroma = plane == 1 || plane == 2;
    const int comp = plane == 0 ? 0 : (desc->comp[1].plane == plane ? 1 : 2);
    espcn_plane p = {
        .data      = f->data[plane],
        .stride    = f->linesize[plane],
        .width     = chroma ? AV_CEIL_RSHIFT(w, desc->log2_chroma_w) : w,
        .height    = chroma ? AV_CEIL_RSHIFT(h, desc->log2_chroma_h) : h,
        .bit_depth = desc->comp[comp].depth,
        .shift     = desc->comp[comp].shift,
    };
    return p;
}

/* A model of RGB: component c (R, G, B of an RGB format; Y', Cb, Cr of a
 * Y'CbCr one; 3: alpha) of frame f of luma size w x h, as libespcn reads it:
 * its plane, offset and step (packed RGB: 3 samples per pixel). */
static espcn_plane_task component_task(const AVFrame *in, const AVFrame *out,
                                       const AVPixFmtDescriptor *desc, int c, int w, int h, int r,
                                       int filter)
{
    const AVComponentDescriptor *d = &desc->comp[c];
    const int chroma = !(desc->flags & AV_PIX_FMT_FLAG_RGB) && (c == 1 || c == 2);
    const int bytes = d->depth > 8 ? 2 : 1;
    espcn_plane_task t = {
        .in = {
            .data      = in->data[d->plane] + d->offset,
            .stride    = in->linesize[d->plane],
            .width     = chroma ? AV_CEIL_RSHIFT(w, desc->log2_chroma_w) : w,
            .height    = chroma ? AV_CEIL_RSHIFT(h, desc->log2_chroma_h) : h,
            .bit_depth = d->depth,
            .shift     = d->shift,
        },
        .out = {
            .data      = out->data[d->plane] + d->offset,
            .stride    = out->linesize[d->plane],
            .width     = chroma ? AV_CEIL_RSHIFT(w * r, desc->log2_chroma_w) : w * r,
            .height    = chroma ? AV_CEIL_RSHIFT(h * r, desc->log2_chroma_h) : h * r,
            .bit_depth = d->depth,
            .shift     = d->shift,
        },
        .resample   = c == 3,  /* alpha: bicubic, as the issue asks */
        .components = d->step / bytes,
        .filter     = c == 3 ? ESPCN_RESAMPLE_BICUBIC : (espcn_resample_filter)filter,
    };
    return t;
}

/* The matrix and range libespcn converts the frame with (RGB formats: none).
 * A frame without a matrix tag takes the usual guess by size (libplacebo's,
 * which FFmpeg's vf_libplacebo uses: BT.709 from 1280 wide or above 576
 * lines, else BT.601; logged once); one without a range, limited
 * for Y'CbCr and full for RGB. Matrices libespcn has no conversion for are
 * refused, naming them. */
static int frame_color(AVFilterContext *ctx, const AVFrame *in, espcn_frame *f)
{
    ESPCNContext *s = ctx->priv;
    const int rgb = !!(s->desc->flags & AV_PIX_FMT_FLAG_RGB);

    f->range = in->color_range == AVCOL_RANGE_JPEG ? ESPCN_RANGE_FULL :
               in->color_range == AVCOL_RANGE_MPEG ? ESPCN_RANGE_LIMITED :
               rgb                                 ? ESPCN_RANGE_FULL : ESPCN_RANGE_LIMITED;
    if (rgb) {
        f->matrix = ESPCN_MATRIX_RGB;
        return 0;
    }
    switch (in->colorspace) {
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:  f->matrix = ESPCN_MATRIX_BT601;      return 0;
    case AVCOL_SPC_BT709:      f->matrix = ESPCN_MATRIX_BT709;      return 0;
    case AVCOL_SPC_BT2020_NCL: f->matrix = ESPCN_MATRIX_BT2020_NCL; return 0;
    case AVCOL_SPC_UNSPECIFIED:
    case AVCOL_SPC_RESERVED:
        f->matrix = in->width >= 1280 || in->height > 576 ? ESPCN_MATRIX_BT709 : ESPCN_MATRIX_BT601;
        if (!s->said_untagged) {
            av_log(ctx, AV_LOG_INFO, "frames without a colour matrix tag: converted as %s, the "
                   "usual guess for %dx%d (libplacebo's, as vf_libplacebo and mpv use: BT.709 from "
                   "1280 wide or above 576 lines); tag them with setparams=colorspace=...; the "
                   "output stays untagged\n", f->matrix == ESPCN_MATRIX_BT709 ? "BT.709" : "BT.601",
                   in->width, in->height);
            s->said_untagged = 1;
        }
        return 0;
    default:
        av_log(ctx, AV_LOG_ERROR, "frame (pts %"PRId64") has colour matrix %s: a model of RGB "
               "converts BT.601, BT.709 and BT.2020 (non-constant luminance); convert it first "
               "(e.g. colorspace=all=bt709) or tag it (setparams)\n", in->pts,
               av_color_space_name(in->colorspace));
        return AVERROR(ENOSYS);
    }
}

/* Receives the oldest frame in flight and sends it on. */
static int emit_oldest(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
    AVFrame *out = s->queue[s->queue_head];
    espcn_status st;

    s->queue[s->queue_head] = NULL;
    s->queue_head = (s->queue_head + 1) % ESPCN_MAX_QUEUE;
    s->queue_len--;
    st = espcn_receive_frame(s->engine);
    if (st != ESPCN_OK) {  /* the reason is already in the log */
        av_frame_free(&out);
        return espcn_averror(st);
    }
    return ff_filter_frame(ctx->outputs[0], out);
}

/* A frame whose size differs from the last one, inside a graph that was not
 * reconfigured (e.g. scale=w=...:eval=frame upstream): host frames are
 * followed at that frame, as vf_scale does: the output link takes the new
 * size and the engine rebuilds its buffers for it. A change of pixel format,
 * or of the size of CUDA frames (which come from a frames context of one
 * size), is refused with a message naming the frame. */
static int follow_frame_change(AVFilterContext *ctx, const AVFrame *in)
{
    ESPCNContext *s = ctx->priv;
    AVFilterLink *inlink = ctx->inputs[0], *outlink = ctx->outputs[0];
    int ret;

    if (in->format != s->in_format || in->format == AV_PIX_FMT_CUDA) {
        av_log(ctx, AV_LOG_ERROR, "frame (pts %"PRId64") is %dx%d %s after %dx%d %s inside the "
               "graph; espcn follows size changes of host frames, not format changes or CUDA "
               "frames of another size (those need the graph reconfigured)\n", in->pts,
               in->width, in->height, av_get_pix_fmt_name(in->format), s->in_w, s->in_h,
               av_get_pix_fmt_name(s->in_format));
        return AVERROR(ENOSYS);
    }
    if (in->width > INT_MAX / s->scale || in->height > INT_MAX / s->scale ||
        (ret = av_image_check_size(in->width * s->scale, in->height * s->scale, 0, ctx)) < 0) {
        av_log(ctx, AV_LOG_ERROR, "frame (pts %"PRId64"): %dx%d upscaled x%d is too large\n",
               in->pts, in->width, in->height, s->scale);
        return AVERROR(EINVAL);
    }
    /* Frames in flight (the GPU's queue) leave with the size they were made for. */
    while (s->queue_len > 0)
        if ((ret = emit_oldest(ctx)) < 0)
            return ret;
    av_log(ctx, AV_LOG_VERBOSE, "frame (pts %"PRId64") changes %dx%d to %dx%d inside the graph; "
           "output now %dx%d\n", in->pts, s->in_w, s->in_h, in->width, in->height,
           in->width * s->scale, in->height * s->scale);
    s->in_w = inlink->w = in->width;
    s->in_h = inlink->h = in->height;
    outlink->w = in->width * s->scale;
    outlink->h = in->height * s->scale;
    return 0;
}

/* Starts one frame: host frames enter the engine's queue, CUDA frames are
 * enqueued on the stream (and are complete, in stream order, at once). */
static int submit_frame(AVFilterContext *ctx, AVFrame *in)
{
    AVFilterLink *outlink = ctx->outputs[0];
    ESPCNContext *s = ctx->priv;
    espcn_plane_task tasks[4];
    espcn_frame frame = ESPCN_FRAME_INIT;
    AVFrame *out = NULL;
    espcn_status st;
    int ret, p, n = 0;

    if (in->width != s->in_w || in->height != s->in_h || in->format != s->in_format) {
        if ((ret = follow_frame_change(ctx, in)) < 0)
            goto fail;
    }
    out = ff_get_video_buffer(outlink, outlink->w, outlink->h);
    if (!out) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    if ((ret = av_frame_copy_props(out, in)) < 0)
        goto fail;

    if (s->rgb_model) {
        /* R, G, B (or Y', Cb, Cr) as one network group, then alpha. */
        if ((ret = frame_color(ctx, in, &frame)) < 0)
            goto fail;
        for (p = 0; p < s->desc->nb_components && p < 4; p++)
            tasks[n++] = component_task(in, out, s->desc, p, in->width, in->height, s->scale, s->chroma);
    } else {
        for (p = 0; p < s->nb_planes; p++, n++) {
            tasks[p].in         = plane_of(in, s->desc, p, in->width, in->height);
            tasks[p].out        = plane_of(out, s->desc, p, outlink->w, outlink->h);
            tasks[p].resample   = p > 0;
            tasks[p].components = p > 0 ? s->chroma_components : 1;
            tasks[p].filter     = (espcn_resample_filter)s->chroma;
        }
    }
    frame.tasks     = tasks;
    frame.num_tasks = n;
    if (in->format == AV_PIX_FMT_CUDA) {
#if CONFIG_CUDA
        if ((ret = cuda_push(ctx)) < 0)
            goto fail;
        st = espcn_cuda_enqueue(s->engine, &frame, s->stream);
        cuda_pop(ctx);
        if (st != ESPCN_OK) {
            ret = espcn_averror(st);
            goto fail;
        }
        av_frame_free(&in);
        return ff_filter_frame(outlink, out);
#endif
    }
    st = espcn_submit(s->engine, &frame);
    if (st != ESPCN_OK) {  /* the reason is already in the log */
        ret = espcn_averror(st);
        goto fail;
    }
    av_assert0(s->queue_len < ESPCN_MAX_QUEUE);
    s->queue[(s->queue_head + s->queue_len) % ESPCN_MAX_QUEUE] = out;
    s->queue_len++;
    av_frame_free(&in);  /* the engine has staged its samples */
    return s->queue_len >= s->queue_depth ? emit_oldest(ctx) : 0;

fail:
    av_frame_free(&in);
    av_frame_free(&out);
    return ret;
}

static int activate(AVFilterContext *ctx)
{
    AVFilterLink *inlink = ctx->inputs[0];
    AVFilterLink *outlink = ctx->outputs[0];
    ESPCNContext *s = ctx->priv;
    AVFrame *in = NULL;
    int64_t pts;
    int ret, status;

    FF_FILTER_FORWARD_STATUS_BACK(outlink, inlink);

    ret = ff_inlink_consume_frame(inlink, &in);
    if (ret < 0)
        return ret;
    if (ret > 0) {
        if ((ret = submit_frame(ctx, in)) < 0)
            return ret;
        /* More input may be queued already: come back for it. */
        ff_filter_set_ready(ctx, 100);
        return 0;
    }
    if (ff_inlink_acknowledge_status(inlink, &status, &pts)) {
        /* End of stream (or error upstream): the frames in flight come first. */
        while (s->queue_len > 0)
            if ((ret = emit_oldest(ctx)) < 0)
                return ret;
        ff_outlink_set_status(outlink, status, pts);
        return 0;
    }
    FF_FILTER_FORWARD_WANTED(outlink, inlink);
    return FFERROR_NOT_READY;
}

#define OFFSET(x) offsetof(ESPCNContext, x)
#define FLAGS (AV_OPT_FLAG_FILTERING_PARAM | AV_OPT_FLAG_VIDEO_PARAM)
static const AVOption espcn_options[] = {
    { "model",   "model file (.safetensors); default: the shipped model for scale",
      OFFSET(model_path), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, FLAGS },
    { "scale",   "upscaling factor; must agree with the model",
      OFFSET(scale), AV_OPT_TYPE_INT, { .i64 = 2 }, 2, 4, FLAGS },
    { "content", "what the input is, when no model is given: picks the shipped model for scale",
      OFFSET(content), AV_OPT_TYPE_INT, { .i64 = ESPCN_CONTENT_CLEAN },
      ESPCN_CONTENT_CLEAN, ESPCN_CONTENT_VIDEO, FLAGS, .unit = "content" },
        { "clean", "uncompressed or lightly compressed frames (default-x<r>)", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_CONTENT_CLEAN }, 0, 0, FLAGS, .unit = "content" },
        { "video", "H.264-compressed video, e.g. a 480p file (default-video-x<r>)", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_CONTENT_VIDEO }, 0, 0, FLAGS, .unit = "content" },
    { "backend", "where the network runs",
      OFFSET(backend), AV_OPT_TYPE_INT, { .i64 = ESPCN_FILTER_BACKEND_AUTO },
      ESPCN_FILTER_BACKEND_AUTO, ESPCN_FILTER_BACKEND_CUDA, FLAGS, .unit = "backend" },
        { "auto", "the GPU if usable, else the CPU", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_FILTER_BACKEND_AUTO }, 0, 0, FLAGS, .unit = "backend" },
        { "cpu",  "the CPU: cpu-fast (AVX2, AVX-512, NEON), else oneDNN", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_FILTER_BACKEND_CPU },  0, 0, FLAGS, .unit = "backend" },
        { "cuda", "an NVIDIA GPU; fail if unusable", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_FILTER_BACKEND_CUDA }, 0, 0, FLAGS, .unit = "backend" },
    { "device",  "GPU index for backend=cuda",
      OFFSET(device), AV_OPT_TYPE_INT, { .i64 = 0 }, 0, 255, FLAGS },
    { "threads", "CPU threads; 0: the filter graph's thread count",
      OFFSET(threads), AV_OPT_TYPE_INT, { .i64 = 0 }, 0, 1024, FLAGS },
    { "chroma",  "upscaler for the planes not run through the network",
      OFFSET(chroma), AV_OPT_TYPE_INT, { .i64 = ESPCN_RESAMPLE_BICUBIC },
      ESPCN_RESAMPLE_BICUBIC, ESPCN_RESAMPLE_NEAREST, FLAGS, .unit = "chroma" },
        { "bicubic",  "Keys cubic, a = -0.5", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_RESAMPLE_BICUBIC },  0, 0, FLAGS, .unit = "chroma" },
        { "bilinear", "bilinear",             0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_RESAMPLE_BILINEAR }, 0, 0, FLAGS, .unit = "chroma" },
        { "nearest",  "nearest neighbour",    0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_RESAMPLE_NEAREST },  0, 0, FLAGS, .unit = "chroma" },
    { "memory_budget", "engine working memory per frame, bytes (e.g. 256Mi); 0: libespcn's default (512 MiB)",
      OFFSET(memory_budget), AV_OPT_TYPE_INT64, { .i64 = 0 }, 0, INT64_MAX, FLAGS },
    { "precision", "arithmetic of the network",
      OFFSET(precision), AV_OPT_TYPE_INT, { .i64 = ESPCN_PRECISION_AUTO },
      ESPCN_PRECISION_AUTO, ESPCN_PRECISION_BF16, FLAGS, .unit = "precision" },
        { "auto", "fp16 on GPUs with tensor cores, else fp32", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_PRECISION_AUTO }, 0, 0, FLAGS, .unit = "precision" },
        { "fp32", "fp32 everywhere",                           0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_PRECISION_FP32 }, 0, 0, FLAGS, .unit = "precision" },
        { "fp16", "fp16 tensors, fp32 accumulation (cuda)",    0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_PRECISION_FP16 }, 0, 0, FLAGS, .unit = "precision" },
        { "bf16", "bfloat16 weights and activations, fp32 sums (cpu)", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_PRECISION_BF16 }, 0, 0, FLAGS, .unit = "precision" },
    { NULL }
};

AVFILTER_DEFINE_CLASS(espcn);

static const AVFilterPad espcn_inputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
    },
};

static const AVFilterPad espcn_outputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
        .config_props = config_output,
    },
};

ESPCN_FILTER_TYPE ff_vf_espcn = {
    ESPCN_FILTER_PUBLIC(name)        = "espcn",
    ESPCN_FILTER_PUBLIC(description) = NULL_IF_CONFIG_SMALL("Super-resolve video with an ESPCN network (libespcn)."),
    ESPCN_FILTER_PUBLIC(priv_class)  = &espcn_class,
    .priv_size                       = sizeof(ESPCNContext),
    .init                            = init,
    .uninit                          = uninit,
    .activate                        = activate,
    ESPCN_FILTER_HWFRAME_AWARE,
    FILTER_INPUTS(espcn_inputs),
    FILTER_OUTPUTS(espcn_outputs),
    FILTER_QUERY_FUNC(query_formats),
};
