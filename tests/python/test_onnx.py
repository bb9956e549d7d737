"""ONNX in and out (weights/onnx_import.py, weights/onnx_export.py) against the engine.

1. Import: ESPCN- (Conv/Tanh/DepthToSpace CRD), FSRCNN- (PRelu per channel,
   ConvTranspose 9x9 stride 2) and PReLU-style (shared PRelu, LeakyRelu, Relu,
   Sigmoid, DepthToSpace DCR by ONNX's default, auto_pad SAME_UPPER, a
   Constant-node weight, Identity) graphs written with the onnx helper API and
   seeded random weights; and with the global residual (sr = network output +
   the input upsampled nearest, FORMAT.md "residual"): ESPCN-like (asymmetric +
   floor, onnx_export's form), PReLU LRNet-like (PRelu after the shuffle, ONNX's
   default half_pixel + round_prefer_floor, operands swapped, Resize first),
   FSRCNN-like deconv (pytorch_half_pixel + round_prefer_ceil), and the other
   spellings of nearest upsampling (opset 18 axes, opset 11 roi, Resize-10,
   Upsample-9, Upsample-7, a Constant-node scales); each imported file must say
   "residual": "nearest" and espcn.format "2". Real-ESRGAN's SRVGGNetCompact
   (RGB in and out, PRelu per channel, DepthToSpace CRD, the residual per
   channel) as torch.onnx.export writes it at opset 11: "plane": "rgb", run
   through espcn-cli on a 16-bit PPM. ONNX Runtime runs each graph on a seeded 16-bit
   plane (sample v enters as v/65535); the imported file runs through
   `espcn-cli --raw-in WxH:16 --bits 16`; ONNX Runtime's output is clamped to
   [0, 1] and rounded to 16 bits as the engine encodes.
2. Export: every shipped weights/*.safetensors -> onnx_export -> ONNX Runtime,
   vs espcn-cli on the same file (lrnet-x* with their residual); and ->
   onnx_import again gives the same network document (residual included),
   format version and bit-identical tensors. Files with a residual also in
   to_onnx's residual_form="lr" (the Add before DepthToSpace that
   bench/cpu_peers.py gives the peers) vs espcn-cli.
3. Graphs the format cannot express fail with exit status 1 and a message
   naming the node and op (or attribute): Resize, a residual Add, a grouped or
   strided Conv, an RGB input with a luma output, a 2-channel input, the
   Reshape/Transpose pixel shuffle of
   opset < 11, a weight given as a graph input, no upsampler, a Conv after the
   upsampler, two activations in a row, a PRelu slope of shape (C,) (which
   ONNX broadcasts over the width), a file that is not ONNX; and residuals the
   format cannot express: a linear Resize, nearest Resizes that are not pixel
   replication (align_corners; asymmetric with round_prefer_floor), a scale
   other than the network's, unequal scales, `sizes` instead of scales, an Add
   of a constant, an Add before the last activation, a Resize whose sum feeds
   an activation.

Tolerance (1 and 2): every output sample within 2/65535 of the oracle's. Both
sides compute in float32, in different summation orders; a difference of 1e-5
moves a sample next to a 16-bit rounding boundary by one code, 2 codes is
3e-5. The PyTorch half of the check is test_onnx_pytorch.py.

Run with a python that has onnx, onnxruntime and numpy (build/venv-cluster,
scripts/python_env.sh) and pytest. Usage: pytest test_onnx.py --cli PATH/espcn-cli
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
DEFAULT_WEIGHTS_DIR = HERE.parent.parent / "weights"
W, H = 23, 17  # LR plane: odd, not square
TOLERANCE_CODES = 2


class Failure(AssertionError):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise Failure(message)


# --- running both sides -----------------------------------------------------------

def random_plane16(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65536, size=(H, W), dtype=np.uint16)


def encode16(y: np.ndarray) -> np.ndarray:
    """The engine's encode: clamp to [0, 1], scale, round half up."""
    return np.floor(np.clip(y.astype(np.float64), 0.0, 1.0) * 65535.0 + 0.5).astype(np.int64)


def run_ort(onnx_path: Path, plane: np.ndarray) -> np.ndarray:
    x = (plane.astype(np.float32) / np.float32(65535.0)).reshape(1, 1, H, W)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {sess.get_inputs()[0].name: x})
    return y[0, 0]


