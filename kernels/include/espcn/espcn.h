/*
 * espcn — real-time super-resolution of image planes.
 *
 * Public C API. It compiles alone as C99 and as C++.
 *
 * A context owns one loaded network and the backend that runs it. Every call
 * returns an espcn_status; nothing aborts and no C++ exception crosses this
 * boundary. On failure espcn_last_error() gives a precise message for the
 * calling thread, and the message is also sent to the log callback.
 *
 * Thread safety, per call:
 *  - espcn_create(), espcn_destroy(), espcn_status_string(),
 *    espcn_backend_name(), espcn_last_error(), espcn_version(): safe from any
 *    thread at any time (on distinct contexts).
 *  - espcn_model_load(), espcn_model_release(), espcn_model_get_info(): safe
 *    from any thread at any time; a loaded model is immutable and may be used
 *    by any number of contexts on any threads at once.
 *  - espcn_process_plane(), espcn_process_planes(), espcn_upscale_plane(),
 *    espcn_submit_frame(), espcn_submit(), espcn_receive_frame(),
 *    espcn_cuda_enqueue_frame(), espcn_cuda_enqueue(): one thread at a time
 *    per context (they reuse the context's buffers); distinct contexts run
 *    concurrently without locks, on one GPU or several.
 *  - espcn_get_model_info(): safe concurrently with itself and with
 *    espcn_process_plane() on the same context (the model is immutable).
 *  - The log callback is invoked on the thread that made the call.
 */
#ifndef ESPCN_ESPCN_H
#define ESPCN_ESPCN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ESPCN_API
#else
#define ESPCN_API __attribute__((visibility("default")))
#endif

#define ESPCN_VERSION_MAJOR 0
#define ESPCN_VERSION_MINOR 1
#define ESPCN_VERSION_PATCH 0

/* Opaque: one loaded network plus the backend that runs it. */
typedef struct espcn_context espcn_context;

typedef enum espcn_status {
    ESPCN_OK = 0,
    ESPCN_ERROR_INVALID_ARGUMENT = 1, /* a NULL pointer, a bad size or option */
    ESPCN_ERROR_IO = 2,               /* the model file cannot be read */
    ESPCN_ERROR_MODEL = 3,            /* the model file is malformed or inconsistent */
    ESPCN_ERROR_UNSUPPORTED = 4,      /* valid, but not supported by this build */
    ESPCN_ERROR_BACKEND_UNAVAILABLE = 5, /* the backend is not built in or has no device */
    ESPCN_ERROR_OUT_OF_MEMORY = 6,
    ESPCN_ERROR_BACKEND = 7,          /* the backend library reported an error */
    ESPCN_ERROR_INTERNAL = 8,         /* a bug: please report it */
    ESPCN_ERROR_CANCELLED = 9         /* the cancel callback asked to stop */
} espcn_status;

/* Opaque: a model read and validated once (espcn_model_load()), shared by
 * any number of contexts. */
typedef struct espcn_model espcn_model;

typedef enum espcn_backend {
    ESPCN_BACKEND_AUTO = 0,      /* the fastest available: cuda, then cpu-fast (on CPUs with
                                    AVX2, AVX-512 or NEON), then onednn, then reference */
    ESPCN_BACKEND_REFERENCE = 1, /* plain C++ loops: the oracle, slow */
    ESPCN_BACKEND_ONEDNN = 2,    /* CPU, oneDNN convolutions */
    ESPCN_BACKEND_CUDA = 3,      /* NVIDIA GPU: cuDNN + our kernels (CUDA builds only) */
    ESPCN_BACKEND_CPU_FAST = 4   /* CPU, our own SIMD kernels (Winograd, whole network streamed
                                    over row tiles), instruction set chosen at run time; the
                                    environment variable ESPCN_CPU_ISA=avx2|baseline caps it */
} espcn_backend;

