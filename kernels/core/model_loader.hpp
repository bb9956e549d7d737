// Turns a safetensors model file (format: weights/FORMAT.md) into the
// LR-space Network the backends run. A transposed-conv upsampler is converted
// here, once, so no backend ever multiplies by inserted zeros.
#pragma once

#include <string>

#include "logger.hpp"
#include "network.hpp"
#include "safetensors.hpp"
#include "status.hpp"

namespace espcn {

// Limits on what a model may ask for.
inline constexpr int kMaxLayers = 256;
inline constexpr int kMaxChannels = 4096;
inline constexpr int kMaxKernel = 31;
inline constexpr int kMaxScale = 8;
// fp32 parameters the loader materialises in total (weights/FORMAT.md): 64 Mi,
// 256 MiB. The shipped models have 8-25 k; a file cannot make the loader
// allocate more than this however many layers name one tensor.
inline constexpr int64_t kMaxParameters = int64_t{1} << 26;

[[nodiscard]] Result<Network> load_network(const SafetensorsFile &file, const Logger &log);
[[nodiscard]] Result<Network> load_network_file(const std::string &path, const Logger &log);

}  // namespace espcn