def run_ort_rgb(onnx_path: Path, planes: np.ndarray) -> np.ndarray:
    """ONNX Runtime on R, G, B planes (3, H, W) of 16 bits: its float output (3, rH, rW)."""
    x = (planes.astype(np.float32) / np.float32(65535.0)).reshape(1, 3, H, W)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0][0]


def run_cli_rgb(cli: str, model: Path, planes: np.ndarray, work: Path, scale: int) -> np.ndarray:
    """espcn-cli on a 16-bit PPM of R, G, B planes (3, H, W): its output planes (3, rH, rW)."""
    src, dst = work / "in.ppm", work / "out.ppm"
    src.write_bytes(f"P6\n{W} {H}\n65535\n".encode() + planes.transpose(1, 2, 0).astype(">u2").tobytes())
    p = subprocess.run([cli, "-m", str(model), "-i", str(src), "-o", str(dst), "--bits", "16"],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"espcn-cli failed ({p.returncode}): {p.stderr.strip()}")
    raw = dst.read_bytes()
    header = f"P6\n{W * scale} {H * scale}\n65535\n".encode()
    check(raw.startswith(header), f"espcn-cli wrote {raw[:20]!r}, expected a {W * scale}x{H * scale} 16-bit PPM")
    out = np.frombuffer(raw[len(header):], dtype=">u2").astype(np.int64)
    return out.reshape(H * scale, W * scale, 3).transpose(2, 0, 1)


def run_cli(cli: str, model: Path, plane: np.ndarray, work: Path, scale: int) -> np.ndarray:
    src, dst = work / "in.raw", work / "out.raw"
    plane.astype("<u2").tofile(src)
    p = subprocess.run([cli, "-m", str(model), "-i", str(src), "-o", str(dst), "--raw-in", f"{W}x{H}:16",
                        "--bits", "16"], capture_output=True, text=True)
    check(p.returncode == 0, f"espcn-cli failed ({p.returncode}): {p.stderr.strip()}")
    out = np.fromfile(dst, dtype="<u2").astype(np.int64)
    check(out.size == W * H * scale * scale, f"espcn-cli wrote {out.size} samples, expected {W * H * scale * scale}")
    return out.reshape(H * scale, W * scale)


def compare(ours: np.ndarray, oracle_float: np.ndarray) -> str:
    want = encode16(oracle_float)
    check(ours.shape == want.shape, f"shape {ours.shape} vs the oracle's {want.shape}")
    diff = np.abs(ours - want)
    worst = int(diff.max())
    same = float(np.mean(diff == 0)) * 100
    check(worst <= TOLERANCE_CODES, f"max difference {worst}/65535 > {TOLERANCE_CODES} "
                                     f"(at {np.unravel_index(diff.argmax(), diff.shape)}); {same:.2f}% identical")
    # The check must see more than clamped corners: most samples inside (0, 1).
    inside = float(np.mean((want > 0) & (want < 65535))) * 100
    check(inside > 50, f"only {inside:.1f}% of the oracle's samples are unclamped; the case tests little")
    return f"max |diff| {worst}/65535, {same:.2f}% identical, {inside:.0f}% unclamped"


