// A one-channel Image laid out as espcn_plane wants it: one byte per sample
// for 8 bits, a host-endian uint16_t (value in the low bits) above that.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "imaging/image.hpp"
#include "espcn/espcn.h"

namespace espcn {

class PlaneBuffer {
public:
    PlaneBuffer(int width, int height, int bits)
        : width_(width), height_(height), bits_(bits),
          bytes_(static_cast<size_t>(width) * height * bytes_per_sample()) {}

    // `gray` must have one channel.
    static PlaneBuffer from_image(const Image &gray) {
        PlaneBuffer p(gray.width, gray.height, gray.bit_depth);
        for (size_t k = 0; k < gray.samples.size(); ++k) p.set(k, gray.samples[k]);
        return p;
    }

    Image to_image() const {
        Image gray{width_, height_, 1, bits_, std::vector<uint16_t>(bytes_.size() / bytes_per_sample())};
        for (size_t k = 0; k < gray.samples.size(); ++k) gray.samples[k] = get(k);
        return gray;
    }

    espcn_plane view() {
        return {bytes_.data(), static_cast<ptrdiff_t>(width_) * bytes_per_sample(), width_,
                height_, bits_, 0};
    }

private:
    int bytes_per_sample() const { return bits_ > 8 ? 2 : 1; }
    void set(size_t k, uint16_t v) {
        if (bits_ > 8) std::memcpy(&bytes_[2 * k], &v, 2);
        else bytes_[k] = static_cast<uint8_t>(v);
    }
    uint16_t get(size_t k) const {
        if (bits_ <= 8) return bytes_[k];
        uint16_t v;
        std::memcpy(&v, &bytes_[2 * k], 2);
        return v;
    }

    int width_;
    int height_;
    int bits_;
    std::vector<uint8_t> bytes_;
};

}  // namespace espcn
