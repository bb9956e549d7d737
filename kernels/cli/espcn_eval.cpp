// espcn-eval: the super-resolution quality protocol (Set5/Set14 style)
// through the real engine, or on images another program (the patched ffmpeg)
// produced.
//
// For every image of a dataset folder: Y of MATLAB rgb2ycbcr (BT.601,
// limited range; gray images are their own Y), modcrop to a multiple of r,
// LR = MATLAB imresize(Y, 1/r, 'bicubic') on uint8; the model's output (8-bit)
// and imresize(LR, r, 'bicubic') scored against Y with r pixels shaved:
// PSNR and SSIM, per image and the mean, printed and optionally as CSV.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "imaging/image_io.hpp"
#include "interrupt.hpp"
#include "imaging/matlab_imresize.hpp"
#include "imaging/quality.hpp"
#include "tool_main.hpp"
#include "upscaler.hpp"

namespace espcn {

namespace {

namespace fs = std::filesystem;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

const char *usage() {
    return "usage: espcn-eval [options] DATASET_DIR...\n"
           "\n"
           "Scores super-resolution on folders of ground-truth images (.png, .pgm, .ppm, .pnm;\n"
           "8-bit gray or RGB) with the SR papers' protocol: Y of MATLAB rgb2ycbcr (BT.601,\n"
           "limited range), cropped to a multiple of r, LR = MATLAB imresize(Y, 1/r, 'bicubic')\n"
           "on uint8, PSNR and SSIM on Y with r pixels shaved at the border, beside bicubic\n"
           "(imresize(LR, r, 'bicubic')).\n"
           "\n"
           "  -m, --model FILE   model to run (default: default-x<r>.safetensors, the shipped default\n"
           "                     for the scale, in $ESPCN_MODEL_DIR or the installed model folder;\n"
           "                     needs --scale)\n"
           "  -s, --scale R      2, 3 or 4 (default: the model's scale)\n"
           "      --backend B    auto (default), reference, onednn, cpu-fast or cuda\n"
           "      --precision P  auto (default), fp32, fp16 (cuda) or bf16 (cpu-fast)\n"
           "      --threads N    CPU threads (default 0: all cores)\n"
           "      --memory-budget B  engine working memory per frame (bytes, or k/m/g suffix;\n"
           "                     default 512m)\n"
           "      --sr-dir DIR   do not run the engine: score DIR/<dataset>/<image stem>.{png,pgm,\n"
           "                     ppm,pnm} (e.g. what ffmpeg -vf espcn made of the --write-lr\n"
           "                     planes); RGB files are reduced to their Y; needs --scale\n"
           "      --lr-dir DIR   take each LR plane from DIR/<dataset>/<image stem>.{png,pgm,ppm,pnm}\n"
           "                     instead of making it (e.g. compressed by a codec:\n"
           "                     scripts/eval_compressed.sh); RGB files are reduced to their Y;\n"
           "                     it must be the HR size / r; bicubic is computed from it too\n"
           "      --write-lr DIR write each LR Y plane as DIR/<dataset>/<image stem>.png\n"
           "      --lr-only      with --write-lr and --scale: write the LR planes, score nothing\n"
           "      --save DIR     write DIR/<dataset>/<stem>_{hr,lr,sr,bicubic}.pgm\n"
           "      --csv FILE     also write every row as CSV\n"
           "      --label NAME   the method's name in the output (default: the model's name,\n"
           "                     or 'external' with --sr-dir)\n"
           "  -h, --help         this text\n"
           "\n"
           "Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C stops\n"
           "within a fraction of a second; the CSV is written only when complete).\n";
}

struct EvalOptions {
    std::vector<std::string> datasets;
    std::string model_path;
    int scale = 0;
    espcn_backend backend = ESPCN_BACKEND_AUTO;
    espcn_precision precision = ESPCN_PRECISION_AUTO;
    int threads = 0;
    size_t memory_budget = 0;
    std::string sr_dir, lr_dir, write_lr_dir, save_dir, csv_path, label;
    bool lr_only = false;
    bool help = false;
};

Result<EvalOptions> parse_options(int argc, char **argv) {
    EvalOptions o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> Result<std::string> {
            ESPCN_RETURN_IF(i + 1 >= argc, ESPCN_ERROR_INVALID_ARGUMENT, arg, " needs a value");
            return std::string(argv[++i]);
        };
        auto take = [&](std::string &dst) -> Status {
            Result<std::string> v = value();
            ESPCN_RETURN_IF_ERROR(v.status());
            dst = v.value();
            return Status::ok();
        };
        std::string v;
        if (arg == "-h" || arg == "--help") {
            o.help = true;
        } else if (arg == "-m" || arg == "--model") {
            ESPCN_RETURN_IF_ERROR(take(o.model_path));
        } else if (arg == "-s" || arg == "--scale") {
            ESPCN_RETURN_IF_ERROR(take(v));
            ESPCN_RETURN_IF_ERROR(parse_integer(v, arg, 2, 4, o.scale));
        } else if (arg == "--backend") {
            ESPCN_RETURN_IF_ERROR(take(v));
            ESPCN_RETURN_IF_ERROR(parse_backend(v, o.backend));
        } else if (arg == "--precision") {
            ESPCN_RETURN_IF_ERROR(take(v));
            ESPCN_RETURN_IF_ERROR(parse_precision(v, o.precision));
        } else if (arg == "--threads") {
            ESPCN_RETURN_IF_ERROR(take(v));
            ESPCN_RETURN_IF_ERROR(parse_integer(v, arg, 0, 1024, o.threads));
        } else if (arg == "--memory-budget") {
            ESPCN_RETURN_IF_ERROR(take(v));
            uint64_t bytes = 0;
            ESPCN_RETURN_IF_ERROR(parse_byte_size(v, arg, SIZE_MAX, bytes));
            o.memory_budget = static_cast<size_t>(bytes);
        } else if (arg == "--sr-dir") {
            ESPCN_RETURN_IF_ERROR(take(o.sr_dir));
        } else if (arg == "--lr-dir") {
            ESPCN_RETURN_IF_ERROR(take(o.lr_dir));
        } else if (arg == "--write-lr") {
            ESPCN_RETURN_IF_ERROR(take(o.write_lr_dir));
        } else if (arg == "--lr-only") {
            o.lr_only = true;
        } else if (arg == "--save") {
            ESPCN_RETURN_IF_ERROR(take(o.save_dir));
        } else if (arg == "--csv") {
            ESPCN_RETURN_IF_ERROR(take(o.csv_path));
        } else if (arg == "--label") {
            ESPCN_RETURN_IF_ERROR(take(o.label));
        } else if (!arg.empty() && arg[0] == '-') {
            return Status(ESPCN_ERROR_INVALID_ARGUMENT, concat("unknown option ", arg));
        } else {
            o.datasets.push_back(arg);
        }
    }
    if (o.help) return o;
    ESPCN_RETURN_IF(o.datasets.empty(), ESPCN_ERROR_INVALID_ARGUMENT, "no dataset folder given");
    ESPCN_RETURN_IF(o.lr_only && (o.write_lr_dir.empty() || o.scale == 0 || !o.model_path.empty() ||
                                  !o.sr_dir.empty()),
                    ESPCN_ERROR_INVALID_ARGUMENT,
                    "--lr-only takes --write-lr and --scale, and no --model or --sr-dir");
    ESPCN_RETURN_IF(!o.lr_dir.empty() && (o.lr_only || !o.sr_dir.empty()), ESPCN_ERROR_INVALID_ARGUMENT,
                    "--lr-dir takes neither --lr-only nor --sr-dir");
    ESPCN_RETURN_IF(!o.sr_dir.empty() && !o.model_path.empty(), ESPCN_ERROR_INVALID_ARGUMENT,
                    "--sr-dir scores existing images: it takes no --model");
    ESPCN_RETURN_IF(o.scale == 0 && o.model_path.empty(), ESPCN_ERROR_INVALID_ARGUMENT,
                    "give --model, or --scale to use the shipped model (or with --sr-dir)");
    return o;
}

bool is_image_name(const fs::path &p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".png" || ext == ".pgm" || ext == ".ppm" || ext == ".pnm";
}

Result<std::vector<fs::path>> list_images(const std::string &dir) {
    std::error_code ec;
    ESPCN_RETURN_IF(!fs::is_directory(dir, ec), ESPCN_ERROR_INVALID_ARGUMENT, "'", dir,
                    "' is not a folder");
    std::vector<fs::path> files;
    for (const fs::directory_entry &e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file(ec) && is_image_name(e.path())) files.push_back(e.path());
    ESPCN_RETURN_IF(ec, ESPCN_ERROR_IO, "cannot list '", dir, "': ", ec.message());
    ESPCN_RETURN_IF(files.empty(), ESPCN_ERROR_INVALID_ARGUMENT, "no images in '", dir, "'");
    std::sort(files.begin(), files.end());
    return files;
}

// Prefixes the image's path to a message that does not start with it
// already (read_image's do).
Status about_file(Status s, const fs::path &file) {
    const std::string prefix = file.string() + ":";
    if (s.is_ok() || s.message().compare(0, prefix.size(), prefix) == 0) return s;
    return std::move(s).with_context(prefix + " ");
}

// Ctrl-C between images and steps (the engine stops itself inside a frame).
Status check_interrupt() {
    ESPCN_RETURN_IF(interrupted(), ESPCN_ERROR_CANCELLED, "interrupted");
    return Status::ok();
}

// A folder's last component, also for "Set5/".
std::string dataset_name(const std::string &dir) {
    fs::path p = fs::path(dir).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    return p.filename().string();
}

// A plane as PGM or PNG (by the name).
Status write_pgm(const fs::path &dir, const std::string &name, const Image &plane) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    ESPCN_RETURN_IF(ec, ESPCN_ERROR_IO, "cannot create '", dir.string(), "': ", ec.message());
    return write_image((dir / name).string(), plane);
}