def format_version(path: Path) -> str:
    """The espcn.format metadata of a model file."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n])["__metadata__"]["espcn.format"]


# --- graphs written with the onnx helper API --------------------------------------

class Graph:
    """A chain of nodes from `lr` to `sr` with seeded random initializers."""

    def __init__(self, seed: int, channels_in: int = 1, opset: int = 17):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.current, self.n = [], [], "lr", 0
        self.channels_in, self.opset = channels_in, opset

    def weight(self, shape, scale: float, name: str | None = None, as_constant_node: bool = False) -> str:
        name = name or f"w{len(self.inits) + len(self.nodes)}"
        a = (self.rng.uniform(-1, 1, size=shape) * scale).astype(np.float32)
        if as_constant_node:
            self.nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(a, name)))
        else:
            self.inits.append(numpy_helper.from_array(a, name))
        return name

    def op(self, op_type: str, extra_inputs=(), **attrs) -> "Graph":
        out = f"t{self.n}"
        self.n += 1
        self.nodes.append(helper.make_node(op_type, [self.current, *extra_inputs], [out],
                                           name=f"{op_type.lower()}_{self.n}", **attrs))
        self.current = out
        return self

    def conv(self, cin: int, cout: int, k: int, constant_node: bool = False, gain: float = 1.6,
             **attrs) -> "Graph":
        fan_in = cin * k * k
        w = self.weight((cout, cin, k, k), gain / np.sqrt(fan_in), as_constant_node=constant_node)
        b = self.weight((cout,), 0.1)
        if "auto_pad" not in attrs:
            attrs.setdefault("pads", [k // 2] * 4)
        return self.op("Conv", [w, b], kernel_shape=[k, k], **attrs)

    def save(self, path: Path) -> Path:
        self.nodes[-1].output[0] = "sr"
        g = helper.make_graph(self.nodes, "test", [helper.make_tensor_value_info(
            "lr", TensorProto.FLOAT, ["N", self.channels_in, "H", "W"])],
            [helper.make_tensor_value_info("sr", TensorProto.FLOAT, ["N", "C", "rH", "rW"])],
            initializer=self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = 8
        onnx.save(m, str(path))
        return path


def espcn_graph(seed: int) -> tuple[Graph, int]:
    r = 3
    g = Graph(seed)
    g.conv(1, 16, 5).op("Tanh").conv(16, 8, 3).op("Tanh").conv(8, r * r, 3)
    g.op("DepthToSpace", blocksize=r, mode="CRD")
    return g, r


def fsrcnn_graph(seed: int) -> tuple[Graph, int]:
    r = 2
    g = Graph(seed)

    def prelu(c):
        g.op("PRelu", [g.weight((c, 1, 1), 0.25)])
    g.conv(1, 12, 5)
    prelu(12)
    g.conv(12, 4, 1)
    prelu(4)
    g.conv(4, 4, 3)
    prelu(4)
    g.conv(4, 12, 1)
    prelu(12)
    w = g.weight((12, 1, 9, 9), 0.3)
    b = g.weight((1,), 0.05)
    g.op("ConvTranspose", [w, b], kernel_shape=[9, 9], strides=[r, r], pads=[4, 4, 4, 4], output_padding=[1, 1])
    return g, r


def prelu_style_graph(seed: int) -> tuple[Graph, int]:
    r = 4
    g = Graph(seed)
    g.conv(1, 8, 3, auto_pad="SAME_UPPER")
    g.op("PRelu", [g.weight((1,), 0.3)])          # one shared slope, as nn.PReLU()
    g.op("Identity")
    g.conv(8, 8, 3, constant_node=True)
    g.op("LeakyRelu", alpha=0.2)
    g.conv(8, 8, 3).op("Relu")
    g.conv(8, r * r, 3)
    g.op("DepthToSpace", blocksize=r)              # no mode: ONNX's default, DCR
    g.op("Sigmoid")
    return g, r


def add_residual(g: Graph, r: int, op: str = "Resize", scales=None, swap: bool = False,
                 resize_first: bool = False, scales_node: bool = False, **attrs) -> Graph:
    """sr = (the chain so far) + op(lr) with scales [1, 1, r, r] (or SCALES), Add operands
    swapped with SWAP, the Resize node placed before the network's nodes with RESIZE_FIRST,
    the scales given by a Constant node with SCALES_NODE. Inputs as the opset spells them."""
    net_out = g.current
    s = np.array(scales if scales is not None else [1, 1, r, r], np.float32)
    extra = []
    if op == "Upsample" and g.opset < 9:
        inputs = ["lr"]
        attrs["scales"] = [float(v) for v in s]
    else:
        name = f"residual_scales{len(g.nodes)}"
        if scales_node:
            extra.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(s, name)))
        else:
            g.inits.append(numpy_helper.from_array(s, name))
        if op == "Upsample" or g.opset < 11:
            inputs = ["lr", name]
        elif g.opset < 13:  # roi is a required input before opset 13
            g.inits.append(numpy_helper.from_array(np.zeros((0,), np.float32), "roi"))
            inputs = ["lr", "roi", name]
        else:
            inputs = ["lr", "", name]
    node = helper.make_node(op, inputs, ["lr_up"], name="residual_resize", **attrs)
    if resize_first:
        g.nodes[:0] = extra + [node]
    else:
        g.nodes += extra + [node]
    operands = ["lr_up", net_out] if swap else [net_out, "lr_up"]
    g.nodes.append(helper.make_node("Add", operands, ["sum"], name="residual_add"))
    g.current = "sum"
    return g


def espcn_residual_graph(seed: int) -> tuple[Graph, int]:
    """onnx_export's form: asymmetric + floor, Add(network, upsampled input)."""
    r = 3
    g = Graph(seed)
    g.conv(1, 16, 5).op("Tanh").conv(16, 8, 3).op("Tanh").conv(8, r * r, 3, gain=0.4)
    g.op("DepthToSpace", blocksize=r, mode="CRD")
    return add_residual(g, r, mode="nearest", coordinate_transformation_mode="asymmetric",
                        nearest_mode="floor"), r


