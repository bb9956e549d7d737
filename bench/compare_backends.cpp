// espcn-compare: a backend's output against the reference backend (the
// oracle) on one large plane per model, bit depth and precision: the largest
// difference in code values, how many samples differ by more than one code,
// and the PSNR between the two. Question (a) of the first GPU run
// (scripts/gpu_check.sh): every shipped model, cuda fp32 and fp16, on a
// 1080p luma plane at 8, 10 and 16 bits, fp32 within 1 code.
//
//   espcn-compare --models A.safetensors,B.safetensors --backend cuda
//                 [--precisions fp32,fp16] [--size 1920x1080] [--bits 8,10,16]
//                 [--threads N] [--deadline S] [--csv FILE]
//
// The reference backend is one thread of plain loops (~1 GFLOP/s): a 1080p
// plane of a 20k-MAC network takes ~80 s. It runs here on every core at once,
// in bands of rows, each band a context of its own with the halo the
// network's receptive radius needs, so every output row is exactly what one
// pass over the whole plane gives (the row-band contract, core/row_tiles.hpp;
// the unit test runs the reference against itself this way: 0 codes).
//
// The input: the same deterministic picture at every bit depth (smooth
// gradients, edges, a fine texture and noise; a fixed seed), quantised to the
// depth. Rows are run in --models order, all depths and precisions of a model
// before the next; with --deadline, a model not started within S seconds of
// the start is reported "not run" (exit status 4) instead of run.
//
// Exit status: 0 every row ran and every fp32 row is within 1 code; 1 a row
// failed (an error, or fp32 over 1 code); 2 bad arguments; 4 rows left out by
// the deadline (and none failed).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "espcn/espcn.h"

namespace {

struct Plane {
    int width = 0, height = 0, bits = 8;
    std::vector<uint16_t> samples;  // bits > 8: 16-bit words; 8: low byte used
    std::vector<uint8_t> bytes;     // 8-bit storage
    espcn_plane view() {
        espcn_plane p{};
        p.width = width;
        p.height = height;
        p.bit_depth = bits;
        if (bits > 8) {
            p.data = samples.data();
            p.stride = static_cast<ptrdiff_t>(width) * 2;
        } else {
            p.data = bytes.data();
            p.stride = width;
        }
        return p;
    }
    uint32_t at(size_t i) const { return bits > 8 ? samples[i] : bytes[i]; }
};

Plane make_plane(int w, int h, int bits) {
    Plane p;
    p.width = w;
    p.height = h;
    p.bits = bits;
    const size_t n = static_cast<size_t>(w) * h;
    if (bits > 8) p.samples.assign(n, 0);
    else p.bytes.assign(n, 0);
    return p;
}

// The test picture, in [0, 1]: the same at every depth.
Plane picture(int w, int h, int bits) {
    Plane p = make_plane(w, h, bits);
    const double maxv = (1u << bits) - 1u;
    uint64_t s = 12345;
    auto noise = [&] {  // SplitMix64 -> [-1, 1)
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1p-52 - 1.0;
    };
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const double u = static_cast<double>(x) / w, v = static_cast<double>(y) / h;
            double f = 0.15 + 0.5 * u + 0.2 * std::sin(6.3 * v) * std::cos(9.1 * u);
            if (((x / 64) + (y / 48)) % 2) f += 0.12;                  // hard edges
            f += 0.08 * std::sin(0.9 * x) * std::sin(0.7 * y);         // a fine texture
            f += 0.03 * noise();
            f = std::clamp(f, 0.0, 1.0);
            const auto q = static_cast<uint32_t>(std::floor(f * maxv + 0.5));
            const size_t i = static_cast<size_t>(y) * w + x;
            if (bits > 8) p.samples[i] = static_cast<uint16_t>(q);
            else p.bytes[i] = static_cast<uint8_t>(q);
        }
    return p;
}

// Rows [y0, y1) of `p` as a plane of their own (no copy).
espcn_plane rows_of(Plane &p, int y0, int y1) {
    espcn_plane v = p.view();
    v.data = static_cast<uint8_t *>(v.data) + static_cast<ptrdiff_t>(y0) * v.stride;
    v.height = y1 - y0;
    return v;
}

