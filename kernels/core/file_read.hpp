// Reading a whole file that a user named, safely: opened non-blocking (a FIFO
// or a device never blocks open()), only regular files accepted, the size
// checked against a limit before anything is allocated, short reads and files
// that change while being read reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "status.hpp"

namespace espcn {

// The bytes of the regular file at `path`, at most max_bytes of them.
// `what` names the file in messages ("model file"). Errors: ESPCN_ERROR_IO
// (cannot open or read, not a regular file; strerror text included),
// ESPCN_ERROR_MODEL (`too_large`: larger than max_bytes), out of memory.
[[nodiscard]] Result<std::vector<uint8_t>> read_regular_file(const std::string &path,
                                                             size_t max_bytes, const char *what,
                                                             espcn_status too_large = ESPCN_ERROR_IO);

// "a directory", "a FIFO", ... for a st_mode that is not a regular file.
const char *file_kind_name(unsigned mode);

}  // namespace espcn
