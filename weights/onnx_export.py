#!/usr/bin/env python3
"""Export an espcn model (weights/FORMAT.md) to ONNX, for ONNX Runtime, OpenVINO, vs-mlrt, ...

    onnx_export.py MODEL.safetensors -o MODEL.onnx [--opset 17] [--input-size WxH]

The graph computes what the engine computes between decoding and encoding:
input `lr` is float32 [N, C, H, W] in the network's value range (FORMAT.md
`range`, [0, 1] unless the model says otherwise, stored in the metadata as
`espcn.range`; C = 1 for luma, 3 for "plane": "rgb", R, G, B), output `sr` is
float32 [N, C, r*H, r*W], unclamped (the engine
clamps and rounds when it encodes samples). H and W are symbolic unless
--input-size fixes them (some runtimes plan faster for one shape); N is
symbolic unless to_onnx's batch_size fixes it (bench/cpu_peers.py: 1).

  conv           -> Conv (pads k/2, stride 1)
  deconv         -> ConvTranspose (strides, pads, output_padding), kept as a
                    deconvolution: the LR-space rewrite is the engine's, not the graph's
  pixel_shuffle  -> DepthToSpace, mode CRD or DCR as the file says
  relu tanh sigmoid identity prelu -> Relu Tanh Sigmoid Identity PRelu
  "residual": "nearest" (FORMAT.md) -> sr = Add(the chain's output, after the
                    upsampler and its activation, Resize(lr, scales [1, 1, r, r],
                    mode nearest, coordinate_transformation_mode asymmetric,
                    nearest_mode floor)): pixel replication, as PyTorch exports
                    F.interpolate(mode="nearest"); the same float sum the engine
                    makes before it encodes. to_onnx(..., residual_form="lr")
                    writes the exactly equal LR form instead (the network's
                    last layer a pixel shuffle): Add(the last conv's output,
                    lr) broadcast over its C*r*r maps, then DepthToSpace: every
                    output sample is the same float sum of the same two
                    numbers (bench/cpu_peers.py gives it to the peers as a
                    second graph); luma networks only (C = 1 broadcasts)
F16 weights are widened to float32 (exactly). Opset 17 (IR version 8) is read
by ONNX Runtime >= 1.11 and OpenVINO >= 2022.1.

Needs the `onnx` package (PyPI): scripts/python_env.sh creates
build/venv-cluster with it, or `python3 -m venv V && V/bin/pip install onnx`.
As a module: `from onnx_export import export, to_onnx`.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from espcn_format import Tensor, channels_of, read_model, residual_of  # noqa: E402

DEFAULT_OPSET = 17
# The IR version that goes with opset 17 (onnx.helper.VERSION_TABLE): a newer
# onnx package would otherwise stamp its own, which older runtimes refuse.
IR_VERSION_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}


def _onnx():
    try:
        import onnx
    except ImportError:
        sys.exit("onnx_export: needs the `onnx` package (PyPI): run scripts/python_env.sh and use "
                 "build/venv-cluster/bin/python, or pip install onnx in a venv of your own")
    return onnx


def _initializer(onnx, name: str, t: Tensor, shape=None):
    import numpy as np
    a = np.asarray(t.values, dtype=np.float32).reshape(shape if shape is not None else t.shape)
    return onnx.numpy_helper.from_array(a, name)


def _add_nearest_residual(onnx, nodes: list, inits: list, network_out: str, scale: int) -> None:
    """Appends sr = network_out + lr upsampled by pixel replication (FORMAT.md "residual").

    asymmetric + floor maps HR pixel X = q*r + j to LR pixel floor(X / r) = q: exact for an
    integer r in float32 (X / r is q exactly for j = 0 and below q + 1 otherwise, for any
    X < 2^24). The input
    `lr` is already in network values, so the sum is the engine's y + x in float."""
    import numpy as np
    inits.append(onnx.numpy_helper.from_array(np.array([1, 1, scale, scale], np.float32),
                                              "residual.scales"))
    nodes.append(onnx.helper.make_node("Resize", ["lr", "", "residual.scales"], ["lr_nearest"],
                                       name="residual_resize", mode="nearest",
                                       coordinate_transformation_mode="asymmetric",
                                       nearest_mode="floor"))
    nodes.append(onnx.helper.make_node("Add", [network_out, "lr_nearest"], ["residual_sum"],
                                       name="residual_add"))