struct Args {
    std::vector<std::string> models;
    espcn_backend backend = ESPCN_BACKEND_CUDA;
    std::vector<espcn_precision> precisions{ESPCN_PRECISION_FP32, ESPCN_PRECISION_FP16};
    int width = 1920, height = 1080;
    std::vector<int> bits{8, 10, 16};
    int threads = 0;
    double deadline = -1;
    std::string csv;
};

std::vector<std::string> split(const std::string &s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        const size_t c = s.find(',', start);
        const std::string part = s.substr(start, c == std::string::npos ? std::string::npos : c - start);
        if (!part.empty()) out.push_back(part);
        if (c == std::string::npos) break;
        start = c + 1;
    }
    return out;
}

int usage(const char *why) {
    std::fprintf(stderr,
                 "espcn-compare: %s\nusage: espcn-compare --models A,B,... --backend cuda|cpu-fast|onednn|reference "
                 "[--precisions fp32,fp16,bf16] [--size WxH] [--bits 8,10,16] [--threads N] [--deadline S] "
                 "[--csv FILE]\n",
                 why);
    return 2;
}

bool parse(int argc, char **argv, Args &a, std::string &error) {
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) {
            error = flag + " needs a value";
            return false;
        }
        const std::string v = argv[++i];
        if (flag == "--models") {
            a.models = split(v);
        } else if (flag == "--backend") {
            if (v == "cuda") a.backend = ESPCN_BACKEND_CUDA;
            else if (v == "cpu-fast") a.backend = ESPCN_BACKEND_CPU_FAST;
            else if (v == "onednn") a.backend = ESPCN_BACKEND_ONEDNN;
            else if (v == "reference") a.backend = ESPCN_BACKEND_REFERENCE;
            else {
                error = "unknown backend '" + v + "'";
                return false;
            }
        } else if (flag == "--precisions") {
            a.precisions.clear();
            for (const std::string &p : split(v)) {
                if (p == "fp32") a.precisions.push_back(ESPCN_PRECISION_FP32);
                else if (p == "fp16") a.precisions.push_back(ESPCN_PRECISION_FP16);
                else if (p == "bf16") a.precisions.push_back(ESPCN_PRECISION_BF16);
                else {
                    error = "unknown precision '" + p + "'";
                    return false;
                }
            }
        } else if (flag == "--size") {
            if (std::sscanf(v.c_str(), "%dx%d", &a.width, &a.height) != 2 || a.width < 1 || a.height < 1 ||
                a.width > 16384 || a.height > 16384) {
                error = "--size needs WxH";
                return false;
            }
        } else if (flag == "--bits") {
            a.bits.clear();
            for (const std::string &b : split(v)) {
                const int n = std::atoi(b.c_str());
                if (n < 8 || n > 16) {
                    error = "--bits: " + b + " is outside 8..16";
                    return false;
                }
                a.bits.push_back(n);
            }
        } else if (flag == "--threads") {
            a.threads = std::atoi(v.c_str());
        } else if (flag == "--deadline") {
            a.deadline = std::atof(v.c_str());
        } else if (flag == "--csv") {
            a.csv = v;
        } else {
            error = "unknown option '" + flag + "'";
            return false;
        }
    }
    if (a.models.empty()) error = "--models is required";
    return error.empty();
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The reference backend's output of `in`, on `threads` threads in bands.
int band_count(int height, int radius, int threads) {
    return std::max(1, std::min(threads, height / std::max(1, 4 * radius + 1)));
}

