// The network on the GPU: cuDNN convolutions in NHWC (fp32, or fp16 with
// fp32 accumulation on tensor cores), our bias-activation pass for the hidden
// layers, and our fused shuffle + encode kernel writing the HR plane.
//
// Channels are zero-padded to a multiple of 8 in fp16 (what tensor-core
// kernels want); the padding's weights are zero, so it never changes a value.
// A plane runs in the bands of rows its caller planned (device_memory.hpp:
// within the memory budget and cuDNN's element limit; one band when it
// fits), all of one shape. Per band shape the cuDNN algorithm of every layer
// is chosen once (benchmarked with cudnnFindConvolutionForwardAlgorithmEx,
// falling back to the heuristic ranking; deterministic algorithms only, fp32
// in FMA math only, the workspace within workspace_allowance:
// algorithm_choice.hpp) and kept for the kPlannedShapes most recently used
// shapes; activations and the one workspace grow to the largest shape seen
// (release_buffers() gives them back). Every kernel and cuDNN call runs on
// the stream passed in; none on the legacy default stream.
//
// Thread safety: one thread at a time per object (it owns a cuDNN handle and
// buffers). The caller keeps the right device (or CUDA context) current.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "../core/backend.hpp"
#include "../core/logger.hpp"
#include "../core/lru_cache.hpp"
#include "../core/network.hpp"
#include "../core/row_tiles.hpp"
#include "cuda_resources.hpp"
#include "cudnn_check.hpp"
#include "device_memory.hpp"
#include "tensor_types.hpp"

namespace espcn::cuda {

// A dense NHWC device tensor (N = 1) with `pixel_stride` elements per pixel,
// of which the first `channels` are real.
struct TensorView {
    void *data = nullptr;
    TensorType type = TensorType::f32;
    int width = 0;
    int height = 0;
    int channels = 0;
    int pixel_stride = 0;
};

int padded_channels(int channels, TensorType type);

class CudnnNetwork {
public:
    // Band shapes whose cuDNN plans are kept (least recently used dropped).
    static constexpr size_t kPlannedShapes = 8;

    [[nodiscard]] static Result<std::unique_ptr<CudnnNetwork>> create(
        std::shared_ptr<const Network> net, TensorType type, const CudnnApi &api, Logger log);

    CudnnNetwork(const CudnnNetwork &) = delete;
    CudnnNetwork &operator=(const CudnnNetwork &) = delete;
    // Waits for the last work enqueued on any stream before freeing.
    ~CudnnNetwork();

    TensorType type() const { return type_; }
    const Network &network() const { return *net_; }
    const NetworkFootprint &footprint() const { return footprint_; }

    // Plans and buffers for a width×height LR band; a no-op for the current
    // shape. May synchronize `stream` (buffers are replaced only when idle).
    [[nodiscard]] Status configure(int width, int height, cudaStream_t stream);

    // One pass: the planes `in` (device, LR; the network's channels in
    // order, all of one size) through the whole network into `out` (device,
    // HR; as many), on stream, band by band as `bands` says (plan_device_bands
    // of this network's footprint; one band: the whole plane). The global
    // residual of channel c is decoded from in[c] itself. `cancel` is asked
    // before each band and each layer is enqueued (ESPCN_ERROR_CANCELLED,
    // out partly written; what was enqueued still runs).
    [[nodiscard]] Status enqueue_planes(Planes in, Planes out, const RowTilePlan &bands, cudaStream_t stream,
                                        const CancelCheck &cancel = {});
    [[nodiscard]] Status enqueue_plane(const espcn_plane &in, const espcn_plane &out, const RowTilePlan &bands,
                                       cudaStream_t stream, const CancelCheck &cancel = {}) {
        return enqueue_planes(Planes(&in, 1), Planes(&out, 1), bands, stream, cancel);
    }

    // Device bytes held now: activations and workspace (working memory), and
    // the weights (state).
    size_t held_bytes() const { return held_activation_bytes() + workspace_.size(); }
    size_t held_activation_bytes() const { return input_.size() + ping_.size() + pong_.size(); }
    size_t held_workspace_bytes() const { return workspace_.size(); }
    size_t state_bytes() const;
    // Waits for the last work on the buffers and frees them (a smaller shape
    // next, under the memory budget). The plans stay.
    [[nodiscard]] Status release_buffers();

    // For tests and the benchmark, after configure(): the input tensor (fill
    // its in_channels channels), and layers [0, count) run on it. With finish_last the last
    // of them also gets its bias and activation (enqueue_plane fuses those
    // into the shuffle instead). layer_output(k) is valid after running k + 1
    // layers and until the next run.
    TensorView input_tensor() const;
    [[nodiscard]] Status enqueue_convs(int count, bool finish_last, cudaStream_t stream,
                                       const CancelCheck &cancel = {});
    TensorView layer_output(int k) const;
    // The algorithm and math type cuDNN runs for layer k at the current shape.
    cudnnConvolutionFwdAlgo_t algorithm(int k) const { return (*current_)[k].algo; }
    cudnnMathType_t math(int k) const { return (*current_)[k].math; }
    // Shapes whose plans are kept (for tests).
    size_t planned_shapes() const { return plans_.size(); }

private:
    struct Layer {
        int in_pad = 0, out_pad = 0;
        DeviceBuffer weight;  // (out_pad, k, k, in_pad) of type_: cuDNN's NHWC filter
        DeviceBuffer bias;    // out_channels floats
        DeviceBuffer slope;   // out_channels floats (prelu only)
        Activation activation = Activation::identity;
        FilterDescriptor filter;
        ConvolutionDescriptor conv;
    };
    struct Plan {  // one layer at one shape
        TensorDescriptor x, y;
        cudnnConvolutionFwdAlgo_t algo{};
        cudnnMathType_t math = CUDNN_DEFAULT_MATH;
        size_t workspace = 0;
    };
    using Shape = std::pair<int, int>;

    CudnnNetwork(std::shared_ptr<const Network> net, TensorType type, const CudnnApi &api, Logger log)
        : net_(std::move(net)), type_(type), api_(api), log_(std::move(log)),
          footprint_(footprint_of(*net_, type == TensorType::f16)) {}
    [[nodiscard]] Status upload_layers(cudaStream_t stream);
    [[nodiscard]] Status plan_shape(int width, int height, size_t max_workspace, std::vector<Plan> &plans);
    [[nodiscard]] Status choose_algorithm(int k, Plan &p, int width, int height, size_t max_workspace);
    [[nodiscard]] Status ensure_buffers(int width, int height);
    [[nodiscard]] Status run_layer(int k, const void *src, void *dst, bool finish, cudaStream_t stream);
    [[nodiscard]] Status record_work(cudaStream_t stream);

    std::shared_ptr<const Network> net_;
    TensorType type_;
    const CudnnApi &api_;
    Logger log_;
    CudnnHandle handle_;
    std::vector<Layer> layers_;
    NetworkFootprint footprint_;
    LruCache<Shape, std::vector<Plan>> plans_{kPlannedShapes};  // the algorithm cache
    const std::vector<Plan> *current_ = nullptr;                // plans_'s entry of shape_
    Shape shape_{0, 0};
    DeviceBuffer input_;              // padded channels stay zero
    DeviceBuffer ping_, pong_;
    DeviceBuffer workspace_;
    Event last_work_;  // recorded after each enqueue, on the stream it used
};

}  // namespace espcn::cuda
