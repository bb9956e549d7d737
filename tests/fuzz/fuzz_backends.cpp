// libFuzzer target: every CPU backend through the public C API. The input
// drives a structure-aware generator: a small valid network (1-4 convs of
// 1-6 channels, kernels 1/3/5/7, every activation, PReLU shared or per
// channel, a pixel shuffle in either order or a deconvolution upsampler,
// F32/F16, a value range), written as a model file and loaded from memory,
// then a plane (1-40 x 1-40, 8-16 bits in and out, P010-style shifts,
// bottom-up and padded strides) and a memory budget.
//
// Oracles, per backend: the plane under the fuzzed budget is bit-identical
// to the plane with no budget (row tiles; cpu-fast: narrower strips), or the budget is refused as out
// of memory with a message; a cancel callback that fires after a fuzzed
// number of polls gives ESPCN_OK or ESPCN_ERROR_CANCELLED; chroma upscaling
// of a fuzzed plane stays inside its buffers (ASan). Nothing else may fail.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/safetensors.hpp"
#include "espcn/espcn.h"

namespace {

using nlohmann::json;

void require(bool ok) {
    if (!ok) __builtin_trap();
}

struct Model {
    std::vector<uint8_t> bytes;
    int scale = 2;
};

class Generator {
public:
    explicit Generator(FuzzedDataProvider &in) : in_(in) {}

    Model model() {
        Model m;
        m.scale = in_.ConsumeIntegralInRange(1, 4);
        dtype_ = in_.ConsumeBool() ? espcn::DType::f16 : espcn::DType::f32;
        json layers = json::array();
        int channels = 1;
        const int hidden = in_.ConsumeIntegralInRange(0, 3);
        for (int k = 0; k < hidden; ++k) {
            const int out = in_.ConsumeIntegralInRange(1, 6);
            layers.push_back(conv(channels, out, kernel()));
            channels = out;
            activation(layers, channels);
        }
        const int r = m.scale;
        if (in_.ConsumeBool() && r > 1) {
            // A deconvolution making exactly r x: K - 2p + op = r.
            const int op = in_.ConsumeIntegralInRange(0, r - 1);
            const int pad = in_.ConsumeIntegralInRange(0, 3);
            const int k = r + 2 * pad - op;
            if (k >= 1) {
                layers.push_back(deconv(channels, k, r, pad, op));
            } else {
                layers.push_back(conv(channels, r * r, kernel()));
                layers.push_back({{"type", "pixel_shuffle"}, {"scale", r}});
            }
        } else {
            layers.push_back(conv(channels, r * r, kernel()));
            layers.push_back({{"type", "pixel_shuffle"},
                              {"scale", r},
                              {"order", in_.ConsumeBool() ? "crd" : "dcr"}});
        }
        activation(layers, 1);
        json net = {{"name", "fuzz"}, {"scale", r}, {"layers", layers}};
        if (in_.ConsumeBool()) {
            const float lo = in_.ConsumeFloatingPointInRange(-4.0f, 4.0f);
            const float hi = in_.ConsumeFloatingPointInRange(-4.0f, 4.0f);
            if (lo != hi) net["range"] = {lo, hi};
        }
        m.bytes = espcn::write_safetensors(
            {{"espcn.format", "1"}, {"espcn.network", net.dump()}}, tensors_);
        return m;
    }

private:
    int kernel() {
        static const int kernels[] = {1, 3, 5, 7};
        return kernels[in_.ConsumeIntegralInRange(0, 3)];
    }

    std::string tensor(std::vector<int64_t> shape) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        espcn::TensorToWrite t;
        t.name = "t" + std::to_string(tensors_.size());
        t.shape = std::move(shape);
        t.dtype = dtype_;
        const bool extreme = in_.ConsumeIntegralInRange(0, 15) == 0;
        for (int64_t k = 0; k < n; ++k) {
            float v = extreme ? in_.ConsumeFloatingPoint<float>()
                              : in_.ConsumeFloatingPointInRange(-1.5f, 1.5f);
            if (!std::isfinite(v)) v = 0.0f;  // the loader refuses those; covered elsewhere
            if (dtype_ == espcn::DType::f16 && std::fabs(v) > 65504.0f) v = 0.0f;
            t.values.push_back(v);
        }
        tensors_.push_back(std::move(t));
        return tensors_.back().name;
    }

