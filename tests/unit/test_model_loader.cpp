// The loader accepts well-formed models and rejects every kind of malformed
// file with a precise message, through the C API, without crashing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/model_loader.hpp"
#include "test_support.hpp"

namespace espcn {
namespace {

using nlohmann::json;
using test::ModelBuilder;

struct Outcome {
    espcn_status status;
    std::string message;
};

Outcome create_from(const std::vector<uint8_t> &bytes) {
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    static const uint8_t empty = 0;  // an empty buffer is still a given buffer
    p.model_data = bytes.empty() ? &empty : bytes.data();
    p.model_size = bytes.size();
    p.backend = ESPCN_BACKEND_REFERENCE;
    espcn_context *ctx = reinterpret_cast<espcn_context *>(0x1);  // must be reset to NULL
    const espcn_status s = espcn_create(&p, &ctx);
    if (s == ESPCN_OK) {
        EXPECT_NE(ctx, nullptr);
        espcn_destroy(&ctx);
    } else {
        EXPECT_EQ(ctx, nullptr);
    }
    return {s, espcn_last_error()};
}

#define EXPECT_REJECTED(bytes, code, fragment)                                          \
    do {                                                                                \
        const Outcome o_ = create_from(bytes);                                          \
        EXPECT_EQ(o_.status, code) << o_.message;                                       \
        EXPECT_NE(o_.message.find(fragment), std::string::npos)                         \
            << "message was: " << o_.message;                                           \
    } while (0)

ModelBuilder valid_model() { return test::espcn_paper_model(2, 42); }

void put_le64(std::vector<uint8_t> &b, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Replaces the JSON header of a file, keeping the data section.
std::vector<uint8_t> with_header(const std::vector<uint8_t> &file, const std::string &header) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | file[i];
    const size_t data = file.size() - 8 - n;
    std::vector<uint8_t> out(8 + header.size() + data);
    put_le64(out, header.size());
    std::memcpy(out.data() + 8, header.data(), header.size());
    if (data) std::memcpy(out.data() + 8 + header.size(), file.data() + 8 + n, data);
    return out;
}

json header_of(const std::vector<uint8_t> &file) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | file[i];
    return json::parse(file.begin() + 8, file.begin() + 8 + static_cast<ptrdiff_t>(n));
}

// The same file with another "espcn.format" value.
std::vector<uint8_t> with_format(const std::vector<uint8_t> &file, const std::string &version) {
    json h = header_of(file);
    h["__metadata__"]["espcn.format"] = version;
    return with_header(file, h.dump());
}

TEST(ModelLoader, AcceptsThePaperModel) {
    const Outcome o = create_from(valid_model().bytes());
    EXPECT_EQ(o.status, ESPCN_OK) << o.message;
}

TEST(ModelLoader, ConvertsADeconvUpsamplerAtLoad) {
    ModelBuilder b(3, 7);
    b.conv(1, 16, 5).prelu(16).conv(16, 8, 1).prelu(8).deconv(8, 1, 9, 3, 0);
    Result<SafetensorsFile> f = SafetensorsFile::parse(b.bytes());
    ASSERT_TRUE(f.is_ok());
    Result<Network> n = load_network(f.value(), Logger());
    ASSERT_TRUE(n.is_ok()) << n.status().message();
    EXPECT_EQ(n.value().source_upsampler, ESPCN_UPSAMPLER_DECONV);
    ASSERT_EQ(n.value().convs.size(), 3u);
    EXPECT_EQ(n.value().convs.back().out_channels, 9);
    EXPECT_EQ(n.value().convs.back().kernel, 3);
}

TEST(ModelLoader, ReadsF16LikeF32WithinHalfPrecision) {
    ModelBuilder b32 = valid_model();
    ModelBuilder b16 = valid_model();
    for (auto &t : b16.tensors()) t.dtype = DType::f16;
    Result<Network> n32 = load_network(SafetensorsFile::parse(b32.bytes()).value(), Logger());
    Result<Network> n16 = load_network(SafetensorsFile::parse(b16.bytes()).value(), Logger());
    ASSERT_TRUE(n32.is_ok());
    ASSERT_TRUE(n16.is_ok()) << n16.status().message();
    for (size_t l = 0; l < n32.value().convs.size(); ++l) {
        const auto &a = n32.value().convs[l].weight, &h = n16.value().convs[l].weight;
        ASSERT_EQ(a.size(), h.size());
        for (size_t k = 0; k < a.size(); ++k) ASSERT_NEAR(a[k], h[k], std::fabs(a[k]) * 1e-3 + 1e-7);
    }
}

TEST(ModelLoader, HalfConversionIsExactOnRepresentableValues) {
    for (float v : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.9604645e-08f, 0.333251953125f})
        EXPECT_EQ(half_to_float(float_to_half(v)), v) << v;
    EXPECT_TRUE(std::isinf(half_to_float(float_to_half(1e6f))));
    EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(ModelLoader, RejectsTruncatedFiles) {
    const auto good = valid_model().bytes();
    EXPECT_REJECTED(std::vector<uint8_t>(good.begin(), good.begin() + 5), ESPCN_ERROR_MODEL,
                    "shorter than the 8-byte");
    EXPECT_REJECTED(std::vector<uint8_t>(good.begin(), good.begin() + 40), ESPCN_ERROR_MODEL,
                    "runs past the end");
    EXPECT_REJECTED(std::vector<uint8_t>(good.begin(), good.end() - 4), ESPCN_ERROR_MODEL,
                    "truncated file?");
    EXPECT_REJECTED(std::vector<uint8_t>(), ESPCN_ERROR_MODEL, "shorter than the 8-byte");
}

TEST(ModelLoader, RejectsHeaderLengthsOutOfBounds) {
    auto b = valid_model().bytes();
    put_le64(b, b.size());  // one past what is there
    EXPECT_REJECTED(b, ESPCN_ERROR_MODEL, "runs past the end");
    put_le64(b, 0);
    EXPECT_REJECTED(b, ESPCN_ERROR_MODEL, "outside [2,");
    put_le64(b, ~0ull);  // would overflow 8 + n
    EXPECT_REJECTED(b, ESPCN_ERROR_MODEL, "outside [2,");
}

TEST(ModelLoader, RejectsBadJson) {
    const auto good = valid_model().bytes();
    EXPECT_REJECTED(with_header(good, "{\"a\": [1, 2"), ESPCN_ERROR_MODEL, "not valid JSON");
    EXPECT_REJECTED(with_header(good, "[1, 2, 3]"), ESPCN_ERROR_MODEL, "not an object");
    json h = header_of(good);
    h["__metadata__"]["espcn.network"] = "{\"scale\": 2, \"layers\": [";
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "'espcn.network' is not valid JSON");
    h["__metadata__"]["espcn.network"] = "[1, 2]";
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "is not a JSON object");
    h = header_of(good);
    h["__metadata__"]["espcn.format"] = 1;  // metadata values must be strings
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "is not a string");
}

