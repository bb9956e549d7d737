#include "cudnn_network.hpp"

#include <cuda_fp16.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "../core/sample_access.hpp"
#include "algorithm_choice.hpp"
#include "bias_activation.cuh"
#include "plane_to_tensor.cuh"
#include "shuffle_encode.cuh"

namespace espcn::cuda {

namespace {

cudnnDataType_t data_type(TensorType t) {
    return t == TensorType::f16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
}

size_t element_size(TensorType t) { return t == TensorType::f16 ? 2 : 4; }

bool heuristic_only() {
    const char *env = std::getenv("ESPCN_CUDNN_SEARCH");
    return env && std::strcmp(env, "heuristic") == 0;
}

Result<DeviceBuffer> upload_floats(const std::vector<float> &v, cudaStream_t stream) {
    Result<DeviceBuffer> b = DeviceBuffer::allocate(v.size() * sizeof(float));
    ESPCN_RETURN_IF_ERROR(b.status());
    if (!v.empty())
        ESPCN_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(b.value().get(), v.data(), v.size() * sizeof(float),
                                                   cudaMemcpyHostToDevice, stream));
    return b;
}

}  // namespace

int padded_channels(int channels, TensorType type) {
    return padded_channels(channels, type == TensorType::f16);
}

Result<std::unique_ptr<CudnnNetwork>> CudnnNetwork::create(std::shared_ptr<const Network> net,
                                                           TensorType type, const CudnnApi &api,
                                                           Logger log) {
    ESPCN_RETURN_IF(net->convs.empty(), ESPCN_ERROR_MODEL, "'", net->name, "' has no convolution");
    std::unique_ptr<CudnnNetwork> n(new CudnnNetwork(std::move(net), type, api, std::move(log)));
    cudnnHandle_t h = nullptr;
    ESPCN_CUDNN_RETURN_IF_ERROR(api, api.cudnnCreate(&h));
    n->handle_ = CudnnHandle(h, api.cudnnDestroy);
    Result<Event> last_work = make_event();
    ESPCN_RETURN_IF_ERROR(last_work.status());
    n->last_work_ = std::move(last_work).value();
    // Weights go up on a stream of our own (creation has no caller's stream).
    Result<Stream> upload = make_stream();
    ESPCN_RETURN_IF_ERROR(upload.status());
    ESPCN_RETURN_IF_ERROR(n->upload_layers(upload.value().get()));
    ESPCN_RETURN_IF_ERROR(synchronize(upload.value().get()));
    return n;
}

Status CudnnNetwork::upload_layers(cudaStream_t stream) {
    const cudnnDataType_t dt = data_type(type_);
    for (const ConvLayer &c : net_->convs) {
        Layer L;
        L.in_pad = padded_channels(c.in_channels, type_);
        L.out_pad = padded_channels(c.out_channels, type_);
        L.activation = c.activation;
        // (out, in, ky, kx) → cuDNN's NHWC filter (out_pad, ky, kx, in_pad), zero padded.
        const size_t count = static_cast<size_t>(L.out_pad) * c.kernel * c.kernel * L.in_pad;
        std::vector<float> w(count, 0.0f);
        for (int o = 0; o < c.out_channels; ++o)
            for (int ky = 0; ky < c.kernel; ++ky)
                for (int kx = 0; kx < c.kernel; ++kx)
                    for (int i = 0; i < c.in_channels; ++i)
                        w[((static_cast<size_t>(o) * c.kernel + ky) * c.kernel + kx) * L.in_pad + i] =
                            c.w(o, i, ky, kx);
        // The host copy must outlive the asynchronous upload: synchronize per layer.
        std::vector<__half> h;
        const void *host = w.data();
        if (type_ == TensorType::f16) {
            h.resize(count);
            for (size_t i = 0; i < count; ++i) h[i] = __float2half_rn(w[i]);
            host = h.data();
        }
        Result<DeviceBuffer> wb = DeviceBuffer::allocate(count * element_size(type_));
        ESPCN_RETURN_IF_ERROR(wb.status());
        L.weight = std::move(wb).value();
        ESPCN_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(L.weight.get(), host, L.weight.size(),
                                                   cudaMemcpyHostToDevice, stream));
        Result<DeviceBuffer> bias = upload_floats(c.bias, stream);
        ESPCN_RETURN_IF_ERROR(bias.status());
        L.bias = std::move(bias).value();
        if (c.activation == Activation::prelu) {
            Result<DeviceBuffer> slope = upload_floats(c.prelu_slope, stream);
            ESPCN_RETURN_IF_ERROR(slope.status());
            L.slope = std::move(slope).value();
        }
        ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));

        cudnnFilterDescriptor_t f = nullptr;
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnCreateFilterDescriptor(&f));
        L.filter = FilterDescriptor(f, api_.cudnnDestroyFilterDescriptor);
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetFilter4dDescriptor(
                                              f, dt, CUDNN_TENSOR_NHWC, L.out_pad, L.in_pad,
                                              c.kernel, c.kernel));
        cudnnConvolutionDescriptor_t cd = nullptr;
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnCreateConvolutionDescriptor(&cd));
        L.conv = ConvolutionDescriptor(cd, api_.cudnnDestroyConvolutionDescriptor);
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetConvolution2dDescriptor(
                                              cd, c.pad(), c.pad(), 1, 1, 1, 1,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetConvolutionMathType(cd, search_math(type_)));
        layers_.push_back(std::move(L));
    }
    return Status::ok();
}

