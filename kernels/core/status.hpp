// Status objects for the engine's C++ internals. Nothing here throws; every
// fallible function returns a [[nodiscard]] Status (or Result<T>) that the C
// API turns into an espcn_status and a message.
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <variant>

#include "espcn/espcn.h"

namespace espcn {

// Concatenates anything streamable into one string: concat("bad dim ", 3).
template <typename... Args>
std::string concat(Args &&...args) {
    std::ostringstream os;
    (os << ... << std::forward<Args>(args));
    return os.str();
}

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(espcn_status code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok() { return {}; }

    bool is_ok() const { return code_ == ESPCN_OK; }
    espcn_status code() const { return code_; }
    const std::string &message() const { return message_; }

    // Prefixes context to the message: "layer 3: " + "kernel must be odd".
    Status with_context(const std::string &context) && {
        if (!is_ok()) message_ = context + message_;
        return std::move(*this);
    }

private:
    espcn_status code_ = ESPCN_OK;
    std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}       // NOLINT: implicit by design
    Result(Status status) : v_(std::move(status)) {} // NOLINT: must not be ok

    bool is_ok() const { return std::holds_alternative<T>(v_); }
    Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }
    T &value() & { return std::get<T>(v_); }
    T &&value() && { return std::get<T>(std::move(v_)); }

private:
    std::variant<T, Status> v_;
};

}  // namespace espcn

#define ESPCN_RETURN_IF_ERROR(expr)                                                \
    do {                                                                           \
        ::espcn::Status espcn_status_ = (expr);                                    \
        if (!espcn_status_.is_ok()) return espcn_status_;                          \
    } while (0)

// Returns Status(code, concat(message parts...)) when cond holds.
#define ESPCN_RETURN_IF(cond, code, ...)                                           \
    do {                                                                           \
        if (cond) return ::espcn::Status((code), ::espcn::concat(__VA_ARGS__));    \
    } while (0)
