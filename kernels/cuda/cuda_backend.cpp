#include "cuda_backend.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "../core/color_frames.hpp"
#include "color_convert.cuh"
#include "plane_upscale.cuh"

namespace espcn {

Status cuda_backend_usable(int device) {
    ESPCN_RETURN_IF_ERROR(cuda::probe_device(device));
    Result<const cuda::CudnnApi *> api = cuda::cudnn_api();
    return api.status();
}

Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const Network> net,
                                                   const BackendConfig &cfg) {
    return cuda::CudaBackend::create(std::move(net), cfg);
}

namespace cuda {

namespace {

size_t row_bytes(const espcn_plane &p, int components) {
    return static_cast<size_t>(p.width) * components * (p.bit_depth > 8 ? 2 : 1);
}

// The same plane, packed (stride = row bytes) at `base`.
espcn_plane packed_at(const espcn_plane &p, int components, void *base) {
    espcn_plane q = p;
    q.data = base;
    q.stride = static_cast<ptrdiff_t>(row_bytes(p, components));
    return q;
}

void copy_rows(const espcn_plane &from, const espcn_plane &to, int components) {
    const size_t n = row_bytes(from, components);
    for (int y = 0; y < from.height; ++y)
        std::memcpy(static_cast<uint8_t *>(to.data) + y * to.stride,
                    static_cast<const uint8_t *>(from.data) + y * from.stride, n);
}

}  // namespace

Result<std::unique_ptr<Backend>> CudaBackend::create(std::shared_ptr<const Network> net,
                                                     const BackendConfig &cfg) {
    ESPCN_RETURN_IF(net->in_channels != net->out_channels || net->in_channels > kMaxPassPlanes,
                    ESPCN_ERROR_UNSUPPORTED, "the cuda backend runs networks of as many planes out as in; '",
                    net->name, "' maps ", net->in_channels, " to ", net->out_channels, " channels");
    std::unique_ptr<CudaBackend> b(new CudaBackend(cfg.device, cfg.use_current_context, cfg.log, cfg.cancel,
                                                   cfg.memory_budget ? cfg.memory_budget : SIZE_MAX));
    int count = 0;
    ESPCN_CUDA_RETURN_IF_ERROR(cudaGetDeviceCount(&count));  // says why when there is no driver
    if (!cfg.use_current_context) ESPCN_RETURN_IF_ERROR(probe_device(cfg.device));
    Result<const CudnnApi *> api = cudnn_api();
    ESPCN_RETURN_IF_ERROR(api.status());
    Result<const DriverContextApi *> driver = driver_context_api();
    ESPCN_RETURN_IF_ERROR(driver.status());
    b->driver_ = driver.value();
    const DriverContextApi &drv = *b->driver_;
    CUcontext caller = nullptr;
    CUresult cu = drv.ctx_get_current(&caller);
    ESPCN_RETURN_IF(cu != CUDA_SUCCESS, ESPCN_ERROR_BACKEND, driver_error(drv, "cuCtxGetCurrent", cu));
    if (cfg.use_current_context) {
        // The caller's context decides the device.
        ESPCN_RETURN_IF(!caller, ESPCN_ERROR_INVALID_ARGUMENT,
                        "cuda_use_current_context is set, but no CUDA context is current on the "
                        "calling thread");
        b->context_ = caller;
        ESPCN_CUDA_RETURN_IF_ERROR(cudaGetDevice(&b->device_));
    } else {
        // Device N's primary context (the one the runtime uses for it): made
        // current once to learn its handle, then the caller's again.
        const cudaError_t set = cudaSetDevice(cfg.device);
        const cudaError_t init = set == cudaSuccess ? cudaFree(nullptr) : set;
        CUcontext primary = nullptr;
        if (init == cudaSuccess) cu = drv.ctx_get_current(&primary);
        const CUresult restored = drv.ctx_set_current(caller);
        ESPCN_CUDA_RETURN_IF_ERROR(set);
        ESPCN_CUDA_RETURN_IF_ERROR(init);
        ESPCN_RETURN_IF(cu != CUDA_SUCCESS || !primary, ESPCN_ERROR_BACKEND,
                        driver_error(drv, "cuCtxGetCurrent", cu), " (device ", cfg.device,
                        "'s primary context)");
        ESPCN_RETURN_IF(restored != CUDA_SUCCESS, ESPCN_ERROR_BACKEND,
                        driver_error(drv, "cuCtxSetCurrent", restored), " (the caller's context)");
        b->context_ = primary;
    }
    ContextScope scope(drv, b->context_);
    ESPCN_RETURN_IF_ERROR(b->enter(scope));

    cudaDeviceProp prop{};
    ESPCN_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, b->device_));
    const bool tensor_cores = prop.major >= 7;
    TensorType type = TensorType::f16;
    if (cfg.precision == ESPCN_PRECISION_FP32 ||
        (cfg.precision == ESPCN_PRECISION_AUTO && !tensor_cores))
        type = TensorType::f32;

    auto res = std::make_unique<Resources>();
    Result<std::unique_ptr<CudnnNetwork>> n = CudnnNetwork::create(net, type, *api.value(), cfg.log);
    ESPCN_RETURN_IF_ERROR(n.status());
    res->network = std::move(n).value();
    for (Stream *s : {&res->upload, &res->compute, &res->download}) {
        Result<Stream> created = make_stream();
        ESPCN_RETURN_IF_ERROR(created.status());
        *s = std::move(created).value();
    }
    std::vector<Event *> events{&res->network_done};
    for (Slot &slot : res->slots)
        for (Event *e : {&slot.uploaded, &slot.computed, &slot.downloaded}) events.push_back(e);
    for (Event *e : events) {
        Result<Event> created = make_event();
        ESPCN_RETURN_IF_ERROR(created.status());
        *e = std::move(created).value();
    }
    b->res_ = std::move(res);
    cfg.log.info(concat("cuda: device ", b->device_, " (", prop.name, ", sm_", prop.major,
                        prop.minor, "), cuDNN ", api.value()->version, ", ",
                        type == TensorType::f16 ? "fp16 tensors, fp32 accumulation" : "fp32",
                        b->use_current_context_ ? ", in the caller's CUDA context" : "",
                        b->budget_ == SIZE_MAX ? std::string(", no memory budget")
                                               : concat(", memory budget ", b->budget_,
                                                        " bytes (device activations and workspace, "
                                                        "pinned and device staging)")));
    return std::unique_ptr<Backend>(std::move(b));
}