Status CudnnNetwork::ensure_buffers(int width, int height) {
    const size_t pixels = static_cast<size_t>(width) * height;
    int widest = 0;
    for (const Layer &L : layers_) widest = std::max(widest, L.out_pad);
    const size_t act = pixels * widest * element_size(type_);
    const size_t in = pixels * layers_.front().in_pad * element_size(type_);
    // Each frees its old block before allocating: peak memory stays one copy.
    ESPCN_RETURN_IF_ERROR(ping_.reserve(act));
    ESPCN_RETURN_IF_ERROR(pong_.reserve(act));
    return input_.reserve(in);
}

Status CudnnNetwork::choose_algorithm(int k, Plan &p, int width, int height, size_t max_workspace) {
    const Layer &L = layers_[k];
    // cuDNN searches under the descriptor's math type: the layer's widest
    // allowed one (run_layer() leaves the previous plan's there).
    ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetConvolutionMathType(L.conv.get(), search_math(type_)));
    int max_count = 0;
    ESPCN_CUDNN_RETURN_IF_ERROR(
        api_, api_.cudnnGetConvolutionForwardAlgorithmMaxCount(handle_.get(), &max_count));
    max_count = std::max(max_count, 1);
    std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked(max_count);
    int n = 0;
    ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnGetConvolutionForwardAlgorithm_v7(
                                          handle_.get(), p.x.get(), L.filter.get(), L.conv.get(),
                                          p.y.get(), max_count, &n, ranked.data()));
    ranked.resize(n);
    // The workspace an algorithm needs with its math type set (what
    // run_layer() sets before the convolution), not the perf struct's estimate.
    auto workspace_of = [&](cudnnConvolutionFwdAlgo_t algo, cudnnMathType_t math) -> Result<size_t> {
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetConvolutionMathType(L.conv.get(), math));
        size_t bytes = 0;
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnGetConvolutionForwardWorkspaceSize(
                                              handle_.get(), p.x.get(), L.filter.get(), L.conv.get(),
                                              p.y.get(), algo, &bytes));
        return bytes;
    };
    size_t search_workspace = 0;
    for (const auto &r : ranked) {
        const char *why = nullptr;
        if (!candidate_usable(type_, r, &why)) continue;
        Result<size_t> bytes = workspace_of(r.algo, r.mathType);
        if (bytes.is_ok() && bytes.value() <= max_workspace)
            search_workspace = std::max(search_workspace, bytes.value());
    }
    ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetConvolutionMathType(L.conv.get(), search_math(type_)));

    // Benchmark the candidates on this shape (PyTorch's cudnn.benchmark);
    // the heuristic order is the fallback.
    std::vector<cudnnConvolutionFwdAlgoPerf_t> measured;
    if (!heuristic_only()) {
        Result<DeviceBuffer> ws = DeviceBuffer::allocate(search_workspace);
        if (ws.is_ok()) {
            measured.resize(max_count);
            int m = 0;
            const void *src = k == 0 ? input_.get() : (k % 2 ? ping_.get() : pong_.get());
            void *dst = k % 2 ? pong_.get() : ping_.get();
            const cudnnStatus_t st = api_.cudnnFindConvolutionForwardAlgorithmEx(
                handle_.get(), p.x.get(), src, L.filter.get(), L.weight.get(), L.conv.get(),
                p.y.get(), dst, max_count, &m, measured.data(), ws.value().get(), search_workspace);
            measured.resize(st == CUDNN_STATUS_SUCCESS ? m : 0);
            if (st != CUDNN_STATUS_SUCCESS)
                log_.debug(concat("cuda: layer ", k, ": cudnnFindConvolutionForwardAlgorithmEx: ",
                                  api_.cudnnGetErrorString(st), "; using the heuristic ranking"));
        }
    }
    Result<AlgorithmChoice> chosen = espcn::cuda::choose_algorithm(type_, measured, ranked, max_workspace,
                                                                   workspace_of);
    if (!chosen.is_ok())
        return std::move(chosen).status().with_context(
            concat("layer ", k, " at ", width, "x", height, ": "));
    const AlgorithmChoice &c = chosen.value();
    p.algo = c.algo;
    p.math = c.math;
    p.workspace = c.workspace;
    log_.debug(concat("cuda: layer ", k, " at ", width, "x", height, ": algorithm ",
                      static_cast<int>(c.algo), " (", algorithm_name(c.algo), "), math ",
                      math_name(c.math), ", workspace ", c.workspace, " bytes, deterministic",
                      c.measured ? concat(", ", c.measured_ms, " ms measured") : ", heuristic"));
    return Status::ok();
}

