// espcn-bench --cuda: the cuda backend per input size x scale x precision.
//
//   dev luma   the network on an 8-bit luma plane already in device memory,
//              enqueued on one stream (espcn_cuda_enqueue_frame's path)
//   dev 420    the same with both chroma planes (yuv420p) resampled on the GPU
//   convs      the cuDNN convolutions and bias/activation passes alone
//   host sync  a yuv420p frame in host memory, submitted and received at once
//   host pipe  the same through the frame queue (copies overlap the network)
//
// Device times come from CUDA events around a batch of frames; host times from
// the wall clock. The roofline: FLOPs of the network (useful MACs x 2) at the
// tensor rate measured here by one wide cuDNN convolution, and the bytes each
// layer reads and writes at the device-to-device copy bandwidth measured here;
// "of roof" = measured fps / the roofline's fps.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench_support.hpp"
#include "core/backend_registry.hpp"
#include "cuda/cuda_backend.hpp"

namespace espcn::bench {

namespace {

struct Ceilings {
    double copy_gbps = 0;      // device-to-device, bytes read + written per second / 1e9
    double tensor_tflops = 0;  // fp16 convolution on tensor cores
    double fp32_tflops = 0;    // fp32 convolution, FMA math
};

// Times `frames` calls of enqueue on `stream` with events, repeated until
// min_seconds have passed; returns seconds per call.
template <typename F>
Result<double> time_on_stream(cudaStream_t stream, double min_seconds, int min_iters, F &&enqueue) {
    cudaEvent_t start = nullptr, stop = nullptr;
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventCreate(&start));
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventCreate(&stop));
    struct Guard {
        cudaEvent_t a, b;
        ~Guard() { cudaEventDestroy(a); cudaEventDestroy(b); }
    } guard{start, stop};
    for (int i = 0; i < 3; ++i) ESPCN_RETURN_IF_ERROR(enqueue());  // warm-up: plans, clocks
    ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
    double total_ms = 0;
    long calls = 0;
    int batch = 4;
    while (total_ms < min_seconds * 1e3 || calls < min_iters) {
        ESPCN_CUDA_RETURN_IF_ERROR(cudaEventRecord(start, stream));
        for (int i = 0; i < batch; ++i) ESPCN_RETURN_IF_ERROR(enqueue());
        ESPCN_CUDA_RETURN_IF_ERROR(cudaEventRecord(stop, stream));
        ESPCN_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(stop));
        float ms = 0;
        ESPCN_CUDA_RETURN_IF_ERROR(cudaEventElapsedTime(&ms, start, stop));
        total_ms += ms;
        calls += batch;
        if (ms < 50) batch *= 2;
    }
    return total_ms * 1e-3 / static_cast<double>(calls);
}

Result<Ceilings> measure_ceilings(cudaStream_t stream, double min_seconds) {
    Ceilings c;
    const size_t bytes = size_t{1} << 30;
    Result<cuda::DeviceBuffer> a = cuda::DeviceBuffer::allocate(bytes), b = cuda::DeviceBuffer::allocate(bytes);
    ESPCN_RETURN_IF_ERROR(a.status());
    ESPCN_RETURN_IF_ERROR(b.status());
    Result<double> copy = time_on_stream(stream, min_seconds, 10, [&]() -> Status {
        ESPCN_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(b.value().get(), a.value().get(), bytes,
                                                   cudaMemcpyDeviceToDevice, stream));
        return Status::ok();
    });
    ESPCN_RETURN_IF_ERROR(copy.status());
    c.copy_gbps = 2.0 * static_cast<double>(bytes) / copy.value() * 1e-9;
    // One wide 3x3 convolution (256 -> 256 channels at 960x540): what cuDNN's
    // best kernels reach on this GPU, the compute roof of our networks.
    for (const espcn_precision p : {ESPCN_PRECISION_FP16, ESPCN_PRECISION_FP32}) {
        Network wide;
        wide.name = "roofline probe";
        wide.scale = 1;
        wide.in_channels = 256;
        wide.convs.resize(1);
        SplitMix64 rng(7);
        ConvLayer &l = wide.convs[0];
        l.in_channels = l.out_channels = 256;
        l.kernel = 3;
        l.weight.resize(size_t{256} * 256 * 9);
        for (float &w : l.weight) w = rng.uniform(-0.01f, 0.01f);
        l.bias.assign(256, 0.0f);
        Result<const cuda::CudnnApi *> api = cuda::cudnn_api();
        ESPCN_RETURN_IF_ERROR(api.status());
        auto shared = std::make_shared<const Network>(wide);
        Result<std::unique_ptr<cuda::CudnnNetwork>> net = cuda::CudnnNetwork::create(
            shared, p == ESPCN_PRECISION_FP16 ? cuda::TensorType::f16 : cuda::TensorType::f32,
            *api.value(), Logger());
        ESPCN_RETURN_IF_ERROR(net.status());
        const int w = 960, h = 540;
        ESPCN_RETURN_IF_ERROR(net.value()->configure(w, h, stream));
        Result<double> t = time_on_stream(stream, min_seconds, 5, [&] {
            return net.value()->enqueue_convs(1, false, stream);
        });
        ESPCN_RETURN_IF_ERROR(t.status());
        const double tflops = 2.0 * 256 * 256 * 9 * w * h / t.value() * 1e-12;
        (p == ESPCN_PRECISION_FP16 ? c.tensor_tflops : c.fp32_tflops) = tflops;
    }
    return c;
}

