// Where the shipped models are: found relative to the binary holding this
// code (libespcn.so, or a tool linked statically), so an installed prefix
// works wherever it is moved to, and the build tree (which mirrors the
// install layout: lib/, bin/, share/espcn/models/) works as it is.
#pragma once

#include <string>

namespace espcn {

// $ESPCN_MODEL_DIR if set and non-empty; else the first existing of
// <dir of this binary>/<ESPCN_LIB_TO_MODELS> and .../<ESPCN_BIN_TO_MODELS>;
// else the configured install location (which then does not exist, and the
// caller's "no model there" message names it).
std::string shipped_model_dir();

}  // namespace espcn
