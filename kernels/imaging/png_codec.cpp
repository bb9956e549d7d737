// PNG through libpng, in memory. libpng reports errors by longjmp, which
// skips C++ destructors, so the code is split in two kinds of functions:
//  - "jump targets" (read_png_header, read_png_rows, write_png_rows) call
//    setjmp and then libpng; they own nothing and have only trivial locals;
//  - their callers own every buffer and the libpng structures (RAII), and
//    are never jumped over.
// The I/O callbacks likewise keep only trivial state (PngIo).
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "image_io.hpp"

namespace espcn {

namespace {

struct PngIo {
    const uint8_t *data = nullptr;  // reading: the whole file
    size_t size = 0;
    size_t pos = 0;
    std::vector<uint8_t> *sink = nullptr;  // writing: lives in the caller's frame
    char message[256] = {};
};

void on_png_error(png_structp png, png_const_charp message) {
    auto *io = static_cast<PngIo *>(png_get_error_ptr(png));
    std::snprintf(io->message, sizeof io->message, "%s", message);
    png_longjmp(png, 1);
}

// Warnings (bad ancillary chunk CRCs, unknown chunks, ...) do not stop a
// decode, and a library must not print to stderr: drop them.
void on_png_warning(png_structp, png_const_charp) {}

void read_from_memory(png_structp png, png_bytep out, png_size_t n) {
    auto *io = static_cast<PngIo *>(png_get_io_ptr(png));
    if (n > io->size - io->pos) png_error(png, "file is truncated");
    std::memcpy(out, io->data + io->pos, n);
    io->pos += n;
}

void write_to_sink(png_structp png, png_bytep in, png_size_t n) {
    auto *io = static_cast<PngIo *>(png_get_io_ptr(png));
    bool out_of_memory = false;
    try {
        io->sink->insert(io->sink->end(), in, in + n);
    } catch (...) {
        out_of_memory = true;  // jump only after the handler has finished
    }
    if (out_of_memory) png_error(png, "out of memory");
}

void flush_nothing(png_structp) {}

Status png_failure(const PngIo &io, const char *what) {
    return Status(ESPCN_ERROR_IO, concat("PNG ", what, ": ", io.message));
}

// libpng's pair of structs (png + info) for reading or writing, destroyed
// together on every path out.
enum class PngMode { read, write };

template <PngMode Mode>
class PngStructs {
public:
    explicit PngStructs(PngIo *io)
        : png_(Mode == PngMode::read
                   ? png_create_read_struct(PNG_LIBPNG_VER_STRING, io, on_png_error, on_png_warning)
                   : png_create_write_struct(PNG_LIBPNG_VER_STRING, io, on_png_error, on_png_warning)) {
        if (png_) info_ = png_create_info_struct(png_);
    }
    ~PngStructs() {
        if (!png_) return;
        if constexpr (Mode == PngMode::read)
            png_destroy_read_struct(&png_, info_ ? &info_ : nullptr, nullptr);
        else
            png_destroy_write_struct(&png_, info_ ? &info_ : nullptr);
    }
    PngStructs(const PngStructs &) = delete;
    PngStructs &operator=(const PngStructs &) = delete;

    bool ok() const { return png_ && info_; }
    png_structp png() const { return png_; }
    png_infop info() const { return info_; }

private:
    png_structp png_ = nullptr;
    png_infop info_ = nullptr;
};
using PngReader = PngStructs<PngMode::read>;
using PngWriter = PngStructs<PngMode::write>;

// --- reading ---------------------------------------------------------------

struct PngLayout {
    png_uint_32 width;
    png_uint_32 height;
    int bit_depth;  // after the transforms: 8 or 16
    int channels;   // after the transforms: 1 or 3 (2 or 4 if alpha survived)
    size_t row_bytes;
};

// Jump target: reads the header and sets the transforms that reduce every
// PNG to 8/16-bit gray or RGB.
bool read_png_header(png_structp png, png_infop info, PngLayout *layout) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_read_info(png, info);
    const int color_type = png_get_color_type(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    // Unconditional: palette expansion may turn tRNS into an alpha channel.
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    layout->width = png_get_image_width(png, info);
    layout->height = png_get_image_height(png, info);
    layout->bit_depth = png_get_bit_depth(png, info);
    layout->channels = png_get_channels(png, info);
    layout->row_bytes = png_get_rowbytes(png, info);
    return true;
}

// Jump target: decodes all rows (and checks the chunks after them).
bool read_png_rows(png_structp png, png_bytepp rows) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_read_image(png, rows);
    png_read_end(png, nullptr);
    return true;
}

// --- writing ---------------------------------------------------------------

// Jump target: writes header, rows and trailer.
bool write_png_rows(png_structp png, png_infop info, const PngLayout *layout, png_bytepp rows) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_set_IHDR(png, info, layout->width, layout->height, layout->bit_depth,
                 layout->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, nullptr);
    return true;
}