def prelu_residual_graph(seed: int) -> tuple[Graph, int]:
    """LRNet-like: PRelu per channel, a shared PRelu after a DCR shuffle (so the residual is
    added after the last activation); Resize with ONNX's defaults (half_pixel,
    round_prefer_floor), placed first; Add(upsampled input, network)."""
    r = 4
    g = Graph(seed)
    g.conv(1, 8, 5).op("PRelu", [g.weight((8, 1, 1), 0.25)])
    g.conv(8, 8, 3).op("PRelu", [g.weight((8, 1, 1), 0.25)])
    g.conv(8, r * r, 5, gain=0.4).op("DepthToSpace", blocksize=r)
    g.op("PRelu", [g.weight((1,), 0.3)])
    return add_residual(g, r, swap=True, resize_first=True), r


def fsrcnn_residual_graph(seed: int) -> tuple[Graph, int]:
    """A deconvolution upsampler with the residual, opset 13, pytorch_half_pixel +
    round_prefer_ceil."""
    r = 2
    g = Graph(seed, opset=13)
    g.conv(1, 8, 5).op("PRelu", [g.weight((8, 1, 1), 0.25)])
    g.conv(8, 8, 3).op("PRelu", [g.weight((8, 1, 1), 0.25)])
    w = g.weight((8, 1, 9, 9), 0.05)
    b = g.weight((1,), 0.02)
    g.op("ConvTranspose", [w, b], kernel_shape=[9, 9], strides=[r, r], pads=[4, 4, 4, 4], output_padding=[1, 1])
    return add_residual(g, r, coordinate_transformation_mode="pytorch_half_pixel",
                        nearest_mode="round_prefer_ceil"), r


def compact_rgb_graph(seed: int) -> tuple[Graph, int]:
    """Real-ESRGAN's SRVGGNetCompact (narrowed to 16 maps, 2 body convs) as torch.onnx.export
    writes it at opset 11 (its pytorch2onnx.py): Conv 3->f, PRelu (f, 1, 1), body Conv + PRelu,
    Conv f->3r^2, DepthToSpace CRD (nn.PixelShuffle), and out += F.interpolate(x, scale_factor=r,
    mode="nearest"): Resize(x, roi (an empty Constant), scales) asymmetric + floor, with the
    cubic_coeff_a torch always writes, then Add(out, base)."""
    r, f = 4, 16
    g = Graph(seed, channels_in=3, opset=11)
    g.conv(3, f, 3)
    g.op("PRelu", [g.weight((f, 1, 1), 0.25)])
    for _ in range(2):
        g.conv(f, f, 3)
        g.op("PRelu", [g.weight((f, 1, 1), 0.25)])
    g.conv(f, 3 * r * r, 3, gain=0.4)
    g.op("DepthToSpace", blocksize=r, mode="CRD")
    return add_residual(g, r, mode="nearest", coordinate_transformation_mode="asymmetric",
                        nearest_mode="floor", cubic_coeff_a=-0.75), r


def small_residual_graph(seed: int, r: int, opset: int, op: str = "Resize", **residual) -> Graph:
    g = Graph(seed, opset=opset)
    g.conv(1, 8, 3).op("Tanh").conv(8, r * r, 3, gain=0.4)
    g.op("DepthToSpace", blocksize=r)  # DCR: the only mode before opset 11
    return add_residual(g, r, op, **residual)


