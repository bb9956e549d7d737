// libFuzzer target: the model loader through the public C API, the model in
// memory (espcn_model_load with model_data). A file is either refused with a
// message and a status that is not "internal error", or loads into a model
// whose info is sane and which runs a small plane on the reference backend.
// Memory: libFuzzer's -rss_limit_mb / -malloc_limit_mb turn any blow-up
// (the loader's limits failing) into a reported crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "espcn/espcn.h"

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

// A failure must say something, and never be a bug or an unknown code.
void require_clean_failure(espcn_status s) {
    require(s != ESPCN_OK && s != ESPCN_ERROR_INTERNAL && s <= ESPCN_ERROR_CANCELLED);
    require(espcn_last_error()[0] != '\0');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uint8_t empty = 0;  // an empty buffer is still a given buffer
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    p.model_data = size ? data : &empty;
    p.model_size = size;
    espcn_model *model = reinterpret_cast<espcn_model *>(0x1);  // must be reset
    const espcn_status s = espcn_model_load(&p, &model);
    if (s != ESPCN_OK) {
        require(model == nullptr);
        require_clean_failure(s);
        return 0;
    }
    espcn_model_info info{};
    require(espcn_model_get_info(model, &info) == ESPCN_OK);
    require(info.scale >= 1 && info.scale <= 8 && info.num_convs >= 1 && info.in_channels == 1 &&
            info.out_channels == 1 && info.receptive_radius >= 0 && info.name != nullptr);

    espcn_params c = ESPCN_PARAMS_DEFAULT_INIT;
    c.model = model;
    c.backend = ESPCN_BACKEND_REFERENCE;
    c.threads = 1;
    espcn_context *ctx = nullptr;
    const espcn_status created = espcn_create(&c, &ctx);
    espcn_model_release(&model);  // the context keeps its own reference
    require(model == nullptr);
    if (created != ESPCN_OK) {
        require_clean_failure(created);
        return 0;
    }
    // Run a 3x2 plane when that stays cheap (the loader allows networks of
    // billions of MACs per pixel; running those is not what this target is for).
    if (info.macs_per_lr_pixel <= 2e5) {
        const int w = 3, h = 2, r = info.scale;
        uint8_t in[w * h] = {0, 255, 17, 128, 64, 3};
        std::vector<uint8_t> out(static_cast<size_t>(w * r) * h * r);
        const espcn_plane pin = {in, w, w, h, 8, 0};
        const espcn_plane pout = {out.data(), w * r, w * r, h * r, 8, 0};
        const espcn_status run = espcn_process_plane(ctx, &pin, &pout);
        if (run != ESPCN_OK) require_clean_failure(run);
    }
    espcn_destroy(&ctx);
    return 0;
}
