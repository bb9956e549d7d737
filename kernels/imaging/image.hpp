// In-memory images and planes shared by image I/O, colour conversion and
// resizing (the tools' side of the engine; the engine itself sees only
// espcn_plane).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace espcn {

// Integer samples, interleaved, row-major, no padding. Every sample lies in
// [0, 2^bit_depth - 1]; bit_depth is 8..16 so it maps onto espcn_plane.
struct Image {
    int width = 0;
    int height = 0;
    int channels = 0;   // 1 (gray) or 3 (RGB)
    int bit_depth = 0;  // 8..16
    std::vector<uint16_t> samples;

    size_t index(int x, int y, int c) const {
        return (static_cast<size_t>(y) * width + x) * channels + c;
    }
    uint16_t at(int x, int y, int c) const { return samples[index(x, y, c)]; }
    uint32_t max_value() const { return (1u << bit_depth) - 1u; }
};

// One channel of floats, row-major. What a value means is up to the caller;
// the colour code uses code value / (2^bits - 1), so 0..1 spans the range.
struct FloatPlane {
    int width = 0;
    int height = 0;
    std::vector<float> values;

    FloatPlane() = default;
    FloatPlane(int w, int h) : width(w), height(h), values(static_cast<size_t>(w) * h, 0.0f) {}

    float &at(int x, int y) { return values[static_cast<size_t>(y) * width + x]; }
    float at(int x, int y) const { return values[static_cast<size_t>(y) * width + x]; }
};

}  // namespace espcn
