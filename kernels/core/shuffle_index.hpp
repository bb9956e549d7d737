// Periodic shuffle (Shi et al. 2016, eq. 4) index math, shared with CUDA.
//
// An LR tensor with C·r² channels of H×W becomes an HR image with C channels
// of rH×rW. HR pixel (c, Y, X) with phase (i, j) = (Y mod r, X mod r) reads
// LR pixel (Y div r, X div r) of channel
//   CRD (PyTorch PixelShuffle):     c·r² + i·r + j
//   DCR (TensorFlow depth_to_space): (i·r + j)·C + c
// With C = 1 the two orders coincide.
#pragma once

#include "host_device.hpp"

namespace espcn {

enum ShuffleOrder : int { kShuffleCRD = 0, kShuffleDCR = 1 };

ESPCN_HD int shuffle_channel(ShuffleOrder order, int c, int i, int j, int r, int channels) {
    return order == kShuffleCRD ? (c * r + i) * r + j : (i * r + j) * channels + c;
}

struct ShuffleSource {
    int channel;
    int y;
    int x;
};

// Where HR pixel (c, hr_y, hr_x) comes from in the LR tensor.
ESPCN_HD ShuffleSource shuffle_source(ShuffleOrder order, int c, int hr_y, int hr_x, int r,
                                      int channels) {
    const int y = hr_y / r, x = hr_x / r;
    return {shuffle_channel(order, c, hr_y - y * r, hr_x - x * r, r, channels), y, x};
}

}  // namespace espcn