/* Arithmetic of the network. */
typedef enum espcn_precision {
    ESPCN_PRECISION_AUTO = 0, /* fp16 on GPUs with tensor cores, else fp32 (the CPU: see BF16) */
    ESPCN_PRECISION_FP32 = 1, /* fp32 tensors and arithmetic (no TF32) */
    ESPCN_PRECISION_FP16 = 2, /* cuda: fp16 tensors, fp32 accumulation, tensor cores */
    /* cpu-fast: weights and activations rounded to bfloat16 (round to nearest
     * even, denormals flushed), products summed in fp32 two channels at a
     * time as AVX512-BF16's vdpbf16ps does (odd channel first); decoding,
     * the last layer's sums, the residual and encoding in fp32. The same
     * bits on every CPU (fp32 arithmetic on bfloat16 values). Not chosen by
     * AUTO: on the CPUs measured so far it is not faster than fp32 (docs). */
    ESPCN_PRECISION_BF16 = 3
} espcn_precision;

typedef enum espcn_log_level {
    ESPCN_LOG_ERROR = 0,
    ESPCN_LOG_WARNING = 1,
    ESPCN_LOG_INFO = 2,
    ESPCN_LOG_DEBUG = 3
} espcn_log_level;

/* Receives one complete message (no trailing newline). */
typedef void (*espcn_log_fn)(void *opaque, espcn_log_level level, const char *message);

/* Asked between bands of rows of a plane (and between the network's layers),
 * on the thread processing it: nonzero stops the call with
 * ESPCN_ERROR_CANCELLED. Keep it cheap (e.g. read a flag a signal handler
 * sets). The cuda backend asks it before it enqueues each band and each
 * layer: work already enqueued on the GPU runs to its end. */
typedef int (*espcn_cancel_fn)(void *opaque);

/* Per-frame working memory of the engine when espcn_params.memory_budget is 0:
 * 512 MiB. See memory_budget. */
#define ESPCN_DEFAULT_MEMORY_BUDGET ((size_t)512 << 20)

/* How a context is made. Start from ESPCN_PARAMS_DEFAULT_INIT and set fields. */
typedef struct espcn_params {
    /* The model: a file path (a regular file; opened without blocking, so a
     * FIFO is refused rather than waited on), a memory buffer
     * (model_data/model_size, copied during espcn_create()), or a model
     * loaded by espcn_model_load() (`model`, see below). Exactly one. */
    const char *model_path;
    const void *model_data;
    size_t model_size;

    espcn_backend backend;
    int threads;               /* CPU threads; 0 = all available cores */
    int device;                /* GPU index for the CUDA backend */

    espcn_log_fn log_callback; /* NULL = messages go nowhere */
    void *log_opaque;
    espcn_log_level log_level; /* messages above this level are dropped */

    espcn_precision precision;
    /* cuda: 1 = build the context's GPU state in the CUDA context current on
     * the creating thread (e.g. FFmpeg's CUcontext, pushed with
     * cuCtxPushCurrent) instead of device `device`'s primary context. Either
     * way every later call, espcn_destroy() included, makes that CUDA context
     * current for its duration and the caller's current again after; the
     * CUDA context must outlive the espcn context. */
    int cuda_use_current_context;

    /* A loaded model (the third model source): the context takes its own
     * reference, so the caller may release it at once. */
    const espcn_model *model;

    /* Bytes of per-frame working memory the engine may hold: the network's
     * activations and scratch (not its weights, not the caller's planes).
     * 0: ESPCN_DEFAULT_MEMORY_BUDGET; SIZE_MAX: no limit. The CPU backends
     * run a plane in bands of rows (each with the halo the network's
     * receptive field needs, so the output is bit-identical to one pass over
     * the whole plane) sized to fit; a plane whose smallest band does not fit
     * fails with ESPCN_ERROR_OUT_OF_MEMORY naming the bytes it needs. The
     * cuda backend counts its device memory (the network's activations and
     * cuDNN workspace) and, for frames in host memory, every staged frame's
     * pinned host and device copies against the same budget: a plane that
     * does not fit in one pass runs in bands of rows on the GPU (each band
     * exact, but cuDNN may pick other algorithms for the band's shape than
     * for the whole plane's, so the output may differ from one pass by their
     * summation order), fewer frames are staged at once when
     * espcn_frame_queue_depth() of them do not fit, and a frame that cannot
     * fit fails with ESPCN_ERROR_OUT_OF_MEMORY naming the bytes. */
    size_t memory_budget;

    /* NULL: never cancelled. See espcn_cancel_fn. */
    espcn_cancel_fn cancel_callback;
    void *cancel_opaque;
} espcn_params;