    json conv(int in, int out, int k) {
        json l = {{"type", "conv"}, {"in", in}, {"out", out}, {"kernel", k},
                  {"weight", tensor({out, in, k, k})}};
        l["bias"] = in_.ConsumeBool() ? json(tensor({out})) : json(nullptr);
        return l;
    }

    json deconv(int in, int k, int stride, int pad, int op) {
        json l = {{"type", "deconv"}, {"in", in}, {"out", 1}, {"kernel", k}, {"stride", stride},
                  {"padding", pad}, {"output_padding", op}, {"weight", tensor({in, 1, k, k})}};
        l["bias"] = in_.ConsumeBool() ? json(tensor({1})) : json(nullptr);
        return l;
    }

    void activation(json &layers, int channels) {
        switch (in_.ConsumeIntegralInRange(0, 6)) {
        case 0: layers.push_back({{"type", "relu"}}); break;
        case 1: layers.push_back({{"type", "tanh"}}); break;
        case 2: layers.push_back({{"type", "sigmoid"}}); break;
        case 3: layers.push_back({{"type", "identity"}}); break;
        case 4:
            layers.push_back({{"type", "prelu"},
                              {"weight", tensor({in_.ConsumeBool() ? 1 : channels})}});
            break;
        default: break;  // none
        }
    }

    FuzzedDataProvider &in_;
    espcn::DType dtype_ = espcn::DType::f32;
    std::vector<espcn::TensorToWrite> tensors_;
};

struct Plane {
    std::vector<uint8_t> storage;
    espcn_plane plane{};
};

// bits 8..16 (shift: P010-style), `extra` samples of padding per row, rows
// stored bottom-up when asked.
Plane make_plane(int w, int h, int bits, int shift, int extra, bool bottom_up, int components = 1) {
    Plane p;
    const int bps = bits > 8 ? 2 : 1;
    const ptrdiff_t stride = static_cast<ptrdiff_t>(w * components + extra) * bps;
    p.storage.assign(static_cast<size_t>(stride) * h, 0x5a);
    p.plane.data = bottom_up ? p.storage.data() + stride * (h - 1) : p.storage.data();
    p.plane.stride = bottom_up ? -stride : stride;
    p.plane.width = w;
    p.plane.height = h;
    p.plane.bit_depth = bits;
    p.plane.shift = shift;
    return p;
}

void fill(Plane &p, FuzzedDataProvider &in, int components = 1) {
    for (int y = 0; y < p.plane.height; ++y) {
        uint8_t *row = static_cast<uint8_t *>(p.plane.data) + y * p.plane.stride;
        const int n = p.plane.width * components;
        if (p.plane.bit_depth == 8) {
            for (int x = 0; x < n; ++x) row[x] = in.ConsumeIntegral<uint8_t>();
        } else {
            for (int x = 0; x < n; ++x) {
                const uint16_t v = in.ConsumeIntegral<uint16_t>();  // junk in the unused bits too
                std::memcpy(row + 2 * x, &v, 2);
            }
        }
    }
}

bool same_rows(const Plane &a, const Plane &b) {
    const int bps = a.plane.bit_depth > 8 ? 2 : 1;
    for (int y = 0; y < a.plane.height; ++y)
        if (std::memcmp(static_cast<const uint8_t *>(a.plane.data) + y * a.plane.stride,
                        static_cast<const uint8_t *>(b.plane.data) + y * b.plane.stride,
                        static_cast<size_t>(a.plane.width) * bps) != 0)
            return false;
    return true;
}

struct Context {
    espcn_context *ctx = nullptr;
    ~Context() { espcn_destroy(&ctx); }
};

struct CancelAfter {
    int polls;
};

int cancel_after(void *opaque) {
    auto *c = static_cast<CancelAfter *>(opaque);
    return c->polls-- <= 0;
}

espcn_status create(const espcn_model *model, espcn_backend backend, size_t budget,
                    CancelAfter *cancel, Context &c) {
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    p.model = model;
    p.backend = backend;
    p.threads = 1;
    p.memory_budget = budget;
    if (cancel) {
        p.cancel_callback = cancel_after;
        p.cancel_opaque = cancel;
    }
    return espcn_create(&p, &c.ctx);
}