Status CudnnNetwork::plan_shape(int width, int height, size_t max_workspace, std::vector<Plan> &plans) {
    const cudnnDataType_t dt = data_type(type_);
    plans.clear();
    for (size_t k = 0; k < layers_.size(); ++k) {
        const Layer &L = layers_[k];
        Plan p;
        cudnnTensorDescriptor_t x = nullptr, y = nullptr;
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnCreateTensorDescriptor(&x));
        p.x = TensorDescriptor(x, api_.cudnnDestroyTensorDescriptor);
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnCreateTensorDescriptor(&y));
        p.y = TensorDescriptor(y, api_.cudnnDestroyTensorDescriptor);
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetTensor4dDescriptor(
                                              x, CUDNN_TENSOR_NHWC, dt, 1, L.in_pad, height, width));
        ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetTensor4dDescriptor(
                                              y, CUDNN_TENSOR_NHWC, dt, 1, L.out_pad, height, width));
        ESPCN_RETURN_IF_ERROR(choose_algorithm(static_cast<int>(k), p, width, height, max_workspace));
        plans.push_back(std::move(p));
    }
    return Status::ok();
}

Status CudnnNetwork::configure(int width, int height, cudaStream_t stream) {
    if (shape_ == Shape{width, height}) return Status::ok();
    // cuDNN indexes tensors with 32-bit integers: a caller's bands keep
    // under the limit (plan_device_bands); a direct caller is refused here.
    ESPCN_RETURN_IF(int64_t{height} > element_row_cap(footprint_, width), ESPCN_ERROR_UNSUPPORTED,
                    "a ", width, "x", height, " band holds more than cuDNN's ", kMaxTensorElements,
                    " elements in a tensor");
    // Buffers may be replaced below: let work already queued on them finish.
    ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
    shape_ = Shape{0, 0};
    current_ = nullptr;
    ESPCN_RETURN_IF_ERROR(ensure_buffers(width, height));
    // The input's padding channels must read zero in the new layout.
    ESPCN_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(input_.get(), 0, input_.size(), stream));
    ESPCN_RETURN_IF_ERROR(record_work(stream));
    ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetStream(handle_.get(), stream));
    const std::vector<Plan> *plans = plans_.find(Shape{width, height});
    if (!plans) {
        // A new shape: cuDNN's search runs here, on the calling thread
        // (logged with its time: the first frame of a size pays it).
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<Plan> made;
        ESPCN_RETURN_IF_ERROR(plan_shape(width, height,
                                         workspace_allowance(activation_bytes(footprint_, width, height)), made));
        plans = &plans_.put(Shape{width, height}, std::move(made));
        log_.info(concat("cuda: planned ", width, "x", height, " (", layers_.size(), " layers, ",
                         heuristic_only() ? "heuristic" : "benchmarked", ") in ",
                         std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                         " ms; ", plans_.size(), " of ", kPlannedShapes, " shapes kept"));
    }
    size_t ws = 0;
    for (const Plan &p : *plans) ws = std::max(ws, p.workspace);
    ESPCN_RETURN_IF_ERROR(workspace_.reserve(ws));
    current_ = plans;
    shape_ = Shape{width, height};
    return Status::ok();
}