/* Designated initializers (C99, C++20) survive added fields; older C++ gets
 * the same values by position. */
#if !defined(__cplusplus) || __cplusplus >= 202002L
#define ESPCN_PARAMS_DEFAULT_INIT                                                    \
    { .model_path = NULL, .model_data = NULL, .model_size = 0,                        \
      .backend = ESPCN_BACKEND_AUTO, .threads = 0, .device = 0,                       \
      .log_callback = NULL, .log_opaque = NULL, .log_level = ESPCN_LOG_WARNING,       \
      .precision = ESPCN_PRECISION_AUTO, .cuda_use_current_context = 0,               \
      .model = NULL, .memory_budget = 0, .cancel_callback = NULL,                     \
      .cancel_opaque = NULL }
#else
#define ESPCN_PARAMS_DEFAULT_INIT                                                    \
    { NULL, NULL, 0, ESPCN_BACKEND_AUTO, 0, 0, NULL, NULL, ESPCN_LOG_WARNING,         \
      ESPCN_PRECISION_AUTO, 0, NULL, 0, NULL, NULL }
#endif

/*
 * One image plane. Samples are unsigned integers of bit_depth bits: one byte
 * each for bit_depth 8, two bytes (host endianness) for bit_depth 9..16, with
 * the value in the low bits (FFmpeg's yuv420p10) or shifted left by `shift`
 * bits (P010: bit_depth 10, shift 6); shift + bit_depth <= 16, and shift is 0
 * for 8-bit planes. Bits outside the value are ignored on input and written as
 * zero. stride is in bytes and may be negative (bottom-up images); it must
 * hold at least one row.
 */
typedef struct espcn_plane {
    void *data;
    ptrdiff_t stride;
    int width;
    int height;
    int bit_depth;
    int shift;
} espcn_plane;

typedef enum espcn_upsampler {
    ESPCN_UPSAMPLER_PIXEL_SHUFFLE = 0, /* the file's last conv feeds a periodic shuffle */
    ESPCN_UPSAMPLER_DECONV = 1         /* the file had a transposed conv, converted at load */
} espcn_upsampler;

typedef struct espcn_model_info {
    const char *name;          /* valid for the context's lifetime */
    int scale;                 /* r: output is r times the input in each direction */
    int in_channels;           /* planes the network reads: 1 (luma) or 3 (R, G, B) */
    int out_channels;          /* planes it writes (image channels after the shuffle):
                                  as many as it reads */
    int num_convs;             /* LR-space convolutions after conversion */
    int receptive_radius;      /* LR pixels of context each output needs, per side */
    double macs_per_lr_pixel;  /* multiply-accumulates per input pixel */
    espcn_upsampler upsampler; /* as written in the file */
    espcn_backend backend;     /* the backend the context actually uses */
    espcn_precision precision; /* the arithmetic it actually uses (never AUTO) */
} espcn_model_info;

/* Creates a context. On failure *out is NULL and the status says why. */
ESPCN_API espcn_status espcn_create(const espcn_params *params, espcn_context **out);

/*
 * Reads and validates a model once, for any number of contexts
 * (espcn_params.model): from params->model_path or params->model_data /
 * model_size (copied), logging through params' log fields; the other fields
 * are ignored. On failure *out is NULL and the status says why.
 */
ESPCN_API espcn_status espcn_model_load(const espcn_params *params, espcn_model **out);

/* Drops the caller's reference to *model (NULL is fine) and sets it to NULL;
 * contexts made from it keep their own. */
ESPCN_API void espcn_model_release(espcn_model **model);

