// Headerless plane files (RawPlaneFormat): what --raw-in reads and writes.
#pragma once

#include <string>

#include "cli_options.hpp"
#include "core/status.hpp"
#include "imaging/image.hpp"

namespace espcn {

// The file must hold exactly width·height samples, each within `bits`.
[[nodiscard]] Result<Image> read_raw_plane(const std::string &path, const RawPlaneFormat &format);
[[nodiscard]] Status write_raw_plane(const std::string &path, const Image &gray);

}  // namespace espcn