CudaBackend::~CudaBackend() {
    if (!res_) return;
    ContextScope scope(*driver_, context_);
    // Nothing is freed while the GPU may still use it: the last work on the
    // shared network buffers (possibly on the caller's stream, for device
    // frames), then host frames still in flight (abandoned) on our streams.
    if (res_->network_done.get()) (void)cudaEventSynchronize(res_->network_done.get());
    for (const Stream *s : {&res_->upload, &res_->compute, &res_->download})
        if (s->get()) (void)cudaStreamSynchronize(s->get());
    res_.reset();  // the network waits for its own last work too (CudnnNetwork)
}

espcn_precision CudaBackend::precision() const {
    return res_->network->type() == TensorType::f16 ? ESPCN_PRECISION_FP16 : ESPCN_PRECISION_FP32;
}

Status CudaBackend::enter(const ContextScope &scope) const {
    ESPCN_RETURN_IF(scope.status() != CUDA_SUCCESS, ESPCN_ERROR_BACKEND,
                    driver_error(*driver_, "making the engine's CUDA context current (cuCtxSetCurrent)",
                                 scope.status()),
                    "; device ", device_);
    return Status::ok();
}

MemoryUse CudaBackend::memory_use() const {
    MemoryUse m;
    if (!res_) return m;
    for (const Slot &slot : res_->slots) m.working_bytes += slot.staging_held();
    m.working_bytes += res_->network->held_bytes() + res_->rgb_in.size() + res_->rgb_out.size();
    m.state_bytes = res_->network->state_bytes();
    return m;
}

