// What both espcn-bench modes share: the command-line options, a
// time-bounded measuring loop, deterministic random numbers, the header line
// describing the machine, and table/CSV output.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/model_loader.hpp"
#include "core/network.hpp"
#include "core/status.hpp"

namespace espcn::bench {

struct FrameSize {
    int width = 0;
    int height = 0;
};

struct Options {
    std::string model_path;  // empty: the paper's architecture with random weights
    bool upsampler_mode = false;
    bool cuda_mode = false;  // --cuda: the cuda backend (cuda_bench.cpp)
    bool bands_mode = false;  // --bands: row bands vs one pass (bands_bench.cpp)
    int device = 0;
    bool run_reference = true;
    bool run_onednn = true;
    // cpu-fast, once per instruction-set cap listed ("cpu-fast" = the best).
    std::vector<std::string> fast_variants{"cpu-fast"};
    int fast_strip_width = 0, fast_band_rows = 0;  // --tiling; 0: the backend's choice
    std::vector<int> scales{2, 3, 4};
    bool scales_given = false;  // so a --model run can say which --scales it ignores
    std::vector<FrameSize> sizes{{640, 360}, {960, 540}, {1280, 720}, {1920, 1080}};
    int threads = 0;  // 0: all cores
    double min_time_s = 1.0;
    int min_iters = 1;
    // The reference backend runs at about 1 GFLOP/s (one thread, plain loops):
    // a 1080p frame takes tens of seconds, so larger inputs are skipped.
    int64_t reference_max_pixels = int64_t{1280} * 720;
    // Zero insertion builds an r²-times larger input (and oneDNN may reorder
    // it once more); above this estimated working set a config is skipped.
    int64_t upsampler_max_mib = 4096;
    std::string csv_path;
    std::string command_line;  // as typed, for the header
};

enum class ParseOutcome { run, help_shown, error };

// The modes; each returns the process exit status.
int run_throughput_bench(const Options &opts);
int run_upsampler_bench(const Options &opts);
int run_cuda_bench(const Options &opts);
int run_bands_bench(const Options &opts);

// Fills opts from argv; prints usage (help) or a message (error) itself.
ParseOutcome parse_options(int argc, char **argv, Options &opts);

// SplitMix64: the same stream on every platform and standard library (unlike
// std::uniform_real_distribution), so "seed 1" means the same weights anywhere.
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [lo, hi), from the top 24 bits (a float's mantissa).
    float uniform(float lo, float hi) {
        const float unit = static_cast<float>(next() >> 40) * (1.0f / 16777216.0f);
        return lo + (hi - lo) * unit;
    }

private:
    uint64_t state_;
};

struct LoopTiming {
    int iterations = 0;
    double seconds = 0.0;
    double seconds_per_iteration() const { return iterations > 0 ? seconds / iterations : 0.0; }
};

// Runs step() until at least min_seconds have passed and at least
// max(1, min_iterations) calls were made; stops at the first failing call.
template <typename Step>
Status time_loop(Step &&step, double min_seconds, int min_iterations, LoopTiming &out) {
    using clock = std::chrono::steady_clock;
    const int required = min_iterations > 1 ? min_iterations : 1;
    out = LoopTiming{};
    const clock::time_point start = clock::now();
    for (;;) {
        ESPCN_RETURN_IF_ERROR(step());
        ++out.iterations;
        out.seconds = std::chrono::duration<double>(clock::now() - start).count();
        if (out.iterations >= required && out.seconds >= min_seconds) break;
    }
    return Status::ok();
}

// OpenMP's thread count is a per-thread setting: set it for a scope (as the
// oneDNN backend does inside process()) so that timing run_convolutions()
// alone uses the same number of threads as the end-to-end path.
class OmpThreadsScope {
public:
    explicit OmpThreadsScope(int threads);
    ~OmpThreadsScope();
    OmpThreadsScope(const OmpThreadsScope &) = delete;
    OmpThreadsScope &operator=(const OmpThreadsScope &) = delete;

private:
    int saved_;
};

int available_cores();

// "# espcn-bench 2024-05-01 12:00:00 UTC | cpu: ... | cores: 2 | oneDNN 2.6.0 | cmd: ..."
std::string machine_header(const Options &opts);

std::string fixed(double value, int decimals);
std::string size_string(int width, int height);

// The paper's ESPCN (Shi et al. 2016): conv 5x5 1->64 tanh, conv 3x3 64->32
// tanh, conv 3x3 32->r² then the periodic shuffle (CRD), with fixed-seed
// uniform ±1/sqrt(fan_in) weights.
Network make_paper_espcn(int scale, uint64_t seed);

// Loads --model exactly as the engine does; its warnings go to stderr.
[[nodiscard]] Result<Network> load_model(const std::string &path);

// The --model of a run: null when none was given; false (after saying why on
// stderr) when it cannot be loaded. Shared by every mode.
[[nodiscard]] bool load_model_option(const Options &opts, std::shared_ptr<const Network> &model);

// The scales a run covers: a model's own scale (saying so when --scales asked
// for others), else --scales.
std::vector<int> scales_to_run(const Options &opts, const Network *model);

// A fixed-width text table, printed row by row as results arrive (the
// reference backend takes seconds per row).
class TextTable {
public:
    struct Column {
        std::string title;
        int width;
        bool left_aligned = false;
    };
    explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
    void print_header(std::FILE *f) const;
    void print_row(std::FILE *f, const std::vector<std::string> &cells) const;

private:
    std::vector<Column> columns_;
};

// A CSV file that may be absent (no --csv): rows go nowhere then.
class CsvWriter {
public:
    // Opens path (if non-empty) and writes the header; false on failure.
    bool open(const std::string &path, const std::vector<std::string> &header);
    void row(const std::vector<std::string> &cells);
    ~CsvWriter();
    CsvWriter() = default;
    CsvWriter(const CsvWriter &) = delete;
    CsvWriter &operator=(const CsvWriter &) = delete;

private:
    std::FILE *file_ = nullptr;
};

}  // namespace espcn::bench