# Other spellings of nearest upsampling by pixel replication: (label, r, opset, op, keywords).
RESIDUAL_FORMS = [
    ("opset18-axes", 2, 18, "Resize", dict(scales=[2, 2], axes=[2, 3], coordinate_transformation_mode="asymmetric",
                                          nearest_mode="floor")),
    ("opset11-roi", 3, 11, "Resize", dict(coordinate_transformation_mode="half_pixel",
                                          nearest_mode="round_prefer_ceil")),
    ("resize10", 2, 10, "Resize", dict(mode="nearest")),
    ("upsample9", 3, 9, "Upsample", dict(mode="nearest", swap=True)),
    ("upsample7", 2, 7, "Upsample", dict()),
    ("constant-scales", 4, 17, "Resize", dict(scales_node=True, coordinate_transformation_mode="asymmetric",
                                              nearest_mode="floor")),
]


# --- graphs the format cannot express ---------------------------------------------

def unsupported_graphs(work: Path) -> list[tuple[str, Path, list[str]]]:
    """(label, file, words the error message must contain)."""
    out = []

    def add(label, graph, words):
        out.append((label, graph.save(work / f"bad-{label}.onnx"), words))

    g = Graph(1)
    g.conv(1, 4, 3).op("DepthToSpace", blocksize=2, mode="CRD")
    g.op("Resize", ["", g.weight((4,), 0)], mode="nearest")
    g.inits[-1] = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), g.inits[-1].name)
    add("resize", g, ["node 2", "Resize", "cannot be expressed"])

    g = Graph(2)  # global residual: sr = net(lr) + lr upscaled
    g.conv(1, 4, 3).op("DepthToSpace", blocksize=2, mode="CRD")
    net_out = g.current
    g.current = "lr"
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    g.inits.append(scales)
    g.op("Resize", ["", "scales"], mode="linear")
    g.nodes.append(helper.make_node("Add", [net_out, g.current], ["sum"], name="residual_add"))
    g.current = "sum"
    add("residual", g, ["node 2", "(Resize)", "mode=linear"])

    def x2_residual(seed, **kw):
        g = Graph(seed)
        g.conv(1, 4, 3).op("DepthToSpace", blocksize=2, mode="CRD")
        return add_residual(g, 2, **kw)

    add("residual-align-corners", x2_residual(20, coordinate_transformation_mode="align_corners"),
        ["node 2 'residual_resize' (Resize)", "coordinate_transformation_mode=align_corners",
         "not pixel replication"])
    add("residual-asymmetric-round", x2_residual(21, coordinate_transformation_mode="asymmetric"),
        ["node 2 'residual_resize' (Resize)", "nearest_mode=round_prefer_floor", "not pixel replication"])
    add("residual-wrong-scale", x2_residual(22, scales=[1, 1, 3, 3]),
        ["node 2 'residual_resize' (Resize)", "by 3, the network by 2"])
    add("residual-unequal-scales", x2_residual(23, scales=[1, 1, 2, 3]),
        ["node 2 'residual_resize' (Resize)", "scales [1.0, 1.0, 2.0, 3.0]", "same integer"])

    g = Graph(24)
    g.conv(1, 4, 3).op("DepthToSpace", blocksize=2, mode="CRD")
    net_out = g.current
    g.inits.append(numpy_helper.from_array(np.array([1, 1, 34, 46], np.int64), "sizes"))
    g.nodes.append(helper.make_node("Resize", ["lr", "", "", "sizes"], ["lr_up"], name="resize_sizes",
                                    mode="nearest"))
    g.nodes.append(helper.make_node("Add", [net_out, "lr_up"], ["sum"], name="residual_add"))
    g.current = "sum"
    add("residual-sizes", g, ["node 2 'resize_sizes' (Resize)", "'sizes'"])

    g = Graph(25)
    g.conv(1, 4, 3).op("DepthToSpace", blocksize=2, mode="CRD")
    g.op("Add", [g.weight((1,), 0.5, name="offset")])
    add("add-constant", g, ["node 2 'add_3' (Add)", "global residual"])

    g = Graph(26)  # the sum taken before the network's last activation
    g.conv(1, 4, 3).op("DepthToSpace", blocksize=2, mode="CRD")
    before = g.current
    g.op("Sigmoid")
    g.current = before
    add_residual(g, 2)
    add("residual-before-activation", g, ["node 4 'residual_add' (Add)", "adds 't1'",
                                          "not the network's output 't2'"])

    g = Graph(27)  # an activation after the sum: the format adds the residual last
    g.conv(1, 4, 3).op("DepthToSpace", blocksize=2, mode="CRD")
    add_residual(g, 2).op("Sigmoid")
    add("activation-after-residual", g, ["node 2 'residual_resize' (Resize)", "added to the graph output"])

    g = Graph(3)
    g.conv(1, 4, 3).op("DepthToSpace", blocksize=2, mode="CRD")
    g.nodes.append(helper.make_node("Add", [g.current, g.current], ["twice"], name="add_self"))
    g.current = "twice"
    add("add", g, ["node 2 'add_self' (Add)", "residual"])

    g = Graph(4)
    g.conv(1, 4, 3).conv(4, 4, 3, group=2)
    g.inits[-2] = numpy_helper.from_array(np.zeros((4, 2, 3, 3), np.float32), g.inits[-2].name)
    g.op("DepthToSpace", blocksize=2)
    add("grouped-conv", g, ["node 1", "(Conv)", "group=2"])

    g = Graph(5)
    g.conv(1, 4, 3, strides=[2, 2]).op("DepthToSpace", blocksize=2)
    add("strided-conv", g, ["node 0", "(Conv)", "strides=[2, 2]"])

    g = Graph(6)
    g.conv(1, 4, 5, pads=[1, 1, 1, 1]).op("DepthToSpace", blocksize=2)
    add("valid-padding", g, ["node 0", "(Conv)", "pads=[1, 1, 1, 1]"])

    g = Graph(7, channels_in=3)
    g.conv(3, 4, 3).op("DepthToSpace", blocksize=2)
    add("rgb-input-luma-output", g, ["ends with 1 channel(s) but takes 3"])

    g = Graph(7, channels_in=2)
    g.conv(2, 4, 3).op("DepthToSpace", blocksize=2)
    add("two-channel-input", g, ["2 channels", "three (R, G, B)"])

    g = Graph(8)  # PixelShuffle as opset 9 exports it
    g.conv(1, 4, 3)
    g.op("Reshape", [g.weight((6,), 0, name="shape")])
    g.inits[-1] = numpy_helper.from_array(np.array([1, 1, 2, 2, 5, 5], np.int64), "shape")
    g.op("Transpose", perm=[0, 1, 4, 2, 5, 3])
    add("reshape-shuffle", g, ["node 1", "(Reshape)", "opset >= 11"])

    g = Graph(9)
    g.nodes.append(helper.make_node("Conv", ["lr", "wt"], ["t0"], name="conv_w_input", kernel_shape=[3, 3],
                                    pads=[1, 1, 1, 1]))
    g.current = "t0"
    g.op("DepthToSpace", blocksize=1)
    m = g.save(work / "bad-weight-input.onnx")
    model = onnx.load(str(m))
    model.graph.input.append(helper.make_tensor_value_info("wt", TensorProto.FLOAT, [1, 1, 3, 3]))
    onnx.save(model, str(m))
    out.append(("weight-input", m, ["2 inputs"]))

    g = Graph(10)
    g.conv(1, 4, 3).conv(4, 1, 3)
    add("no-upsampler", g, ["no upsampler"])

    g = Graph(11)
    g.conv(1, 4, 3).op("DepthToSpace", blocksize=2).conv(1, 1, 3)
    add("conv-after-upsampler", g, ["node 2", "(Conv)", "after the upsampler"])

    g = Graph(12)
    g.conv(1, 4, 3).op("Tanh").op("Relu").conv(4, 4, 3).op("DepthToSpace", blocksize=2)
    add("two-activations", g, ["node 2", "(Relu)", "second activation"])

    g = Graph(13)  # (C,) broadcasts over the width, not the channels
    g.conv(1, 4, 3)
    g.op("PRelu", [g.weight((4,), 0.3)])
    g.op("DepthToSpace", blocksize=2)
    add("prelu-slope-per-column", g, ["node 1", "(PRelu)", "slope of shape (4,)"])

    junk = work / "not-onnx.onnx"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n this is not a protobuf" * 4)
    out.append(("not-onnx", junk, ["cannot be read as ONNX"]))
    return out


