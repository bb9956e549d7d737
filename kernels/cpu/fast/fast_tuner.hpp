// The cpu-fast planner: which kernel table runs each layer is measured on the
// frames themselves, as FFTW's planner or oneDNN's primitive cache measure
// once per shape, instead of being guessed from the CPU's name. Every
// candidate computes the same bits, so measuring costs only time:
//
//  1. one frame with the candidates taking turns, call by call, on every
//     layer, each call timed (ns per output column-row); per layer the
//     candidate with the lowest median wins: the "mixed" plan;
//  2. whole frames of the first candidate alone, the mixed plan and each
//     other candidate alone (a layer's best table is not always the best
//     neighbour: clocks, caches), taking turns, kFramesPerPlan each, every
//     call timed again; a plan's cost is the sum over layers of its median
//     time per column-row times the column-rows (CPU time without the
//     preemptions a frame's wall time would include on a busy machine);
//     the plan with the lowest cost in any of its frames is kept, the first
//     candidate alone unless another is 1% cheaper (a mixed layer must have
//     been 3% faster: noise does not move a plan off the best-first order);
//  3. where one strip per thread differs from the rule's strips (640x360 on
//     2 threads: 320 columns instead of 160), kFramesPerPlan frames each,
//     by wall time (fewer halo columns, but no items left to balance a
//     slowed thread: only the wall time shows both); the wide strips are
//     kept only if 2% faster.
//
// Cost: the first 1 + kFramesPerPlan · (candidates + 1) frames of a (model,
// size) run at their candidates' speeds instead of the best one's — with two
// instruction sets, 10 frames; on a CPU where the slower set is 30% slower,
// about 2 frames' time over the first 100 (bench/results: measured). The
// plan is kept per process (a graph ffmpeg rebuilds on a size change finds
// it) and, with $ESPCN_TUNE_CACHE naming a file, on disk, keyed by CPU,
// model, size, threads and memory budget; a line that is not an entry, or
// an entry from another CPU, is ignored with a warning.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../../core/logger.hpp"
#include "../../core/network.hpp"

namespace espcn {

// Everything a plan depends on.
struct TuneKey {
    uint64_t model = 0;    // fingerprint_network()
    int width = 0, height = 0;
    int threads = 0;
    size_t budget = 0;     // bytes per worker
    std::string tables;    // candidate tables, e.g. "AVX3x24,AVX3x12,AVX2x12"
    int layers = 0;
    int wide_strip = 0;    // the strip width tried besides the rule's (0: none)
};

// A 64-bit FNV-1a over what the network computes (shapes, weights, biases,
// activations, scale, range, residual).
uint64_t fingerprint_network(const Network &net);

// What this CPU is, for the disk cache: vendor, brand string and model
// numbers (x86), or the architecture.
std::string cpu_signature();

class FastTuner {
public:
    static constexpr int kFramesPerPlan = 3;

    struct Choice {
        bool rotate = false;      // phase 1: candidates take turns within the frame
        std::vector<int> tables;  // per layer, the candidate index (when !rotate)
        int strip_width = 0;      // 0: the backend's rule
    };

    // Starts over for `key` with `candidates` tables per layer. Finds a plan
    // in the process's or the disk's cache, or plans to measure one; with
    // one candidate, or `measure` false, uses candidate 0 everywhere.
    void reset(const TuneKey &key, int candidates, bool measure, const Logger &log);
    bool done() const { return phase_ == Phase::done; }
    // What the next frame runs.
    Choice next() const;
    // What a tuning frame measured.
    struct FrameTimes {
        double seconds = 0;  // wall time, for the log
        // Median time per column-row of each [layer][candidate]'s calls
        // (negative: no call), and the column-rows each layer computed.
        std::vector<std::vector<double>> rates;
        std::vector<double> column_rows;
    };
    void record(const FrameTimes &t);
    // The plan and how it was found, for logs ("" before it is found).
    const std::string &description() const { return description_; }

private:
    enum class Phase { idle, layers, plans, strips, done };
    void start_strips();
    void finish(const std::string &how);

    Logger log_;
    TuneKey key_;
    int candidates_ = 1;
    Phase phase_ = Phase::idle;
    std::vector<std::vector<int>> plans_;     // phase 2: mixed, then each candidate alone
    std::vector<std::vector<double>> times_;  // per plan, each frame's cost (CPU ns)
    std::vector<std::vector<double>> rates_;  // phase 1's medians, for the log
    int frame_ = 0;
    std::vector<int> best_;
    int best_strip_ = 0;
    std::vector<double> strip_seconds_[2];  // phase 3: the rule's strips, the wide ones
    std::string plans_how_;
    std::string description_;
};

}  // namespace espcn