// What one ancillary chunk may allocate (PLTE, tRNS, ... are tiny).
constexpr png_alloc_size_t kMaxPngChunkBytes = 8u << 20;

// Bytes of all IDAT chunks (the compressed image), walking the chunk list
// up to IEND or the end of the buffer.
uint64_t idat_bytes(const uint8_t *data, size_t size) {
    uint64_t total = 0;
    for (size_t pos = 8; size - pos >= 12;) {
        const uint64_t length = png_get_uint_32(data + pos);
        if (std::memcmp(data + pos + 4, "IDAT", 4) == 0) total += length;
        if (std::memcmp(data + pos + 4, "IEND", 4) == 0 || length > size - pos - 12) break;
        pos += 12 + static_cast<size_t>(length);
    }
    return total;
}

// What IHDR's image decompresses to (filter bytes included, interlaced
// passes bounded by one extra filter byte per row and pass), before any
// allocation: a 100-byte file claiming 65536 x 4096 pixels must not make us
// allocate gigabytes before libpng finds its data missing.
Status check_compressed_size(const uint8_t *data, size_t size) {
    const uint64_t width = png_get_uint_32(data + 16), height = png_get_uint_32(data + 20);
    const int depth = data[24], color = data[25], interlaced = data[28] != 0;
    const int channels = color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 1;
    const uint64_t row = (width * channels * static_cast<uint64_t>(depth) + 7) / 8 + 1;
    const uint64_t raw = height * (row + (interlaced ? 7 : 0));
    // deflate expands at most 1032:1 (a maximal run of one byte); the slack
    // covers zlib's header and tiny images.
    const uint64_t compressed = idat_bytes(data, size);
    ESPCN_RETURN_IF(raw > 1032 * compressed + 4096, ESPCN_ERROR_IO, "PNG is ", width, "x", height,
                    " (", raw, " bytes decompressed) but holds only ", compressed,
                    " bytes of image data, which deflate cannot expand that far: "
                    "the file is truncated or corrupt");
    return Status::ok();
}

}  // namespace