bool CudaBackend::in_flight(const Slot &slot) const {
    const int i = static_cast<int>(&slot - res_->slots.data());
    return (i - head_ + kFrameQueueDepth) % kFrameQueueDepth < in_flight_;
}

Result<size_t> CudaBackend::plan_bands(std::span<const PlaneTask> tasks, size_t network_budget) {
    ESPCN_RETURN_IF(tasks.size() > kMaxTasks, ESPCN_ERROR_INVALID_ARGUMENT, "a frame has at most ", kMaxTasks,
                    " planes");
    const NetworkFootprint &f = res_->network->footprint();
    const int channels = res_->network->network().in_channels;
    size_t activations = 0;
    int k = 0;  // network tasks so far: a group starts at every channels-th
    for (size_t i = 0; i < tasks.size(); ++i) {
        if (tasks[i].resample) continue;
        if (k++ % channels != 0) continue;
        Result<RowTilePlan> plan = plan_device_bands(f, tasks[i].in.width, tasks[i].in.height, network_budget);
        ESPCN_RETURN_IF_ERROR(plan.status());
        bands_[i] = plan.value();
        activations = std::max(activations, activation_bytes(f, tasks[i].in.width, bands_[i].rows));
        if (bands_[i].count > 1)
            log_.debug(concat("cuda: a ", tasks[i].in.width, "x", tasks[i].in.height, " plane runs in ",
                              bands_[i].count, " bands of ", bands_[i].rows, " rows (",
                              band_bytes(f, tasks[i].in.width, bands_[i].rows),
                              " bytes of device memory for its network)"));
    }
    return activations;
}

Result<std::pair<size_t, size_t>> CudaBackend::conversion_bytes(std::span<const PlaneTask> tasks,
                                                                const FrameColor &color) const {
    std::pair<size_t, size_t> need{0, 0};
    const Network &net = res_->network->network();
    if (net.in_channels == 1) return need;
    std::array<PlaneTask, kMaxPassPlanes> group;
    size_t next = 0;
    const Status walked = for_each_pass(
        tasks, net.in_channels, [](const PlaneTask &) { return Status::ok(); },
        [&](Planes in, Planes) -> Status {
            for (size_t k = 0; k < in.size(); ++next)
                if (!tasks[next].resample) group[k++] = tasks[next];
            Result<ColorGroup> g =
                describe_color_group(std::span<const PlaneTask>(group.data(), in.size()), color, net.scale);
            ESPCN_RETURN_IF_ERROR(g.status());
            if (!g.value().convert) return Status::ok();
            need.first = std::max(need.first, 3 * static_cast<size_t>(g.value().in_width) * g.value().in_height * 2);
            need.second =
                std::max(need.second, 3 * static_cast<size_t>(g.value().out_width) * g.value().out_height * 2);
            return Status::ok();
        });
    ESPCN_RETURN_IF_ERROR(walked);
    return need;
}

Status CudaBackend::finish(Slot &slot) {
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(slot.downloaded.get()));
    for (size_t i = 0; i < slot.device_tasks.size(); ++i) {
        const PlaneTask &d = slot.device_tasks[i];
        const uint8_t *dev = static_cast<const uint8_t *>(d.out.data);
        espcn_plane staged = d.out;
        staged.data = static_cast<uint8_t *>(slot.host_out.get()) +
                      (dev - static_cast<const uint8_t *>(slot.device_out.get()));
        copy_rows(staged, slot.user_out[i], d.components);
    }
    return Status::ok();
}