TEST(ModelLoader, RejectsMissingOrForeignMetadata) {
    const auto good = valid_model().bytes();
    json h = header_of(good);
    h.erase("__metadata__");
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "not an espcn model");
    EXPECT_REJECTED(valid_model().bytes_with(valid_model().network(), "7"), ESPCN_ERROR_UNSUPPORTED,
                    "format version '7'");
}

TEST(ModelLoader, RejectsWrongDtypes) {
    const auto good = valid_model().bytes();
    for (const char *dt : {"I32", "BF16", "F64", "U8"}) {
        json h = header_of(good);
        h["t0"]["dtype"] = dt;
        EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "is not supported");
    }
}

TEST(ModelLoader, RejectsBadOffsetsAndAbsurdDimensions) {
    const auto good = valid_model().bytes();
    json h = header_of(good);
    h["t0"]["data_offsets"] = {0, 12};  // too few bytes for the shape
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "needs");
    h = header_of(good);
    h["t0"]["data_offsets"] = {100, 50};
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "data_offsets");
    h = header_of(good);
    h["t1"]["data_offsets"] = {1000000000, 1000000256};
    h["t1"]["shape"] = {64};
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "truncated file?");
    h = header_of(good);
    h["t0"]["shape"] = {1000000000, 1, 5, 5};
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "each dimension");
    h = header_of(good);
    h["t0"]["shape"] = {1 << 20, 1 << 20, 1, 1};
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "elements");
    h = header_of(good);
    h["t0"]["shape"] = {-1, 1, 5, 5};
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "each dimension");
    h = header_of(good);
    h["t0"]["data_offsets"] = {0, "x"};
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "data_offsets");
}

