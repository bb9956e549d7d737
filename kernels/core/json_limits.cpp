#include "json_limits.hpp"

#include <new>
#include <set>
#include <vector>

namespace espcn {

using json = nlohmann::json;

Result<json> parse_json_limited(const char *text, size_t size, const char *what, int max_depth) {
    // One entry per open container: the keys seen so far (arrays: unused).
    std::vector<std::set<std::string>> open;
    int too_deep_at = -1;
    std::string duplicate;
    const json::parser_callback_t check = [&](int, json::parse_event_t event, json &parsed) {
        switch (event) {
        case json::parse_event_t::object_start:
        case json::parse_event_t::array_start:
            open.emplace_back();
            if (static_cast<int>(open.size()) > max_depth) {
                if (too_deep_at < 0) too_deep_at = static_cast<int>(open.size());
                return false;  // discarded: nothing below it is stored
            }
            return true;
        case json::parse_event_t::object_end:
        case json::parse_event_t::array_end:
            if (!open.empty()) open.pop_back();
            return true;
        case json::parse_event_t::key:
            if (!open.empty() && parsed.is_string() &&
                !open.back().insert(parsed.get_ref<const std::string &>()).second &&
                duplicate.empty())
                duplicate = parsed.get<std::string>();
            return true;
        case json::parse_event_t::value:
            return true;
        }
        return true;
    };
    json doc;
    try {
        doc = json::parse(text, text + size, check, /*allow_exceptions=*/false);
    } catch (const std::bad_alloc &) {
        return Status(ESPCN_ERROR_OUT_OF_MEMORY,
                      concat("out of memory parsing the ", size, "-byte ", what));
    }
    ESPCN_RETURN_IF(too_deep_at >= 0, ESPCN_ERROR_MODEL, what, " nests deeper than ", max_depth,
                    " levels");
    ESPCN_RETURN_IF(!duplicate.empty(), ESPCN_ERROR_MODEL, what, " has the key '", duplicate,
                    "' twice in one object");
    ESPCN_RETURN_IF(doc.is_discarded(), ESPCN_ERROR_MODEL, what, " is not valid JSON");
    return doc;
}

}  // namespace espcn
