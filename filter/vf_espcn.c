/*
 * espcn: super-resolution with an LR-space CNN and a periodic shuffle
 * (Shi et al., CVPR 2016), through libespcn.
 *
 * Luma goes through the network; the other planes are upscaled by libespcn's
 * bicubic (or bilinear / nearest) resampler. The output is exactly scale
 * times the input; pts, metadata, colour properties and SAR are carried over.
 *
 * This file is part of FFmpeg (LGPL 2.1 or later) when built into it.
 */

#include <espcn/espcn.h>

#include "libavutil/avassert.h"
#include "libavutil/imgutils.h"
#include "libavutil/opt.h"
#include "libavutil/pixdesc.h"

#include "avfilter.h"
#include "espcn_compat.h"

enum ESPCNBackend { ESPCN_FILTER_BACKEND_AUTO, ESPCN_FILTER_BACKEND_CPU, ESPCN_FILTER_BACKEND_CUDA };

static const enum AVPixelFormat pix_fmts[] = {
    AV_PIX_FMT_YUV420P,   AV_PIX_FMT_YUV422P,   AV_PIX_FMT_YUV444P,   AV_PIX_FMT_GRAY8,
    AV_PIX_FMT_NV12,
    AV_PIX_FMT_YUV420P10, AV_PIX_FMT_YUV422P10, AV_PIX_FMT_YUV444P10, AV_PIX_FMT_GRAY10,
    AV_PIX_FMT_YUV420P12, AV_PIX_FMT_YUV422P12, AV_PIX_FMT_YUV444P12, AV_PIX_FMT_GRAY12,
    AV_PIX_FMT_YUV420P16, AV_PIX_FMT_YUV422P16, AV_PIX_FMT_YUV444P16, AV_PIX_FMT_GRAY16,
    AV_PIX_FMT_P010,      AV_PIX_FMT_P016,
    AV_PIX_FMT_NONE,
};