TEST(ModelLoader, RejectsNonFiniteWeights) {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity()}) {
        ModelBuilder b = valid_model();
        b.tensors()[2].values[17] = bad;
        EXPECT_REJECTED(b.bytes(), ESPCN_ERROR_MODEL, "non-finite value");
        for (auto &t : b.tensors()) t.dtype = DType::f16;
        EXPECT_REJECTED(b.bytes(), ESPCN_ERROR_MODEL, "non-finite value");
    }
}

TEST(ModelLoader, RejectsUnknownLayersAndShapeMismatches) {
    ModelBuilder b = valid_model();
    json net = b.network();
    net["layers"][1]["type"] = "gelu";
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "unknown layer type 'gelu'");

    net = b.network();
    net["layers"][2]["in"] = 63;  // the previous conv makes 64
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "has shape");

    net = b.network();
    net["layers"][0]["kernel"] = 3;  // the tensor is 5×5
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "expected (64, 1, 3, 3)");

    net = b.network();
    net["layers"][0]["kernel"] = 4;
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "even");

    net = b.network();
    net["layers"][0]["weight"] = "nope";
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "'nope' is not in the file");

    net = b.network();
    net["layers"][0]["out"] = 100000;
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "is outside");

    net = b.network();
    net["layers"][0]["padding"] = "valid";
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "padding must be");
}

TEST(ModelLoader, RejectsInconsistentChains) {
    ModelBuilder b = valid_model();
    json net = b.network();
    net["scale"] = 3;
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "differs from the network scale");

    net = b.network();
    net["layers"].erase(5);  // no pixel_shuffle
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "no upsampler");

    net = b.network();
    net["layers"][1] = {{"type", "relu"}};
    net["layers"].insert(net["layers"].begin() + 1, json{{"type", "tanh"}});
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "two activations in a row");

    net = b.network();
    net["layers"].insert(net["layers"].begin(), json{{"type", "relu"}});
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "before any conv");

    net = b.network();
    net["layers"].push_back(net["layers"][0]);  // a conv after the upsampler
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "after the upsampler");

    net = b.network();
    net["layers"].push_back(net["layers"][5]);  // a second shuffle
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "a second upsampler");

    net = b.network();
    net["layers"][5]["order"] = "cdr";
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "neither");

    net = b.network();
    net["plane"] = "yuv";
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_UNSUPPORTED, "plane 'yuv' is not supported");

    net = b.network();
    net["plane"] = "rgb";  // a chain that takes one channel
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "conv takes 1 channels but receives 3");

    net = b.network();
    net["range"] = {1.0, 1.0};
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "range");

    net = b.network();
    net["layers"] = json::array();
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "non-empty array");
}

TEST(ModelLoader, ReadsTheGlobalResidualField) {
    ModelBuilder b = valid_model();
    json net = b.network();
    for (const json &value : {json("nearest"), json("none"), json(nullptr)}) {
        net["residual"] = value;
        const Outcome o = create_from(with_format(b.bytes_with(net), "2"));
        EXPECT_EQ(o.status, ESPCN_OK) << value << ": " << o.message;
    }
    // version "1" files may not carry one (older engines would ignore it); "none" is fine
    net["residual"] = "nearest";
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "a residual needs 'espcn.format' \"2\"");
    net["residual"] = "none";
    EXPECT_EQ(create_from(b.bytes_with(net)).status, ESPCN_OK);
    EXPECT_REJECTED(with_format(b.bytes(), "3"), ESPCN_ERROR_UNSUPPORTED, "version '3'");
    net["residual"] = "nearest";
    net["residual"] = "bicubic";
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_UNSUPPORTED, "residual 'bicubic' is not supported");
    net["residual"] = 1;
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL, "'residual' must be a string");
}