// The image another program wrote for `stem`, as an 8-bit Y plane.
Result<Image> read_external(const fs::path &dir, const std::string &stem) {
    for (const char *ext : {".png", ".pgm", ".ppm", ".pnm"}) {
        const fs::path p = dir / (stem + ext);
        std::error_code ec;
        if (!fs::exists(p, ec)) continue;
        Result<Image> im = read_image(p.string());
        ESPCN_RETURN_IF_ERROR(im.status());
        Result<Image> y = luma_bt601_u8(im.value());
        ESPCN_RETURN_IF(!y.is_ok(), ESPCN_ERROR_INVALID_ARGUMENT, p.string(), ": ",
                        y.status().message());
        return y;
    }
    return Status(ESPCN_ERROR_IO, concat("no ", (dir / stem).string(), ".{png,pgm,ppm,pnm}"));
}

// The protocol's ground truth and input for one image: HR = Y of rgb2ycbcr
// cropped to a multiple of r, LR = MATLAB imresize(HR, 1/r, 'bicubic').
struct ProtocolPair {
    Image hr;
    Image lr;
};

Result<ProtocolPair> protocol_pair(const fs::path &file, int r) {
    Result<Image> rgb = read_image(file.string());
    ESPCN_RETURN_IF_ERROR(rgb.status());
    Result<Image> y = luma_bt601_u8(rgb.value());
    ESPCN_RETURN_IF_ERROR(y.status());
    ProtocolPair pair;
    pair.hr = modcrop(y.value(), r);
    // SSIM's 11x11 window must fit after shaving r pixels at each border.
    ESPCN_RETURN_IF(pair.hr.width < 2 * r + 11 || pair.hr.height < 2 * r + 11,
                    ESPCN_ERROR_INVALID_ARGUMENT, "too small for the protocol (", pair.hr.width,
                    "x", pair.hr.height, ")");
    Result<Image> lr = matlab_downscale_u8(pair.hr, r);
    ESPCN_RETURN_IF_ERROR(lr.status());
    pair.lr = std::move(lr).value();
    return pair;
}

