// A strict reader of the safetensors container
// (https://huggingface.co/docs/safetensors): 8-byte little-endian header
// length N, N bytes of JSON, then raw little-endian tensor data. Every field
// is checked; nothing outside the buffer is ever read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "status.hpp"

namespace espcn {

enum class DType { f32, f16 };

struct TensorEntry {
    DType dtype = DType::f32;
    std::vector<int64_t> shape;
    uint64_t begin = 0;  // byte offsets into the data section
    uint64_t end = 0;
    int64_t numel() const;
};

class SafetensorsFile {
public:
    // Limits that keep a hostile file from asking for absurd allocations
    // (weights/FORMAT.md states them). An espcn header is a few kB (256
    // layers with three tensors each: ~100 kB); the reference reader's
    // 100 MB header limit would let nested JSON take gigabytes to parse.
    static constexpr uint64_t kMaxHeaderBytes = 4u << 20;
    static constexpr uint64_t kMaxFileBytes = 512u << 20;
    static constexpr int64_t kMaxDim = 1 << 20;
    static constexpr int64_t kMaxElements = 1ll << 28;

    [[nodiscard]] static Result<SafetensorsFile> parse(std::vector<uint8_t> bytes);
    // parse() of a copy of data[0, size), refused beyond kMaxFileBytes.
    [[nodiscard]] static Result<SafetensorsFile> parse_copy(const uint8_t *data, size_t size);
    // A regular file only (opened non-blocking: a FIFO is refused, not waited on).
    [[nodiscard]] static Result<SafetensorsFile> read(const std::string &path);

    const std::map<std::string, std::string> &metadata() const { return metadata_; }
    const std::map<std::string, TensorEntry> &tensors() const { return tensors_; }

    // Copies a tensor as float32 (F16 is widened), checking its shape and that
    // every value is finite.
    [[nodiscard]] Status read_f32(const std::string &name, const std::vector<int64_t> &shape,
                                  std::vector<float> &out) const;

private:
    std::vector<uint8_t> bytes_;
    uint64_t data_start_ = 0;
    std::map<std::string, std::string> metadata_;
    std::map<std::string, TensorEntry> tensors_;
};

std::string shape_string(const std::vector<int64_t> &shape);
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);  // round to nearest even

// Writes a safetensors file (used by tests and tools, not by the engine).
struct TensorToWrite {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
    DType dtype = DType::f32;
};
std::vector<uint8_t> write_safetensors(const std::map<std::string, std::string> &metadata,
                                       const std::vector<TensorToWrite> &tensors);

}  // namespace espcn