struct ModelRef {
    espcn_model *m = nullptr;
    ~ModelRef() { espcn_model_release(&m); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    Generator gen(in);
    const Model model = gen.model();

    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    p.model_data = model.bytes.data();
    p.model_size = model.bytes.size();
    ModelRef m;
    // Every generated network is valid: refusing one is a loader bug.
    require(espcn_model_load(&p, &m.m) == ESPCN_OK);

    const int w = in.ConsumeIntegralInRange(1, 40), h = in.ConsumeIntegralInRange(1, 40);
    const int in_bits = in.ConsumeIntegralInRange(8, 16), out_bits = in.ConsumeIntegralInRange(8, 16);
    const int in_shift = in_bits > 8 ? in.ConsumeIntegralInRange(0, 16 - in_bits) : 0;
    const int out_shift = out_bits > 8 ? in.ConsumeIntegralInRange(0, 16 - out_bits) : 0;
    const bool bottom_up = in.ConsumeBool();
    const size_t budget = in.ConsumeIntegralInRange<size_t>(1, size_t{1} << 20);
    CancelAfter cancel{in.ConsumeIntegralInRange(0, 40)};
    const int r = model.scale;
    Plane src = make_plane(w, h, in_bits, in_shift, in.ConsumeIntegralInRange(0, 3), bottom_up);
    fill(src, in);

    for (espcn_backend backend : {ESPCN_BACKEND_REFERENCE, ESPCN_BACKEND_ONEDNN, ESPCN_BACKEND_CPU_FAST}) {
        if (!espcn_backend_available(backend)) continue;
        Plane whole = make_plane(w * r, h * r, out_bits, out_shift, 1, false);
        Plane banded = make_plane(w * r, h * r, out_bits, out_shift, 2, !bottom_up);
        {
            Context c;
            require(create(m.m, backend, SIZE_MAX, nullptr, c) == ESPCN_OK);
            require(espcn_process_plane(c.ctx, &src.plane, &whole.plane) == ESPCN_OK);
        }
        {
            Context c;
            require(create(m.m, backend, budget, nullptr, c) == ESPCN_OK);
            const espcn_status s = espcn_process_plane(c.ctx, &src.plane, &banded.plane);
            if (s == ESPCN_OK) {
                require(same_rows(whole, banded));
            } else {
                require(s == ESPCN_ERROR_OUT_OF_MEMORY);
                require(std::strstr(espcn_last_error(), "over the memory budget") != nullptr);
            }
        }
        {
            Context c;
            CancelAfter polls = cancel;
            require(create(m.m, backend, budget, &polls, c) == ESPCN_OK);
            const espcn_status s = espcn_process_plane(c.ctx, &src.plane, &banded.plane);
            require(s == ESPCN_OK || s == ESPCN_ERROR_CANCELLED || s == ESPCN_ERROR_OUT_OF_MEMORY);
            // A frame through the frame API, with a chroma plane resampled.
            const int components = in.ConsumeIntegralInRange(1, 2);
            const int cw = in.ConsumeIntegralInRange(1, 20), ch = in.ConsumeIntegralInRange(1, 20);
            Plane chroma = make_plane(cw, ch, in_bits, in_shift, 1, false, components);
            fill(chroma, in, components);
            const int ow = std::max(1, cw * r - in.ConsumeIntegralInRange(0, r)),
                      oh = std::max(1, ch * r - in.ConsumeIntegralInRange(0, r));
            Plane chroma_out = make_plane(ow, oh, in_bits, in_shift, 1, in.ConsumeBool(), components);
            espcn_plane_task tasks[2] = {};
            tasks[0].in = src.plane;
            tasks[0].out = whole.plane;
            tasks[1].in = chroma.plane;
            tasks[1].out = chroma_out.plane;
            tasks[1].resample = 1;
            tasks[1].components = components;
            tasks[1].filter = static_cast<espcn_resample_filter>(in.ConsumeIntegralInRange(0, 2));
            polls.polls = 1 << 30;
            const espcn_status f = espcn_submit_frame(c.ctx, tasks, 2);
            require(f == ESPCN_OK || f == ESPCN_ERROR_OUT_OF_MEMORY);
            if (f == ESPCN_OK) require(espcn_receive_frame(c.ctx) == ESPCN_OK);
        }
    }
    return 0;
}