def _add_lr_residual(onnx, nodes: list, shuffle_index: int) -> None:
    """Moves the nearest residual before the final DepthToSpace: Add(its input, lr), the
    [N, 1, H, W] input broadcast over the C*r*r maps. DepthToSpace only moves samples, and
    every map of a shuffle group lands on the HR pixels that replicate one LR pixel, so the
    sum at each output sample has the same two operands as the HR form's."""
    shuffle = nodes[shuffle_index]
    nodes.insert(shuffle_index, onnx.helper.make_node("Add", [shuffle.input[0], "lr"], ["residual_sum_lr"],
                                                      name="residual_add_lr"))
    shuffle.input[0] = "residual_sum_lr"


def to_onnx(network: dict, tensors: dict[str, Tensor], opset: int = DEFAULT_OPSET,
            input_size: tuple[int, int] | None = None, batch_size: int | None = None,
            residual_form: str = "hr"):
    """The ONNX ModelProto of a model read with espcn_format.read_model. input_size (W, H)
    and batch_size fix the input's shape; by default it is [N, C, H, W], N, H and W symbolic.
    residual_form: "hr" (Resize + Add after the upsampler) or "lr" (Add before the final
    DepthToSpace; ValueError unless the last layer is a pixel shuffle); no effect without
    a residual."""
    onnx = _onnx()
    helper = onnx.helper
    if opset not in IR_VERSION_FOR_OPSET:
        raise ValueError(f"opset {opset} is not one of {sorted(IR_VERSION_FOR_OPSET)}")
    if residual_form not in ("hr", "lr"):
        raise ValueError(f"residual_form {residual_form!r} is neither hr nor lr")
    scale = int(network["scale"])
    residual = residual_of(network)
    if residual not in (None, "nearest"):
        raise ValueError(f"residual {residual!r}: no ONNX form (none or nearest)")
    image_channels = channels_of(network)
    if residual and residual_form == "lr" and image_channels != 1:
        raise ValueError("residual_form lr: only for luma networks (one input channel broadcasts over the maps)")
    if residual and residual_form == "lr":
        last = network["layers"][-1] if network["layers"] else {}
        if last.get("type") != "pixel_shuffle" or int(last.get("scale", scale)) != scale:
            raise ValueError("residual_form lr: the last layer is not a pixel shuffle by the scale")
    nodes, inits = [], []
    current = "lr"
    channels = image_channels

    def tensor(name: str | None, what: str) -> Tensor:
        if name not in tensors:
            raise ValueError(f"{what}: tensor {name!r} is not in the file")
        return tensors[name]

    for i, layer in enumerate(network["layers"]):
        kind = layer["type"]
        out = f"layer{i}_{kind}"
        where = f"layer {i} ({kind})"
        if kind in ("conv", "deconv"):
            w = tensor(layer["weight"], where)
            inputs = [current, f"layer{i}.weight"]
            inits.append(_initializer(onnx, inputs[1], w))
            if layer.get("bias"):
                inputs.append(f"layer{i}.bias")
                inits.append(_initializer(onnx, inputs[2], tensor(layer["bias"], where)))
            k = int(layer["kernel"])
            if kind == "conv":
                p = k // 2
                nodes.append(helper.make_node("Conv", inputs, [out], name=f"layer{i}", kernel_shape=[k, k],
                                              pads=[p, p, p, p], strides=[1, 1]))
                channels = int(layer["out"])
            else:
                s, p = int(layer["stride"]), int(layer.get("padding", 0))
                op = int(layer.get("output_padding", 0))
                nodes.append(helper.make_node("ConvTranspose", inputs, [out], name=f"layer{i}",
                                              kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p],
                                              output_padding=[op, op]))
                channels = int(layer["out"])
        elif kind in ("relu", "tanh", "sigmoid", "identity"):
            nodes.append(helper.make_node(kind.capitalize(), [current], [out], name=f"layer{i}"))
        elif kind == "prelu":
            slope = tensor(layer["weight"], where)
            n = len(slope.values)
            # (C, 1, 1) broadcasts per channel over [N, C, H, W]; (1,) is shared.
            inits.append(_initializer(onnx, f"layer{i}.weight", slope, [n, 1, 1] if n > 1 else [1]))
            nodes.append(helper.make_node("PRelu", [current, f"layer{i}.weight"], [out], name=f"layer{i}"))
        elif kind == "pixel_shuffle":
            order = layer.get("order", "crd").upper()
            if order not in ("CRD", "DCR"):
                raise ValueError(f"{where}: order {order!r} is neither crd nor dcr")
            nodes.append(helper.make_node("DepthToSpace", [current], [out], name=f"layer{i}",
                                          blocksize=int(layer.get("scale", scale)), mode=order))
            channels //= scale * scale
        else:
            raise ValueError(f"{where}: no ONNX form for layer type {kind!r}")
        current = out
    if not nodes:
        raise ValueError("the network has no layers")
    if residual == "nearest" and residual_form == "lr":
        _add_lr_residual(onnx, nodes, len(nodes) - 1)
    elif residual == "nearest":
        _add_nearest_residual(onnx, nodes, inits, current, scale)
    nodes[-1].output[0] = "sr"

    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch size {batch_size} is not >= 1")
    n_dim = "N" if batch_size is None else batch_size
    h, w = (input_size[1], input_size[0]) if input_size else ("H", "W")
    hr, wr = (h * scale, w * scale) if input_size else (f"{scale}*H", f"{scale}*W")
    graph = helper.make_graph(
        nodes, network.get("name", "espcn"),
        [helper.make_tensor_value_info("lr", onnx.TensorProto.FLOAT, [n_dim, image_channels, h, w])],
        [helper.make_tensor_value_info("sr", onnx.TensorProto.FLOAT, [n_dim, channels, hr, wr])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="espcn onnx_export.py",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = IR_VERSION_FOR_OPSET[opset]
    lo, hi = network.get("range", [0.0, 1.0])
    kind = "RGB" if image_channels == 3 else "luma"
    model.doc_string = (f"{network.get('name', 'espcn')}: x{scale} {kind} super-resolution; input lr "
                        f"[{n_dim},{image_channels},H,W] float32 with samples mapped to [{lo}, {hi}], output sr unclamped"
                        + ("; sr includes lr upsampled nearest (global residual)" if residual else ""))
    helper.set_model_props(model, {"espcn.name": str(network.get("name", "")),
                                   "espcn.scale": str(scale),
                                   "espcn.plane": str(network.get("plane", "luma")),
                                   "espcn.range": f"{float(lo)!r},{float(hi)!r}"})
    onnx.checker.check_model(model, full_check=True)
    return model


def export(model_path: str, onnx_path: str, opset: int = DEFAULT_OPSET,
           input_size: tuple[int, int] | None = None):
    """Reads MODEL_PATH (our format), writes ONNX_PATH, returns the ModelProto."""
    network, tensors = read_model(model_path)
    model = to_onnx(network, tensors, opset, input_size)
    _onnx().save(model, onnx_path)
    return model


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WxH") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"'{text}': both sides must be >= 1")
    return w, h


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="an espcn model file (.safetensors)")
    ap.add_argument("-o", "--output", required=True, help="the ONNX file to write")
    ap.add_argument("--opset", type=int, default=DEFAULT_OPSET, choices=sorted(IR_VERSION_FOR_OPSET))
    ap.add_argument("--input-size", type=_size, metavar="WxH", help="fix the input size (default: symbolic)")
    a = ap.parse_args(argv)
    try:
        model = export(a.model, a.output, a.opset, a.input_size)
    except (OSError, ValueError) as e:
        print(f"onnx_export: {e}", file=sys.stderr)
        return 1
    print(f"wrote {a.output}: {len(model.graph.node)} nodes, opset {a.opset}; {model.doc_string}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
