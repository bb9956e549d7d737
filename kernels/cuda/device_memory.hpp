// The cuda backend's memory as arithmetic, apart from the CUDA calls (no CUDA
// header here), so that a unit test checks it on any machine
// (tests/unit/test_cuda_memory.cpp).
//
// What counts against a context's memory_budget on the cuda backend (espcn.h):
//  - the network's device activations for one band of rows: its input tensor
//    and two ping-pong buffers as wide as its widest layer (channels padded
//    to 8 in fp16), plus the cuDNN workspace its algorithms may use (a
//    quarter of the activations, at most 256 MiB: workspace_allowance; the
//    algorithm choice is held to it);
//  - for frames in host memory, each staged frame's planes twice: in pinned
//    host memory and on the device (inputs and outputs, packed, 256-byte
//    aligned). Frames in device memory stage nothing.
// Not counted: the weights (state_bytes), cuDNN's handle and the CUDA
// context, the caller's planes.
//
// A plane whose activations do not fit runs in bands of rows (core/row_tiles:
// equal bands with the receptive radius as halo, one cuDNN plan for all of
// them); a band is also kept under cuDNN's limit of 2^31 - 1 elements per
// tensor. A plane whose smallest band does not fit, or that is too wide for
// the limit in its smallest band, is refused, naming the bytes or the limit.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>

#include "../core/backend.hpp"
#include "../core/network.hpp"
#include "../core/row_tiles.hpp"

namespace espcn::cuda {

// cuDNN's legacy convolution API indexes a tensor with 32-bit integers.
inline constexpr int64_t kMaxTensorElements = INT32_MAX;
// The most workspace any layer's algorithm may use.
inline constexpr size_t kMaxWorkspace = size_t{256} << 20;
// Planes in a frame's staging buffers start at multiples of this.
inline constexpr size_t kPlaneAlignment = 256;
// Planes of one frame (the C API's limit).
inline constexpr size_t kMaxTasks = 8;

inline int padded_channels(int channels, bool fp16) { return fp16 ? (channels + 7) / 8 * 8 : channels; }

// What a network's device buffers depend on.
struct NetworkFootprint {
    int input_channels = 1;   // padded
    int widest_channels = 1;  // padded: the widest layer output
    size_t element_bytes = 4;
    int radius = 0;           // receptive radius: a band's halo
};

inline NetworkFootprint footprint_of(const Network &net, bool fp16) {
    NetworkFootprint f;
    f.input_channels = padded_channels(net.convs.front().in_channels, fp16);
    f.widest_channels = 1;
    for (const ConvLayer &c : net.convs) f.widest_channels = std::max(f.widest_channels, padded_channels(c.out_channels, fp16));
    f.element_bytes = fp16 ? 2 : 4;
    f.radius = net.receptive_radius();
    return f;
}

// The input tensor and both ping-pong buffers of a band.
inline size_t activation_bytes(const NetworkFootprint &f, int width, int rows) {
    const size_t pixels = static_cast<size_t>(width) * static_cast<size_t>(rows);
    return pixels * f.element_bytes * (static_cast<size_t>(f.input_channels) + 2 * static_cast<size_t>(f.widest_channels));
}

// The workspace a band's algorithms may use.
inline size_t workspace_allowance(size_t activations) { return std::min(kMaxWorkspace, activations / 4); }

// What a band holds on the device at most.
inline size_t band_bytes(const NetworkFootprint &f, int width, int rows) {
    const size_t a = activation_bytes(f, width, rows);
    return a + workspace_allowance(a);
}

// The most rows a band may have for every tensor to stay under cuDNN's limit.
inline int64_t element_row_cap(const NetworkFootprint &f, int width) {
    const int64_t per_row = static_cast<int64_t>(width) * std::max(f.input_channels, f.widest_channels);
    return per_row > 0 ? kMaxTensorElements / per_row : INT_MAX;
}

// The bands of a width × height plane whose device memory fits `budget`
// bytes, or why none can: ESPCN_ERROR_UNSUPPORTED naming cuDNN's element
// limit, ESPCN_ERROR_OUT_OF_MEMORY naming the bytes the smallest band needs.
[[nodiscard]] inline Result<RowTilePlan> plan_device_bands(const NetworkFootprint &f, int width, int height,
                                                           size_t budget) {
    const int min_rows = static_cast<int>(std::min<int64_t>(height, 2 * int64_t{f.radius} + 1));
    const int64_t cap = element_row_cap(f, width);
    const int64_t per_row = static_cast<int64_t>(width) * std::max(f.input_channels, f.widest_channels);
    ESPCN_RETURN_IF(cap < min_rows, ESPCN_ERROR_UNSUPPORTED, "a ", width, "x", height,
                    " plane is too wide for cuDNN: its smallest band of rows (", min_rows,
                    " rows: the network's receptive radius is ", f.radius, ") holds ", min_rows * per_row,
                    " elements in a tensor, over cuDNN's limit of ", kMaxTensorElements, " (2^31 - 1)");
    Result<RowTilePlan> plan = plan_for_budget(
        [&](int rows) -> Result<size_t> { return band_bytes(f, width, rows); }, width, height, f.radius,
        budget, static_cast<int>(std::min<int64_t>(cap, INT_MAX)));
    if (!plan.is_ok()) return std::move(plan.status()).with_context("cuda, device memory: ");
    return plan;
}

// Bytes of one plane packed (stride = its row).
inline size_t packed_plane_bytes(const espcn_plane &p, int components) {
    return static_cast<size_t>(p.width) * components * (p.bit_depth > 8 ? 2 : 1) * static_cast<size_t>(p.height);
}

inline size_t align_plane(size_t v) { return (v + kPlaneAlignment - 1) / kPlaneAlignment * kPlaneAlignment; }

// Where each plane of a host frame sits in its staging buffers.
struct StagedFrame {
    std::array<size_t, kMaxTasks> in_at{}, out_at{};
    size_t in_bytes = 0, out_bytes = 0;
    // Pinned host and device copies of every input and output.
    size_t staging_bytes() const { return 2 * (in_bytes + out_bytes); }
};

inline StagedFrame stage_layout(std::span<const PlaneTask> tasks) {
    StagedFrame s;
    for (size_t i = 0; i < tasks.size() && i < kMaxTasks; ++i) {
        s.in_at[i] = s.in_bytes;
        s.out_at[i] = s.out_bytes;
        s.in_bytes += align_plane(packed_plane_bytes(tasks[i].in, tasks[i].components));
        s.out_bytes += align_plane(packed_plane_bytes(tasks[i].out, tasks[i].components));
    }
    return s;
}

}  // namespace espcn::cuda