# --- the tests ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli(option):
    return option("--cli")


@pytest.fixture(scope="module")
def weights(option):
    weights = Path(option("--weights-dir", required=False) or DEFAULT_WEIGHTS_DIR)
    sys.path.insert(0, str(weights))
    return weights


@pytest.fixture(scope="module")
def converters(weights):
    """(onnx_import command, onnx_export command, espcn_format.read_model)."""
    from espcn_format import read_model
    return ([sys.executable, str(weights / "onnx_import.py")],
            [sys.executable, str(weights / "onnx_export.py")], read_model)


# (label, graph builder, seed, with the global residual)
IMPORTS = [
    ("espcn-x3-crd", espcn_graph, 31, False),
    ("fsrcnn-x2-deconv", fsrcnn_graph, 32, False),
    ("prelu-style-x4-dcr", prelu_style_graph, 33, False),
    ("residual espcn-x3-crd asymmetric-floor", espcn_residual_graph, 34, True),
    ("residual prelu-x4-dcr defaults swapped", prelu_residual_graph, 35, True),
    ("residual fsrcnn-x2-deconv pytorch_half_pixel", fsrcnn_residual_graph, 36, True),
] + [(f"residual {label}", lambda seed, r=r, opset=opset, op=op, kw=kw:
      (small_residual_graph(seed, r, opset, op, **kw), r), 40 + n, True)
     for n, (label, r, opset, op, kw) in enumerate(RESIDUAL_FORMS)]


