// See fast_kernels_wide_blocks.cpp.
#pragma once

#include <vector>

#include "cpu/fast/fast_kernels.hpp"

namespace espcn::fast_wide {
std::vector<const fast::KernelTable *> supported_kernel_tables();
}  // namespace espcn::fast_wide