TEST(ModelLoader, RejectsDeconvWhoseOutputIsNotExactlyRTimes) {
    ModelBuilder b(2, 3);
    b.conv(1, 8, 3).activation("relu").deconv(8, 1, 9, 4, 0);
    EXPECT_REJECTED(b.bytes(), ESPCN_ERROR_MODEL, "exactly 2x");
}

// The channels out are the plane's: a luma network ends with one, an RGB
// network with three.
TEST(ModelLoader, RejectsOutputsOtherThanThePlanesChannels) {
    ModelBuilder b(2, 3);
    b.conv(1, 12, 3).pixel_shuffle();  // 12 / 4 = 3 channels out
    EXPECT_REJECTED(b.bytes(), ESPCN_ERROR_MODEL, "network outputs 3 channel(s) but its plane 'luma' has 1");
    ModelBuilder rgb(2, 4);
    rgb.plane("rgb").conv(3, 8, 3).conv(8, 4, 3).pixel_shuffle();
    EXPECT_REJECTED(rgb.bytes(), ESPCN_ERROR_MODEL, "network outputs 1 channel(s) but its plane 'rgb' has 3");
}

// "plane": "rgb": three channels in (R, G, B), three out, with the
// residual and either shuffle order.
TEST(ModelLoader, ReadsAnRgbNetwork) {
    for (const char *order : {"crd", "dcr"}) {
        ModelBuilder b(3, 5);
        b.plane("rgb").conv(3, 8, 3).prelu(8).conv(8, 27, 3).pixel_shuffle(order);
        json net = b.network();
        net["residual"] = "nearest";
        const std::shared_ptr<const Network> n = test::load(b.bytes_with(net, "2"));
        ASSERT_TRUE(n);
        EXPECT_EQ(n->in_channels, 3);
        EXPECT_EQ(n->out_channels, 3);
        EXPECT_EQ(n->order, std::string(order) == "crd" ? kShuffleCRD : kShuffleDCR);
        EXPECT_EQ(n->residual, Residual::nearest);
        const Outcome o = create_from(b.bytes_with(net, "2"));
        EXPECT_EQ(o.status, ESPCN_OK) << o.message;
    }
}

TEST(ModelLoader, MissingFileIsAnIoError) {
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    p.model_path = "/nonexistent/dir/model.safetensors";
    espcn_context *ctx = nullptr;
    EXPECT_EQ(espcn_create(&p, &ctx), ESPCN_ERROR_IO);
    EXPECT_EQ(ctx, nullptr);
    EXPECT_NE(std::string(espcn_last_error()).find("/nonexistent/dir/model.safetensors"),
              std::string::npos);
}

