// The oneDNN CPU backend. Exposed (beyond make_onednn_backend) so the
// benchmark can time the bare convolutions against the whole plane path.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "../core/backend.hpp"

namespace espcn {

class OnednnBackend final : public Backend {
public:
    OnednnBackend(std::shared_ptr<const Network> net, const BackendConfig &cfg);

    espcn_backend kind() const override { return ESPCN_BACKEND_ONEDNN; }
    Status process(const espcn_plane &in, const espcn_plane &out) override;

    // Builds primitives and buffers for a w×h input (no-op when unchanged).
    [[nodiscard]] Status configure(int width, int height);
    // Runs only the convolutions on whatever the input buffer holds.
    [[nodiscard]] Status run_convolutions();
    int threads() const { return threads_; }

private:
    struct Layer {
        dnnl::convolution_forward prim;
        dnnl::memory weights;     // in the layout the primitive prefers
        dnnl::memory bias;
        std::vector<float> prelu_slope;  // empty unless the activation is PReLU
        dnnl::memory dst;
        std::unordered_map<int, dnnl::memory> args;  // built once, reused every frame
    };

    [[nodiscard]] Status build(int width, int height);

    std::shared_ptr<const Network> net_;
    Logger log_;
    int threads_ = 1;
    dnnl::engine engine_;
    dnnl::stream stream_;
    std::vector<Layer> layers_;
    dnnl::memory src_;            // the decoded input plane
    dnnl::memory scratchpad_;     // one, shared by all layers
    int width_ = 0, height_ = 0;
};

}  // namespace espcn