@pytest.mark.parametrize("label,builder,seed,residual", IMPORTS, ids=[i[0] for i in IMPORTS])
def test_import_matches_onnx_runtime(cli, converters, tmp_path, label, builder, seed, residual):
    importer, _, read_model = converters
    g, r = builder(seed)
    src = g.save(tmp_path / "model.onnx")
    dst = tmp_path / "model.safetensors"
    p = subprocess.run(importer + [str(src), "-o", str(dst)], capture_output=True, text=True)
    check(p.returncode == 0, f"onnx_import failed: {p.stderr.strip()}")
    net, _ = read_model(str(dst))
    want = ("nearest", "2") if residual else (None, "1")
    got = (net.get("residual"), format_version(dst))
    check(got == want, f"(residual, espcn.format) is {got}, expected {want}")
    plane = random_plane16(seed + 100)
    print(compare(run_cli(cli, dst, plane, tmp_path, r), run_ort(src, plane)) +
          f"; {p.stdout.strip().split(': ', 1)[-1]}")


def test_import_srvggnet_compact_matches_onnx_runtime(cli, converters, tmp_path):
    """RGB in and out (written "plane": "rgb"), the residual per channel, vs ONNX Runtime."""
    importer, _, read_model = converters
    g, r = compact_rgb_graph(60)
    src = g.save(tmp_path / "compact.onnx")
    dst = tmp_path / "compact.safetensors"
    p = subprocess.run(importer + [str(src), "-o", str(dst)], capture_output=True, text=True)
    check(p.returncode == 0, f"onnx_import failed: {p.stderr.strip()}")
    net, _ = read_model(str(dst))
    got = (net.get("plane"), net.get("residual"), format_version(dst))
    check(got == ("rgb", "nearest", "2"), f"(plane, residual, espcn.format) is {got}")
    planes = np.stack([random_plane16(160 + c) for c in range(3)])
    ours, want = run_cli_rgb(cli, dst, planes, tmp_path, r), run_ort_rgb(src, planes)
    print(" / ".join(f"{name}: {compare(ours[c], want[c])}" for c, name in enumerate("RGB")))


def pytest_generate_tests(metafunc):
    # Every shipped model, from --weights-dir (as the weights fixture reads it).
    if "shipped" in metafunc.fixturenames:
        weights = Path(metafunc.config.getoption("--weights-dir") or DEFAULT_WEIGHTS_DIR)
        models = sorted(weights.glob("*.safetensors"))
        metafunc.parametrize("shipped", models, ids=[m.name for m in models])


def test_shipped_models_found(weights):
    check(len(list(weights.glob("*.safetensors"))) > 0, f"no models in {weights}")


