#include "safetensors.hpp"

#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "allocation.hpp"
#include "file_read.hpp"
#include "json_limits.hpp"

namespace espcn {

using json = nlohmann::json;

int64_t TensorEntry::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string shape_string(const std::vector<int64_t> &shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + ")";
}

float half_to_float(uint16_t h) {
    const uint32_t sign = (h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: renormalise
            int e = -1;
            do { ++e; mant <<= 1; } while ((mant & 0x400u) == 0);
            bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t float_to_half(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
    if (abs < 0x38800000u) {  // subnormal or zero in half
        if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
        const uint32_t e = abs >> 23;
        const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - e;  // half subnormal = m · 2^(e − 150) / 2^−24
        uint32_t half_m = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);  // round to nearest even
        const uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (half_m & 1u))) ++half_m;
        return static_cast<uint16_t>(sign | half_m);
    }
    uint32_t h = ((abs >> 13) - (112u << 10));
    const uint32_t rem = abs & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
}

namespace {

uint64_t read_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
    return v;
}

Status parse_entry(const std::string &name, const json &j, TensorEntry &e) {
    ESPCN_RETURN_IF(!j.is_object(), ESPCN_ERROR_MODEL, "tensor '", name, "': not a JSON object");
    const auto dt = j.find("dtype");
    ESPCN_RETURN_IF(dt == j.end() || !dt->is_string(), ESPCN_ERROR_MODEL, "tensor '", name,
                    "': missing string 'dtype'");
    const std::string dtype = dt->get<std::string>();
    if (dtype == "F32") e.dtype = DType::f32;
    else if (dtype == "F16") e.dtype = DType::f16;
    else
        return Status(ESPCN_ERROR_MODEL, concat("tensor '", name, "': dtype ", dtype,
                                                " is not supported (F32 or F16)"));
    const auto sh = j.find("shape");
    ESPCN_RETURN_IF(sh == j.end() || !sh->is_array() || sh->size() > 8, ESPCN_ERROR_MODEL,
                    "tensor '", name, "': 'shape' must be an array of at most 8 dimensions");
    int64_t numel = 1;
    for (const json &d : *sh) {
        ESPCN_RETURN_IF(!d.is_number_integer() || d.get<int64_t>() < 0 ||
                            d.get<int64_t>() > SafetensorsFile::kMaxDim,
                        ESPCN_ERROR_MODEL, "tensor '", name,
                        "': each dimension must be an integer in [0, ",
                        SafetensorsFile::kMaxDim, "]");
        e.shape.push_back(d.get<int64_t>());
        numel *= e.shape.back();
        ESPCN_RETURN_IF(numel > SafetensorsFile::kMaxElements, ESPCN_ERROR_MODEL, "tensor '",
                        name, "': more than ", SafetensorsFile::kMaxElements, " elements");
    }
    const auto off = j.find("data_offsets");
    ESPCN_RETURN_IF(off == j.end() || !off->is_array() || off->size() != 2 ||
                        !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned(),
                    ESPCN_ERROR_MODEL, "tensor '", name,
                    "': 'data_offsets' must be two non-negative integers");
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    const uint64_t elem = e.dtype == DType::f32 ? 4 : 2;
    ESPCN_RETURN_IF(e.end < e.begin || e.end - e.begin != static_cast<uint64_t>(numel) * elem,
                    ESPCN_ERROR_MODEL, "tensor '", name, "': data_offsets [", e.begin, ", ",
                    e.end, ") hold ", e.end - e.begin, " bytes but shape ",
                    shape_string(e.shape), " of ", dtype, " needs ", numel * elem);
    return Status::ok();
}

}  // namespace

Result<SafetensorsFile> SafetensorsFile::parse(std::vector<uint8_t> bytes) {
    ESPCN_RETURN_IF(bytes.size() < 8, ESPCN_ERROR_MODEL, "file is ", bytes.size(),
                    " bytes, shorter than the 8-byte safetensors header length");
    const uint64_t n = read_le64(bytes.data());
    ESPCN_RETURN_IF(n < 2 || n > kMaxHeaderBytes, ESPCN_ERROR_MODEL, "header length ", n,
                    " is outside [2, ", kMaxHeaderBytes, "]");
    ESPCN_RETURN_IF(n > bytes.size() - 8, ESPCN_ERROR_MODEL, "header length ", n,
                    " runs past the end of the file (", bytes.size(), " bytes)");
    const char *text = reinterpret_cast<const char *>(bytes.data() + 8);
    Result<json> parsed = parse_json_limited(text, n, "header");
    ESPCN_RETURN_IF_ERROR(parsed.status());
    const json &header = parsed.value();
    ESPCN_RETURN_IF(!header.is_object(), ESPCN_ERROR_MODEL, "header JSON is not an object");

    SafetensorsFile f;
    f.data_start_ = 8 + n;
    const uint64_t data_size = bytes.size() - f.data_start_;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") {
            ESPCN_RETURN_IF(!it->is_object(), ESPCN_ERROR_MODEL,
                            "__metadata__ must be an object of strings");
            for (auto m = it->begin(); m != it->end(); ++m) {
                ESPCN_RETURN_IF(!m->is_string(), ESPCN_ERROR_MODEL, "__metadata__ value '",
                                m.key(), "' is not a string");
                f.metadata_[m.key()] = m->get<std::string>();
            }
            continue;
        }
        TensorEntry e;
        ESPCN_RETURN_IF_ERROR(parse_entry(it.key(), *it, e));
        ESPCN_RETURN_IF(e.end > data_size, ESPCN_ERROR_MODEL, "tensor '", it.key(),
                        "': data ends at byte ", e.end, " but the data section has only ",
                        data_size, " (truncated file?)");
        f.tensors_.emplace(it.key(), std::move(e));
    }
    f.bytes_ = std::move(bytes);
    return f;
}

