// What a CPU backend implements, and the one adapter that gives every CPU
// backend the frame contract of core/backend.hpp.
//
// A CPU backend (reference, onednn, cpu-fast) runs the network on a whole
// plane of host memory, synchronously. The adapter, cpu_frames(), does the
// rest for all of them alike: frames at a queue depth of 1 (submit_frame does
// the work, receive_frame hands it over), the planes of a frame in order, the
// cancel callback between them, chroma through the context's resampler on the
// context's threads, and the memory budget: a backend that runs row tiles
// (row_tiles() not null) gets a plane in bands of rows sized to fit it
// (core/row_tiles.hpp, output bit-identical to one band holding the whole
// plane); one that does not bounds its own memory, and its frame_memory()
// (when known) must fit the budget.
#pragma once

#include <memory>
#include <optional>

#include "../core/backend.hpp"
#include "../core/row_tiles.hpp"

namespace espcn {

class CpuBackend {
public:
    virtual ~CpuBackend() = default;
    CpuBackend() = default;
    CpuBackend(const CpuBackend &) = delete;
    CpuBackend &operator=(const CpuBackend &) = delete;

    virtual espcn_backend kind() const = 0;
    virtual espcn_precision precision() const { return ESPCN_PRECISION_FP32; }
    // One pass over whole planes (Backend::process: the network's channels,
    // in order). Validated by the caller (counts, sizes agree with the scale,
    // depths in 8..16, non-null data).
    [[nodiscard]] virtual Status process(Planes in, Planes out) = 0;
    // A luma network's one plane.
    [[nodiscard]] Status process(const espcn_plane &in, const espcn_plane &out) {
        return process(Planes(&in, 1), Planes(&out, 1));
    }
    // What a width×height frame costs in working memory; nullopt: unknown.
    virtual std::optional<FrameMemory> frame_memory(int /*width*/, int /*height*/) const {
        return std::nullopt;
    }
    // Host bytes held for the context's lifetime beyond the working memory:
    // weights in the backend's own layout, tables (espcn_memory_info).
    virtual size_t state_bytes() const { return 0; }
    // What it chose, in words (espcn_backend_details).
    virtual std::string details() const { return {}; }
    // Capability: null unless the backend runs row tiles.
    virtual RowTiled *row_tiles() { return nullptr; }
};

// A CPU backend that runs row tiles: process() is one tile of the whole plane.
class RowTiledCpuBackend : public CpuBackend, public RowTiled {
public:
    using CpuBackend::process;
    [[nodiscard]] Status process(Planes in, Planes out) override {
        const int h = in.front().height;
        return process_tile(in, out, RowTile{0, h, 0, h}, CancelCheck());
    }
    RowTiled *row_tiles() override { return this; }
};

// The Backend the C API sees for `engine` running `net`: see the top of this
// file. cfg: the context's settings (its pool, resampler, budget, cancel).
[[nodiscard]] std::unique_ptr<Backend> cpu_frames(std::unique_ptr<CpuBackend> engine,
                                                  std::shared_ptr<const Network> net,
                                                  const BackendConfig &cfg);
// The CPU backend behind a Backend made by cpu_frames(); null for any other.
CpuBackend *cpu_engine(Backend &backend);

// The backends themselves (tests and benchmarks use them bare).
[[nodiscard]] Result<std::unique_ptr<CpuBackend>> make_reference_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);

// ESPCN_ERROR_BACKEND_UNAVAILABLE when the build has no oneDNN.
[[nodiscard]] Result<std::unique_ptr<CpuBackend>> make_onednn_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);
// Ok, or why not (the build has no oneDNN).
[[nodiscard]] Status onednn_usable();
inline bool onednn_available() { return onednn_usable().is_ok(); }

// Our own SIMD kernels (Highway, dispatched at run time). Never unavailable:
// the baseline target runs anywhere, slowly; cpu_fast_preferred() says whether
// this CPU has a vector unit it is fast on (AVX2, AVX-512, NEON).
[[nodiscard]] Result<std::unique_ptr<CpuBackend>> make_cpu_fast_backend(
    std::shared_ptr<const Network> net, const BackendConfig &cfg);
bool cpu_fast_preferred();

}  // namespace espcn