bool reference_in_bands(const espcn_model *model, int radius, int scale, Plane &in, Plane &out, int threads,
                        std::string &error) {
    const int h = in.height;
    const int bands = band_count(h, radius, threads);
    std::vector<std::string> errors(bands);
    std::vector<std::thread> pool;
    for (int b = 0; b < bands; ++b)
        pool.emplace_back([&, b] {
            const int y0 = static_cast<int>(static_cast<int64_t>(h) * b / bands);
            const int y1 = static_cast<int>(static_cast<int64_t>(h) * (b + 1) / bands);
            const int i0 = std::max(0, y0 - radius), i1 = std::min(h, y1 + radius);
            espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
            p.model = model;
            p.backend = ESPCN_BACKEND_REFERENCE;
            p.threads = 1;
            p.memory_budget = SIZE_MAX;  // one pass over the band
            espcn_context *ctx = nullptr;
            if (espcn_create(&p, &ctx) != ESPCN_OK) {
                errors[b] = espcn_last_error();
                return;
            }
            Plane band_out = make_plane(in.width * scale, (i1 - i0) * scale, out.bits);
            espcn_plane src = rows_of(in, i0, i1), dst = band_out.view();
            if (espcn_process_plane(ctx, &src, &dst) != ESPCN_OK) errors[b] = espcn_last_error();
            espcn_destroy(&ctx);
            if (!errors[b].empty()) return;
            // The band's exact rows [y0, y1) into the whole output.
            const size_t row = static_cast<size_t>(out.width);
            for (int y = y0 * scale; y < y1 * scale; ++y) {
                const size_t from = static_cast<size_t>(y - i0 * scale) * row, to = static_cast<size_t>(y) * row;
                if (out.bits > 8)
                    std::copy_n(band_out.samples.begin() + from, row, out.samples.begin() + to);
                else
                    std::copy_n(band_out.bytes.begin() + from, row, out.bytes.begin() + to);
            }
        });
    for (std::thread &t : pool) t.join();
    for (const std::string &e : errors)
        if (!e.empty()) {
            error = e;
            return false;
        }
    return true;
}

}  // namespace

