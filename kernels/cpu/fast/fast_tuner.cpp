#include "fast_tuner.hpp"

#include "../../core/status.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace espcn {

namespace {

constexpr const char *kCacheMagic = "espcn-tune-1";
constexpr double kLayerMargin = 0.03;  // a layer's later candidate must be 3% faster
constexpr double kPlanMargin = 0.01;   // a plan must beat the first candidate alone by 1%
constexpr double kStripMargin = 0.02;  // one strip per thread must be 2% faster than the rule's

struct Fnv {
    uint64_t h = 14695981039346656037ull;
    void bytes(const void *p, size_t n) {
        const auto *b = static_cast<const unsigned char *>(p);
        for (size_t i = 0; i < n; ++i) {
            h ^= b[i];
            h *= 1099511628211ull;
        }
    }
    template <typename T>
    void value(const T &v) {
        bytes(&v, sizeof v);
    }
    void floats(const std::vector<float> &v) {
        value(v.size());
        bytes(v.data(), v.size() * sizeof(float));
    }
};

std::string hex64(uint64_t v) {
    char s[17];
    std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(v));
    return s;
}

std::string key_text(const TuneKey &k) {
    std::ostringstream s;
    s << "cpu=" << hex64([] {
        Fnv f;
        const std::string sig = cpu_signature();
        f.bytes(sig.data(), sig.size());
        return f.h;
    }()) << " model=" << hex64(k.model) << " size=" << k.width << "x" << k.height
      << " threads=" << k.threads << " budget=" << k.budget << " tables=" << k.tables
      << " layers=" << k.layers << " wide=" << k.wide_strip;
    return s.str();
}

std::string plan_text(const std::vector<int> &tables) {
    std::string s;
    for (size_t i = 0; i < tables.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(tables[i]);
    }
    return s;
}

// The process's plans, by key_text.
std::mutex g_mutex;
struct CachedPlan {
    std::vector<int> tables;
    int strip_width = 0;
};
std::map<std::string, CachedPlan> g_plans;
std::set<std::string> g_loaded_files;  // disk caches read into g_plans

// "espcn-tune-1 cpu=… model=… … plan=0,1,1 strip=320": the key's fields,
// then the plan.
bool parse_line(const std::string &line, std::string &key, CachedPlan &cached) {
    const std::string magic = std::string(kCacheMagic) + " ";
    if (line.compare(0, magic.size(), magic) != 0) return false;
    const size_t at = line.rfind(" plan=");
    const size_t strip_at = line.rfind(" strip=");
    if (at == std::string::npos || at < magic.size() || strip_at == std::string::npos || strip_at < at)
        return false;
    key = line.substr(magic.size(), at - magic.size());
    if (key.compare(0, 4, "cpu=") != 0) return false;
    const std::string strip = line.substr(strip_at + 7);
    if (strip.empty() || strip.size() > 6 || strip.find_first_not_of("0123456789") != std::string::npos)
        return false;
    cached.strip_width = std::atoi(strip.c_str());
    std::vector<int> &plan = cached.tables;
    const std::string list = line.substr(at + 6, strip_at - at - 6);
    plan.clear();
    size_t i = 0;
    while (i < list.size()) {
        size_t j = list.find(',', i);
        if (j == std::string::npos) j = list.size();
        const std::string item = list.substr(i, j - i);
        if (item.empty() || item.size() > 2 || item.find_first_not_of("0123456789") != std::string::npos)
            return false;
        plan.push_back(std::atoi(item.c_str()));
        i = j + 1;
    }
    return !plan.empty();
}

// Reads $ESPCN_TUNE_CACHE into g_plans once per path (g_mutex held).
void load_disk_cache(const std::string &path, const Logger &log) {
    if (!g_loaded_files.insert(path).second) return;
    std::ifstream f(path);
    if (!f) return;  // not written yet
    const std::string cpu = key_text(TuneKey{}).substr(0, 4 + 16);
    std::string line, key;
    CachedPlan plan;
    int bad = 0, foreign = 0, line_number = 0, first_bad = 0;
    while (std::getline(f, line) && line_number < 100000) {
        ++line_number;
        if (line.empty()) continue;
        if (line.size() > 4096 || !parse_line(line, key, plan)) {
            if (!bad++) first_bad = line_number;
            continue;
        }
        if (key.compare(0, cpu.size(), cpu) != 0) {
            ++foreign;
            continue;
        }
        g_plans[key] = plan;
    }
    if (bad)
        log.warning(concat("ESPCN_TUNE_CACHE ", path, ": ", bad, " line(s) are not tuning entries (first: line ",
                           first_bad, "); ignored"));
    if (foreign)
        log.warning(concat("ESPCN_TUNE_CACHE ", path, ": ", foreign,
                           " entr(ies) were measured on another CPU; ignored (this CPU is measured anew)"));
}