Status CudaBackend::make_room(Slot *slot, const StagedFrame &layout, size_t activations,
                              std::pair<size_t, size_t> conversion) {
    if (budget_ == SIZE_MAX) return Status::ok();
    const CudnnNetwork &net = *res_->network;
    // Buffers only grow: what each will hold is the larger of what it holds
    // and what this frame needs of it.
    auto slot_after = [&](const Slot &s) {
        return std::max(s.host_in.size(), layout.in_bytes) + std::max(s.host_out.size(), layout.out_bytes) +
               std::max(s.device_in.size(), layout.in_bytes) + std::max(s.device_out.size(), layout.out_bytes);
    };
    auto network_after = [&] {
        return std::max(net.held_activation_bytes(), activations) +
               std::max(net.held_workspace_bytes(), workspace_allowance(activations));
    };
    auto conversion_after = [&] {
        return std::max(res_->rgb_in.size(), conversion.first) + std::max(res_->rgb_out.size(), conversion.second);
    };
    auto total = [&] {
        size_t n = network_after() + conversion_after();
        for (const Slot &s : res_->slots) n += &s == slot ? slot_after(s) : s.staging_held();
        return n;
    };
    while (total() > budget_) {
        if (slot && slot->staging_held() && slot_after(*slot) > layout.staging_bytes()) {  // oversized
            slot->release_staging();
            continue;
        }
        Slot *idle = nullptr;
        for (Slot &s : res_->slots)
            if (&s != slot && !in_flight(s) && s.staging_held()) idle = &s;
        if (idle) {
            idle->release_staging();
            continue;
        }
        if (net.held_bytes() && network_after() > activations + workspace_allowance(activations)) {
            // Sized for a larger shape: give it back (waits for its last work).
            ESPCN_RETURN_IF_ERROR(res_->network->release_buffers());
            continue;
        }
        if (conversion_after() > conversion.first + conversion.second) {
            // Conversion planes sized for a larger frame: give them back once
            // no frame, on any stream, can still use them.
            ESPCN_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(res_->network_done.get()));
            res_->rgb_in.release();
            res_->rgb_out.release();
            continue;
        }
        // Fewer frames fit staged at once than the queue holds: the oldest
        // in flight finishes now (its outputs go to the caller's planes) and
        // gives its staging back.
        Slot *oldest = nullptr;
        for (int k = 0; k < in_flight_ && !oldest; ++k) {
            Slot &s = res_->slots[(head_ + k) % kFrameQueueDepth];
            if (!s.finished && s.staging_held()) oldest = &s;
        }
        ESPCN_RETURN_IF(!oldest, ESPCN_ERROR_OUT_OF_MEMORY, "cuda, device memory: ", total(),
                        " bytes for this frame and what stays held do not fit the memory budget of ", budget_,
                        " bytes");
        oldest->result = finish(*oldest);
        oldest->finished = true;
        oldest->release_staging();
    }
    return Status::ok();
}

Status CudaBackend::enqueue_tasks(std::span<const PlaneTask> tasks, cudaStream_t stream,
                                  const FrameColor &color) {
    // The shared activations may still be in use by a frame on another stream.
    ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(stream, res_->network_done.get(), 0));
    const Network &net = res_->network->network();
    size_t next = 0;  // the first task not yet taken into a network group
    const Status s = for_each_pass(
        tasks, net.in_channels,
        [&](const PlaneTask &t) -> Status {
            PlaneUpscaleParams p;
            p.src = t.in.data;
            p.src_stride = t.in.stride;
            p.src_width = t.in.width;
            p.src_height = t.in.height;
            p.dst = t.out.data;
            p.dst_stride = t.out.stride;
            p.dst_width = t.out.width;
            p.dst_height = t.out.height;
            p.components = t.components;
            p.bit_depth = t.in.bit_depth;
            p.shift = t.in.shift;
            p.scale = net.scale;
            p.kind = t.kind;
            ESPCN_CUDA_RETURN_IF_ERROR(launch_plane_upscale(p, stream));
            return Status::ok();
        },
        [&](Planes in, Planes out) -> Status {
            // This group's tasks, in order (resample tasks between them
            // skipped); its bands are at its first task's index (plan_bands).
            std::array<PlaneTask, kMaxPassPlanes> group;
            size_t first = tasks.size();
            for (size_t k = 0; k < in.size(); ++next)
                if (!tasks[next].resample) {
                    if (k == 0) first = next;
                    group[k++] = tasks[next];
                }
            const RowTilePlan &bands = bands_[first];
            if (net.in_channels > 1)
                return enqueue_converted(in, out, std::span<const PlaneTask>(group.data(), in.size()), bands,
                                         color, stream);
            return res_->network->enqueue_planes(in, out, bands, stream, cancel_);
        });
    if (!s.is_ok()) {
        // What was enqueued before the failure still orders later frames.
        (void)cudaEventRecord(res_->network_done.get(), stream);
        return s;
    }
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventRecord(res_->network_done.get(), stream));
    return Status::ok();
}