Result<Image> decode_png(const uint8_t *data, size_t size) {
    ESPCN_RETURN_IF(!data || size < 8 || png_sig_cmp(data, 0, 8) != 0, ESPCN_ERROR_IO,
                    "not a PNG file (bad signature)");
    // libpng would refuse an oversized image too, but only as "Invalid IHDR
    // data": read the size from IHDR first for a clearer message.
    if (size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
        const uint32_t width = png_get_uint_32(data + 16), height = png_get_uint_32(data + 20);
        ESPCN_RETURN_IF(width > static_cast<uint32_t>(kMaxImageSide) ||
                            height > static_cast<uint32_t>(kMaxImageSide),
                        ESPCN_ERROR_IO, "PNG is ", width, "x", height,
                        "; each side must be at most ", kMaxImageSide);
        if (size >= 29) ESPCN_RETURN_IF_ERROR(check_compressed_size(data, size));
    }
    PngIo io;
    io.data = data;
    io.size = size;
    PngReader reader(&io);
    ESPCN_RETURN_IF(!reader.ok(), ESPCN_ERROR_OUT_OF_MEMORY, "libpng cannot allocate a reader");
    png_set_read_fn(reader.png(), &io, read_from_memory);
    png_set_user_limits(reader.png(), kMaxImageSide, kMaxImageSide);
    // Ancillary chunks are allocated at their declared length (a 100-byte
    // file can declare 1 GB of tEXt) or decompressed without bound (zTXt,
    // iCCP): skip the ones we never use, and cap what any chunk may take.
    static const png_byte kIgnored[] = "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0eXIf\0";
    png_set_keep_unknown_chunks(reader.png(), PNG_HANDLE_CHUNK_NEVER, kIgnored,
                                static_cast<int>(sizeof kIgnored / 5));
    png_set_chunk_malloc_max(reader.png(), kMaxPngChunkBytes);
    png_set_chunk_cache_max(reader.png(), 128);

    PngLayout layout{};
    if (!read_png_header(reader.png(), reader.info(), &layout)) return png_failure(io, "header");
    ESPCN_RETURN_IF(static_cast<int64_t>(layout.width) * layout.height > kMaxImagePixels,
                    ESPCN_ERROR_IO, "PNG is ", layout.width, "x", layout.height,
                    ", more than ", kMaxImagePixels, " pixels");
    const int bytes_per_sample = layout.bit_depth == 16 ? 2 : 1;
    ESPCN_RETURN_IF((layout.bit_depth != 8 && layout.bit_depth != 16) || layout.channels < 1 ||
                        layout.channels > 4 ||
                        layout.row_bytes != static_cast<size_t>(layout.width) *
                                                layout.channels * bytes_per_sample,
                    ESPCN_ERROR_INTERNAL, "PNG: unexpected layout after transforms (",
                    layout.channels, " channels of ", layout.bit_depth, " bits)");

    std::vector<uint8_t> pixels(layout.row_bytes * layout.height);
    std::vector<png_bytep> rows(layout.height);
    for (png_uint_32 y = 0; y < layout.height; ++y) rows[y] = pixels.data() + y * layout.row_bytes;
    if (!read_png_rows(reader.png(), rows.data())) return png_failure(io, "data");

    // Should an alpha channel survive (2 or 4 channels), it comes last: skip it.
    const int kept = layout.channels >= 3 ? 3 : 1;
    Image image;
    image.width = static_cast<int>(layout.width);
    image.height = static_cast<int>(layout.height);
    image.channels = kept;
    image.bit_depth = layout.bit_depth;
    image.samples.resize(static_cast<size_t>(image.width) * image.height * kept);
    size_t k = 0;
    for (png_uint_32 y = 0; y < layout.height; ++y) {
        const uint8_t *row = rows[y];
        for (png_uint_32 x = 0; x < layout.width; ++x) {
            const uint8_t *px = row + static_cast<size_t>(x) * layout.channels * bytes_per_sample;
            for (int c = 0; c < kept; ++c) {
                // PNG stores 16-bit samples big-endian.
                image.samples[k++] = bytes_per_sample == 2
                                         ? static_cast<uint16_t>(px[2 * c] << 8 | px[2 * c + 1])
                                         : px[c];
            }
        }
    }
    return image;
}

Result<std::vector<uint8_t>> encode_png(const Image &image) {
    ESPCN_RETURN_IF_ERROR(validate_image(image));
    // PNG has 8 and 16 bits; anything between is rescaled to 16 with rounding.
    const bool wide = image.bit_depth > 8;
    const uint32_t from_max = image.max_value();
    PngLayout layout{};
    layout.width = static_cast<png_uint_32>(image.width);
    layout.height = static_cast<png_uint_32>(image.height);
    layout.bit_depth = wide ? 16 : 8;
    layout.channels = image.channels;
    layout.row_bytes = static_cast<size_t>(image.width) * image.channels * (wide ? 2 : 1);

    std::vector<uint8_t> pixels(layout.row_bytes * layout.height);
    size_t k = 0;
    for (const uint16_t v : image.samples) {
        if (wide) {
            const uint32_t v16 = (static_cast<uint32_t>(v) * 65535u + from_max / 2) / from_max;
            pixels[k++] = static_cast<uint8_t>(v16 >> 8);
            pixels[k++] = static_cast<uint8_t>(v16 & 0xff);
        } else {
            pixels[k++] = static_cast<uint8_t>(v);
        }
    }
    std::vector<png_bytep> rows(layout.height);
    for (png_uint_32 y = 0; y < layout.height; ++y) rows[y] = pixels.data() + y * layout.row_bytes;

    std::vector<uint8_t> encoded;
    encoded.reserve(pixels.size() / 2 + 1024);
    PngIo io;
    io.sink = &encoded;
    PngWriter writer(&io);
    ESPCN_RETURN_IF(!writer.ok(), ESPCN_ERROR_OUT_OF_MEMORY, "libpng cannot allocate a writer");
    png_set_write_fn(writer.png(), &io, write_to_sink, flush_nothing);
    if (!write_png_rows(writer.png(), writer.info(), &layout, rows.data()))
        return png_failure(io, "encoding");
    return encoded;
}

}  // namespace espcn