TEST(ModelLoader, LoadsFromAFile) {
    const auto bytes = valid_model().bytes();
    const std::string path = ::testing::TempDir() + "espcn_loader_test.safetensors";
    {
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    Result<Network> n = load_network_file(path, Logger());
    ASSERT_TRUE(n.is_ok()) << n.status().message();
    EXPECT_EQ(n.value().scale, 2);
    EXPECT_DOUBLE_EQ(n.value().macs_per_lr_pixel(), 5 * 5 * 64 + 3 * 3 * 64 * 32 + 3 * 3 * 32 * 4);
    std::remove(path.c_str());
}

// Every single-byte corruption of a small model either loads or fails with a
// message; none may crash (run under ASan/UBSan in CI).
TEST(ModelLoader, SurvivesEveryByteCorruption) {
    ModelBuilder b(2, 5);
    b.conv(1, 2, 3).activation("relu").conv(2, 4, 1).pixel_shuffle();
    const auto good = b.bytes();
    for (size_t k = 0; k < good.size(); ++k) {
        for (uint8_t v : {uint8_t{0x00}, uint8_t{0xFF}, uint8_t{'"'}, uint8_t{'9'}}) {
            auto bad = good;
            bad[k] = v;
            const Outcome o = create_from(bad);
            if (o.status != ESPCN_OK) {
                EXPECT_FALSE(o.message.empty()) << "byte " << k;
            }
        }
    }
}

// JSON a legitimate model never needs: duplicate keys (which value would
// win?), deep nesting, an oversized header; numbers beyond int64 are named as
// written.
TEST(ModelLoader, RefusesDuplicateKeysDeepNestingAndHugeHeaders) {
    const auto good = valid_model().bytes();
    std::string text = header_of(good).dump();
    // A duplicate tensor name in the header.
    const size_t meta = text.find("\"__metadata__\"");
    ASSERT_NE(meta, std::string::npos);
    std::string dup = text;
    dup.insert(meta, "\"t0\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},");
    EXPECT_REJECTED(with_header(good, dup), ESPCN_ERROR_MODEL, "has the key 't0' twice");
    // A duplicate key inside the network description.
    json h = header_of(good);
    std::string net = h["__metadata__"]["espcn.network"];
    net.insert(1, "\"scale\": 3, ");
    h["__metadata__"]["espcn.network"] = net;
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL,
                    "'espcn.network' has the key 'scale' twice");
    // Nesting: 17 levels are refused, wherever they are.
    h = header_of(good);
    h["__metadata__"]["espcn.network"] = std::string(40, '[') + std::string(40, ']');
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL, "nests deeper than 16 levels");
    std::string deep = "{\"x\":" + std::string(17, '[') + std::string(17, ']') + "," + text.substr(1);
    EXPECT_REJECTED(with_header(good, deep), ESPCN_ERROR_MODEL, "header nests deeper than 16");
    // 4 MiB of nested arrays within the header limit: refused quickly,
    // without building the document.
    std::string wide = "{\"x\":[" ;
    while (wide.size() < (size_t{4} << 20) - text.size() - 200) wide += "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],";
    wide += "0]," + text.substr(1);
    EXPECT_REJECTED(with_header(good, wide), ESPCN_ERROR_MODEL, "nests deeper than 16 levels");
    // A header over 4 MiB is refused by its length alone.
    std::vector<uint8_t> big = good;
    put_le64(big, (uint64_t{4} << 20) + 1);
    EXPECT_REJECTED(big, ESPCN_ERROR_MODEL, "header length 4194305 is outside [2, 4194304]");
    // 2^63 as a scale: said as written, not as a negative number.
    h = header_of(good);
    json n = json::parse(std::string(h["__metadata__"]["espcn.network"]));
    n["scale"] = uint64_t{1} << 63;
    h["__metadata__"]["espcn.network"] = n.dump();
    EXPECT_REJECTED(with_header(good, h.dump()), ESPCN_ERROR_MODEL,
                    "'scale' = 9223372036854775808 is outside [1, 8]");
}

// A tensor named by many layers is converted once per layer; the total is
// bounded before anything is allocated for the layer that would exceed it.
TEST(ModelLoader, BoundsTheParametersOfTensorsSharedByManyLayers) {
    ModelBuilder b(2, 3);
    b.conv(1, 1024, 1);
    json net = b.network();
    // One (1024, 1024, 1, 1) tensor, 4 MiB as F32, named by 70 layers:
    // 70 Mi parameters, over the 64 Mi limit.
    b.conv(1024, 1024, 1, /*bias=*/false);
    net = b.network();
    const json shared = net["layers"].back();
    for (int k = 0; k < 69; ++k) net["layers"].push_back(shared);
    net["layers"].push_back(json{{"type", "conv"}, {"in", 1024}, {"out", 4}, {"kernel", 1},
                                 {"weight", "last"}, {"bias", nullptr}});
    net["layers"].push_back(json{{"type", "pixel_shuffle"}, {"scale", 2}});
    b.tensors().push_back({"last", {4, 1024, 1, 1}, std::vector<float>(4096, 0.01f)});
    EXPECT_REJECTED(b.bytes_with(net), ESPCN_ERROR_MODEL,
                    "over the limit of 67108864 (256 MiB as fp32; a tensor named by several "
                    "layers counts once per layer)");
}

}  // namespace
}  // namespace espcn
