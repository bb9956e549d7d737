// Model files espcn-make-model writes (format: weights/FORMAT.md):
//  - espcn:   the network of Shi et al. 2016 with random weights (speed tests);
//  - fsrcnn:  an FSRCNN-style network (Dong et al. 2016), deconv upsampler,
//             random weights (speed tests);
//  - bicubic: one LR conv + pixel shuffle whose output is exactly bicubic
//             upscaling (bicubic_resize.hpp) away from the border: a model
//             with known, honest output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/safetensors.hpp"
#include "core/shuffle_index.hpp"
#include "core/status.hpp"

namespace espcn {

enum class ModelArch { espcn, fsrcnn, bicubic };

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
    std::vector<TensorToWrite> tensors;
    int64_t parameters = 0;
};

[[nodiscard]] Result<BuiltModel> build_model(const ModelSpec &spec);

// The whole safetensors file.
std::vector<uint8_t> serialize_model(const BuiltModel &model);

}  // namespace espcn
