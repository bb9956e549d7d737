#include "backend_registry.hpp"

#include <string>
#include <vector>

#include "gpu_fallback.hpp"

namespace espcn {

namespace {

Status reference_available() { return Status::ok(); }
Status cuda_available() { return cuda_backend_usable(0); }

constexpr unsigned kCpuPrecisions =
    precision_bit(ESPCN_PRECISION_AUTO) | precision_bit(ESPCN_PRECISION_FP32);
constexpr unsigned kCudaPrecisions = kCpuPrecisions | precision_bit(ESPCN_PRECISION_FP16);
constexpr unsigned kCpuFastPrecisions = kCpuPrecisions | precision_bit(ESPCN_PRECISION_BF16);

// `auto` takes the first row that is available and starts: the GPU, then our
// own SIMD kernels where the CPU has a vector unit they are fast on, then
// oneDNN, then the reference (the oracle, slow).
constexpr BackendEntry kBackends[] = {
    {ESPCN_BACKEND_CUDA, "cuda", cuda_available, make_cuda_backend, kCudaPrecisions, true, false},
    {ESPCN_BACKEND_CPU_FAST, "cpu-fast", cpu_fast_frames_available, make_cpu_fast_frames,
     kCpuFastPrecisions, false, false},
    {ESPCN_BACKEND_ONEDNN, "onednn", onednn_frames_available, make_onednn_frames, kCpuPrecisions,
     false, false},
    {ESPCN_BACKEND_REFERENCE, "reference", reference_available, make_reference_frames,
     kCpuPrecisions, false, true},
};

// "fp32", or "fp32 and fp16": the precisions of `bits` but AUTO.
std::string precision_names(unsigned bits) {
    std::string s;
    for (unsigned p = 1; p < 32; ++p)
        if (bits & (1u << p))
            s += (s.empty() ? "" : " and ") + std::string(espcn_precision_name(static_cast<espcn_precision>(p)));
    return s;
}

// "cuda", or "cuda or …": the backends computing in `p`.
std::string backends_computing_in(espcn_precision p) {
    std::string s;
    for (const BackendEntry &e : kBackends)
        if (e.precisions & precision_bit(p)) s += (s.empty() ? "" : " or ") + std::string(e.name);
    return s;
}

Result<std::unique_ptr<Backend>> make_named(const BackendEntry &e, std::shared_ptr<const Network> net,
                                            const BackendConfig &cfg) {
    ESPCN_RETURN_IF(!(e.precisions & precision_bit(cfg.precision)), ESPCN_ERROR_UNSUPPORTED,
                    "precision ", espcn_precision_name(cfg.precision), " needs the ",
                    backends_computing_in(cfg.precision), " backend; the ", e.name,
                    " backend computes in ", precision_names(e.precisions));
    Result<std::unique_ptr<Backend>> made = e.make(std::move(net), cfg);
    if (!made.is_ok() && e.gpu)
        return std::move(made.status()).with_context(concat("the ", e.name, " backend cannot start: "));
    return made;
}

}  // namespace

Result<std::unique_ptr<Backend>> make_auto_backend(std::span<const BackendEntry> table,
                                                   std::shared_ptr<const Network> net, BackendConfig cfg) {
    const Logger &log = cfg.log;
    for (size_t i = 0; i < table.size(); ++i) {
        const BackendEntry &e = table[i];
        if (!(e.precisions & precision_bit(cfg.precision))) cfg.precision = ESPCN_PRECISION_FP32;
        Status why_not = e.available();
        if (why_not.is_ok()) {
            if (e.slow) log.warning("no fast CPU backend in this build; using the slow reference backend");
            Result<std::unique_ptr<Backend>> made = e.make(net, cfg);
            if (made.is_ok() && e.gpu) {
                // What the GPU finds out only at a frame (its set-up for that
                // size) may still send the work to the rows after it.
                BackendConfig cpu_cfg = cfg;
                cpu_cfg.precision = ESPCN_PRECISION_FP32;
                const std::span<const BackendEntry> rest = table.subspan(i + 1);
                auto make_cpu = [rest, net, cpu_cfg]() { return make_auto_backend(rest, net, cpu_cfg); };
                return std::unique_ptr<Backend>(
                    std::make_unique<GpuFallback>(std::move(made).value(), make_cpu, log));
            }
            if (made.is_ok()) return made;
            why_not = made.status();
            // A network a CPU backend does not take (absurd sizes) goes on to
            // the next; any other failure (a bad ESPCN_CPU_ISA, out of
            // memory) is the answer.
            if (!e.gpu && why_not.code() != ESPCN_ERROR_UNSUPPORTED) return why_not;
            if (!e.gpu) log.info(why_not.message());
        }
        if (e.gpu) {
            // The one warning of a fallback: what failed, and what runs instead.
            log.warning(concat("GPU not used (", why_not.message(), "); running on the CPU in fp32"));
            cfg.precision = ESPCN_PRECISION_FP32;
        }
    }
    return Status(ESPCN_ERROR_INTERNAL, "no backend could start");  // the reference always does
}


std::span<const BackendEntry> backend_table() { return kBackends; }

const BackendEntry *find_backend(espcn_backend kind) {
    for (const BackendEntry &e : kBackends)
        if (e.kind == kind) return &e;
    return nullptr;
}

Result<std::unique_ptr<Backend>> make_backend(espcn_backend requested, std::shared_ptr<const Network> net,
                                              BackendConfig cfg) {
    // bf16 is cpu-fast's alone, on any CPU (its portable kernels too).
    if (requested == ESPCN_BACKEND_AUTO && cfg.precision == ESPCN_PRECISION_BF16)
        requested = ESPCN_BACKEND_CPU_FAST;
    if (requested == ESPCN_BACKEND_AUTO) return make_auto_backend(kBackends, std::move(net), std::move(cfg));
    const BackendEntry *e = find_backend(requested);
    ESPCN_RETURN_IF(!e, ESPCN_ERROR_INVALID_ARGUMENT, "unknown backend ", static_cast<int>(requested));
    return make_named(*e, std::move(net), cfg);
}

}  // namespace espcn
