// Allocations whose failure is an error message, not an exception: every
// buffer whose size a file or a frame decides is allocated through these, so
// "out of memory" names what was being allocated and how many bytes.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "owned.hpp"
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

// 64-byte aligned blocks (SIMD loads, oneDNN handles), for SizedBuffer.
inline constexpr size_t kBlockAlignment = 64;

inline Status allocate_aligned(void **out, size_t &bytes, const char *what) {
    const size_t rounded = (bytes + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
    if (rounded < bytes) return out_of_memory(bytes, what);
    *out = std::aligned_alloc(kBlockAlignment, rounded);
    if (!*out) return out_of_memory(bytes, what);
    bytes = rounded;
    return Status::ok();
}

inline void free_aligned(void *p) { std::free(p); }

// A 64-byte aligned, uninitialised byte buffer that only grows; move-only.
using AlignedBuffer = SizedBuffer<allocate_aligned, free_aligned>;

}  // namespace espcn
