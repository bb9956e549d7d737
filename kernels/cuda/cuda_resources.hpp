// Move-only owners of CUDA runtime objects (the rmm / cudnn-frontend style):
// the destructor releases, a moved-from owner holds nothing, and creation
// reports failure as a Status instead of throwing.
//
// Thread safety: an owner is not synchronized; use one per thread or guard it.
#pragma once

#include <cstddef>
#include <utility>

#include <cuda_runtime_api.h>

#include "cuda_check.hpp"

namespace espcn::cuda {

// Whether device `device` can be used, as a Status whose message says why
// not (no driver, no device, index out of range). With the runtime linked
// statically this works on machines without any NVIDIA driver installed.
[[nodiscard]] inline Status probe_device(int device) {
    int count = 0;
    ESPCN_CUDA_RETURN_IF_ERROR(cudaGetDeviceCount(&count));
    ESPCN_RETURN_IF(device < 0 || device >= count, ESPCN_ERROR_BACKEND_UNAVAILABLE, "CUDA device ",
                    device, " requested, but ", count, " device(s) are present");
    return Status::ok();
}

class DeviceBuffer {
public:
    DeviceBuffer() = default;
    [[nodiscard]] static Result<DeviceBuffer> allocate(size_t bytes) {
        DeviceBuffer b;
        if (bytes) ESPCN_CUDA_RETURN_IF_ERROR(cudaMalloc(&b.ptr_, bytes));
        b.size_ = bytes;
        return b;
    }
    DeviceBuffer(DeviceBuffer &&o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    DeviceBuffer &operator=(DeviceBuffer &&o) noexcept {
        if (this != &o) {
            reset();
            ptr_ = std::exchange(o.ptr_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;
    ~DeviceBuffer() { reset(); }

    void *get() const { return ptr_; }
    size_t size() const { return size_; }

private:
    void reset() {
        if (ptr_) (void)cudaFree(ptr_);  // nothing useful to do with a failure here
        ptr_ = nullptr;
        size_ = 0;
    }
    void *ptr_ = nullptr;
    size_t size_ = 0;
};

// Page-locked host memory: the staging buffers of asynchronous copies.
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    [[nodiscard]] static Result<PinnedBuffer> allocate(size_t bytes) {
        PinnedBuffer b;
        if (bytes) ESPCN_CUDA_RETURN_IF_ERROR(cudaMallocHost(&b.ptr_, bytes));
        b.size_ = bytes;
        return b;
    }
    PinnedBuffer(PinnedBuffer &&o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    PinnedBuffer &operator=(PinnedBuffer &&o) noexcept {
        if (this != &o) {
            reset();
            ptr_ = std::exchange(o.ptr_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    PinnedBuffer(const PinnedBuffer &) = delete;
    PinnedBuffer &operator=(const PinnedBuffer &) = delete;
    ~PinnedBuffer() { reset(); }

    void *get() const { return ptr_; }
    size_t size() const { return size_; }

private:
    void reset() {
        if (ptr_) (void)cudaFreeHost(ptr_);
        ptr_ = nullptr;
        size_ = 0;
    }
    void *ptr_ = nullptr;
    size_t size_ = 0;
};

// An event without timing: the order between streams (and a frame's "done").
class Event {
public:
    Event() = default;
    [[nodiscard]] static Result<Event> create() {
        Event e;
        ESPCN_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&e.event_, cudaEventDisableTiming));
        return e;
    }
    Event(Event &&o) noexcept : event_(std::exchange(o.event_, nullptr)) {}
    Event &operator=(Event &&o) noexcept {
        if (this != &o) {
            reset();
            event_ = std::exchange(o.event_, nullptr);
        }
        return *this;
    }
    Event(const Event &) = delete;
    Event &operator=(const Event &) = delete;
    ~Event() { reset(); }

    cudaEvent_t get() const { return event_; }

private:
    void reset() {
        if (event_) (void)cudaEventDestroy(event_);
        event_ = nullptr;
    }
    cudaEvent_t event_ = nullptr;
};

// A non-blocking stream of our own (the engine otherwise runs on the
// caller's stream; never on the legacy default stream).
class Stream {
public:
    Stream() = default;
    [[nodiscard]] static Result<Stream> create() {
        Stream s;
        ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&s.stream_, cudaStreamNonBlocking));
        return s;
    }
    Stream(Stream &&o) noexcept : stream_(std::exchange(o.stream_, nullptr)) {}
    Stream &operator=(Stream &&o) noexcept {
        if (this != &o) {
            reset();
            stream_ = std::exchange(o.stream_, nullptr);
        }
        return *this;
    }
    Stream(const Stream &) = delete;
    Stream &operator=(const Stream &) = delete;
    ~Stream() { reset(); }

    cudaStream_t get() const { return stream_; }
    [[nodiscard]] Status synchronize() const {
        ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
        return Status::ok();
    }

private:
    void reset() {
        if (stream_) (void)cudaStreamDestroy(stream_);
        stream_ = nullptr;
    }
    cudaStream_t stream_ = nullptr;
};

}  // namespace espcn::cuda