Status CudaBackend::enqueue_converted(Planes in, Planes out, std::span<const PlaneTask> group,
                                      const RowTilePlan &bands, const FrameColor &color, cudaStream_t stream) {
    Result<ColorGroup> described = describe_color_group(group, color, res_->network->network().scale);
    ESPCN_RETURN_IF_ERROR(described.status());
    ColorGroup g = std::move(described).value();
    if (!g.convert) return res_->network->enqueue_planes(in, out, bands, stream, cancel_);
    const size_t in_plane = static_cast<size_t>(g.in_width) * g.in_height * 2;
    const size_t out_plane = static_cast<size_t>(g.out_width) * g.out_height * 2;
    if (res_->rgb_in.size() < 3 * in_plane || res_->rgb_out.size() < 3 * out_plane) {
        // Replaced only when no earlier frame, on any stream, can still use them.
        ESPCN_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(res_->network_done.get()));
        ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
        ESPCN_RETURN_IF_ERROR(res_->rgb_in.reserve(3 * in_plane));
        ESPCN_RETURN_IF_ERROR(res_->rgb_out.reserve(3 * out_plane));
    }
    std::array<espcn_plane, 3> rgb_in{}, rgb_out{};
    for (size_t k = 0; k < 3; ++k) {
        ColorPlane &d = g.to_rgb.dst[k];
        d.data = static_cast<uint8_t *>(res_->rgb_in.get()) + k * in_plane;
        d.stride = static_cast<ptrdiff_t>(g.in_width) * 2;
        d.width = g.in_width;
        d.height = g.in_height;
        d.bit_depth = kColorNetworkBits;
        ColorPlane &s = g.from_rgb.src[k];
        s.data = static_cast<uint8_t *>(res_->rgb_out.get()) + k * out_plane;
        s.stride = static_cast<ptrdiff_t>(g.out_width) * 2;
        s.width = g.out_width;
        s.height = g.out_height;
        s.bit_depth = kColorNetworkBits;
        rgb_in[k] = espcn_plane{d.data, d.stride, d.width, d.height, d.bit_depth, 0};
        rgb_out[k] = espcn_plane{s.data, s.stride, s.width, s.height, s.bit_depth, 0};
    }
    ESPCN_CUDA_RETURN_IF_ERROR(launch_to_rgb(g.to_rgb, g.in_width, g.in_height, stream));
    ESPCN_RETURN_IF_ERROR(res_->network->enqueue_planes(rgb_in, rgb_out, bands, stream, cancel_));
    ESPCN_CUDA_RETURN_IF_ERROR(launch_from_rgb(g.from_rgb, g.out_width, g.out_height, stream));
    return Status::ok();
}