typedef struct ESPCNContext {
    const AVClass *class;

    /* options */
    char *model_path;
    int scale;
    int backend;
    int device;
    int threads;
    int chroma;

    espcn_context *engine;
    const AVPixFmtDescriptor *desc;
    int nb_planes;
    int chroma_components;  /* 2 for the interleaved UV plane of NV12/P010/P016 */
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

static av_cold int init(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;

    if (s->backend == ESPCN_FILTER_BACKEND_CUDA && !espcn_backend_available(ESPCN_BACKEND_CUDA)) {
        av_log(ctx, AV_LOG_ERROR, "backend=cuda: the CUDA backend is not available "
               "(libespcn %s was built without it, or no NVIDIA driver/GPU was found)\n",
               espcn_version());
        return AVERROR(ENODEV);
    }
    return 0;
}

static av_cold void uninit(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
    espcn_destroy(&s->engine);
}

/* Loads the model once per filter instance; sizes may change, the model not. */
static int create_engine(AVFilterContext *ctx)
{
    ESPCNContext *s = ctx->priv;
    espcn_params params = ESPCN_PARAMS_DEFAULT_INIT;
    espcn_model_info info;
    char default_path[4096];
    espcn_status st;

    if (s->engine)
        return 0;
    if (!s->model_path) {
        snprintf(default_path, sizeof(default_path), "%s/default-x%d.safetensors",
                 espcn_default_model_dir(), s->scale);
        params.model_path = default_path;
    } else {
        params.model_path = s->model_path;
    }
    switch (s->backend) {
    case ESPCN_FILTER_BACKEND_CPU:
        params.backend = espcn_backend_available(ESPCN_BACKEND_ONEDNN) ? ESPCN_BACKEND_ONEDNN
                                                                       : ESPCN_BACKEND_REFERENCE;
        break;
    case ESPCN_FILTER_BACKEND_CUDA: params.backend = ESPCN_BACKEND_CUDA; break;
    default:                        params.backend = ESPCN_BACKEND_AUTO; break;
    }
    params.device       = s->device;
    params.threads      = s->threads ? s->threads : ff_filter_get_nb_threads(ctx);
    params.log_callback = log_from_engine;
    params.log_opaque   = ctx;
    params.log_level    = engine_log_level();

    st = espcn_create(&params, &s->engine);
    if (st != ESPCN_OK) {
        /* The engine already logged the precise reason through av_log. */
        if (!s->model_path && st == ESPCN_ERROR_IO)
            av_log(ctx, AV_LOG_ERROR, "no model given and no shipped x%d model in %s; "
                   "set model=FILE or ESPCN_MODEL_DIR\n", s->scale, espcn_default_model_dir());
        return espcn_averror(st);
    }
    st = espcn_get_model_info(s->engine, &info);
    if (st != ESPCN_OK)
        return espcn_averror(st);
    if (info.scale != s->scale) {
        av_log(ctx, AV_LOG_ERROR, "scale=%d, but model '%s' (%s) upscales x%d; "
               "set scale=%d or give a x%d model\n", s->scale, info.name, params.model_path,
               info.scale, info.scale, s->scale);
        espcn_destroy(&s->engine);
        return AVERROR(EINVAL);
    }
    av_log(ctx, AV_LOG_VERBOSE, "model '%s' x%d, %d LR convs, %.0f MACs per input pixel, "
           "backend %s, %d threads\n", info.name, info.scale, info.num_convs,
           info.macs_per_lr_pixel, espcn_backend_name(info.backend), params.threads);
    return 0;
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
    if ((ret = create_engine(ctx)) < 0)
        return ret;

    s->desc = av_pix_fmt_desc_get(inlink->format);
    s->nb_planes = av_pix_fmt_count_planes(inlink->format);
    s->chroma_components = s->desc->nb_components > 2 &&
                           s->desc->comp[1].plane == s->desc->comp[2].plane ? 2 : 1;
    outlink->w = inlink->w * s->scale;
    outlink->h = inlink->h * s->scale;
    outlink->sample_aspect_ratio = inlink->sample_aspect_ratio;  /* both axes scale alike */
    av_log(ctx, AV_LOG_VERBOSE, "%dx%d %s -> %dx%d, chroma %s\n", inlink->w, inlink->h,
           s->desc->name, outlink->w, outlink->h,
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

static int filter_frame(AVFilterLink *inlink, AVFrame *in)
{
    AVFilterContext *ctx = inlink->dst;
    AVFilterLink *outlink = ctx->outputs[0];
    ESPCNContext *s = ctx->priv;
    AVFrame *out = NULL;
    espcn_status st;
    int ret, p;

    if (in->width != inlink->w || in->height != inlink->h || in->format != inlink->format) {
        av_log(ctx, AV_LOG_ERROR, "frame is %dx%d %s but the link was configured for %dx%d %s; "
               "the filter graph must be reconfigured\n", in->width, in->height,
               av_get_pix_fmt_name(in->format), inlink->w, inlink->h,
               av_get_pix_fmt_name(inlink->format));
        ret = AVERROR(EINVAL);
        goto fail;
    }
    out = ff_get_video_buffer(outlink, outlink->w, outlink->h);
    if (!out) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    if ((ret = av_frame_copy_props(out, in)) < 0)
        goto fail;

    for (p = 0; p < s->nb_planes; p++) {
        const espcn_plane src = plane_of(in, s->desc, p, inlink->w, inlink->h);
        const espcn_plane dst = plane_of(out, s->desc, p, outlink->w, outlink->h);
        st = p == 0 ? espcn_process_plane(s->engine, &src, &dst)
                    : espcn_upscale_plane(s->engine, &src, &dst, s->chroma_components,
                                          (espcn_resample_filter)s->chroma);
        if (st != ESPCN_OK) {  /* the reason is already in the log */
            ret = espcn_averror(st);
            goto fail;
        }
    }
    av_frame_free(&in);
    return ff_filter_frame(outlink, out);

fail:
    av_frame_free(&in);
    av_frame_free(&out);
    return ret;
}

#define OFFSET(x) offsetof(ESPCNContext, x)
#define FLAGS (AV_OPT_FLAG_FILTERING_PARAM | AV_OPT_FLAG_VIDEO_PARAM)
static const AVOption espcn_options[] = {
    { "model",   "model file (.safetensors); default: the shipped model for scale",
      OFFSET(model_path), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, FLAGS },
    { "scale",   "upscaling factor; must agree with the model",
      OFFSET(scale), AV_OPT_TYPE_INT, { .i64 = 2 }, 2, 4, FLAGS },
    { "backend", "where the network runs",
      OFFSET(backend), AV_OPT_TYPE_INT, { .i64 = ESPCN_FILTER_BACKEND_AUTO },
      ESPCN_FILTER_BACKEND_AUTO, ESPCN_FILTER_BACKEND_CUDA, FLAGS, .unit = "backend" },
        { "auto", "the GPU if usable, else the CPU", 0, AV_OPT_TYPE_CONST,
          { .i64 = ESPCN_FILTER_BACKEND_AUTO }, 0, 0, FLAGS, .unit = "backend" },
        { "cpu",  "oneDNN on the CPU",               0, AV_OPT_TYPE_CONST,
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
    { NULL }
};

AVFILTER_DEFINE_CLASS(espcn);

static const AVFilterPad espcn_inputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
        .filter_frame = filter_frame,
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
    FILTER_INPUTS(espcn_inputs),
    FILTER_OUTPUTS(espcn_outputs),
    FILTER_PIXFMTS_ARRAY(pix_fmts),
};