struct Score {
    double psnr = 0.0, ssim = 0.0, bicubic_psnr = 0.0, bicubic_ssim = 0.0;
};

std::string fmt(double v, int decimals) {
    if (std::isinf(v)) return "inf";
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(decimals);
    s << v;
    return s.str();
}

class Evaluator {
public:
    Evaluator(const EvalOptions &o, int scale, std::string label, Upscaler *engine)
        : o_(o), r_(scale), label_(std::move(label)), engine_(engine) {}

    Status run_dataset(const std::string &dir, std::ostream *csv) {
        Result<std::vector<fs::path>> files = list_images(dir);
        ESPCN_RETURN_IF_ERROR(files.status());
        const std::string set = dataset_name(dir);
        std::printf("\n%s (%zu images, x%d)\n", set.c_str(), files.value().size(), r_);
        std::printf("  %-16s %-9s  %8s %7s  %8s %7s  %7s\n", "image", "size", "PSNR", "SSIM",
                    "bicubic", "SSIM", "gain");
        Score sum;
        int n = 0;
        for (const fs::path &file : files.value()) {
            Score s;
            int w = 0, h = 0;
            ESPCN_RETURN_IF_ERROR(check_interrupt());
            ESPCN_RETURN_IF_ERROR(about_file(score_image(file, set, s, w, h), file));
            const std::string name = file.filename().string();
            std::printf("  %-16s %4dx%-4d  %8s %7s  %8s %7s  %+7.3f\n", name.c_str(), w, h,
                        fmt(s.psnr, 3).c_str(), fmt(s.ssim, 4).c_str(), fmt(s.bicubic_psnr, 3).c_str(),
                        fmt(s.bicubic_ssim, 4).c_str(), s.psnr - s.bicubic_psnr);
            if (csv) csv_row(*csv, set, name, w, h, s);
            sum.psnr += s.psnr;
            sum.ssim += s.ssim;
            sum.bicubic_psnr += s.bicubic_psnr;
            sum.bicubic_ssim += s.bicubic_ssim;
            ++n;
        }
        const Score mean{sum.psnr / n, sum.ssim / n, sum.bicubic_psnr / n, sum.bicubic_ssim / n};
        std::printf("  %-16s %-9s  %8s %7s  %8s %7s  %+7.3f\n", "mean", "", fmt(mean.psnr, 3).c_str(),
                    fmt(mean.ssim, 4).c_str(), fmt(mean.bicubic_psnr, 3).c_str(),
                    fmt(mean.bicubic_ssim, 4).c_str(), mean.psnr - mean.bicubic_psnr);
        if (csv) csv_row(*csv, set, "mean", 0, 0, mean);
        return Status::ok();
    }

private:
    Status score_image(const fs::path &file, const std::string &set, Score &s, int &w, int &h) {
        Result<ProtocolPair> pair = protocol_pair(file, r_);
        ESPCN_RETURN_IF_ERROR(pair.status());
        const Image &hr = pair.value().hr;
        if (!o_.lr_dir.empty()) {
            Result<Image> given = read_external(fs::path(o_.lr_dir) / set, file.stem().string());
            ESPCN_RETURN_IF_ERROR(given.status());
            ESPCN_RETURN_IF(given.value().width * r_ != hr.width || given.value().height * r_ != hr.height,
                            ESPCN_ERROR_INVALID_ARGUMENT, "the given LR plane is ", given.value().width,
                            "x", given.value().height, ", the ground truth ", hr.width, "x", hr.height,
                            " (x", r_, ")");
            pair.value().lr = std::move(given).value();
        }
        const Image &lr = pair.value().lr;
        w = hr.width;
        h = hr.height;
        Result<Image> bicubic = matlab_upscale_u8(lr, r_);
        ESPCN_RETURN_IF_ERROR(bicubic.status());

        const std::string stem = file.stem().string();
        if (!o_.write_lr_dir.empty())
            ESPCN_RETURN_IF_ERROR(write_pgm(fs::path(o_.write_lr_dir) / set, stem + ".png", lr));

        Result<Image> sr = engine_ ? run_engine(lr) : read_external(fs::path(o_.sr_dir) / set, stem);
        ESPCN_RETURN_IF_ERROR(sr.status());
        ESPCN_RETURN_IF(sr.value().width != hr.width || sr.value().height != hr.height,
                        ESPCN_ERROR_INVALID_ARGUMENT, "the super-resolved image is ",
                        sr.value().width, "x", sr.value().height, ", the ground truth ", hr.width,
                        "x", hr.height);

        if (!o_.save_dir.empty()) {
            const fs::path d = fs::path(o_.save_dir) / set;
            ESPCN_RETURN_IF_ERROR(write_pgm(d, stem + "_hr.pgm", hr));
            ESPCN_RETURN_IF_ERROR(write_pgm(d, stem + "_lr.pgm", lr));
            ESPCN_RETURN_IF_ERROR(write_pgm(d, stem + "_sr.pgm", sr.value()));
            ESPCN_RETURN_IF_ERROR(write_pgm(d, stem + "_bicubic.pgm", bicubic.value()));
        }
        Result<double> p = psnr_u8(sr.value(), hr, r_), q = ssim_u8(sr.value(), hr, r_),
                       bp = psnr_u8(bicubic.value(), hr, r_), bq = ssim_u8(bicubic.value(), hr, r_);
        for (const Result<double> *m : {&p, &q, &bp, &bq}) ESPCN_RETURN_IF_ERROR(m->status());
        s = Score{p.value(), q.value(), bp.value(), bq.value()};
        return Status::ok();
    }