Status CudaBackend::prepare_slot(Slot &slot, std::span<const PlaneTask> tasks, const StagedFrame &layout) {
    // The slot is idle (its last frame was received): grow its buffers freely.
    ESPCN_RETURN_IF_ERROR(slot.host_in.reserve(layout.in_bytes));
    ESPCN_RETURN_IF_ERROR(slot.host_out.reserve(layout.out_bytes));
    ESPCN_RETURN_IF_ERROR(slot.device_in.reserve(layout.in_bytes));
    ESPCN_RETURN_IF_ERROR(slot.device_out.reserve(layout.out_bytes));
    slot.device_tasks.clear();
    slot.user_out.clear();
    slot.in_bytes = layout.in_bytes;
    slot.finished = false;
    slot.result = Status::ok();
    for (size_t i = 0; i < tasks.size(); ++i) {
        const PlaneTask &t = tasks[i];
        PlaneTask d = t;
        d.in = packed_at(t.in, t.components, static_cast<uint8_t *>(slot.device_in.get()) + layout.in_at[i]);
        d.out = packed_at(t.out, t.components, static_cast<uint8_t *>(slot.device_out.get()) + layout.out_at[i]);
        slot.device_tasks.push_back(d);
        slot.user_out.push_back(t.out);
        // Stage the input now: the caller may reuse its buffer when we return.
        copy_rows(t.in,
                  packed_at(t.in, t.components, static_cast<uint8_t *>(slot.host_in.get()) + layout.in_at[i]),
                  t.components);
    }
    return Status::ok();
}

Status CudaBackend::enqueue_slot(Slot &slot) {
    const cudaStream_t up = res_->upload.get(), compute = res_->compute.get(),
                       down = res_->download.get();
    ESPCN_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(slot.device_in.get(), slot.host_in.get(),
                                               slot.in_bytes, cudaMemcpyHostToDevice, up));
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventRecord(slot.uploaded.get(), up));
    ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(compute, slot.uploaded.get(), 0));
    ESPCN_RETURN_IF_ERROR(enqueue_tasks(slot.device_tasks, compute));
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventRecord(slot.computed.get(), compute));
    ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(down, slot.computed.get(), 0));
    for (const PlaneTask &d : slot.device_tasks) {
        const uint8_t *dev = static_cast<const uint8_t *>(d.out.data);
        uint8_t *host = static_cast<uint8_t *>(slot.host_out.get()) +
                        (dev - static_cast<const uint8_t *>(slot.device_out.get()));
        ESPCN_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
            host, dev, row_bytes(d.out, d.components) * d.out.height, cudaMemcpyDeviceToHost, down));
    }
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventRecord(slot.downloaded.get(), down));
    return Status::ok();
}

Status CudaBackend::submit_frame(std::span<const PlaneTask> tasks) {
    ESPCN_RETURN_IF(in_flight_ == kFrameQueueDepth, ESPCN_ERROR_INVALID_ARGUMENT, kFrameQueueDepth,
                    " frames are in flight; receive one before submitting another");
    ESPCN_RETURN_IF(tasks.size() > kMaxTasks, ESPCN_ERROR_INVALID_ARGUMENT, "a frame has at most ", kMaxTasks,
                    " planes");
    ContextScope scope(*driver_, context_);
    ESPCN_RETURN_IF_ERROR(enter(scope));
    Slot &slot = res_->slots[(head_ + in_flight_) % kFrameQueueDepth];
    // Memory first, before anything is allocated or enqueued: the frame's
    // staging, then the network's bands in what the budget leaves.
    const StagedFrame layout = stage_layout(tasks);
    const size_t staging = layout.staging_bytes();
    ESPCN_RETURN_IF(budget_ != SIZE_MAX && staging > budget_, ESPCN_ERROR_OUT_OF_MEMORY,
                    "cuda, device memory: the frame needs ", staging,
                    " bytes to stage its planes (in pinned host memory and on the device), over the "
                    "memory budget of ", budget_, " bytes; raise the budget (memory_budget)");
    Result<size_t> activations = plan_bands(tasks, budget_ == SIZE_MAX ? SIZE_MAX : budget_ - staging);
    if (!activations.is_ok() && activations.status().code() == ESPCN_ERROR_OUT_OF_MEMORY)
        return Status(ESPCN_ERROR_OUT_OF_MEMORY,
                      concat(activations.status().message(), " (the budget of ", budget_, " bytes less ",
                             staging, " bytes staging the frame's planes)"));
    ESPCN_RETURN_IF_ERROR(activations.status());
    ESPCN_RETURN_IF_ERROR(make_room(&slot, layout, activations.value()));
    ESPCN_RETURN_IF_ERROR(prepare_slot(slot, tasks, layout));
    Status s = enqueue_slot(slot);
    if (!s.is_ok()) {
        // Part of the frame may be queued: let it drain before the slot's
        // buffers are written again.
        for (const Stream *st : {&res_->upload, &res_->compute, &res_->download})
            (void)cudaStreamSynchronize(st->get());
        return s;
    }
    ++in_flight_;
    return Status::ok();
}

