// The oneDNN CPU backend. Exposed (beyond make_onednn_backend) so the
// benchmark can time the bare convolutions against the whole plane path.
//
// It runs row tiles (core/row_tiles.hpp): primitives are built for the band
// shape (every band of a frame size has the same one), and all layers share
// two activation buffers, used in turn, plus one scratchpad; those buffers
// are ours (allocated with their size in any out-of-memory message) and are
// what tile_working_bytes() counts.
#pragma once

#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "../core/allocation.hpp"
#include "cpu_backend.hpp"

namespace espcn {

class OnednnBackend final : public RowTiledCpuBackend {
public:
    OnednnBackend(std::shared_ptr<const Network> net, const BackendConfig &cfg);

    espcn_backend kind() const override { return ESPCN_BACKEND_ONEDNN; }
    Result<size_t> tile_working_bytes(int width, int rows) override;
    size_t state_bytes() const override;
    Status process_tile(Planes in, Planes out, const RowTile &tile, const CancelCheck &cancel) override;

    // Builds primitives and buffers for a w×h input (no-op when unchanged).
    [[nodiscard]] Status configure(int width, int height);
    // Runs only the convolutions on whatever the input buffer holds.
    [[nodiscard]] Status run_convolutions(const CancelCheck &cancel = CancelCheck());
    int threads() const { return threads_; }

private:
    struct Layer {
        dnnl::convolution_forward prim;
        dnnl::memory weights;     // in the layout the primitive prefers
        dnnl::memory bias;
        std::vector<float> prelu_slope;  // empty unless the activation is PReLU
        dnnl::memory dst;         // a view of activations_[k % 2]
        std::unordered_map<int, dnnl::memory> args;  // built once, reused every frame
    };
    // Every layer's primitive descriptor for one input shape, and the bytes
    // of the buffers they need.
    struct Shape {
        std::vector<dnnl::convolution_forward::primitive_desc> pds;
        size_t src_bytes = 0;
        size_t activation_bytes[2] = {0, 0};  // even layers, odd layers
        size_t scratch_bytes = 0;
        size_t total() const {
            return src_bytes + activation_bytes[0] + activation_bytes[1] + scratch_bytes;
        }
    };

    [[nodiscard]] Status describe(int width, int height, Shape &shape) const;
    [[nodiscard]] Status build(int width, int height);

    std::shared_ptr<const Network> net_;
    Logger log_;
    int threads_ = 1;
    dnnl::engine engine_;
    dnnl::stream stream_;
    std::vector<Layer> layers_;
    AlignedBuffer src_buffer_, activations_[2], scratch_buffer_;
    std::vector<AlignedBuffer> weight_buffers_;  // one per layer, in the primitive's layout
    dnnl::memory src_;            // the decoded input rows, in src_buffer_
    dnnl::memory scratchpad_;     // one, shared by all layers
    int width_ = 0, height_ = 0;
    std::map<std::pair<int, int>, size_t> working_bytes_;  // memo of tile_working_bytes
};

}  // namespace espcn