void append_disk_cache(const std::string &path, const std::string &key, const CachedPlan &plan,
                       const Logger &log) {
    // One short line per write with O_APPEND semantics: concurrent writers
    // (several ffmpeg processes) do not interleave within a line.
    FILE *f = std::fopen(path.c_str(), "a");
    if (!f) {
        log.warning(concat("ESPCN_TUNE_CACHE ", path, ": cannot append (", std::strerror(errno),
                           "); the plan is kept for this process only"));
        return;
    }
    const std::string line =
        concat(kCacheMagic, " ", key, " plan=", plan_text(plan.tables), " strip=", plan.strip_width, "\n");
    std::fwrite(line.data(), 1, line.size(), f);
    std::fclose(f);
}

}  // namespace

uint64_t fingerprint_network(const Network &net) {
    Fnv f;
    f.value(net.scale);
    f.value(net.in_channels);
    f.value(net.out_channels);
    f.value(net.order);
    f.value(net.range.lo);
    f.value(net.range.hi);
    f.value(net.residual);
    for (const ConvLayer &c : net.convs) {
        f.value(c.in_channels);
        f.value(c.out_channels);
        f.value(c.kernel);
        f.value(c.activation);
        f.floats(c.weight);
        f.floats(c.bias);
        f.floats(c.prelu_slope);
    }
    return f.h;
}

std::string cpu_signature() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    char vendor[13] = {};
    __cpuid(0, a, b, c, d);
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    unsigned signature = 0;
    if (a >= 1) {
        __cpuid(1, a, b, c, d);
        signature = a;  // family, model, stepping
    }
    char brand[49] = {};
    unsigned max_ext = __get_cpuid_max(0x80000000u, nullptr);
    if (max_ext >= 0x80000004u)
        for (unsigned i = 0; i < 3; ++i) {
            __cpuid(0x80000002u + i, a, b, c, d);
            std::memcpy(brand + 16 * i, &a, 4);
            std::memcpy(brand + 16 * i + 4, &b, 4);
            std::memcpy(brand + 16 * i + 8, &c, 4);
            std::memcpy(brand + 16 * i + 12, &d, 4);
        }
    return concat(vendor, " ", brand, " ", hex64(signature));
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "unknown";
#endif
}

void FastTuner::reset(const TuneKey &key, int candidates, bool measure, const Logger &log) {
    log_ = log;
    key_ = key;
    candidates_ = std::max(1, candidates);
    plans_.clear();
    times_.clear();
    rates_.clear();
    frame_ = 0;
    description_.clear();
    best_strip_ = 0;
    strip_seconds_[0].clear();
    strip_seconds_[1].clear();
    best_.assign(static_cast<size_t>(key.layers), 0);
    if (!measure) {
        phase_ = Phase::done;
        description_ = concat("every layer on ", key.tables.substr(0, key.tables.find(',')), " (not measured)");
        return;
    }
    const std::string text = key_text(key);
    const char *path = std::getenv("ESPCN_TUNE_CACHE");
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (path && *path) load_disk_cache(path, log);
        const auto it = g_plans.find(text);
        if (it != g_plans.end() && static_cast<int>(it->second.tables.size()) == key.layers &&
            std::all_of(it->second.tables.begin(), it->second.tables.end(),
                        [&](int t) { return t >= 0 && t < candidates_; }) &&
            (it->second.strip_width == 0 || it->second.strip_width == key.wide_strip)) {
            best_ = it->second.tables;
            best_strip_ = it->second.strip_width;
            phase_ = Phase::done;
            description_ = concat("plan ", plan_text(best_), " of tables ", key.tables,
                                  best_strip_ ? concat(", strips of ", best_strip_) : std::string(),
                                  " from the cache (", path && *path ? path : "this process", ")");
            return;
        }
    }
    if (candidates_ == 1) {
        plans_how_ = "the only candidate table";
        start_strips();
        return;
    }
    phase_ = Phase::layers;
}

FastTuner::Choice FastTuner::next() const {
    Choice c;
    switch (phase_) {
    case Phase::idle:
    case Phase::done:
        c.tables = best_;
        c.strip_width = best_strip_;
        break;
    case Phase::layers: c.rotate = true; break;
    case Phase::plans: c.tables = plans_[static_cast<size_t>(frame_) % plans_.size()]; break;
    case Phase::strips:
        c.tables = best_;
        c.strip_width = frame_ % 2 ? key_.wide_strip : 0;
        break;
    }
    if (c.tables.empty() && !c.rotate) c.tables.assign(static_cast<size_t>(key_.layers), 0);
    return c;
}