/* Destroys *ctx (NULL is fine) and sets *ctx to NULL. */
ESPCN_API void espcn_destroy(espcn_context **ctx);

/*
 * Upscales in into out. out->width/height must be exactly scale times
 * in->width/height. Input and output bit depths may differ. The network sees
 * sample / (2^bit_depth - 1); its output y is written as
 * floor(clamp(y, 0, 1) * (2^out_bit_depth - 1) + 0.5) (NaN writes 0).
 * Buffers are allocated on the first call for a given size and reused; they
 * stay within the context's memory_budget. Stopped by the
 * cancel callback: ESPCN_ERROR_CANCELLED, out partly written.
 */
ESPCN_API espcn_status espcn_process_plane(espcn_context *ctx, const espcn_plane *in,
                                           const espcn_plane *out);

/*
 * One pass of a network of any number of image channels: the model's
 * in_channels planes in and its out_channels planes out, in channel order
 * (R, G, B for an RGB network, in_channels = 3; a luma network takes one
 * plane each, as espcn_process_plane()). The input planes have one size and
 * one bit depth, the output planes one bit depth and exactly scale times that
 * size; each plane is read or written as espcn_process_plane() says (every
 * channel sees sample / (2^bit_depth - 1), through the model's range).
 * Samples are planar: a packed (interleaved) image goes through
 * espcn_submit(), which converts it.
 */
ESPCN_API espcn_status espcn_process_planes(espcn_context *ctx, const espcn_plane *in, int num_in,
                                            const espcn_plane *out, int num_out);

ESPCN_API espcn_status espcn_get_model_info(const espcn_context *ctx,
                                            espcn_model_info *info);

/* The model alone: backend and precision are reported as AUTO. */
ESPCN_API espcn_status espcn_model_get_info(const espcn_model *model, espcn_model_info *info);

/* What a context holds, as its backend accounts for it: host memory on the
 * CPU backends; on the cuda backend device memory and pinned host memory. */
typedef struct espcn_memory_info {
    /* Per-frame working memory planned for the last plane size processed
     * (activations and scratch of one band of rows, or of every thread's
     * strips; cuda: activations and workspace on the device, plus the pinned
     * and device staging of the frames it holds): what memory_budget bounds;
     * 0 before the first plane. */
    size_t working_bytes;
    /* Held for the context's lifetime beyond that: the weights in the
     * backend's own layout (packed, reordered, padded; cuda: on the device)
     * and its tables. Not
     * counted: process-wide state shared by all contexts, such as oneDNN's
     * cache of compiled kernels. */
    size_t state_bytes;
} espcn_memory_info;

/* Same thread rules as espcn_process_plane(). */
ESPCN_API espcn_status espcn_get_memory_info(const espcn_context *ctx, espcn_memory_info *info);

/* What the context's backend chose, in words, for logs and tools: e.g. for
 * cpu-fast its candidate kernels and, once measured on the first frames of
 * a size, which runs each layer. "" for NULL. Valid until the next call on
 * ctx; same thread rules as espcn_process_plane(). */
ESPCN_API const char *espcn_backend_details(const espcn_context *ctx);

typedef enum espcn_resample_filter {
    ESPCN_RESAMPLE_BICUBIC = 0,  /* Keys, a = -0.5 */
    ESPCN_RESAMPLE_BILINEAR = 1,
    ESPCN_RESAMPLE_NEAREST = 2
} espcn_resample_filter;

/*
 * Upscales a plane that does not go through the network (chroma) by the
 * model's scale r: output sample j reads input position (j + 0.5) / r - 0.5 in
 * each direction (centre-aligned), edges clamped, rounded half up. out may be
 * up to r samples off r times the input in each direction, so the chroma of
 * odd frame sizes (ceil(w / 2) samples) works.
 * components is the number of interleaved samples per pixel: 1, or 2 for the
 * UV plane of NV12 / P010; width counts pixels. in and out must have the same
 * bit depth and shift. Same thread rules as espcn_process_plane().
 */