int main(int argc, char **argv) {
    Args a;
    std::string error;
    if (!parse(argc, argv, a, error)) return usage(error.c_str());
    const int threads = a.threads > 0 ? a.threads : std::max(1u, std::thread::hardware_concurrency());
    FILE *csv = a.csv.empty() ? nullptr : std::fopen(a.csv.c_str(), "w");
    if (!a.csv.empty() && !csv) return usage(("cannot write " + a.csv).c_str());
    if (csv) std::fprintf(csv, "model,bits,precision,status,max_diff,over_1,samples,psnr_db,first_ms,ms,reference_s\n");
    std::printf("# espcn-compare: backend %s vs reference (%d threads, bands of rows), %dx%d input planes, "
                "libespcn %s\n",
                espcn_backend_name(a.backend), threads, a.width, a.height, espcn_version());
    std::printf("# %-26s %4s %5s  %8s %10s %8s %9s %9s  %s\n", "model", "bits", "prec", "max diff", "> 1 code",
                "PSNR dB", "first ms", "ms", "verdict");
    const auto start = Clock::now();
    int failed = 0, left_out = 0;
    for (const std::string &path : a.models) {
        const std::string name = path.substr(path.find_last_of('/') + 1);
        auto row = [&](int bits, const char *prec, const std::string &status, const char *fmt_rest) {
            std::printf("  %-26s %4d %5s  %s %s\n", name.c_str(), bits, prec, fmt_rest, status.c_str());
            if (csv) std::fprintf(csv, "%s,%d,%s,%s,,,,,,,\n", name.c_str(), bits, prec, status.c_str());
        };
        if (a.deadline >= 0 && seconds_since(start) > a.deadline) {
            for (const int bits : a.bits)
                for (const espcn_precision p : a.precisions) row(bits, espcn_precision_name(p), "not run: out of time", "");
            ++left_out;
            continue;
        }
        espcn_params lp = ESPCN_PARAMS_DEFAULT_INIT;
        lp.model_path = path.c_str();
        espcn_model *model = nullptr;
        if (espcn_model_load(&lp, &model) != ESPCN_OK) {
            row(0, "-", std::string("FAILED: ") + espcn_last_error(), "");
            ++failed;
            continue;
        }
        espcn_model_info info{};
        espcn_model_get_info(model, &info);
        std::printf("# %s: x%d, receptive radius %d; the reference in %d bands of rows\n", name.c_str(), info.scale,
                    info.receptive_radius, band_count(a.height, info.receptive_radius, threads));
        for (const int bits : a.bits) {
            Plane in = picture(a.width, a.height, bits);
            Plane ref = make_plane(a.width * info.scale, a.height * info.scale, bits);
            const auto t_ref = Clock::now();
            if (!reference_in_bands(model, info.receptive_radius, info.scale, in, ref, threads, error)) {
                row(bits, "-", "FAILED: reference: " + error, "");
                ++failed;
                continue;
            }
            const double reference_s = seconds_since(t_ref);
            for (const espcn_precision prec : a.precisions) {
                const char *pname = espcn_precision_name(prec);
                espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
                p.model = model;
                p.backend = a.backend;
                p.precision = prec;
                p.threads = threads;
                espcn_context *ctx = nullptr;
                if (espcn_create(&p, &ctx) != ESPCN_OK) {
                    row(bits, pname, std::string("FAILED: ") + espcn_last_error(), "");
                    ++failed;
                    continue;
                }
                Plane out = make_plane(ref.width, ref.height, bits);
                espcn_plane src = in.view(), dst = out.view();
                auto t0 = Clock::now();
                espcn_status s = espcn_process_plane(ctx, &src, &dst);
                const double first_ms = seconds_since(t0) * 1e3;
                t0 = Clock::now();
                if (s == ESPCN_OK) s = espcn_process_plane(ctx, &src, &dst);
                const double ms = seconds_since(t0) * 1e3;
                espcn_model_info used{};
                espcn_get_model_info(ctx, &used);
                const std::string err = s == ESPCN_OK ? "" : espcn_last_error();
                espcn_destroy(&ctx);
                if (s != ESPCN_OK) {
                    row(bits, pname, "FAILED: " + err, "");
                    ++failed;
                    continue;
                }
                uint32_t worst = 0;
                size_t over = 0;
                double sq = 0;
                const size_t n = static_cast<size_t>(ref.width) * ref.height;
                for (size_t i = 0; i < n; ++i) {
                    const int64_t d = static_cast<int64_t>(out.at(i)) - ref.at(i);
                    const uint32_t ad = static_cast<uint32_t>(d < 0 ? -d : d);
                    worst = std::max(worst, ad);
                    over += ad > 1;
                    sq += static_cast<double>(d) * static_cast<double>(d);
                }
                const double maxv = (1u << bits) - 1u;
                const double psnr = sq == 0 ? INFINITY : 10.0 * std::log10(maxv * maxv / (sq / n));
                // fp32 must be within one code of the oracle; the others are reported.
                const bool bar = used.precision == ESPCN_PRECISION_FP32;
                const bool ok = !bar || worst <= 1;
                const std::string verdict = std::string(ok ? "ok" : "FAILED") +
                                            (bar ? " (fp32: <= 1 code)" : "") +
                                            (used.backend != a.backend || used.precision != prec
                                                 ? std::string(" [ran as ") + espcn_backend_name(used.backend) +
                                                       " " + espcn_precision_name(used.precision) + "]"
                                                 : "");
                failed += !ok;
                char cells[160];
                std::snprintf(cells, sizeof cells, "%8u %10zu %8.2f %9.1f %9.1f ", worst, over, psnr, first_ms, ms);
                std::printf("  %-26s %4d %5s  %s %s\n", name.c_str(), bits, pname, cells, verdict.c_str());
                if (csv)
                    std::fprintf(csv, "%s,%d,%s,%s,%u,%zu,%zu,%.3f,%.3f,%.3f,%.2f\n", name.c_str(), bits, pname,
                                 ok ? "ok" : "failed", worst, over, n, psnr, first_ms, ms, reference_s);
                std::fflush(stdout);
            }
        }
        espcn_model_release(&model);
    }
    if (csv) std::fclose(csv);
    std::printf("# %.1f s; %d row(s) failed, %d model(s) not run (deadline)\n", seconds_since(start), failed, left_out);
    return failed ? 1 : left_out ? 4 : 0;
}
