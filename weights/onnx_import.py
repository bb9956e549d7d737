#!/usr/bin/env python3
"""Convert an ONNX super-resolution graph into an espcn model file (weights/FORMAT.md).

    onnx_import.py IN.onnx -o OUT.safetensors [--name NAME] [--range LO,HI] [--f16]

The graph must be one chain from its single input [N, 1, H, W] (luma) or
[N, 3, H, W] (R, G, B: written as "plane": "rgb") to its single output of as
many channels, made of the ops the format can express:

  Conv           stride 1, no groups or dilation, square odd kernel, 'same'
                 padding (pads k/2 on every side, or auto_pad SAME_*)
  ConvTranspose  square kernel and stride (= the scale), symmetric pads,
                 output_padding, no groups, dilation or output_shape
  DepthToSpace   mode CRD (PyTorch PixelShuffle) or DCR (ONNX's default,
                 TensorFlow depth_to_space)
  Relu Tanh Sigmoid PRelu (slope per channel, shape (C,1,1), or shared)
  LeakyRelu      (written as a shared PReLU slope: the same function)
  Identity       (dropped), Constant (weights given as nodes)

exactly one upsampler (DepthToSpace after a Conv, or ConvTranspose), and
optionally the global residual (FORMAT.md "residual": "nearest"):

  Add            making the graph output, of the chain's output (after the
                 upsampler and its activation) and, in either order,
  Resize/Upsample of the graph input, mode nearest, scales [1, 1, r, r] with r
                 the upsampler's scale, as pixel replication:
                 coordinate_transformation_mode asymmetric with nearest_mode
                 floor (PyTorch's F.interpolate(mode="nearest"), onnx_export.py's
                 form), or half_pixel / pytorch_half_pixel with round_prefer_floor
                 or round_prefer_ceil (ONNX's defaults); Resize-10 and Upsample
                 (opset < 11) are pixel replication by definition

which is written as "residual": "nearest" with espcn.format "2" (per channel
for RGB). Real-ESRGAN's SRVGGNetCompact (realesr-animevideov3,
realesr-general-x4v3, the community Compact models) exported by
torch.onnx.export is such a graph: Conv + PRelu (per channel) chain,
DepthToSpace CRD (PixelShuffle, opset >= 11), Add of F.interpolate(x,
scale_factor=r, mode="nearest") (Resize asymmetric + floor). Anything
else fails with exit status 1 and a message naming the first node, op and
attribute the format cannot express, e.g. a Resize inside the network or of
another mode, an Add of anything else, a grouped Conv, or the
Reshape/Transpose form of a pixel shuffle that exports before opset 11 write
(export with opset >= 11 to get DepthToSpace).

The network's value range is taken from --range, else from the `espcn.range`
metadata that onnx_export.py writes, else [0, 1] (samples of b bits enter as
LO + (HI - LO) * v / (2^b - 1)). Weights are stored as F32 (--f16: F16).

Needs the `onnx` package (PyPI): scripts/python_env.sh creates
build/venv-cluster with it, or `python3 -m venv V && V/bin/pip install onnx`.
As a module: `from onnx_import import convert, UnsupportedGraph`.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from espcn_format import ModelWriter, finite_tensor, parse_range  # noqa: E402

SUPPORTED_OPS = ("Conv", "ConvTranspose", "DepthToSpace", "Relu", "Tanh", "Sigmoid", "PRelu",
                 "LeakyRelu", "Identity", "Constant")
RESIDUAL_FORM = ("the format's only residual or skip connection is the global residual: graph output = "
                 "Add(the upsampler's output after its activation, a nearest Resize of the graph input "
                 "by the scale)")
# Hints for ops people meet in SR graphs that the format has no layer for.
HINTS = {
    "Add": RESIDUAL_FORM,
    "Sum": RESIDUAL_FORM + ", written as Add",
    "Concat": "the format is one chain without concatenation",
    "Resize": "the format upsamples only with DepthToSpace or ConvTranspose; a nearest Resize "
              "of the graph input only as the global residual, added to the graph output",
    "Upsample": "the format upsamples only with DepthToSpace or ConvTranspose; a nearest Upsample "
                "of the graph input only as the global residual, added to the graph output",
    "Reshape": "a pixel shuffle exported before opset 11 is Reshape/Transpose/Reshape: "
               "export with opset >= 11 to get DepthToSpace",
    "Transpose": "a pixel shuffle exported before opset 11 is Reshape/Transpose/Reshape: "
                 "export with opset >= 11 to get DepthToSpace",
    "BatchNormalization": "fold it into the preceding Conv before exporting",
    "Clip": "the format clamps only when it encodes the output samples",
}


# Nearest Resize (opset >= 11) that is pixel replication for an integer scale r: HR pixel
# X = q*r + j (0 <= j < r) must read LR pixel q.
#   asymmetric: X / r = q + j/r, in [q, q + 1): floor only (rounding gives q + 1 for j/r > 1/2).
#   half_pixel, pytorch_half_pixel (they differ only for an output size of 1, never here):
#   (X + 0.5) / r - 0.5 = q + (j + 0.5)/r - 0.5, strictly inside (q - 1/2, q + 1/2): either
#   rounding, not floor or ceil.
PIXEL_REPLICATION = {
    "asymmetric": ("floor",),
    "half_pixel": ("round_prefer_floor", "round_prefer_ceil"),
    "pytorch_half_pixel": ("round_prefer_floor", "round_prefer_ceil"),
}


class UnsupportedGraph(ValueError):
    """The graph uses something the espcn format cannot express; the message names it."""


def _onnx():
    try:
        import onnx
        import onnx.numpy_helper  # noqa: F401
    except ImportError:
        sys.exit("onnx_import: needs the `onnx` package (PyPI): run scripts/python_env.sh and use "
                 "build/venv-cluster/bin/python, or pip install onnx in a venv of your own")
    return onnx


def _attrs(onnx, node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


class _Converter:
    def __init__(self, onnx, model, half: bool):
        self.onnx = onnx
        self.graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.half = half
        self.consts = {t.name: onnx.numpy_helper.to_array(t) for t in self.graph.initializer}
        self.layers: list[tuple] = []  # (kind, fields, {role: array})
        self.channels = 1
        self.image_channels = 1  # of the graph input: 1 (luma) or 3 (R, G, B)
        self.scale = 0
        self.after_upsampler = False
        self.activation_allowed = False
        self.residual = None  # (add index, Add, resize index, Resize/Upsample, network operand, r)

    # -- helpers -------------------------------------------------------------------
    def fail(self, index: int, node, what: str) -> None:
        name = f" '{node.name}'" if node.name else ""
        raise UnsupportedGraph(f"node {index}{name} ({node.op_type}): {what}")

    def const(self, index: int, node, name: str, role: str):
        if name not in self.consts:
            self.fail(index, node, f"{role} '{name}' is not a constant (initializer or Constant node): "
                                   "the format holds fixed weights only")
        return self.consts[name]

    def expect(self, index, node, attrs, key, want, what) -> None:
        if key in attrs and list(attrs[key]) != list(want):
            self.fail(index, node, f"attribute {key}={list(attrs[key])} cannot be expressed ({what})")

    # -- ops -----------------------------------------------------------------------
    def conv(self, i, node, a) -> None:
        if self.after_upsampler:
            self.fail(i, node, "a Conv after the upsampler cannot be expressed (the format allows only "
                               "activations after it)")
        w = self.const(i, node, node.input[1], "weight")
        if w.ndim != 4:
            self.fail(i, node, f"weight of rank {w.ndim}: only 2-D convolutions (rank 4 weights)")
        out_c, in_c, kh, kw = w.shape
        if kh != kw or kh % 2 == 0:
            self.fail(i, node, f"kernel {kh}x{kw}: the format's conv is square and odd-sized")
        if a.get("group", 1) != 1:
            self.fail(i, node, f"attribute group={a['group']} cannot be expressed (no grouped convolution)")
        self.expect(i, node, a, "strides", [1, 1], "stride 1 only")
        self.expect(i, node, a, "dilations", [1, 1], "no dilation")
        auto_pad = _text(a.get("auto_pad", "NOTSET"))
        p = kh // 2
        if auto_pad == "NOTSET":
            self.expect(i, node, a, "pads", [p] * 4, f"'same' padding, {p} on every side for a {kh}x{kh} kernel")
            if "pads" not in a and p != 0:
                self.fail(i, node, f"no pads for a {kh}x{kh} kernel: the format's conv keeps the size ('same')")
        elif auto_pad not in ("SAME_UPPER", "SAME_LOWER"):  # odd kernel, stride 1: both are k/2 each side
            self.fail(i, node, f"attribute auto_pad={auto_pad} cannot be expressed ('same' padding only)")
        if in_c != self.channels:
            self.fail(i, node, f"weight takes {in_c} channels, {self.channels} arrive")
        arrays = {"weight": w}
        if len(node.input) > 2 and node.input[2]:
            arrays["bias"] = self.const(i, node, node.input[2], "bias")
        self.layers.append(("conv", {}, arrays))
        self.channels = out_c
        self.activation_allowed = True

    def conv_transpose(self, i, node, a) -> None:
        if self.scale:
            self.fail(i, node, "a second upsampler cannot be expressed (exactly one per network)")
        w = self.const(i, node, node.input[1], "weight")
        if w.ndim != 4:
            self.fail(i, node, f"weight of rank {w.ndim}: only 2-D transposed convolutions")
        in_c, out_c, kh, kw = w.shape
        if kh != kw:
            self.fail(i, node, f"kernel {kh}x{kw}: the format's deconv is square")
        if a.get("group", 1) != 1:
            self.fail(i, node, f"attribute group={a['group']} cannot be expressed (no grouped convolution)")
        self.expect(i, node, a, "dilations", [1, 1], "no dilation")
        if "output_shape" in a:
            self.fail(i, node, "attribute output_shape cannot be expressed (give pads and output_padding)")
        if _text(a.get("auto_pad", "NOTSET")) != "NOTSET":
            self.fail(i, node, f"attribute auto_pad={_text(a['auto_pad'])} cannot be expressed "
                               "(give explicit pads)")
        s = list(a.get("strides", [1, 1]))
        pads = list(a.get("pads", [0, 0, 0, 0]))
        opad = list(a.get("output_padding", [0, 0]))
        if s[0] != s[1] or s[0] < 2:
            self.fail(i, node, f"attribute strides={s} cannot be expressed (equal strides >= 2: the scale)")
        if len(set(pads)) != 1:
            self.fail(i, node, f"attribute pads={pads} cannot be expressed (the same padding on every side)")
        if opad[0] != opad[1]:
            self.fail(i, node, f"attribute output_padding={opad} cannot be expressed (equal in both directions)")
        if in_c != self.channels:
            self.fail(i, node, f"weight takes {in_c} channels, {self.channels} arrive")
        arrays = {"weight": w}
        if len(node.input) > 2 and node.input[2]:
            arrays["bias"] = self.const(i, node, node.input[2], "bias")
        self.layers.append(("deconv", {"stride": s[0], "padding": pads[0], "output_padding": opad[0]}, arrays))
        self.scale = s[0]
        self.channels = out_c
        self.after_upsampler = True
        self.activation_allowed = True

    def depth_to_space(self, i, node, a) -> None:
        if self.scale:
            self.fail(i, node, "a second upsampler cannot be expressed (exactly one per network)")
        if not self.layers or self.layers[-1][0] != "conv":
            self.fail(i, node, "DepthToSpace must follow a Conv directly (the format's pixel_shuffle does)")
        r = int(a.get("blocksize", 0))
        mode = _text(a.get("mode", "DCR"))  # ONNX's default is DCR
        if mode not in ("CRD", "DCR"):
            self.fail(i, node, f"attribute mode={mode} cannot be expressed (CRD or DCR)")
        if r < 2 or self.channels % (r * r):
            self.fail(i, node, f"blocksize {r} does not divide the {self.channels} channels into r*r groups")
        self.layers.append(("pixel_shuffle", {"order": mode.lower()}, {}))
        self.scale = r
        self.channels //= r * r
        self.after_upsampler = True
        self.activation_allowed = True

    def activation(self, i, node, kind: str, arrays: dict) -> None:
        if not self.layers:
            self.fail(i, node, "an activation before the first Conv cannot be expressed")
        if not self.activation_allowed:
            self.fail(i, node, "a second activation after one layer cannot be expressed "
                               "(at most one after each conv or upsampler)")
        self.layers.append((kind, {}, arrays))
        self.activation_allowed = False

    def prelu(self, i, node, a) -> None:
        import numpy as np
        slope = self.const(i, node, node.input[1], "slope")
        shape = list(slope.shape)
        # Unidirectional broadcasting against [N, C, H, W] aligns trailing axes:
        # per channel is (C, 1, 1) (or with leading 1s); (C,) would be per column.
        if slope.size == 1:
            values = slope.reshape(1)
        elif len(shape) >= 3 and shape[-2:] == [1, 1] and shape[-3] == self.channels \
                and all(d == 1 for d in shape[:-3]):
            values = slope.reshape(self.channels)
        else:
            self.fail(i, node, f"slope of shape {tuple(shape)} cannot be expressed with {self.channels} "
                               f"channels (per channel ({self.channels}, 1, 1) or one shared value)")
        self.activation(i, node, "prelu", {"weight": np.asarray(values)})

    def leaky_relu(self, i, node, a) -> None:
        import numpy as np
        self.activation(i, node, "prelu", {"weight": np.array([a.get("alpha", 0.01)], dtype=np.float32)})

    # -- the global residual ---------------------------------------------------------
    def find_residual(self, input_name: str) -> None:
        """Recognises graph output = Add(x, Resize(input)) in either order and checks the Resize
        (self.residual). The scale is checked against the upsampler's after the walk. Any other
        Add, Resize or Upsample stays unclaimed and is refused as an op the format lacks."""
        g = self.graph
        producer = {o: (i, n) for i, n in enumerate(g.node) for o in n.output}
        if g.output[0].name not in producer:
            return
        ai, add = producer[g.output[0].name]
        if add.op_type != "Add" or add.domain not in ("", "ai.onnx") or len(add.input) != 2:
            return
        found = [k for k, name in enumerate(add.input)
                 if name in producer and producer[name][1].op_type in ("Resize", "Upsample")
                 and producer[name][1].input and producer[name][1].input[0] == input_name]
        if len(found) != 1:  # no Resize of the input, or both operands are: not the residual
            return
        k = found[0]
        ri, resize = producer[add.input[k]]
        r = self.residual_scale(ri, resize)
        self.residual = (ai, add, ri, resize, add.input[1 - k], r)

    def residual_scale(self, i, node) -> int:
        """The integer scale r of a nearest Resize/Upsample that is pixel replication."""
        import numpy as np
        a = _attrs(self.onnx, node)
        mode = _text(a.get("mode", "nearest"))
        if mode != "nearest":
            self.fail(i, node, f"attribute mode={mode} cannot be expressed (the format's residual is "
                               "nearest: the input upsampled by pixel replication)")
        if node.op_type == "Resize" and self.opset >= 11:
            ctm = _text(a.get("coordinate_transformation_mode", "half_pixel"))
            nearest = _text(a.get("nearest_mode", "round_prefer_floor"))
            if nearest not in PIXEL_REPLICATION.get(ctm, ()):
                forms = "; ".join(f"{c} with {' or '.join(n)}" for c, n in PIXEL_REPLICATION.items())
                self.fail(i, node, f"attributes coordinate_transformation_mode={ctm}, nearest_mode="
                                   f"{nearest} are not pixel replication, which the format's residual is "
                                   f"({forms})")
            if len(node.input) > 3 and node.input[3]:
                self.fail(i, node, "input 'sizes' cannot be expressed (give 'scales' [1, 1, r, r]: the "
                                   "residual scales by the network's factor, whatever the input size)")
            name = node.input[2] if len(node.input) > 2 else ""
        elif node.op_type == "Upsample" and self.opset < 9:
            name = None
        else:  # Resize-10, Upsample-9: (X, scales)
            name = node.input[1] if len(node.input) > 1 else ""
        if name is None:
            scales = np.asarray(a.get("scales", []), dtype=np.float64)
        elif not name:
            self.fail(i, node, "no 'scales' input (the residual needs scales [1, 1, r, r])")
        else:
            scales = np.asarray(self.const(i, node, name, "scales"), dtype=np.float64).ravel()
        if "axes" in a:  # opset 18: scales for these axes only, the others 1
            axes = [int(x) % 4 for x in a["axes"]]
            if len(axes) != scales.size or len(set(axes)) != len(axes):
                self.fail(i, node, f"attribute axes={list(a['axes'])} does not match scales {scales.tolist()}")
            full = np.ones(4)
            full[axes] = scales
            scales = full
        shown = [float(x) for x in scales]
        if scales.size != 4 or scales[0] != 1 or scales[1] != 1:
            self.fail(i, node, f"scales {shown} cannot be expressed (the residual scales [1, 1, r, r]: "
                               "batch and channels unchanged)")
        r = scales[2]
        if not np.isfinite(r) or scales[3] != r or r != np.floor(r) or r < 2:
            self.fail(i, node, f"scales {shown} cannot be expressed (the residual scales height and width "
                               "by the same integer r >= 2, the network's scale)")
        return int(r)

    # -- the walk ------------------------------------------------------------------
    def run(self) -> None:
        g = self.graph
        init_names = set(self.consts)
        inputs = [v for v in g.input if v.name not in init_names]
        if len(inputs) != 1:
            raise UnsupportedGraph(f"the graph has {len(inputs)} inputs ({', '.join(v.name for v in inputs)}); "
                                   "the format takes one image (a luma plane or R, G, B)")
        if len(g.output) != 1:
            raise UnsupportedGraph(f"the graph has {len(g.output)} outputs; the format gives one image")
        shape = inputs[0].type.tensor_type.shape
        dims = [d.dim_value if d.HasField("dim_value") else None for d in shape.dim]
        if dims and len(dims) != 4:
            raise UnsupportedGraph(f"input '{inputs[0].name}' has rank {len(dims)}; expected [N, 1, H, W] "
                                   "or [N, 3, H, W]")
        if len(dims) == 4 and dims[1] not in (None, 1, 3):
            raise UnsupportedGraph(f"input '{inputs[0].name}' has {dims[1]} channels; the format runs on "
                                   "one (luma) channel or three (R, G, B)")
        if len(dims) == 4 and dims[1] is not None:
            self.channels = self.image_channels = dims[1]
        else:  # symbolic: the first Conv's weight says
            first = next((n for n in g.node if n.op_type in ("Conv", "ConvTranspose")), None)
            w = self.consts.get(first.input[1]) if first is not None and len(first.input) > 1 else None
            if w is not None and w.ndim == 4 and w.shape[0 if first.op_type == "ConvTranspose" else 1] in (1, 3):
                self.channels = self.image_channels = int(w.shape[0 if first.op_type == "ConvTranspose" else 1])
        # Constant nodes first: a Resize's scales may come from one that follows it.
        for node in g.node:
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                a = _attrs(self.onnx, node)
                if "value" in a:
                    self.consts[node.output[0]] = self.onnx.numpy_helper.to_array(a["value"])
        self.find_residual(inputs[0].name)
        claimed = {self.residual[0], self.residual[2]} if self.residual else set()
        # The first op the format has no layer for is the error, before any
        # question of how the nodes are wired (an Add that is not the residual names itself).
        for i, node in enumerate(g.node):
            if i in claimed:
                continue
            if node.domain not in ("", "ai.onnx"):
                self.fail(i, node, f"op of domain '{node.domain}' cannot be expressed (standard ONNX ops only)")
            if node.op_type not in SUPPORTED_OPS:
                hint = HINTS.get(node.op_type)
                self.fail(i, node, f"op {node.op_type} cannot be expressed in the espcn format"
                                   + (f" ({hint})" if hint else "")
                                   + f"; supported: {', '.join(SUPPORTED_OPS)}")
        current = inputs[0].name
        users: dict[str, int] = {}
        for i, node in enumerate(g.node):
            if i in claimed:  # the residual's uses of the input and the network output are not branches
                continue
            for name in node.input:
                users[name] = users.get(name, 0) + 1
        for i, node in enumerate(g.node):
            if i in claimed:
                continue
            a = _attrs(self.onnx, node)
            if node.op_type == "Constant":
                if "value" not in a:
                    self.fail(i, node, "only the 'value' form of Constant is understood")
                self.consts[node.output[0]] = self.onnx.numpy_helper.to_array(a["value"])
                continue
            if not node.input or node.input[0] != current:
                self.fail(i, node, f"input '{node.input[0] if node.input else ''}' is not the output of the "
                                   f"previous layer ('{current}'): the format is a single chain")
            if users.get(current, 0) > 1:
                self.fail(i, node, f"'{current}' feeds {users[current]} nodes: a branch (e.g. a residual "
                                   "connection) cannot be expressed")
            if len(node.output) != 1:
                self.fail(i, node, f"{len(node.output)} outputs; expected one")
            op = node.op_type
            if op == "Conv":
                self.conv(i, node, a)
            elif op == "ConvTranspose":
                self.conv_transpose(i, node, a)
            elif op == "DepthToSpace":
                self.depth_to_space(i, node, a)
            elif op in ("Relu", "Tanh", "Sigmoid"):
                self.activation(i, node, op.lower(), {})
            elif op == "PRelu":
                self.prelu(i, node, a)
            elif op == "LeakyRelu":
                self.leaky_relu(i, node, a)
            # Identity: nothing to write.
            current = node.output[0]
        if self.residual:
            ai, add, ri, resize, operand, r = self.residual
            if current != operand:
                self.fail(ai, add, f"adds '{operand}' to the upsampled input, not the network's output "
                                   f"'{current}' ({RESIDUAL_FORM})")
        elif current != g.output[0].name:
            raise UnsupportedGraph(f"the chain ends at '{current}', not at the graph output '{g.output[0].name}'")
        if not self.scale:
            raise UnsupportedGraph("the graph has no upsampler (DepthToSpace after a Conv, or ConvTranspose)")
        if self.residual and self.residual[5] != self.scale:
            ai, add, ri, resize, operand, r = self.residual
            self.fail(ri, resize, f"scales the input by {r}, the network by {self.scale}: the residual "
                                  "must upsample by the network's scale")
        if self.channels != self.image_channels:
            raise UnsupportedGraph(f"the graph ends with {self.channels} channel(s) but takes {self.image_channels}; "
                                   "the format gives as many channels as it reads (1: luma, 3: R, G, B)")

    def writer(self, name: str, value_range: tuple[float, float]) -> ModelWriter:
        w = ModelWriter(name=name, scale=self.scale, value_range=value_range,
                        residual="nearest" if self.residual else None,
                        plane="rgb" if self.image_channels == 3 else "luma")
        dtype = "F16" if self.half else "F32"
        w.add_layers(self.layers, lambda a: finite_tensor(a, dtype, UnsupportedGraph, name))
        return w


def _model_range(model) -> tuple[float, float] | None:
    for p in model.metadata_props:
        if p.key == "espcn.range":
            lo, hi = (float(v) for v in p.value.split(","))
            return lo, hi
    return None


def _model_name(model) -> str | None:
    for p in model.metadata_props:
        if p.key == "espcn.name" and p.value:
            return p.value
    return None


def convert(onnx_path: str, out_path: str, name: str | None = None,
            value_range: tuple[float, float] | None = None, half: bool = False) -> ModelWriter:
    """Reads ONNX_PATH, writes OUT_PATH in our format, returns the writer (its .network()).
    Raises UnsupportedGraph naming the first node the format cannot express."""
    onnx = _onnx()
    try:
        model = onnx.load(onnx_path)
    except OSError:
        raise
    except Exception as e:  # protobuf's DecodeError and kin: not an ONNX file
        raise ValueError(f"cannot be read as ONNX: {e}") from None
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        raise UnsupportedGraph(f"not a valid ONNX model: {str(e).splitlines()[0]}") from None
    c = _Converter(onnx, model, half)
    c.run()
    stem = os.path.splitext(os.path.basename(onnx_path))[0]
    w = c.writer(name or _model_name(model) or stem, value_range or _model_range(model) or (0.0, 1.0))
    w.save(out_path)
    return w


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="the ONNX model")
    ap.add_argument("-o", "--output", required=True, help="the espcn model file to write (.safetensors)")
    ap.add_argument("--name", help="the model's name (default: the ONNX espcn.name, else the file's stem)")
    ap.add_argument("--range", type=parse_range, metavar="LO,HI", help="the network's value range (default [0, 1])")
    ap.add_argument("--f16", action="store_true", help="store weights as float16")
    a = ap.parse_args(argv)
    try:
        w = convert(a.onnx, a.output, a.name, a.range, a.f16)
    except UnsupportedGraph as e:
        print(f"onnx_import: {a.onnx}: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:  # unreadable file, protobuf that is not ONNX
        print(f"onnx_import: {a.onnx}: {e}", file=sys.stderr)
        return 1
    print(f"wrote {a.output}: {w.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
