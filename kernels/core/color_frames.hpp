// What espcn_submit() adds to a frame for a network of RGB: the colour
// conversion of core/color_convert.hpp around the network, on host planes.
//
// A network group that is not planar R, G, B of full range (Y'CbCr of a
// matrix, limited range, packed RGB) is converted, when the frame is
// submitted, into three 16-bit planes the context holds; the network writes
// three more; when the frame is received, those are converted into the
// caller's output planes. The cuda backend does the same on the GPU for
// frames in device memory (cuda/color_convert.cu), with the same per-sample
// functions.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "backend.hpp"
#include "color_convert.hpp"
#include "worker_pool.hpp"

namespace espcn {

// espcn_matrix's Kr, Kb.
ColorMatrix color_matrix(espcn_matrix m);

// One network group of a frame, described for the converter.
struct ColorGroup {
    bool convert = false;      // false: planar R, G, B of full range, straight to the network
    ToRgbParams to_rgb;        // dst: filled by whoever holds the 16-bit planes
    FromRgbParams from_rgb;    // src: likewise
    int in_width = 0, in_height = 0;    // the luma size in
    int out_width = 0, out_height = 0;  // and out
};

// Checks one group of three network tasks (channel order: Y', Cb, Cr or R,
// G, B) for `color` and a network of scale r, and describes it. Errors name
// what is wrong (ESPCN_ERROR_INVALID_ARGUMENT).
[[nodiscard]] Result<ColorGroup> describe_color_group(std::span<const PlaneTask> group, const FrameColor &color,
                                                      int scale);

// The conversions on the CPU, rows spread over `pool`.
[[nodiscard]] Status convert_to_rgb(const ToRgbParams &p, int width, int height, WorkerPool &pool);
[[nodiscard]] Status convert_from_rgb(const FromRgbParams &p, int width, int height, WorkerPool &pool);

// The context's conversions of host frames, one record per frame in flight
// (in submission order).
class ColorFrames {
public:
    // $ESPCN_DEBUG_RGB_DIR, when set: every converted group's 16-bit R, G, B
    // planes are written there as PPM files when its frame is received
    // (NNNNNN-in.ppm: what the network read; NNNNNN-out.ppm: what it wrote).
    ColorFrames();

    // Rewrites the network groups of `tasks` (checked: groups of three) that
    // need converting: their inputs converted now into 16-bit planes of the
    // frame's slot, their outputs pointed at the slot's output planes. At
    // most `depth` frames are in flight (the backend's queue depth).
    [[nodiscard]] Status submit(std::vector<PlaneTask> &tasks, const FrameColor &color, int scale, int depth,
                                WorkerPool &pool);
    // The oldest frame was received (ok) or dropped: converts its outputs
    // into the caller's planes (when ok) and forgets it.
    [[nodiscard]] Status finish_oldest(bool ok, WorkerPool &pool);
    // The newest frame was not submitted after all.
    void drop_newest();
    // Bytes of the 16-bit planes held.
    size_t bytes() const;

private:
    struct Planes16 {
        std::vector<uint16_t> in, out;  // three planes each, packed
    };
    struct Record {
        int slot = 0;
        std::vector<ColorGroup> groups;  // with the slot's planes filled in
    };
    [[nodiscard]] Status dump(const ColorGroup &g);

    std::vector<std::vector<Planes16>> slots_;  // [slot][group]
    std::deque<Record> records_;
    int last_slot_ = -1;
    std::string dump_dir_;
    uint64_t dumped_ = 0;
};

}  // namespace espcn