size_t CudnnNetwork::state_bytes() const {
    size_t n = 0;
    for (const Layer &L : layers_) n += L.weight.size() + L.bias.size() + L.slope.size();
    return n;
}

Status CudnnNetwork::release_buffers() {
    if (last_work_.get()) ESPCN_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(last_work_.get()));
    input_.release();
    ping_.release();
    pong_.release();
    workspace_.release();
    shape_ = Shape{0, 0};
    current_ = nullptr;
    return Status::ok();
}

Status CudnnNetwork::run_layer(int k, const void *src, void *dst, bool finish, cudaStream_t stream) {
    const Layer &L = layers_[k];
    const Plan &p = (*current_)[k];
    const float one = 1.0f, zero = 0.0f;  // float scaling factors for fp16 data too
    ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetConvolutionMathType(L.conv.get(), p.math));
    ESPCN_CUDNN_RETURN_IF_ERROR(
        api_, api_.cudnnConvolutionForward(handle_.get(), &one, p.x.get(), src, L.filter.get(),
                                           L.weight.get(), L.conv.get(), p.algo, workspace_.get(),
                                           p.workspace, &zero, p.y.get(), dst));
    if (!finish) return Status::ok();
    BiasActivationParams b;
    b.data = dst;
    b.type = type_;
    b.pixels = static_cast<int64_t>(shape_.first) * shape_.second;
    b.channels = net_->convs[k].out_channels;
    b.channel_stride = L.out_pad;
    b.bias = static_cast<const float *>(L.bias.get());
    b.prelu_slope = static_cast<const float *>(L.slope.get());
    b.activation = L.activation;
    ESPCN_CUDA_RETURN_IF_ERROR(launch_bias_activation(b, stream));
    return Status::ok();
}

TensorView CudnnNetwork::input_tensor() const {
    return TensorView{input_.get(), type_, shape_.first, shape_.second,
                      net_->convs.front().in_channels, layers_.front().in_pad};
}

TensorView CudnnNetwork::layer_output(int k) const {
    return TensorView{k % 2 ? pong_.get() : ping_.get(), type_, shape_.first, shape_.second,
                      net_->convs[k].out_channels, layers_[k].out_pad};
}

Status CudnnNetwork::enqueue_convs(int count, bool finish_last, cudaStream_t stream, const CancelCheck &cancel) {
    ESPCN_RETURN_IF(shape_.first == 0, ESPCN_ERROR_INTERNAL, "enqueue_convs before configure");
    ESPCN_RETURN_IF(count < 1 || count > static_cast<int>(layers_.size()), ESPCN_ERROR_INTERNAL,
                    "enqueue_convs: ", count, " layers of ", layers_.size());
    ESPCN_CUDNN_RETURN_IF_ERROR(api_, api_.cudnnSetStream(handle_.get(), stream));
    const void *src = input_.get();
    for (int k = 0; k < count; ++k) {
        if (cancel.requested()) {
            ESPCN_RETURN_IF_ERROR(record_work(stream));  // teardown waits for what was enqueued
            return cancelled();
        }
        void *dst = layer_output(k).data;
        ESPCN_RETURN_IF_ERROR(run_layer(k, src, dst, k + 1 < count || finish_last, stream));
        src = dst;
    }
    return record_work(stream);
}