def test_export_matches_onnx_runtime_and_imports_back(cli, converters, tmp_path, shipped):
    importer, exporter, read_model = converters
    net, tensors = read_model(str(shipped))
    onnx_file = tmp_path / (shipped.stem + ".onnx")
    p = subprocess.run(exporter + [str(shipped), "-o", str(onnx_file)], capture_output=True, text=True)
    check(p.returncode == 0, f"onnx_export failed: {p.stderr.strip()}")
    plane = random_plane16(7)
    detail = compare(run_cli(cli, shipped, plane, tmp_path, net["scale"]), run_ort(onnx_file, plane))
    back = tmp_path / (shipped.stem + "-back.safetensors")
    p = subprocess.run(importer + [str(onnx_file), "-o", str(back)], capture_output=True, text=True)
    check(p.returncode == 0, f"onnx_import of the export failed: {p.stderr.strip()}")
    net2, tensors2 = read_model(str(back))
    check(net2 == net, f"network differs after the round trip:\n{net}\n{net2}")
    check(format_version(back) == format_version(shipped),
          f"espcn.format {format_version(back)!r} after the round trip, {format_version(shipped)!r} before")
    for name, t in tensors.items():
        if name not in (x for layer in net["layers"] for x in (layer.get("weight"), layer.get("bias"))):
            continue
        t2 = tensors2[name]
        check(t2.shape == t.shape, f"{name}: shape {t2.shape} vs {t.shape}")
        # F16 files come back as F32: the values are the same numbers.
        check(np.array_equal(np.float32(t2.values), np.float32(t.values)), f"{name}: values differ")
    print(detail + "; round trip: same network, identical tensors")


def test_export_lr_form_residual_matches(cli, converters, tmp_path, shipped):
    """A residual model in to_onnx's residual_form="lr" (the Add before
    DepthToSpace bench/cpu_peers.py gives the peers) vs espcn-cli, and its
    floats against the HR form's."""
    read_model = converters[2]
    net, tensors = read_model(str(shipped))
    if net.get("residual") in (None, "none"):
        pytest.skip("no global residual in this model")
    from onnx_export import to_onnx
    import onnx
    hr_file, lr_file = tmp_path / (shipped.stem + "-hr.onnx"), tmp_path / (shipped.stem + "-lr.onnx")
    onnx.save(to_onnx(net, tensors), hr_file)
    onnx.save(to_onnx(net, tensors, residual_form="lr"), lr_file)
    plane = random_plane16(8)
    hr, lr = run_ort(hr_file, plane), run_ort(lr_file, plane)
    check(hr.shape == lr.shape, f"shape {lr.shape} vs the HR form's {hr.shape}")
    equal = float(np.mean(hr == lr)) * 100
    print(compare(run_cli(cli, shipped, plane, tmp_path, net["scale"]), lr)
          + f"; {equal:.2f}% of floats equal to the HR form's")


@pytest.fixture(scope="module")
def unsupported(tmp_path_factory):
    return {label: (path, words) for label, path, words in unsupported_graphs(tmp_path_factory.mktemp("bad"))}


UNSUPPORTED_LABELS = [
    "resize", "residual", "residual-align-corners", "residual-asymmetric-round",
    "residual-wrong-scale", "residual-unequal-scales", "residual-sizes", "add-constant",
    "residual-before-activation", "activation-after-residual", "add", "grouped-conv",
    "strided-conv", "valid-padding", "rgb-input-luma-output", "two-channel-input", "reshape-shuffle", "weight-input",
    "no-upsampler", "conv-after-upsampler", "two-activations", "prelu-slope-per-column",
    "not-onnx"]


def test_every_unsupported_graph_is_tried(unsupported):
    check(sorted(unsupported) == sorted(UNSUPPORTED_LABELS),
          f"unsupported_graphs() gives {sorted(unsupported)}; UNSUPPORTED_LABELS lists {sorted(UNSUPPORTED_LABELS)}")


@pytest.mark.parametrize("label", UNSUPPORTED_LABELS)
def test_import_rejects(converters, unsupported, tmp_path, label):
    importer = converters[0]
    path, words = unsupported[label]
    never = tmp_path / "never.safetensors"
    p = subprocess.run(importer + [str(path), "-o", str(never)], capture_output=True, text=True)
    msg = p.stderr.strip()
    check(p.returncode == 1, f"exit status {p.returncode}, expected 1 (stderr: {msg})")
    check("Traceback" not in msg, f"a traceback instead of a message: {msg}")
    for w in words:
        check(w in msg, f"message lacks '{w}': {msg}")
    check(not never.exists(), "a file was written anyway")
    print(msg.split(": ", 2)[-1][:110])


def test_export_refuses_a_file_that_is_not_a_model(converters, tmp_path):
    exporter = converters[1]
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}        ")
    p = subprocess.run(exporter + [str(bad), "-o", str(tmp_path / "bad.onnx")], capture_output=True, text=True)
    check(p.returncode == 1 and "not an espcn model" in p.stderr, f"exit {p.returncode}: {p.stderr.strip()}")