Result<SafetensorsFile> SafetensorsFile::read(const std::string &path) {
    Result<std::vector<uint8_t>> bytes =
        read_regular_file(path, kMaxFileBytes, "model file", ESPCN_ERROR_MODEL);
    ESPCN_RETURN_IF_ERROR(bytes.status());
    return parse(std::move(bytes).value());
}

Result<SafetensorsFile> SafetensorsFile::parse_copy(const uint8_t *data, size_t size) {
    ESPCN_RETURN_IF(size > kMaxFileBytes, ESPCN_ERROR_MODEL, "the model is ", size,
                    " bytes, over the limit of ", kMaxFileBytes, " bytes");
    std::vector<uint8_t> bytes;
    ESPCN_RETURN_IF_ERROR(try_resize(bytes, size, "a copy of the model"));
    if (size) std::memcpy(bytes.data(), data, size);
    return parse(std::move(bytes));
}

Status SafetensorsFile::read_f32(const std::string &name, const std::vector<int64_t> &shape,
                                 std::vector<float> &out) const {
    const auto it = tensors_.find(name);
    ESPCN_RETURN_IF(it == tensors_.end(), ESPCN_ERROR_MODEL, "tensor '", name,
                    "' is not in the file");
    const TensorEntry &e = it->second;
    ESPCN_RETURN_IF(e.shape != shape, ESPCN_ERROR_MODEL, "tensor '", name, "' has shape ",
                    shape_string(e.shape), ", expected ", shape_string(shape));
    const uint8_t *p = bytes_.data() + data_start_ + e.begin;
    const int64_t n = e.numel();
    ESPCN_RETURN_IF_ERROR(try_resize(out, static_cast<size_t>(n), "a tensor").with_context(
        concat("tensor '", name, "': ")));
    for (int64_t k = 0; k < n; ++k) {
        float v;
        if (e.dtype == DType::f32) {
            const uint32_t bits = static_cast<uint32_t>(p[4 * k]) | p[4 * k + 1] << 8 |
                                  p[4 * k + 2] << 16 | static_cast<uint32_t>(p[4 * k + 3]) << 24;
            std::memcpy(&v, &bits, sizeof v);
        } else {
            v = half_to_float(static_cast<uint16_t>(p[2 * k] | p[2 * k + 1] << 8));
        }
        ESPCN_RETURN_IF(!std::isfinite(v), ESPCN_ERROR_MODEL, "tensor '", name,
                        "' holds a non-finite value (", v, ") at element ", k);
        out[static_cast<size_t>(k)] = v;
    }
    return Status::ok();
}

std::vector<uint8_t> write_safetensors(const std::map<std::string, std::string> &metadata,
                                       const std::vector<TensorToWrite> &tensors) {
    json header = json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::vector<uint8_t> data;
    for (const TensorToWrite &t : tensors) {
        const uint64_t begin = data.size();
        for (float v : t.values) {
            if (t.dtype == DType::f32) {
                uint32_t bits;
                std::memcpy(&bits, &v, sizeof bits);
                for (int b = 0; b < 4; ++b) data.push_back(static_cast<uint8_t>(bits >> (8 * b)));
            } else {
                const uint16_t h = float_to_half(v);
                data.push_back(static_cast<uint8_t>(h));
                data.push_back(static_cast<uint8_t>(h >> 8));
            }
        }
        header[t.name] = {{"dtype", t.dtype == DType::f32 ? "F32" : "F16"},
                          {"shape", t.shape},
                          {"data_offsets", {begin, static_cast<uint64_t>(data.size())}}};
    }
    std::string text = header.dump();
    while (text.size() % 8) text += ' ';  // the reference writer aligns the data
    // Built by resize + memcpy: GCC 12 warns falsely on vector::insert here.
    std::vector<uint8_t> out(8 + text.size() + data.size());
    for (int b = 0; b < 8; ++b) out[b] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * b));
    std::memcpy(out.data() + 8, text.data(), text.size());
    if (!data.empty()) std::memcpy(out.data() + 8 + text.size(), data.data(), data.size());
    return out;
}

}  // namespace espcn