Status CudnnNetwork::enqueue_planes(Planes planes_in, Planes out, const RowTilePlan &bands, cudaStream_t stream,
                                    const CancelCheck &cancel) {
    ESPCN_RETURN_IF(planes_in.size() != static_cast<size_t>(net_->in_channels) ||
                        out.size() != static_cast<size_t>(net_->out_channels),
                    ESPCN_ERROR_INTERNAL, "cuda: a pass of ", planes_in.size(), " -> ", out.size(),
                    " planes for a network of ", net_->in_channels, " -> ", net_->out_channels);
    const espcn_plane &in = planes_in.front();
    for (const espcn_plane &p : planes_in)
        ESPCN_RETURN_IF(p.width != in.width || p.height != in.height, ESPCN_ERROR_INTERNAL,
                        "cuda: a pass of planes of different sizes (", p.width, "x", p.height, " and ", in.width,
                        "x", in.height, ")");
    ESPCN_RETURN_IF(net_->residual == Residual::nearest && planes_in.size() < out.size(), ESPCN_ERROR_INTERNAL,
                    "cuda: a residual network of ", planes_in.size(), " -> ", out.size(), " planes");
    ESPCN_RETURN_IF(bands.height != in.height || bands.count < 1, ESPCN_ERROR_INTERNAL,
                    "enqueue_planes: bands planned for ", bands.height, " rows, the planes have ", in.height);
    const int r = net_->scale;
    const int last = static_cast<int>(layers_.size()) - 1;
    const size_t esize = element_size(type_);
    for (int i = 0; i < bands.count; ++i) {
        const RowTile band = bands.tile(i);
        if (band.out_end <= band.out_begin) continue;
        if (cancel.requested()) return cancelled();
        // Every band has the same shape: one plan, buffers made once.
        ESPCN_RETURN_IF_ERROR(configure(in.width, band.in_rows(), stream));
        const TensorView input = input_tensor();
        // Channel c of the NHWC input tensor is plane c (the band's rows, halo included).
        for (size_t c = 0; c < planes_in.size(); ++c) {
            const espcn_plane &p = planes_in[c];
            PlaneToTensorParams d;
            d.src = sample_row(p.data, p.stride, band.in_begin);
            d.src_stride = p.stride;
            d.width = p.width;
            d.height = band.in_rows();
            d.bit_depth = p.bit_depth;
            d.shift = p.shift;
            d.range = net_->range;
            d.dst = static_cast<uint8_t *>(input.data) + c * esize;
            d.dst_pixel_stride = input.pixel_stride;
            d.dst_row_stride = static_cast<ptrdiff_t>(input.pixel_stride) * in.width;
            d.dst_type = type_;
            ESPCN_CUDA_RETURN_IF_ERROR(launch_plane_to_tensor(d, stream));
        }

        ESPCN_RETURN_IF_ERROR(enqueue_convs(last + 1, false, stream, cancel));

        // The band's exact rows [out_begin, out_end) of the LR output, as HR
        // rows, one launch per image channel.
        const TensorView lr = layer_output(last);
        const ptrdiff_t lr_row = static_cast<ptrdiff_t>(lr.pixel_stride) * in.width;  // elements
        for (size_t c = 0; c < out.size(); ++c) {
            const espcn_plane &o = out[c];
            ShuffleEncodeParams s;
            s.src = static_cast<const uint8_t *>(lr.data) +
                    static_cast<ptrdiff_t>(band.out_begin - band.in_begin) * lr_row * static_cast<ptrdiff_t>(esize);
            s.src_type = type_;
            s.src_pixel_stride = lr.pixel_stride;
            s.src_row_stride = lr_row;
            s.src_channel_stride = 1;
            s.lr_width = in.width;
            s.lr_height = band.out_end - band.out_begin;
            s.scale = r;
            s.order = net_->order;
            s.channel = static_cast<int>(c);
            s.channels = net_->out_channels;
            s.bias = static_cast<const float *>(layers_[last].bias.get());
            s.prelu_slope = static_cast<const float *>(layers_[last].slope.get());
            s.activation = layers_[last].activation;
            s.range = net_->range;
            if (net_->residual == Residual::nearest) {
                // Channel c's input plane, decoded again in fp32 by the
                // kernel: the fp16 tensor's copy of it is rounded to 11 bits.
                const espcn_plane &p = planes_in[c];
                s.residual = sample_row(p.data, p.stride, band.out_begin);
                s.residual_stride = p.stride;
                s.residual_bit_depth = p.bit_depth;
                s.residual_shift = p.shift;
            }
            s.dst = sample_row(o.data, o.stride, band.out_begin * r);
            s.dst_stride = o.stride;
            s.dst_width = o.width;
            s.dst_height = std::min(o.height - band.out_begin * r, (band.out_end - band.out_begin) * r);
            s.dst_bit_depth = o.bit_depth;
            s.dst_shift = o.shift;
            ESPCN_CUDA_RETURN_IF_ERROR(launch_shuffle_encode(s, stream));
        }
        ESPCN_RETURN_IF_ERROR(record_work(stream));
    }
    return Status::ok();
}

Status CudnnNetwork::record_work(cudaStream_t stream) {
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventRecord(last_work_.get(), stream));
    return Status::ok();
}

CudnnNetwork::~CudnnNetwork() {
    // The buffers and handle below may still be in use by work queued on a
    // caller's stream: wait for the last of it before they are freed.
    if (last_work_.get()) (void)cudaEventSynchronize(last_work_.get());
}

}  // namespace espcn::cuda