void FastTuner::record(const FrameTimes &t) {
    const std::vector<std::vector<double>> &layer_rates = t.rates;
    if (phase_ == Phase::layers) {
        rates_ = layer_rates;
        std::string table;
        for (size_t l = 0; l < layer_rates.size(); ++l) {
            table += concat(l ? "; " : "", "layer ", l, ":");
            for (const double r : layer_rates[l]) table += concat(" ", static_cast<int>(r * 100) / 100.0);
        }
        log_.debug(concat("cpu-fast tuning, ns per column-row of each candidate (", key_.tables, "): ", table));
        // Per layer, a later candidate replaces an earlier one only when
        // kLayerMargin faster: noise does not flip near-equal layers away
        // from the best-first order.
        std::vector<int> mixed(static_cast<size_t>(key_.layers), 0);
        for (size_t l = 0; l < mixed.size() && l < layer_rates.size(); ++l) {
            double best = -1;
            for (int c = 0; c < candidates_ && c < static_cast<int>(layer_rates[l].size()); ++c) {
                const double r = layer_rates[l][static_cast<size_t>(c)];
                if (r >= 0 && (best < 0 || r < best * (1 - kLayerMargin))) {
                    best = r;
                    mixed[l] = c;
                }
            }
        }
        // Plan 0, the reference: the first (best-first) candidate alone.
        plans_.push_back(std::vector<int>(static_cast<size_t>(key_.layers), 0));
        if (mixed != plans_.front()) plans_.push_back(mixed);
        for (int c = 1; c < candidates_; ++c) {
            std::vector<int> alone(static_cast<size_t>(key_.layers), c);
            if (std::find(plans_.begin(), plans_.end(), alone) == plans_.end()) plans_.push_back(alone);
        }
        times_.assign(plans_.size(), {});
        frame_ = 0;
        phase_ = plans_.size() > 1 ? Phase::plans : Phase::done;
        if (phase_ == Phase::done) {
            best_ = mixed;
            plans_how_ = "per-layer medians; one distinct plan";
            start_strips();
        }
        return;
    }
    if (phase_ == Phase::strips) {
        strip_seconds_[frame_ % 2].push_back(t.seconds);
        if (++frame_ < 2 * kFramesPerPlan) return;
        const double rule = *std::min_element(strip_seconds_[0].begin(), strip_seconds_[0].end());
        const double wide = *std::min_element(strip_seconds_[1].begin(), strip_seconds_[1].end());
        best_strip_ = wide < rule * (1 - kStripMargin) ? key_.wide_strip : 0;
        finish(concat(plans_how_, "; strips of the rule ", static_cast<int>(rule * 1e5) / 100.0, " ms, of ",
                      key_.wide_strip, " columns ", static_cast<int>(wide * 1e5) / 100.0, " ms (fastest frames)"));
        return;
    }
    if (phase_ != Phase::plans) return;
    const std::vector<int> &plan = plans_[static_cast<size_t>(frame_) % plans_.size()];
    double frame_cost = 0;
    for (size_t l = 0; l < plan.size() && l < t.rates.size() && l < t.column_rows.size(); ++l)
        frame_cost += std::max(0.0, t.rates[l][static_cast<size_t>(plan[l])]) * t.column_rows[l];
    times_[static_cast<size_t>(frame_) % plans_.size()].push_back(frame_cost);
    if (++frame_ < kFramesPerPlan * static_cast<int>(plans_.size())) return;
    // The fastest frame of each plan (on a deterministic workload the
    // minimum is the estimate least disturbed by other processes); another
    // plan replaces plan 0 only when kPlanMargin faster.
    size_t best = 0;
    double best_time = *std::min_element(times_[0].begin(), times_[0].end());
    std::string how = "cheapest frame of";
    for (size_t p = 0; p < plans_.size(); ++p) {
        const double cost = *std::min_element(times_[p].begin(), times_[p].end());
        if (p > 0 && cost < best_time * (1 - (best == 0 ? kPlanMargin : 0.0))) {
            best = p;
            best_time = cost;
        }
        how += concat(p ? ", " : " ", plan_text(plans_[p]), " ", static_cast<int>(cost / 1e4) / 100.0, " CPU-ms");
    }
    best_ = plans_[best];
    plans_how_ = how;
    start_strips();
}

void FastTuner::start_strips() {
    if (key_.wide_strip <= 0) {
        finish(plans_how_);
        return;
    }
    phase_ = Phase::strips;
    frame_ = 0;
}

void FastTuner::finish(const std::string &how) {
    phase_ = Phase::done;
    description_ = concat("plan ", plan_text(best_), " of tables ", key_.tables,
                          best_strip_ ? concat(", strips of ", best_strip_, " columns") : std::string(), " (",
                          how, ")");
    const std::string text = key_text(key_);
    const CachedPlan cached{best_, best_strip_};
    std::lock_guard<std::mutex> lock(g_mutex);
    g_plans[text] = cached;
    const char *path = std::getenv("ESPCN_TUNE_CACHE");
    if (path && *path) append_disk_cache(path, text, cached, log_);
}

}  // namespace espcn
