// Headerless plane files (RawPlaneFormat): what --raw-in reads and writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "core/status.hpp"
#include "imaging/image.hpp"

namespace espcn {

// The file must hold exactly width·height samples, each within `bits`.
[[nodiscard]] Result<Image> read_raw_plane(const std::string &path, const RawPlaneFormat &format);
[[nodiscard]] Result<std::vector<uint8_t>> encode_raw_plane(const Image &gray);
[[nodiscard]] Status write_raw_plane(const std::string &path, const Image &gray);

}  // namespace espcn
