#include "color_frames.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "allocation.hpp"
#include "owned.hpp"

namespace espcn {

namespace {

ColorPlane color_plane(const espcn_plane &p, int components) {
    ColorPlane c;
    c.data = p.data;
    c.stride = p.stride;
    c.width = p.width;
    c.height = p.height;
    c.bit_depth = p.bit_depth;
    c.shift = p.shift;
    c.step = components > 1 ? components : 1;
    return c;
}

ColorPlane plane16(uint16_t *data, int width, int height) {
    ColorPlane c;
    c.data = data;
    c.stride = static_cast<ptrdiff_t>(width) * 2;
    c.width = width;
    c.height = height;
    c.bit_depth = kColorNetworkBits;
    return c;
}

espcn_plane as_plane(const ColorPlane &c) {
    return espcn_plane{c.data, c.stride, c.width, c.height, c.bit_depth, c.shift};
}

int ceil_shift(int v, int k) { return (v + (1 << k) - 1) >> k; }

// Rows [0, height) in 2 parts per thread.
template <typename Row>
Status for_rows(int height, WorkerPool &pool, Row &&row) {
    const int parts = std::min(height, 2 * pool.threads());
    if (parts <= 0) return Status::ok();
    return pool.run(parts, [&](int part, int) {
        const int y0 = static_cast<int>(int64_t{height} * part / parts);
        const int y1 = static_cast<int>(int64_t{height} * (part + 1) / parts);
        for (int y = y0; y < y1; ++y) row(y);
    });
}

const char *const kChannelNames[2][3] = {{"R", "G", "B"}, {"Y'", "Cb", "Cr"}};

}  // namespace

ColorMatrix color_matrix(espcn_matrix m) {
    switch (m) {
    case ESPCN_MATRIX_BT601: return {true, 0.299f, 0.114f};
    case ESPCN_MATRIX_BT709: return {true, 0.2126f, 0.0722f};
    case ESPCN_MATRIX_BT2020_NCL: return {true, 0.2627f, 0.0593f};
    case ESPCN_MATRIX_RGB: break;
    }
    return {false, 0.0f, 0.0f};
}

Result<ColorGroup> describe_color_group(std::span<const PlaneTask> group, const FrameColor &color, int r) {
    ESPCN_RETURN_IF(group.size() != 3, ESPCN_ERROR_INTERNAL, "a colour group of ", group.size(), " planes");
    ColorGroup g;
    g.to_rgb.matrix = g.from_rgb.matrix = color_matrix(color.matrix);
    const bool ycbcr = g.to_rgb.matrix.ycbcr;
    const char *const *names = kChannelNames[ycbcr ? 1 : 0];
    bool packed = false;
    for (const PlaneTask &t : group) packed |= t.components > 1;
    ESPCN_RETURN_IF(ycbcr && packed, ESPCN_ERROR_INVALID_ARGUMENT,
                    "packed (interleaved) Y'CbCr planes are not supported; give planar Y', Cb, Cr");
    for (size_t k = 0; k < 3; ++k)
        ESPCN_RETURN_IF(group[k].components > 4, ESPCN_ERROR_INVALID_ARGUMENT, names[k], " plane has ",
                        group[k].components, " components per pixel; at most 4");
    g.convert = ycbcr || packed || color.range != ESPCN_RANGE_FULL;
    const espcn_plane &y_in = group[0].in, &y_out = group[0].out;
    g.in_width = y_in.width;
    g.in_height = y_in.height;
    g.out_width = y_out.width;
    g.out_height = y_out.height;
    ESPCN_RETURN_IF(y_out.width != r * y_in.width || y_out.height != r * y_in.height, ESPCN_ERROR_INVALID_ARGUMENT,
                    names[0], " output plane is ", y_out.width, "x", y_out.height, " but a x", r, " model makes ",
                    r * y_in.width, "x", r * y_in.height, " from ", y_in.width, "x", y_in.height);
    if (ycbcr) {
        // Subsampling by 1 or 2 per direction, from the output's chroma
        // (its luma is at least 2 wide: never ambiguous), checked on the input's.
        const espcn_plane &c_out = group[1].out, &c_in = group[1].in;
        int lw = -1, lh = -1;
        for (int k = 0; k <= 1; ++k) {
            if (c_out.width == ceil_shift(y_out.width, k) && lw < 0) lw = k;
            if (c_out.height == ceil_shift(y_out.height, k) && lh < 0) lh = k;
        }
        ESPCN_RETURN_IF(lw < 0 || lh < 0, ESPCN_ERROR_INVALID_ARGUMENT, "Cb output plane is ", c_out.width, "x",
                        c_out.height, ": neither the ", y_out.width, "x", y_out.height,
                        " luma size nor half of it (rounded up) in each direction");
        ESPCN_RETURN_IF(c_in.width != ceil_shift(y_in.width, lw) || c_in.height != ceil_shift(y_in.height, lh),
                        ESPCN_ERROR_INVALID_ARGUMENT, "Cb input plane is ", c_in.width, "x", c_in.height, " but a ",
                        y_in.width, "x", y_in.height, " frame subsampled as its output (", c_out.width, "x",
                        c_out.height, ") has ", ceil_shift(y_in.width, lw), "x", ceil_shift(y_in.height, lh));
        for (const espcn_plane *p : {&group[2].in, &group[2].out}) {
            const espcn_plane &cb = p == &group[2].in ? c_in : c_out;
            ESPCN_RETURN_IF(p->width != cb.width || p->height != cb.height, ESPCN_ERROR_INVALID_ARGUMENT,
                            "Cr ", p == &group[2].in ? "input" : "output", " plane is ", p->width, "x",
                            p->height, ", Cb's ", cb.width, "x", cb.height);
        }
        g.to_rgb.log2_w = g.from_rgb.log2_w = lw;
        g.to_rgb.log2_h = g.from_rgb.log2_h = lh;
    } else {
        for (size_t k = 1; k < 3; ++k) {
            const PlaneTask &t = group[k];
            ESPCN_RETURN_IF(t.in.width != y_in.width || t.in.height != y_in.height || t.out.width != y_out.width ||
                                t.out.height != y_out.height,
                            ESPCN_ERROR_INVALID_ARGUMENT, names[k], " planes (", t.in.width, "x", t.in.height,
                            " -> ", t.out.width, "x", t.out.height, ") differ in size from R's (", y_in.width, "x",
                            y_in.height, " -> ", y_out.width, "x", y_out.height, ")");
        }
    }
    if (!g.convert) {
        // Straight to the network: one depth in, one out.
        for (size_t k = 1; k < 3; ++k)
            ESPCN_RETURN_IF(group[k].in.bit_depth != y_in.bit_depth || group[k].out.bit_depth != y_out.bit_depth,
                            ESPCN_ERROR_INVALID_ARGUMENT,
                            "the R, G, B planes of a network group differ in bit depth (in ", y_in.bit_depth, ", ",
                            group[1].in.bit_depth, ", ", group[2].in.bit_depth, "; out ", y_out.bit_depth, ", ",
                            group[1].out.bit_depth, ", ", group[2].out.bit_depth, ")");
        return g;
    }
    g.to_rgb.chroma_filter = group[1].kind;
    for (size_t k = 0; k < 3; ++k) {
        g.to_rgb.src[k] = color_plane(group[k].in, group[k].components);
        g.from_rgb.dst[k] = color_plane(group[k].out, group[k].components);
        const bool limited = color.range == ESPCN_RANGE_LIMITED;
        g.to_rgb.coding[k] = color_coding(ycbcr, limited, group[k].in.bit_depth);
        g.from_rgb.coding[k] = color_coding(ycbcr, limited, group[k].out.bit_depth);
    }
    return g;
}

Status convert_to_rgb(const ToRgbParams &p, int width, int height, WorkerPool &pool) {
    return for_rows(height, pool, [&](int y) {
        for (int x = 0; x < width; ++x) to_rgb_pixel(p, x, y);
    });
}

Status convert_from_rgb(const FromRgbParams &p, int width, int height, WorkerPool &pool) {
    ESPCN_RETURN_IF_ERROR(for_rows(height, pool, [&](int y) {
        for (int x = 0; x < width; ++x) from_rgb_pixel(p, x, y);
    }));
    if (!p.matrix.ycbcr) return Status::ok();
    return for_rows(p.dst[1].height, pool, [&](int y) {
        for (int x = 0; x < p.dst[1].width; ++x) from_rgb_chroma(p, x, y);
    });
}

ColorFrames::ColorFrames() {
    if (const char *dir = std::getenv("ESPCN_DEBUG_RGB_DIR"); dir && *dir) dump_dir_ = dir;
}

Status ColorFrames::submit(std::vector<PlaneTask> &tasks, const FrameColor &color, int scale, int depth,
                           WorkerPool &pool) {
    ESPCN_RETURN_IF(static_cast<int>(records_.size()) >= depth, ESPCN_ERROR_INTERNAL,
                    "colour conversions of ", records_.size(), " frames pending at queue depth ", depth);
    if (static_cast<int>(slots_.size()) < depth) slots_.resize(static_cast<size_t>(depth));
    Record rec;
    rec.slot = (last_slot_ + 1) % depth;
    std::vector<Planes16> &planes = slots_[static_cast<size_t>(rec.slot)];
    std::vector<size_t> group_start;
    for (size_t i = 0; i < tasks.size(); ++i)
        if (!tasks[i].resample) group_start.push_back(i);
    // Network tasks come in groups of three, in order (checked by the caller).
    std::vector<PlaneTask> group(3);
    for (size_t n = 0; n + 2 < group_start.size(); n += 3) {
        for (size_t k = 0; k < 3; ++k) group[k] = tasks[group_start[n + k]];
        Result<ColorGroup> described = describe_color_group(group, color, scale);
        ESPCN_RETURN_IF_ERROR(described.status());
        ColorGroup g = std::move(described).value();
        if (!g.convert) continue;
        const size_t index = rec.groups.size();
        if (planes.size() <= index) planes.resize(index + 1);
        Planes16 &p = planes[index];
        const size_t in_plane = static_cast<size_t>(g.in_width) * g.in_height;
        const size_t out_plane = static_cast<size_t>(g.out_width) * g.out_height;
        ESPCN_RETURN_IF_ERROR(try_resize(p.in, 3 * in_plane, "the 16-bit R, G, B input planes"));
        ESPCN_RETURN_IF_ERROR(try_resize(p.out, 3 * out_plane, "the 16-bit R, G, B output planes"));
        for (size_t k = 0; k < 3; ++k) {
            g.to_rgb.dst[k] = plane16(p.in.data() + k * in_plane, g.in_width, g.in_height);
            g.from_rgb.src[k] = plane16(p.out.data() + k * out_plane, g.out_width, g.out_height);
        }
        ESPCN_RETURN_IF_ERROR(convert_to_rgb(g.to_rgb, g.in_width, g.in_height, pool));
        for (size_t k = 0; k < 3; ++k) {
            PlaneTask &t = tasks[group_start[n + k]];
            t.in = as_plane(g.to_rgb.dst[k]);
            t.out = as_plane(g.from_rgb.src[k]);
            t.components = 1;
        }
        rec.groups.push_back(std::move(g));
    }
    last_slot_ = rec.slot;
    records_.push_back(std::move(rec));
    return Status::ok();
}

void ColorFrames::drop_newest() {
    if (records_.empty()) return;
    // The next frame takes the dropped one's slot again (-1: none before it).
    last_slot_ = records_.back().slot - 1;
    records_.pop_back();
}

Status ColorFrames::finish_oldest(bool ok, WorkerPool &pool) {
    if (records_.empty()) return Status::ok();
    const Record rec = std::move(records_.front());
    records_.pop_front();
    if (!ok) return Status::ok();
    for (const ColorGroup &g : rec.groups) {
        if (!dump_dir_.empty()) ESPCN_RETURN_IF_ERROR(dump(g));
        ESPCN_RETURN_IF_ERROR(convert_from_rgb(g.from_rgb, g.out_width, g.out_height, pool));
    }
    return Status::ok();
}

size_t ColorFrames::bytes() const {
    size_t b = 0;
    for (const auto &slot : slots_)
        for (const Planes16 &p : slot) b += (p.in.size() + p.out.size()) * sizeof(uint16_t);
    return b;
}

Status ColorFrames::dump(const ColorGroup &g) {
    const uint64_t n = dumped_++;
    for (int side = 0; side < 2; ++side) {
        const ColorPlane *planes = side == 0 ? g.to_rgb.dst : g.from_rgb.src;
        const std::string path = concat(dump_dir_, "/", n < 100000 ? std::string(6 - std::to_string(n).size(), '0') : "",
                                        n, side == 0 ? "-in.ppm" : "-out.ppm");
        Owned<std::FILE, std::fclose> f(std::fopen(path.c_str(), "wb"));
        ESPCN_RETURN_IF(!f, ESPCN_ERROR_IO, "ESPCN_DEBUG_RGB_DIR: cannot write ", path);
        const int w = planes[0].width, h = planes[0].height;
        std::fprintf(f.get(), "P6\n%d %d\n65535\n", w, h);
        std::vector<uint8_t> row(static_cast<size_t>(w) * 6);
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x)
                for (int k = 0; k < 3; ++k) {
                    const uint32_t v = static_cast<uint32_t>(color_load(planes[k], x, y));
                    row[static_cast<size_t>(x) * 6 + 2 * k] = static_cast<uint8_t>(v >> 8);  // PPM: big-endian
                    row[static_cast<size_t>(x) * 6 + 2 * k + 1] = static_cast<uint8_t>(v & 0xFF);
                }
            ESPCN_RETURN_IF(std::fwrite(row.data(), 1, row.size(), f.get()) != row.size(), ESPCN_ERROR_IO,
                            "ESPCN_DEBUG_RGB_DIR: cannot write ", path);
        }
    }
    return Status::ok();
}

}  // namespace espcn
