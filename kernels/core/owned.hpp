// One owner idiom for every handle the engine holds (the RMM / cudnn-frontend
// way): std::unique_ptr with a deleter that calls the library's free
// function. Move-only, released on every path out, a moved-from owner holds
// nothing, and no hand-written move constructors to get wrong.
//
//   Owned<T, Free>    T* freed by a function known at compile time
//                     (cudaFree, cudaEventDestroy, std::free)
//   OwnedBy<H, Fn>    a handle H freed by a function pointer known at run
//                     time (cuDNN's, loaded with dlopen)
//   UniqueFd          a POSIX file descriptor, closed
//   SizedBuffer<...>  a block with its size that only grows: the one growth
//                     helper (host, pinned and device memory alike)
#pragma once

#include <unistd.h>

#include <cstddef>
#include <memory>
#include <type_traits>

#include "status.hpp"

namespace espcn {

template <auto Free>
struct FreeWith {
    template <class P>
    void operator()(P *p) const noexcept {
        if (p) (void)Free(p);  // nothing useful to do with a failure here
    }
};

template <class T, auto Free>
using Owned = std::unique_ptr<T, FreeWith<Free>>;

// Fn: a pointer to a function taking the handle (its result is ignored).
template <class Fn>
struct FreeBy {
    Fn free = nullptr;
    FreeBy() = default;
    FreeBy(Fn f) : free(f) {}  // NOLINT: implicit, so Owner(handle, fn) reads naturally
    template <class P>
    void operator()(P *p) const noexcept {
        if (p && free) (void)free(p);
    }
};

// H: an opaque handle type that is a pointer (cudnnHandle_t, ...).
template <class H, class Fn>
using OwnedBy = std::unique_ptr<std::remove_pointer_t<H>, FreeBy<Fn>>;

// A file descriptor: unique_ptr's "pointer" is the int itself, -1 when empty.
struct CloseFd {
    struct pointer {
        int fd = -1;
        pointer() = default;
        pointer(std::nullptr_t) {}  // NOLINT: unique_ptr's empty value
        explicit pointer(int f) : fd(f) {}
        explicit operator bool() const { return fd >= 0; }
        friend bool operator==(pointer a, pointer b) { return a.fd == b.fd; }
    };
    void operator()(pointer p) const noexcept {
        if (p) ::close(p.fd);
    }
};
using UniqueFd = std::unique_ptr<void, CloseFd>;
inline UniqueFd own_fd(int fd) { return UniqueFd(CloseFd::pointer(fd)); }
inline int fd_of(const UniqueFd &f) { return f.get().fd; }

// A block of memory that only grows. Alloc: Status(void **out, size_t &bytes,
// const char *what) allocates at least `bytes` (it may round them up and says
// how many it gave); Free as for Owned.
template <auto Alloc, auto Free>
class SizedBuffer {
public:
    SizedBuffer() = default;

    [[nodiscard]] static Result<SizedBuffer> allocate(size_t bytes, const char *what = "a buffer") {
        SizedBuffer b;
        ESPCN_RETURN_IF_ERROR(b.reserve(bytes, what));
        return b;
    }
    // At least `bytes`, contents not kept; never shrinks. The old block is
    // freed before the new one is asked for: peak memory stays one block.
    // On failure the buffer is empty.
    [[nodiscard]] Status reserve(size_t bytes, const char *what = "a buffer") {
        if (bytes <= size_) return Status::ok();
        release();
        void *p = nullptr;
        size_t got = bytes;
        ESPCN_RETURN_IF_ERROR(Alloc(&p, got, what));
        ptr_.reset(p);
        size_ = got;
        return Status::ok();
    }
    void release() {
        ptr_.reset();
        size_ = 0;
    }
    void *get() const { return ptr_.get(); }
    void *data() const { return ptr_.get(); }
    size_t size() const { return size_; }

private:
    Owned<void, Free> ptr_;
    size_t size_ = 0;
};

}  // namespace espcn
