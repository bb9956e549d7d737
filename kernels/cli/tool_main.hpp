// What espcn-cli and espcn-make-model share: integer option parsing and the
// main() wrapper that turns any escaping exception into exit status 1.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace espcn {

// Parses all of text as an integer in [lo, hi].
template <typename Int>
[[nodiscard]] Status parse_integer(std::string_view text, const std::string &option, Int lo, Int hi,
                                   Int &out) {
    Int v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ESPCN_RETURN_IF(ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi,
                    ESPCN_ERROR_INVALID_ARGUMENT, option, ": '", text,
                    "' is not an integer in [", lo, ", ", hi, "]");
    out = v;
    return Status::ok();
}

// A size in bytes: digits with an optional binary suffix k, m or g
// (KiB, MiB, GiB), e.g. "512m"; at most `hi`.
[[nodiscard]] inline Status parse_byte_size(std::string_view text, const std::string &option,
                                            uint64_t hi, uint64_t &out) {
    uint64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
        case 'k': case 'K': unit = uint64_t{1} << 10; break;
        case 'm': case 'M': unit = uint64_t{1} << 20; break;
        case 'g': case 'G': unit = uint64_t{1} << 30; break;
        default: break;
        }
        if (unit != 1) text.remove_suffix(1);
    }
    uint64_t v = 0;
    ESPCN_RETURN_IF_ERROR(parse_integer<uint64_t>(text, option, 1, hi / unit, v));
    out = v * unit;
    return Status::ok();
}

// Nothing may escape as a crash; allocation failure is the one exception the
// internals can raise.
template <typename Run>
int run_tool(const char *name, Run &&run, int argc, char **argv) {
    try {
        return run(argc, argv);
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "%s: out of memory\n", name);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: internal error: %s\n", name, e.what());
    }
    return 1;
}

}  // namespace espcn
