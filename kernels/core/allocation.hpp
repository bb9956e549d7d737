// Allocations whose failure is an error message, not an exception: every
// buffer whose size a file or a frame decides is allocated through these, so
// "out of memory" names what was being allocated and how many bytes.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "status.hpp"

namespace espcn {

inline Status out_of_memory(size_t bytes, const char *what) {
    return Status(ESPCN_ERROR_OUT_OF_MEMORY,
                  concat("out of memory: could not allocate ", bytes, " bytes for ", what));
}

// v.resize(n), or ESPCN_ERROR_OUT_OF_MEMORY naming `what` and the size.
template <typename T>
[[nodiscard]] Status try_resize(std::vector<T> &v, size_t n, const char *what) {
    if (n > v.max_size()) return out_of_memory(n * sizeof(T), what);
    try {
        v.resize(n);
    } catch (const std::bad_alloc &) {
        return out_of_memory(n * sizeof(T), what);
    }
    return Status::ok();
}

// A 64-byte aligned, uninitialised byte buffer (SIMD loads, oneDNN handles).
// Grows only; move-only.
class AlignedBuffer {
public:
    static constexpr size_t kAlignment = 64;

    [[nodiscard]] Status reserve(size_t bytes, const char *what) {
        if (bytes <= size_) return Status::ok();
        const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
        if (rounded < bytes) return out_of_memory(bytes, what);
        data_.reset();  // free the old block before asking for the larger one
        size_ = 0;
        void *p = std::aligned_alloc(kAlignment, rounded);
        if (!p) return out_of_memory(bytes, what);
        data_.reset(static_cast<std::byte *>(p));
        size_ = rounded;
        return Status::ok();
    }
    void release() {
        data_.reset();
        size_ = 0;
    }
    void *data() const { return data_.get(); }
    size_t size() const { return size_; }

private:
    struct Free {
        void operator()(std::byte *p) const { std::free(p); }
    };
    std::unique_ptr<std::byte, Free> data_;
    size_t size_ = 0;
};

}  // namespace espcn
