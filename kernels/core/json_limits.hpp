// JSON from a file we do not trust: bounded nesting, duplicate keys refused
// (a parser that silently keeps the last of two "weight" keys would run a
// network nobody wrote), errors as Status, nothing thrown.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "status.hpp"

namespace espcn {

// Deeper than any espcn header or network description (they nest 3-4 levels; every kept level of a hostile document costs memory).
inline constexpr int kMaxJsonDepth = 16;

// Parses text[0, size). `what` names the document in messages. Errors are
// ESPCN_ERROR_MODEL: invalid JSON, nesting deeper than max_depth, or an
// object with the same key twice.
[[nodiscard]] Result<nlohmann::json> parse_json_limited(const char *text, size_t size,
                                                        const char *what,
                                                        int max_depth = kMaxJsonDepth);

}  // namespace espcn