    Result<Image> run_engine(const Image &lr) {
        PlaneTiming timing;
        return engine_->upscale_plane(lr, 8, 0, timing);
    }

    void csv_row(std::ostream &csv, const std::string &set, const std::string &name, int w, int h,
                 const Score &s) const {
        csv << set << ',' << name << ',' << w << ',' << h << ',' << r_ << ',' << label_ << ','
            << fmt(s.psnr, 4) << ',' << fmt(s.ssim, 6) << ',' << fmt(s.bicubic_psnr, 4) << ','
            << fmt(s.bicubic_ssim, 6) << '\n';
    }

    const EvalOptions &o_;
    int r_;
    std::string label_;
    Upscaler *engine_;
};

// --lr-only: the LR planes an external program (ffmpeg) is to upscale.
Status write_lr_planes(const EvalOptions &o) {
    int n = 0;
    for (const std::string &dir : o.datasets) {
        Result<std::vector<fs::path>> files = list_images(dir);
        ESPCN_RETURN_IF_ERROR(files.status());
        for (const fs::path &file : files.value()) {
            ESPCN_RETURN_IF_ERROR(check_interrupt());
            Result<ProtocolPair> pair = protocol_pair(file, o.scale);
            ESPCN_RETURN_IF_ERROR(about_file(pair.status(), file));
            ESPCN_RETURN_IF_ERROR(write_pgm(fs::path(o.write_lr_dir) / dataset_name(dir),
                                            file.stem().string() + ".png", pair.value().lr));
            ++n;
        }
    }
    std::printf("espcn-eval: wrote %d LR planes (x%d) under %s\n", n, o.scale, o.write_lr_dir.c_str());
    return Status::ok();
}