Status CudaBackend::receive_frame() {
    ESPCN_RETURN_IF(in_flight_ == 0, ESPCN_ERROR_INVALID_ARGUMENT, "no frame in flight to receive");
    ContextScope scope(*driver_, context_);
    ESPCN_RETURN_IF_ERROR(enter(scope));
    Slot &slot = res_->slots[head_];
    head_ = (head_ + 1) % kFrameQueueDepth;
    --in_flight_;
    if (slot.finished) {  // made room for a later frame: already in the caller's planes
        slot.finished = false;
        return std::exchange(slot.result, Status::ok());
    }
    return finish(slot);
}

Status CudaBackend::process(Planes in, Planes out) {
    if (cancel_.requested()) return cancelled();
    ESPCN_RETURN_IF(in_flight_ > 0, ESPCN_ERROR_INVALID_ARGUMENT,
                    "espcn_process_plane(s) while frames are in flight; receive them first");
    std::array<PlaneTask, kMaxPassPlanes> tasks;
    ESPCN_RETURN_IF(in.size() > tasks.size() || out.size() != in.size(), ESPCN_ERROR_INTERNAL,
                    "cuda: a pass of ", in.size(), " -> ", out.size(), " planes");
    for (size_t c = 0; c < in.size(); ++c) {
        tasks[c].in = in[c];
        tasks[c].out = out[c];
    }
    ESPCN_RETURN_IF_ERROR(submit_frame(std::span<const PlaneTask>(tasks.data(), in.size())));
    return receive_frame();
}

Status CudaBackend::enqueue_device_frame(std::span<const PlaneTask> tasks, void *stream,
                                         const FrameColor &color) {
    ESPCN_RETURN_IF(!stream, ESPCN_ERROR_INVALID_ARGUMENT,
                    "cuda_stream is NULL (the legacy default stream); pass the stream to run on");
    ESPCN_RETURN_IF(tasks.size() > kMaxTasks, ESPCN_ERROR_INVALID_ARGUMENT, "a frame has at most ", kMaxTasks,
                    " planes");
    ContextScope scope(*driver_, context_);
    ESPCN_RETURN_IF_ERROR(enter(scope));
    // Nothing to stage: the budget is the network's and the conversion
    // planes' (and what idle slots hold).
    Result<std::pair<size_t, size_t>> conversion = conversion_bytes(tasks, color);
    ESPCN_RETURN_IF_ERROR(conversion.status());
    const size_t converting = conversion.value().first + conversion.value().second;
    ESPCN_RETURN_IF(budget_ != SIZE_MAX && converting > budget_, ESPCN_ERROR_OUT_OF_MEMORY,
                    "cuda, device memory: the frame's colour conversion needs ", converting,
                    " bytes of 16-bit R, G, B planes, over the memory budget of ", budget_,
                    " bytes; raise the budget (memory_budget)");
    Result<size_t> activations = plan_bands(tasks, budget_ == SIZE_MAX ? SIZE_MAX : budget_ - converting);
    ESPCN_RETURN_IF_ERROR(activations.status());
    ESPCN_RETURN_IF_ERROR(make_room(nullptr, StagedFrame{}, activations.value(), conversion.value()));
    return enqueue_tasks(tasks, static_cast<cudaStream_t>(stream), color);
}

}  // namespace cuda
}  // namespace espcn
