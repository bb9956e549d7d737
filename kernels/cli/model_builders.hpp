// Model files espcn-make-model writes (format: weights/FORMAT.md):
//  - espcn:   the network of Shi et al. 2016 with random weights (speed tests);
//  - fsrcnn:  an FSRCNN-style network (Dong et al. 2016), deconv upsampler,
//             random weights (speed tests);
//  - bicubic: one LR conv + pixel shuffle whose output is exactly bicubic
//             upscaling (bicubic_resize.hpp) away from the border: a model
//             with known, honest output;
//  - compact: Real-ESRGAN's SRVGGNetCompact of RGB (realesr-animevideov3's
//             shape: 3 -> 64 maps, 16 body convs, PReLU, nearest residual)
//             with random weights (speed and plumbing tests);
//  - rgb-identity: a network of RGB whose output is each input plane
//             replicated (a zero 1x1 conv + the nearest residual): a model
//             with known output, to check the colour conversion around it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/safetensors.hpp"
#include "core/shuffle_index.hpp"
#include "core/status.hpp"

namespace espcn {

enum class ModelArch { espcn, fsrcnn, bicubic, compact, rgb_identity };

struct ModelSpec {
    ModelArch arch = ModelArch::espcn;
    int scale = 2;
    uint32_t seed = 1;                 // random weights (espcn, fsrcnn)
    ShuffleOrder order = kShuffleCRD;  // pixel_shuffle models (espcn, bicubic)
    bool f16 = false;                  // store tensors as F16
};

struct BuiltModel {
    std::string name;
    std::string network_json;  // the "espcn.network" metadata value
    int format_version = 1;  // 2 with a residual
    std::vector<TensorToWrite> tensors;
    int64_t parameters = 0;
};

[[nodiscard]] Result<BuiltModel> build_model(const ModelSpec &spec);

// The whole safetensors file.
std::vector<uint8_t> serialize_model(const BuiltModel &model);

}  // namespace espcn