ESPCN_API espcn_status espcn_upscale_plane(espcn_context *ctx, const espcn_plane *in,
                                           const espcn_plane *out, int components,
                                           espcn_resample_filter filter);

/*
 * Frames: every plane of a video frame in one call, so that a GPU backend can
 * copy and compute them together and overlap consecutive frames.
 *
 * A task is one plane: `in` through the network into `out` (resample = 0), or
 * upscaled by the resampler (resample = 1, as espcn_upscale_plane() with
 * `components` and `filter`). A network of C = in_channels image channels
 * takes its planes as C consecutive network tasks in channel order (task c:
 * channel c in and out), one pass per such group, as espcn_process_planes();
 * resample tasks (chroma, alpha) may come before, between or after the
 * groups. A luma network's group is one task (espcn_process_plane()).
 *
 * For a network of RGB (in_channels 3), espcn_submit() also takes frames
 * whose network planes are not R, G, B as they are (see espcn_frame): it
 * converts them to RGB before the network and back after it. With
 * espcn_submit_frame() they must be planar R, G, B of full range.
 */
typedef struct espcn_plane_task {
    espcn_plane in;
    espcn_plane out;
    int resample;
    int components;
    espcn_resample_filter filter;
} espcn_plane_task;

/*
 * How the network tasks of a frame hold colour, for a network of RGB
 * (in_channels 3; luma networks ignore it). Y'CbCr is converted with the
 * frame's own matrix and range, in float, to R, G, B in [0, 1] (clamped) of
 * 16 bits, run through the network, and converted back to the frame's
 * matrix, range, subsampling and depth (weights/FORMAT.md, "Colour").
 */
typedef enum espcn_matrix {
    ESPCN_MATRIX_RGB = 0,        /* the tasks are R, G, B: no matrix */
    ESPCN_MATRIX_BT601 = 1,      /* Y', Cb, Cr; Kr = 0.299, Kb = 0.114 (BT.470BG, SMPTE 170M) */
    ESPCN_MATRIX_BT709 = 2,      /* Kr = 0.2126, Kb = 0.0722 */
    ESPCN_MATRIX_BT2020_NCL = 3  /* Kr = 0.2627, Kb = 0.0593, non-constant luminance */
} espcn_matrix;

typedef enum espcn_range {
    ESPCN_RANGE_FULL = 0,    /* 0 .. 2^b - 1; chroma zero at 2^(b-1) */
    ESPCN_RANGE_LIMITED = 1  /* Y' (and R, G, B) 16 .. 235, Cb, Cr 16 .. 240, times 2^(b-8) */
} espcn_range;

/*
 * A frame, for espcn_submit() and espcn_cuda_enqueue(). Start from
 * ESPCN_FRAME_INIT and set fields.
 *
 * With matrix ESPCN_MATRIX_RGB the network tasks are R, G, B. With a Y'CbCr
 * matrix they are Y', Cb, Cr: the input planes Cb and Cr may be subsampled
 * (ceil(w / 2^k) samples, k = 0 or 1 per direction, as FFmpeg's yuv420p,
 * yuv422p), and so are the output planes, by the same factors of the output
 * size. Subsampled chroma is treated as centre-sited: it is interpolated with
 * the `filter` of the Cb task (bicubic, bilinear or nearest, centres
 * aligned, as espcn_upscale_plane() does) before the conversion, and the
 * output's chroma is the mean of the R, G, B of the output pixels each sample
 * covers, converted. A network task whose `components` is more than 1 is a
 * packed plane: `components` samples per pixel, data pointing at the task's
 * own sample of the first pixel (rgb24: 3, at R, G, B), in and out alike.
 * RGB of full range with planar tasks goes to the network as it is; anything
 * else through 16-bit R, G, B planes the context holds (3 · 2 bytes per input
 * pixel and per output pixel; part of espcn_memory_info's working_bytes).
 */
typedef struct espcn_frame {
    const espcn_plane_task *tasks;
    int num_tasks;
    espcn_matrix matrix;
    espcn_range range;
} espcn_frame;

