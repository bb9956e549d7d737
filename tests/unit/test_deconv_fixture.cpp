// The shipped FSRCNN-style models (a trained 9×9 stride-r ConvTranspose2d
// upsampler) through the engine, which converts the deconvolution into an LR
// convolution + periodic shuffle at load, against PyTorch's own
// nn.ConvTranspose2d output on the same 8-bit plane (a fixture written once by
// weights/train/make_deconv_fixture.py; no PyTorch here).
//
// Tolerance: the engine's 16-bit output within 1 code value of PyTorch's
// float32 result quantized the engine's way, floor(clamp(t, 0, 1)·65535 + ½),
// on every pixel: the two compute in float32 in different orders (~1e-6
// apart), so a value at a rounding boundary can land on either side; the
// fixture's outputs are compared on every backend this build has.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "espcn/espcn.h"
#include "imaging/image_io.hpp"
#include "test_support.hpp"

namespace {

const std::string kFixtureDir = ESPCN_TEST_FIXTURE_DIR;
const std::string kWeightsDir = ESPCN_TEST_WEIGHTS_DIR;

std::vector<float> read_f32(const std::string &path, size_t count) {
    std::ifstream f(path, std::ios::binary);
    std::vector<float> v(count);
    f.read(reinterpret_cast<char *>(v.data()), static_cast<std::streamsize>(count * sizeof(float)));
    if (!f || f.peek() != EOF) v.clear();  // wrong size
    return v;
}

struct Case {
    int scale;
    espcn::test::BackendCase backend;
};

class DeconvFixture : public ::testing::TestWithParam<Case> {};

TEST_P(DeconvFixture, EngineEqualsPyTorchConvTranspose2d) {
    const Case c = GetParam();
    ESPCN_SKIP_UNUSABLE(c.backend);
    std::ifstream jf(kFixtureDir + "/fixture.json");
    ASSERT_TRUE(jf) << "missing " << kFixtureDir << "/fixture.json";
    const nlohmann::json fx = nlohmann::json::parse(jf);
    char model_file_c[64];
    std::snprintf(model_file_c, sizeof model_file_c, "fsrcnn-x%d.safetensors", c.scale);
    const std::string model_file = model_file_c;
    ASSERT_TRUE(fx["models"].contains(model_file));
    const nlohmann::json &m = fx["models"][model_file];

    espcn::Result<espcn::Image> lr = espcn::read_image(kFixtureDir + "/" + fx["lr"].get<std::string>());
    ASSERT_TRUE(lr.is_ok()) << lr.status().message();
    const espcn::Image &in = lr.value();
    ASSERT_EQ(in.channels, 1);
    ASSERT_EQ(in.bit_depth, 8);
    const int r = c.scale, ow = in.width * r, oh = in.height * r;
    const std::vector<float> torch_out =
        read_f32(kFixtureDir + "/" + m["output"].get<std::string>(), size_t(ow) * oh);
    ASSERT_EQ(torch_out.size(), size_t(ow) * oh) << "fixture output has the wrong size";

    espcn_params params = ESPCN_PARAMS_DEFAULT_INIT;
    std::string model_path = kWeightsDir;
    model_path.append("/").append(model_file);
    params.model_path = model_path.c_str();
    params.backend = c.backend.kind;
    params.precision = ESPCN_PRECISION_FP32;
    params.threads = 1;
    espcn_context *ctx = nullptr;
    ASSERT_EQ(espcn_create(&params, &ctx), ESPCN_OK) << espcn_last_error();
    espcn_model_info info{};
    ASSERT_EQ(espcn_get_model_info(ctx, &info), ESPCN_OK);
    EXPECT_EQ(info.scale, r);
    EXPECT_EQ(info.upsampler, ESPCN_UPSAMPLER_DECONV) << "the file must hold a deconv layer";

    std::vector<uint8_t> src(in.samples.begin(), in.samples.end());
    std::vector<uint16_t> dst(size_t(ow) * oh);
    const espcn_plane ip{src.data(), in.width, in.width, in.height, 8, 0};
    const espcn_plane op{dst.data(), ptrdiff_t(ow) * 2, ow, oh, 16, 0};
    ASSERT_EQ(espcn_process_plane(ctx, &ip, &op), ESPCN_OK) << espcn_last_error();
    espcn_destroy(&ctx);

    int worst = 0;
    size_t off_by_one = 0;
    for (size_t i = 0; i < dst.size(); ++i) {
        const double t = std::fmin(1.0, std::fmax(0.0, double(torch_out[i])));
        const int want = int(std::floor(t * 65535.0 + 0.5));
        const int d = std::abs(int(dst[i]) - want);
        worst = std::max(worst, d);
        off_by_one += d == 1;
    }
    EXPECT_LE(worst, 1) << "x" << r << " " << espcn_backend_name(c.backend.kind);
    // Nearly all exact: a systematic error (e.g. a flipped kernel) would be far off.
    EXPECT_LE(off_by_one, dst.size() / 20) << "x" << r << " " << espcn_backend_name(c.backend.kind);
    std::printf("x%d %s: max |engine - PyTorch| = %d / 65535, %zu of %zu samples off by one\n", r,
                espcn_backend_name(c.backend.kind), worst, off_by_one, dst.size());
}

std::vector<Case> cases() {
    std::vector<Case> v;
    for (const espcn::test::BackendCase &b : espcn::test::all_backends())
        for (int scale : {2, 3, 4}) v.push_back({scale, b});
    return v;
}

INSTANTIATE_TEST_SUITE_P(ShippedModels, DeconvFixture, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &i) {
                             std::string name = "x";  // (one += at a time: GCC 12's -Wrestrict)
                             name += std::to_string(i.param.scale);
                             name += '_';
                             name += i.param.backend.name;
                             return name;
                         });

}  // namespace
