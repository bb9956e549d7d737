// Every backend, once: its kind, its name, whether it can run here and how to
// make it. Creation (named or `auto`), espcn_backend_name() and
// espcn_backend_available() all read this one table; a new backend is a new
// row (and its factory), nothing else.
#pragma once

#include <memory>
#include <span>

#include "backend.hpp"

namespace espcn {

using BackendFactory = Result<std::unique_ptr<Backend>> (*)(std::shared_ptr<const Network> net,
                                                           const BackendConfig &cfg);

struct BackendEntry {
    espcn_backend kind;
    const char *name;  // espcn_backend_name()
    // Ok when `auto` may take it and espcn_backend_available() says 1; else
    // why not (not built in, no device, no vector unit worth using).
    Status (*available)();
    BackendFactory make;
    // The precisions it computes in: bit (1 << p) per espcn_precision p
    // (AUTO, resolved by the backend, is always among them).
    unsigned precisions;
    // A GPU backend: `auto` warns when it is not used and goes on to the CPU
    // in fp32; an explicit request's error says it cannot start.
    bool gpu;
    // The slow oracle: `auto` warns when nothing faster is left.
    bool slow;
};

constexpr unsigned precision_bit(espcn_precision p) { return 1u << static_cast<unsigned>(p); }

// The table, in `auto`'s order: fastest first.
std::span<const BackendEntry> backend_table();
// The entry of `kind`; null for ESPCN_BACKEND_AUTO and unknown values.
const BackendEntry *find_backend(espcn_backend kind);

// The backend `requested` (a kind, or AUTO: the first entry of the table that
// is available and starts, logging what was passed over) running `net`.
// cfg is the context's resolved settings.
[[nodiscard]] Result<std::unique_ptr<Backend>> make_backend(espcn_backend requested,
                                                            std::shared_ptr<const Network> net,
                                                            BackendConfig cfg);

// AUTO over `table` (make_backend passes backend_table(); tests pass their
// own rows, e.g. a stand-in GPU). A GPU row that starts is wrapped so that a
// frame it cannot set up moves the work to the rows after it (gpu_fallback.hpp).
[[nodiscard]] Result<std::unique_ptr<Backend>> make_auto_backend(std::span<const BackendEntry> table,
                                                                 std::shared_ptr<const Network> net,
                                                                 BackendConfig cfg);

// The factories behind the table, defined by the backends themselves.
// cpu/cpu_frames.cpp: the CPU backends, each behind the CPU frame adapter.
[[nodiscard]] Result<std::unique_ptr<Backend>> make_reference_frames(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);
[[nodiscard]] Result<std::unique_ptr<Backend>> make_onednn_frames(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);
[[nodiscard]] Result<std::unique_ptr<Backend>> make_cpu_fast_frames(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);
Status onednn_frames_available();
Status cpu_fast_frames_available();
// cuda/cuda_backend.cpp (cuda/cuda_unavailable.cpp in builds without CUDA or
// cuDNN): ESPCN_ERROR_BACKEND_UNAVAILABLE, saying why, when the build has no
// cuda backend, or the machine no driver, no such device or no cuDNN.
[[nodiscard]] Result<std::unique_ptr<Backend>> make_cuda_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);
// Whether make_cuda_backend could succeed on `device` (driver, device, cuDNN).
[[nodiscard]] Status cuda_backend_usable(int device);

}  // namespace espcn
