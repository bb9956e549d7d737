// The CPU frame adapter (cpu_backend.hpp) and the CPU rows of the backend
// table (core/backend_registry.hpp).
#include <algorithm>
#include <climits>
#include <cstdint>

#include "../core/backend_registry.hpp"
#include "../core/plane_resample.hpp"
#include "../core/worker_pool.hpp"
#include "cpu_backend.hpp"

namespace espcn {

namespace {

class CpuFrames final : public Backend {
public:
    CpuFrames(std::unique_ptr<CpuBackend> engine, std::shared_ptr<const Network> net,
              const BackendConfig &cfg)
        : engine_(std::move(engine)), net_(std::move(net)), log_(cfg.log), cancel_(cfg.cancel),
          budget_(cfg.memory_budget ? cfg.memory_budget : SIZE_MAX), pool_(cfg.pool),
          resampler_(cfg.resampler) {}

    espcn_backend kind() const override { return engine_->kind(); }
    espcn_precision precision() const override { return engine_->precision(); }
    using Backend::process;
    Status process(Planes in, Planes out) override { return run_network(in, out); }
    int frame_queue_depth() const override { return 1; }
    int frames_in_flight() const override { return in_flight_; }

    // All the work happens here: the frame is done when this returns.
    Status submit_frame(std::span<const PlaneTask> tasks) override {
        ESPCN_RETURN_IF(in_flight_ > 0, ESPCN_ERROR_INVALID_ARGUMENT,
                        "1 frame is in flight; receive it before submitting another");
        ESPCN_RETURN_IF_ERROR(for_each_pass(
            tasks, net_->in_channels,
            [&](const PlaneTask &t) {
                if (cancel_.requested()) return cancelled();
                return resampler_->upscale(t.in, t.out, t.components, net_->scale, t.kind, *pool_);
            },
            [&](Planes in, Planes out) { return run_network(in, out); }));
        in_flight_ = 1;
        return Status::ok();
    }
    Status receive_frame() override {
        ESPCN_RETURN_IF(in_flight_ == 0, ESPCN_ERROR_INVALID_ARGUMENT, "no frame in flight to receive");
        in_flight_ = 0;
        return Status::ok();
    }

    MemoryUse memory_use() const override { return {working_bytes_, engine_->state_bytes()}; }
    std::string details() const override { return engine_->details(); }

    CpuBackend &engine() { return *engine_; }

private:
    // One pass through the network: in row tiles within the memory budget
    // where the backend runs them, else whole.
    Status run_network(Planes planes_in, Planes out) {
        if (cancel_.requested()) return cancelled();
        const espcn_plane &in = planes_in.front();
        RowTiled *tiled = engine_->row_tiles();
        if (!tiled) {
            // A backend that streams or bounds its memory itself: its working
            // memory (when it knows it) must still fit the budget; checked
            // once per plane size (the check builds its plan).
            if (checked_width_ != in.width || checked_height_ != in.height) {
                const std::optional<FrameMemory> need = engine_->frame_memory(in.width, in.height);
                ESPCN_RETURN_IF(need && need->bytes > budget_, ESPCN_ERROR_OUT_OF_MEMORY, "a ",
                                in.width, "x", in.height, " plane needs ", need->bytes,
                                " bytes of working memory in the ", espcn_backend_name(kind()),
                                " backend's narrowest work items (", need->workers, " thread(s) x ",
                                need->bytes / static_cast<size_t>(std::max(need->workers, 1)),
                                " bytes), over the memory budget of ", budget_,
                                " bytes; raise the budget (memory_budget) or use fewer threads");
                checked_width_ = in.width;
                checked_height_ = in.height;
                working_bytes_ = need ? need->bytes : 0;
            }
            return engine_->process(planes_in, out);
        }
        if (plan_width_ != in.width || plan_.height != in.height || plan_.count == 0) {
            plan_width_ = 0;
            Result<RowTilePlan> plan = plan_for_budget(
                *tiled, in.width, in.height, net_->receptive_radius(), budget_,
                cancel_.active() ? responsive_row_cap(*net_, in.width) : INT_MAX);
            ESPCN_RETURN_IF_ERROR(plan.status());
            plan_ = plan.value();
            plan_width_ = in.width;
            working_bytes_ = plan_.working_bytes;
            log_.debug(concat("a ", in.width, "x", in.height, " plane runs in ", plan_.count,
                              " band(s) of ", plan_.rows, " rows: ", plan_.working_bytes,
                              " bytes of working memory (budget ", budget_, ")"));
        }
        return run_row_tiles(*tiled, plan_, planes_in, out, cancel_);
    }

    std::unique_ptr<CpuBackend> engine_;
    std::shared_ptr<const Network> net_;
    Logger log_;
    CancelCheck cancel_;
    size_t budget_;
    std::shared_ptr<WorkerPool> pool_;
    std::shared_ptr<PlaneResampler> resampler_;
    int in_flight_ = 0;  // 0 or 1
    RowTilePlan plan_;   // for plan_width_ × plan_.height planes
    int plan_width_ = 0;
    int checked_width_ = 0, checked_height_ = 0;  // the last size frame_memory() was checked for
    size_t working_bytes_ = 0;  // planned for the last plane size (memory_use)
};

// A CPU row of the backend table: the backend `Make` behind the adapter, both
// on the context's threads.
template <auto Make>
Result<std::unique_ptr<Backend>> framed(std::shared_ptr<const Network> net, const BackendConfig &cfg) {
    const BackendConfig host = with_host_resources(cfg);
    Result<std::unique_ptr<CpuBackend>> engine = Make(net, host);
    ESPCN_RETURN_IF_ERROR(engine.status());
    return cpu_frames(std::move(engine).value(), std::move(net), host);
}

}  // namespace

std::unique_ptr<Backend> cpu_frames(std::unique_ptr<CpuBackend> engine,
                                    std::shared_ptr<const Network> net, const BackendConfig &cfg) {
    return std::make_unique<CpuFrames>(std::move(engine), std::move(net), with_host_resources(cfg));
}

CpuBackend *cpu_engine(Backend &backend) {
    auto *frames = dynamic_cast<CpuFrames *>(&backend);
    return frames ? &frames->engine() : nullptr;
}

Result<std::unique_ptr<Backend>> make_reference_frames(std::shared_ptr<const Network> net,
                                                       const BackendConfig &cfg) {
    return framed<make_reference_backend>(std::move(net), cfg);
}

Result<std::unique_ptr<Backend>> make_onednn_frames(std::shared_ptr<const Network> net,
                                                    const BackendConfig &cfg) {
    return framed<make_onednn_backend>(std::move(net), cfg);
}

Result<std::unique_ptr<Backend>> make_cpu_fast_frames(std::shared_ptr<const Network> net,
                                                      const BackendConfig &cfg) {
    return framed<make_cpu_fast_backend>(std::move(net), cfg);
}

Status onednn_frames_available() { return onednn_usable(); }

Status cpu_fast_frames_available() {
    if (cpu_fast_preferred()) return Status::ok();
    return Status(ESPCN_ERROR_BACKEND_UNAVAILABLE,
                  "this CPU has no vector unit the cpu-fast kernels are fast on (AVX2, AVX-512, "
                  "NEON); cpu-fast still runs when asked for by name, in portable code");
}

}  // namespace espcn