Status evaluate(const EvalOptions &o) {
    if (o.lr_only) return write_lr_planes(o);
    std::optional<Upscaler> engine;
    int scale = o.scale;
    std::string label = o.label;
    if (o.sr_dir.empty()) {
        UpscalerConfig config;
        config.model_path = o.model_path.empty()
                                ? concat(espcn_default_model_dir(), "/default-x", o.scale, ".safetensors")
                                : o.model_path;
        config.backend = o.backend;
        config.precision = o.precision;
        config.threads = o.threads;
        config.memory_budget = o.memory_budget;
        config.cancel = cancel_on_interrupt;
        Result<Upscaler> created = Upscaler::create(config);
        ESPCN_RETURN_IF_ERROR(created.status());
        engine.emplace(std::move(created).value());
        const espcn_model_info &info = engine->info();
        ESPCN_RETURN_IF(o.scale != 0 && o.scale != info.scale, ESPCN_ERROR_INVALID_ARGUMENT,
                        "--scale ", o.scale, " but the model '", info.name, "' is x", info.scale);
        scale = info.scale;
        if (label.empty()) label = info.name;
        std::printf("espcn-eval: model %s (%s, x%d, %.0f MACs per LR pixel), backend %s (%s)\n",
                    config.model_path.c_str(), info.name, info.scale, info.macs_per_lr_pixel,
                    espcn_backend_name(info.backend), espcn_precision_name(info.precision));
    } else {
        if (label.empty()) label = "external";
        std::printf("espcn-eval: scoring the images in %s as '%s'\n", o.sr_dir.c_str(), label.c_str());
    }
    if (o.lr_dir.empty())
        std::printf("protocol: Y of MATLAB rgb2ycbcr (BT.601 limited range), modcrop %d, LR = MATLAB "
                    "imresize bicubic (uint8), PSNR/SSIM on Y shaving %d pixels\n", scale, scale);
    else
        std::printf("protocol: Y of MATLAB rgb2ycbcr (BT.601 limited range), modcrop %d, LR given in %s, "
                    "PSNR/SSIM on Y shaving %d pixels\n", scale, o.lr_dir.c_str(), scale);

    // The CSV is created first (a bad folder fails before any work) and
    // renamed into place only when every dataset is done.
    std::optional<OutputFile> csv_file;
    std::ostringstream csv;
    if (!o.csv_path.empty()) {
        Result<OutputFile> created = OutputFile::create(o.csv_path);
        ESPCN_RETURN_IF_ERROR(created.status());
        csv_file.emplace(std::move(created).value());
        csv << "dataset,image,hr_width,hr_height,scale,method,psnr_y,ssim_y,bicubic_psnr_y,"
               "bicubic_ssim_y\n";
    }
    Evaluator ev(o, scale, label, engine ? &*engine : nullptr);
    for (const std::string &dir : o.datasets)
        ESPCN_RETURN_IF_ERROR(ev.run_dataset(dir, csv_file ? &csv : nullptr));
    if (csv_file) {
        const std::string text = csv.str();
        ESPCN_RETURN_IF_ERROR(csv_file->commit(std::vector<uint8_t>(text.begin(), text.end())));
    }
    return Status::ok();
}

int run(int argc, char **argv) {
    Result<EvalOptions> parsed = parse_options(argc, argv);
    if (!parsed.is_ok()) {
        std::fprintf(stderr, "espcn-eval: %s\nTry 'espcn-eval --help'.\n",
                     parsed.status().message().c_str());
        return kExitUsage;
    }
    const EvalOptions &o = parsed.value();
    if (o.help) {
        std::fputs(usage(), stdout);
        return 0;
    }
    if (o.threads > 0) omp_set_num_threads(o.threads);
    install_interrupt_handler();
    const Status st = evaluate(o);
    if (interrupted()) {
        std::fprintf(stderr, "espcn-eval: interrupted\n");
        return interrupted_exit_code();
    }
    if (!st.is_ok()) {
        std::fprintf(stderr, "espcn-eval: %s\n", st.message().c_str());
        return kExitFailure;
    }
    return 0;
}

}  // namespace

}  // namespace espcn

int main(int argc, char **argv) { return espcn::run_tool("espcn-eval", espcn::run, argc, argv); }