// Bytes the network moves per frame at its padded widths: each layer reads
// its input and writes its output, hidden layers read and write once more
// (bias + activation); plus the 8-bit planes and the input tensor.
double network_bytes(const Network &net, cuda::TensorType type, int w, int h) {
    const double es = type == cuda::TensorType::f16 ? 2 : 4, px = double(w) * h;
    double bytes = px + px * net.scale * net.scale;  // planes in and out
    bytes += px * cuda::padded_channels(1, type) * es;  // input tensor written
    for (size_t k = 0; k < net.convs.size(); ++k) {
        const ConvLayer &c = net.convs[k];
        bytes += px * es * (cuda::padded_channels(c.in_channels, type) + cuda::padded_channels(c.out_channels, type));
        if (k + 1 < net.convs.size()) bytes += 2 * px * es * cuda::padded_channels(c.out_channels, type);
    }
    return bytes;
}

}  // namespace

int run_cuda_bench(const Options &opts) {
    // What each scale times, resolved before the device is probed (so a
    // machine without a GPU still says it): --model's network, or else the
    // shipped default of the scale (default-x<r> in the models folder: what
    // ffmpeg -vf espcn runs), never a random stand-in.
    std::shared_ptr<const Network> model;
    if (!load_model_option(opts, model)) return 1;
    std::vector<std::pair<int, std::shared_ptr<const Network>>> nets;  // per scale; null: no model
    for (const int scale : scales_to_run(opts, model.get())) {
        std::shared_ptr<const Network> net = model;
        std::string path = opts.model_path;
        if (!net) {
            path = concat(espcn_default_model_dir(), "/default-x", scale, ".safetensors");
            Result<Network> loaded = load_model(path);
            if (loaded.is_ok())
                net = std::make_shared<const Network>(std::move(loaded).value());
            else
                std::fprintf(stderr, "espcn-bench --cuda: no --model, and the shipped default x%d: %s\n", scale,
                             loaded.status().message().c_str());
        }
        if (net)
            std::printf("# x%d times %s: %s, residual %s, %zu convolutions\n", scale, path.c_str(),
                        net->name.c_str(), residual_name(net->residual), net->convs.size());
        nets.emplace_back(scale, std::move(net));
    }
    std::fflush(stdout);

    const Status usable = cuda_backend_usable(opts.device);
    if (!usable.is_ok()) {
        std::fprintf(stderr, "espcn-bench --cuda: %s\n", usable.message().c_str());
        return 1;
    }
    if (cudaSetDevice(opts.device) != cudaSuccess) return 1;
    cudaDeviceProp prop{};
    int driver = 0, runtime = 0;
    cudaGetDeviceProperties(&prop, opts.device);
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    Result<const cuda::CudnnApi *> api = cuda::cudnn_api();
    CsvWriter csv;
    if (!csv.open(opts.csv_path, {"model", "width", "height", "scale", "precision", "dev_luma_fps",
                                  "dev_420_fps", "conv_fps", "host_sync_fps", "host_pipe_fps",
                                  "gflop_per_frame", "mb_per_frame", "roof_fps", "of_roof"}))
        return 1;

    std::printf("%s\n", machine_header(opts).c_str());
    std::printf("# gpu %d: %s, sm_%d%d, %d SMs, %.0f GiB | driver %d, runtime %d, cuDNN %zu (%s)\n",
                opts.device, prop.name, prop.major, prop.minor, prop.multiProcessorCount,
                prop.totalGlobalMem / double(1 << 30), driver, runtime, api.value()->version,
                api.value()->library.c_str());
    Result<cuda::Stream> stream = cuda::make_stream();
    if (!stream.is_ok()) return 1;
    const cudaStream_t st = stream.value().get();
    Result<Ceilings> roof = measure_ceilings(st, opts.min_time_s);
    if (!roof.is_ok()) {
        std::fprintf(stderr, "espcn-bench --cuda: ceilings: %s\n", roof.status().message().c_str());
        return 1;
    }
    const Ceilings ceil = roof.value();
    std::printf("# measured ceilings: copy %.0f GB/s (read + write), fp16 tensor-core conv %.1f TFLOP/s,"
                " fp32 conv %.1f TFLOP/s (256->256 3x3 at 960x540)\n",
                ceil.copy_gbps, ceil.tensor_tflops, ceil.fp32_tflops);
    std::printf("# dev = planes in device memory, one stream, CUDA events; host = yuv420p in host"
                " memory, wall clock; pipe = frame queue of depth %d\n\n",
                cuda::CudaBackend::kFrameQueueDepth);
    const TextTable table({{"input", 9, true}, {"r", 1}, {"prec", 4, true}, {"dev luma", 9},
                           {"dev 420", 8}, {"convs", 8}, {"host sync", 9}, {"host pipe", 9},
                           {"GFLOP", 6}, {"MB", 6}, {"roof fps", 8}, {"of roof", 7}});
    table.print_header(stdout);

    int failures = 0;
    for (const FrameSize &size : opts.sizes)
        for (const auto &entry : nets)
            for (const espcn_precision precision : {ESPCN_PRECISION_FP32, ESPCN_PRECISION_FP16}) {
                const std::shared_ptr<const Network> &net = entry.second;
                if (!net) {
                    table.print_row(stdout, {size_string(size.width, size.height), std::to_string(entry.first),
                                             espcn_precision_name(precision), "no model"});
                    ++failures;
                    continue;
                }
                const int w = size.width, h = size.height, r = net->scale;
                const std::string input = size_string(w, h);
                const char *prec = espcn_precision_name(precision);
                auto fail = [&](const Status &s) {
                    std::fprintf(stderr, "espcn-bench --cuda: %s x%d %s: %s\n", input.c_str(), r, prec,
                                 s.message().c_str());
                    table.print_row(stdout, {input, std::to_string(r), prec, "failed"});
                    ++failures;
                };
                BackendConfig cfg;
                cfg.device = opts.device;
                cfg.precision = precision;
                Result<std::unique_ptr<Backend>> made = make_cuda_backend(net, cfg);
                if (!made.is_ok()) { fail(made.status()); continue; }
                auto &backend = static_cast<cuda::CudaBackend &>(*made.value());

                // Device planes: yuv420p 8-bit in and out.
                const int cw = (w + 1) / 2, ch = (h + 1) / 2, ow = w * r, oh = h * r;
                const int ocw = (ow + 1) / 2, och = (oh + 1) / 2;
                std::vector<cuda::DeviceBuffer> bufs;
                std::vector<espcn_plane_task> tasks;
                bool ok = true;
                const int dims[3][4] = {{w, h, ow, oh}, {cw, ch, ocw, och}, {cw, ch, ocw, och}};
                for (int p = 0; p < 3 && ok; ++p) {
                    Result<cuda::DeviceBuffer> in = cuda::DeviceBuffer::allocate(size_t(dims[p][0]) * dims[p][1]);
                    Result<cuda::DeviceBuffer> out = cuda::DeviceBuffer::allocate(size_t(dims[p][2]) * dims[p][3]);
                    ok = in.is_ok() && out.is_ok();
                    if (!ok) break;
                    cudaMemsetAsync(in.value().get(), 0x80 + 7 * p, in.value().size(), st);
                    espcn_plane_task t{};
                    t.in = espcn_plane{in.value().get(), dims[p][0], dims[p][0], dims[p][1], 8, 0};
                    t.out = espcn_plane{out.value().get(), dims[p][2], dims[p][2], dims[p][3], 8, 0};
                    t.resample = p > 0;
                    t.components = 1;
                    t.filter = ESPCN_RESAMPLE_BICUBIC;
                    tasks.push_back(t);
                    bufs.push_back(std::move(in).value());
                    bufs.push_back(std::move(out).value());
                }
                if (!ok) { fail(Status(ESPCN_ERROR_OUT_OF_MEMORY, "device planes")); continue; }
                auto to_backend = [&](size_t n) {
                    std::vector<PlaneTask> v;
                    for (size_t i = 0; i < n; ++i) {
                        PlaneTask t;
                        t.in = tasks[i].in;
                        t.out = tasks[i].out;
                        t.resample = tasks[i].resample != 0;
                        t.components = 1;
                        v.push_back(t);
                    }
                    return v;
                };
                const std::vector<PlaneTask> luma = to_backend(1), frame420 = to_backend(3);
                Result<double> dev_luma = time_on_stream(st, opts.min_time_s, opts.min_iters, [&] {
                    return backend.enqueue_device_frame(luma, st, FrameColor());
                });
                Result<double> dev_420 = time_on_stream(st, opts.min_time_s, opts.min_iters, [&] {
                    return backend.enqueue_device_frame(frame420, st, FrameColor());
                });
                const int layers = static_cast<int>(net->convs.size());
                Result<double> convs = time_on_stream(st, opts.min_time_s, opts.min_iters, [&] {
                    return backend.network().enqueue_convs(layers, true, st);
                });
                if (!dev_luma.is_ok() || !dev_420.is_ok() || !convs.is_ok()) {
                    fail(!dev_luma.is_ok() ? dev_luma.status() : !dev_420.is_ok() ? dev_420.status() : convs.status());
                    continue;
                }

                // Host frames: yuv420p in pageable host memory.
                std::vector<std::vector<uint8_t>> host(6);
                std::vector<PlaneTask> host_tasks = frame420;
                for (int p = 0; p < 3; ++p) {
                    host[2 * p].assign(size_t(dims[p][0]) * dims[p][1], static_cast<uint8_t>(0x80 + p));
                    host[2 * p + 1].assign(size_t(dims[p][2]) * dims[p][3], 0);
                    host_tasks[p].in.data = host[2 * p].data();
                    host_tasks[p].out.data = host[2 * p + 1].data();
                }
                using clock = std::chrono::steady_clock;
                auto wall = [&](bool pipelined) -> Result<double> {
                    const int depth = pipelined ? backend.frame_queue_depth() : 1;
                    for (int i = 0; i < 3; ++i) {  // warm-up
                        ESPCN_RETURN_IF_ERROR(backend.submit_frame(host_tasks));
                        ESPCN_RETURN_IF_ERROR(backend.receive_frame());
                    }
                    long frames = 0;
                    const auto start = clock::now();
                    double seconds = 0;
                    while (seconds < opts.min_time_s || frames < opts.min_iters) {
                        if (backend.frames_in_flight() == depth) ESPCN_RETURN_IF_ERROR(backend.receive_frame());
                        ESPCN_RETURN_IF_ERROR(backend.submit_frame(host_tasks));
                        ++frames;
                        seconds = std::chrono::duration<double>(clock::now() - start).count();
                    }
                    while (backend.frames_in_flight() > 0) ESPCN_RETURN_IF_ERROR(backend.receive_frame());
                    return std::chrono::duration<double>(clock::now() - start).count() / frames;
                };
                Result<double> sync = wall(false), pipe = wall(true);
                if (!sync.is_ok() || !pipe.is_ok()) {
                    fail(!sync.is_ok() ? sync.status() : pipe.status());
                    continue;
                }
                const cuda::TensorType type = backend.network().type();
                const double flop = 2.0 * net->macs_per_lr_pixel() * w * h;
                const double bytes = network_bytes(*net, type, w, h);
                const double rate = (type == cuda::TensorType::f16 ? ceil.tensor_tflops : ceil.fp32_tflops) * 1e12;
                const double roof_s = std::max(flop / rate, bytes / (ceil.copy_gbps * 1e9));
                const double fps = 1.0 / dev_luma.value();
                table.print_row(stdout, {input, std::to_string(r), prec, fixed(fps, 1),
                                         fixed(1.0 / dev_420.value(), 1), fixed(1.0 / convs.value(), 1),
                                         fixed(1.0 / sync.value(), 1), fixed(1.0 / pipe.value(), 1),
                                         fixed(flop * 1e-9, 1), fixed(bytes * 1e-6, 0),
                                         fixed(1.0 / roof_s, 0), fixed(fps * roof_s, 3)});
                csv.row({net->name, std::to_string(w), std::to_string(h), std::to_string(r), prec,
                         fixed(fps, 3), fixed(1.0 / dev_420.value(), 3), fixed(1.0 / convs.value(), 3),
                         fixed(1.0 / sync.value(), 3), fixed(1.0 / pipe.value(), 3), fixed(flop * 1e-9, 4),
                         fixed(bytes * 1e-6, 3), fixed(1.0 / roof_s, 3), fixed(fps * roof_s, 4)});
            }
    std::printf("\n# fps per column; roof fps = 1 / max(FLOPs / tensor rate, bytes / copy bandwidth);"
                " of roof = dev luma fps / roof fps\n");
    return failures ? 1 : 0;
}

}  // namespace espcn::bench