#if !defined(__cplusplus) || __cplusplus >= 202002L
#define ESPCN_FRAME_INIT                                                             \
    { .tasks = NULL, .num_tasks = 0, .matrix = ESPCN_MATRIX_RGB, .range = ESPCN_RANGE_FULL }
#else
#define ESPCN_FRAME_INIT { NULL, 0, ESPCN_MATRIX_RGB, ESPCN_RANGE_FULL }
#endif

/* Frames that may be in flight at once: 1 on the CPU backends, where
 * espcn_submit_frame() does all the work; more on the cuda backend. */
ESPCN_API int espcn_frame_queue_depth(const espcn_context *ctx);

/* Frames submitted and not yet received. */
ESPCN_API int espcn_frames_in_flight(const espcn_context *ctx);

/*
 * Starts a frame of host-memory planes. Every input is read before this
 * returns (its buffer may be reused at once); the outputs must stay valid and
 * untouched until the frame is received. Fails (and starts nothing) when
 * espcn_frame_queue_depth() frames are already in flight, or a task is
 * invalid. Frames complete in submission order.
 */
ESPCN_API espcn_status espcn_submit_frame(espcn_context *ctx, const espcn_plane_task *tasks,
                                          int num_tasks);

/* espcn_submit_frame() of frame->tasks, converting colour as frame says
 * (espcn_frame). The converted planes are written back when the frame is
 * received. */
ESPCN_API espcn_status espcn_submit(espcn_context *ctx, const espcn_frame *frame);

/* Waits for the oldest frame in flight; on ESPCN_OK its outputs hold the
 * result. On failure that frame is dropped (its outputs are undefined). */
ESPCN_API espcn_status espcn_receive_frame(espcn_context *ctx);

/*
 * cuda backend only: every plane in device memory (of the context's device,
 * or its CUDA context), the work enqueued on cuda_stream (a cudaStream_t or
 * CUstream; NULL, the legacy default stream, is refused) and not waited for.
 * Frames on different streams are ordered by the library. Other backends:
 * ESPCN_ERROR_UNSUPPORTED.
 */
ESPCN_API espcn_status espcn_cuda_enqueue_frame(espcn_context *ctx, const espcn_plane_task *tasks,
                                                int num_tasks, void *cuda_stream);

/* espcn_cuda_enqueue_frame() of frame->tasks, converting colour on the GPU
 * as frame says (espcn_frame). UNVERIFIED: no GPU has run it. */
ESPCN_API espcn_status espcn_cuda_enqueue(espcn_context *ctx, const espcn_frame *frame,
                                          void *cuda_stream);

/*
 * Where shipped models live: $ESPCN_MODEL_DIR if set, else share/espcn/models
 * found relative to the installed library itself (<prefix>/lib/../share/...,
 * so a moved prefix still works; the build tree mirrors that layout), else
 * the install location configured at build time. The string is valid on the
 * calling thread until its next call. default-x<scale>.safetensors there is the
 * default model for a scale (a copy of the best shipped model, weights/DEFAULTS);
 * every shipped model is also there under its own name.
 */
ESPCN_API const char *espcn_default_model_dir(void);

/* Message of the last failed call on this thread ("" if none). */
ESPCN_API const char *espcn_last_error(void);

ESPCN_API const char *espcn_status_string(espcn_status status);
ESPCN_API const char *espcn_backend_name(espcn_backend backend);
ESPCN_API const char *espcn_precision_name(espcn_precision precision);

/* 1 if the backend is compiled in and usable on this machine now, else 0.
 * For cuda: a driver, device 0 and cuDNN are present (loaded on this call).
 * For cpu-fast: the CPU has a vector unit it has kernels for (AVX2, AVX-512,
 * NEON); elsewhere it still runs when asked for by name, in portable code. */
ESPCN_API int espcn_backend_available(espcn_backend backend);

/* "MAJOR.MINOR.PATCH" of the library actually loaded. */
ESPCN_API const char *espcn_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ESPCN_ESPCN_H */
