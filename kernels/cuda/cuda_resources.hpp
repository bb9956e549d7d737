// Owners of CUDA runtime objects, in the engine's one owner idiom
// (core/owned.hpp: std::unique_ptr with the runtime's free function): the
// destructor releases, a moved-from owner holds nothing, and creation reports
// failure as a Status instead of throwing.
//
// Thread safety: an owner is not synchronized; use one per thread or guard it.
#pragma once

#include <cstddef>
#include <type_traits>

#include <cuda_runtime_api.h>

#include "../core/owned.hpp"
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

inline Status allocate_device(void **out, size_t &bytes, const char *) {
    ESPCN_CUDA_RETURN_IF_ERROR(cudaMalloc(out, bytes));
    return Status::ok();
}
inline Status allocate_pinned(void **out, size_t &bytes, const char *) {
    ESPCN_CUDA_RETURN_IF_ERROR(cudaMallocHost(out, bytes));
    return Status::ok();
}

// Device memory, and page-locked host memory (the staging buffers of
// asynchronous copies): allocate(bytes), or reserve(bytes) to grow.
using DeviceBuffer = SizedBuffer<allocate_device, cudaFree>;
using PinnedBuffer = SizedBuffer<allocate_pinned, cudaFreeHost>;

// An event without timing: the order between streams (and a frame's "done").
// Blocking sync: a thread waiting in cudaEventSynchronize() (receive_frame,
// teardown) sleeps until the GPU signals, instead of spinning a core at 100%
// for the whole frame, which is the runtime's default for events; with many
// ffmpeg processes on one GPU, spinning waiters would each hold a core.
inline constexpr unsigned kEventFlags = cudaEventDisableTiming | cudaEventBlockingSync;
using Event = Owned<std::remove_pointer_t<cudaEvent_t>, cudaEventDestroy>;
[[nodiscard]] inline Result<Event> make_event() {
    cudaEvent_t e = nullptr;
    ESPCN_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&e, kEventFlags));
    return Event(e);
}

// A non-blocking stream of our own (the engine otherwise runs on the
// caller's stream; never on the legacy default stream).
using Stream = Owned<std::remove_pointer_t<cudaStream_t>, cudaStreamDestroy>;
[[nodiscard]] inline Result<Stream> make_stream() {
    cudaStream_t s = nullptr;
    ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return Stream(s);
}

[[nodiscard]] inline Status synchronize(cudaStream_t stream) {
    ESPCN_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
    return Status::ok();
}

}  // namespace espcn::cuda
