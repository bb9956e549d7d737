#!/usr/bin/env python3
"""Export an espcn model (weights/FORMAT.md) to FFmpeg's native DNN format.

The result is the `.model` file that FFmpeg's `sr` filter reads with
`dnn_backend=native` (FFmpeg 4.x-6.x; the native backend was removed in 7.0):

    export_ffmpeg_native.py espcn-x2.safetensors espcn-x2.model
    ffmpeg -i in.png -vf sr=dnn_backend=native:model=espcn-x2.model out.png

Standard library only (no numpy, torch or safetensors package). Written from
FFmpeg 5.1's libavfilter/dnn/dnn_backend_native*.c (the loader and the layer
code) and tools/python/convert_from_tensorflow.py (the writer of the format):

  "FFMPEGDNNNATIVE" (15 bytes, no NUL) | u32 major = 1 | u32 minor
  layers, each: u32 type, then that layer's fields (below)
  operands, each: u32 index, u32 name_len, name (name_len bytes, no NUL),
                  u32 iotype (1 input, 2 output, 3 intermediate),
                  u32 data type (1 = float), i32 dims[4] (NHWC; -1 = free)
  u32 number of layers | u32 number of operands
  (all little-endian; FFmpeg refuses the file unless these add up to its size)

  CONV2D (1):         u32 dilation, padding (0 VALID, 1 SAME = zeros,
                      2 SAME_CLAMP_TO_EDGE), activation (0 RELU, 1 TANH,
                      2 SIGMOID, 3 NONE, 4 LEAKY_RELU 0.2), in, out, kernel,
                      has_bias; f32 kernel[out][ky][kx][in]; f32 bias[out];
                      u32 input operand, output operand
  DEPTH_TO_SPACE (2): u32 block, input operand, output operand.
                      out[h*r+i][w*r+j][c] = in[h][w][(i*r+j)*C + c]
                      (TensorFlow order, our "dcr")
  MATH_BINARY (5):    u32 op (0 SUB, 1 ADD, 2 MUL, 3 REALDIV, 4 MINIMUM),
                      then for each of the two inputs: u32 broadcast flag and
                      either f32 scalar (flag 1) or u32 operand (flag 0);
                      u32 output operand

How our layers map (the network is exact; only float rounding differs):

  conv "same"          CONV2D, padding SAME (zero padding, as ours), dilation 1;
                       weight (out, in, k, k) transposed to (out, k, k, in)
  relu/tanh/sigmoid    fused as the conv's activation (also when written after
                       the upsampler: an elementwise function commutes with the
                       shuffle); identity = NONE
  pixel_shuffle        DEPTH_TO_SPACE. The network ends with one channel, and
                       for C = 1 "crd" (c*r*r + i*r + j) and "dcr" ((i*r+j)*C + c)
                       are the same index i*r + j, so both orders export as is
  deconv               converted into an LR conv (out*r*r outputs, (2R+1)^2
                       kernel) + DEPTH_TO_SPACE, with the index math of
                       kernels/core/deconv_taps.hpp, exactly as our loader does
                       (weights/deconv_conversion.py)
  prelu                x + (a - 1) * min(x, 0): MINIMUM with 0, then a MUL by the
                       scalar (a - 1) if the slope is shared, or a 1x1 conv
                       with the diagonal (a_c - 1) if it is per channel, then
                       ADD x. All-zero slopes fuse as RELU.
  range [lo, hi]       if not [0, 1]: MUL (hi - lo), ADD lo on the input and
                       SUB lo, REALDIV (hi - lo) on the output, as the engine's
                       decode/encode (the filter feeds v/255 and writes
                       clip(lrintf(255 * t)))

Operands are named "x" (input, NHWC 1 x H x W x 1) and "y" (output): the `sr`
filter's defaults. A scale-1 network would make `sr` treat the model as SRCNN
(output size = input size) and pre-scale its input, so it is refused.

Also: `--describe FILE.model` parses a native file the way FFmpeg's loader
does and prints its layers and operands.
"""
from __future__ import annotations

import argparse
import os
import struct
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deconv_conversion import deconv_to_lr_conv  # noqa: E402
from espcn_format import FORMAT_VERSION_RESIDUAL, read_versioned_model  # noqa: E402

MAGIC = b"FFMPEGDNNNATIVE"
MAJOR, MINOR = 1, 23  # tools/python/convert_header.py of FFmpeg 5.1

DLT_CONV2D, DLT_DEPTH_TO_SPACE, DLT_MATH_BINARY = 1, 2, 5
LAYER_NAMES = {0: "input", 1: "conv2d", 2: "depth_to_space", 3: "mirror_pad", 4: "maximum",
               5: "math_binary", 6: "math_unary", 7: "avg_pool", 8: "dense"}
PAD_VALID, PAD_SAME, PAD_SAME_CLAMP_TO_EDGE = 0, 1, 2
PAD_NAMES = {0: "VALID", 1: "SAME (zeros)", 2: "SAME_CLAMP_TO_EDGE"}
ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_NONE, ACT_LEAKY_RELU = 0, 1, 2, 3, 4
ACT_NAMES = {0: "relu", 1: "tanh", 2: "sigmoid", 3: "none", 4: "leaky_relu(0.2)"}
ACTIVATIONS = {"relu": ACT_RELU, "tanh": ACT_TANH, "sigmoid": ACT_SIGMOID, "identity": ACT_NONE}
OP_SUB, OP_ADD, OP_MUL, OP_REALDIV, OP_MINIMUM = 0, 1, 2, 3, 4
OP_NAMES = {0: "sub", 1: "add", 2: "mul", 3: "realdiv", 4: "minimum", 5: "floormod"}
IO_INPUT, IO_OUTPUT = 1, 2
DT_FLOAT = 1


class ExportError(Exception):
    pass


def f32(v: float) -> float:
    """Round a Python float to the nearest float32, as the file stores it."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


# ---------------------------------------------------------------- our format

@dataclass
class EspcnModel:
    network: dict
    tensors: dict  # name -> (shape, flat row-major list of floats)


def read_espcn(path: str) -> EspcnModel:
    """Read one of our .safetensors models (F32 or F16 tensors) with espcn_format, refusing
    what the native format cannot hold."""
    try:
        version, network, tensors = read_versioned_model(path)
    except ValueError as e:  # its messages start with the path
        raise ExportError(str(e)) from None
    if version == FORMAT_VERSION_RESIDUAL:
        # FORMAT.md: "2" carries a global residual (the input upsampled by pixel replication
        # added to the output); FFmpeg's native format has no nearest upsampling to add it with
        raise ExportError(f"{path}: a model with a global residual (espcn.format \"2\") cannot be "
                          "expressed in FFmpeg's native format")
    return EspcnModel(network, {name: ([int(d) for d in t.shape], list(t.values))
                                for name, t in tensors.items()})


# ---------------------------------------------------------- native graph build

@dataclass
class Operand:
    name: str
    iotype: int = 0
    dims: tuple = (-1, -1, -1, -1)


@dataclass
class NativeGraph:
    operands: list = field(default_factory=list)
    layers: list = field(default_factory=list)  # (description, bytes)

    def operand(self, name: str | None = None, dims=(-1, -1, -1, -1)) -> int:
        self.operands.append(Operand(name or f"t{len(self.operands)}", 0, tuple(dims)))
        return len(self.operands) - 1

    def _use(self, src: int) -> None:
        self.operands[src].iotype |= IO_INPUT

    def _make(self) -> int:
        dst = self.operand()
        self.operands[dst].iotype |= IO_OUTPUT
        return dst

    def conv(self, src: int, cin: int, cout: int, k: int, w_okki: list, bias: list | None,
             act: int, what: str) -> int:
        self._use(src)
        dst = self._make()
        raw = struct.pack("<8I", DLT_CONV2D, 1, PAD_SAME, act, cin, cout, k, 1 if bias is not None else 0)
        raw += struct.pack(f"<{len(w_okki)}f", *w_okki)
        if bias is not None:
            raw += struct.pack(f"<{cout}f", *bias)
        raw += struct.pack("<2I", src, dst)
        self.layers.append((f"conv2d {k}x{k} {cin}->{cout} {ACT_NAMES[act]} ({what})", raw))
        return dst

    def depth_to_space(self, src: int, r: int) -> int:
        self._use(src)
        dst = self._make()
        self.layers.append((f"depth_to_space {r}", struct.pack("<4I", DLT_DEPTH_TO_SPACE, r, src, dst)))
        return dst

    def binary(self, op: int, a: int, b: int | None = None, scalar: float | None = None,
               what: str = "") -> int:
        """a OP b (operand) or a OP scalar."""
        self._use(a)
        raw = struct.pack("<4I", DLT_MATH_BINARY, op, 0, a)
        if b is not None:
            self._use(b)
            raw += struct.pack("<2I", 0, b)
            rhs = self.operands[b].name
        else:
            raw += struct.pack("<If", 1, scalar)
            rhs = repr(f32(scalar))
        dst = self._make()
        raw += struct.pack("<I", dst)
        self.layers.append((f"math_binary {OP_NAMES[op]}({self.operands[a].name}, {rhs}) {what}", raw))
        return dst

    def to_bytes(self) -> bytes:
        out = bytearray(MAGIC + struct.pack("<2I", MAJOR, MINOR))
        for _, raw in self.layers:
            out += raw
        for i, o in enumerate(self.operands):
            name = o.name.encode()
            out += struct.pack("<2I", i, len(name)) + name
            out += struct.pack("<2I4i", o.iotype, DT_FLOAT, *o.dims)
        out += struct.pack("<2I", len(self.layers), len(self.operands))
        return bytes(out)


# ------------------------------------------------------------------- export

@dataclass
class _Conv:
    cin: int
    cout: int
    k: int
    w_oikk: list
    bias: list | None
    what: str
    act: int = ACT_NONE


def _tensor(model: EspcnModel, name, shape, where: str) -> list:
    if name not in model.tensors:
        raise ExportError(f"{where}: tensor {name!r} is not in the file")
    got, values = model.tensors[name]
    if list(got) != list(shape):
        raise ExportError(f"{where}: tensor {name!r} has shape {got}, expected {list(shape)}")
    return values


def build_native(model: EspcnModel) -> tuple[NativeGraph, dict]:
    net = model.network
    r = int(net.get("scale", 0))
    if not 1 <= r <= 8:
        raise ExportError(f"network: scale {r} is not in 1..8")
    if r == 1:
        raise ExportError("network: scale 1: FFmpeg's sr filter treats a model whose output size "
                          "equals its input size as SRCNN and pre-scales the input; not exportable")
    if net.get("plane", "luma") != "luma":
        raise ExportError(f"network: plane {net.get('plane')!r} is not supported (only luma)")
    lo, hi = (float(v) for v in net.get("range", [0.0, 1.0]))
    if not hi > lo:
        raise ExportError(f"network: range [{lo}, {hi}] is empty")

    # Parse into a flat list of steps: ("conv", _Conv) | ("shuffle", order)
    # | ("act", code) | ("prelu", slopes). Activations are attached later.
    steps = []
    channels = 1
    upsampled = False
    for n, layer in enumerate(net.get("layers", [])):
        where = f"layer {n} ({layer.get('type')})"
        t = layer.get("type")
        if t == "conv":
            if upsampled:
                raise ExportError(f"{where}: a conv after the upsampler")
            cin, cout, k = int(layer["in"]), int(layer["out"]), int(layer["kernel"])
            pad = layer.get("padding", "same")
            if k % 2 == 0 or (pad != "same" and int(pad) != k // 2):
                raise ExportError(f"{where}: only odd kernels with 'same' padding are supported")
            if cin != channels:
                raise ExportError(f"{where}: takes {cin} channels but receives {channels}")
            w = _tensor(model, layer["weight"], [cout, cin, k, k], where)
            b = _tensor(model, layer["bias"], [cout], where) if layer.get("bias") else None
            steps.append(("conv", _Conv(cin, cout, k, w, b, f"layer {n}")))
            channels = cout
        elif t == "deconv":
            if upsampled:
                raise ExportError(f"{where}: a second upsampler")
            cin, cout, kk = int(layer["in"]), int(layer["out"]), int(layer["kernel"])
            stride, pad, opad = int(layer["stride"]), int(layer["padding"]), int(layer.get("output_padding", 0))
            if stride != r:
                raise ExportError(f"{where}: stride {stride} differs from the network scale {r}")
            if cin != channels:
                raise ExportError(f"{where}: takes {cin} channels but receives {channels}")
            w = _tensor(model, layer["weight"], [cin, cout, kk, kk], where)
            b = _tensor(model, layer["bias"], [cout], where) if layer.get("bias") else None
            try:
                oc, k, lw, lb = deconv_to_lr_conv(cin, cout, kk, r, pad, opad, w, b)
            except ValueError as e:
                raise ExportError(str(e)) from None
            steps.append(("conv", _Conv(cin, oc, k, lw, lb,
                                        f"layer {n}: deconv {kk}x{kk} stride {r} as LR conv")))
            steps.append(("shuffle", "crd"))
            channels = cout
            upsampled = True
        elif t == "pixel_shuffle":
            if upsampled:
                raise ExportError(f"{where}: a second upsampler")
            if not steps or steps[-1][0] != "conv":
                raise ExportError(f"{where}: pixel_shuffle must directly follow a conv")
            if int(layer.get("scale", r)) != r:
                raise ExportError(f"{where}: scale {layer.get('scale')} differs from the network scale {r}")
            order = layer.get("order", "crd")
            if order not in ("crd", "dcr"):
                raise ExportError(f"{where}: order {order!r} is neither crd nor dcr")
            if channels % (r * r):
                raise ExportError(f"{where}: {channels} channels cannot be shuffled by r^2 = {r * r}")
            steps.append(("shuffle", order))
            channels //= r * r
            upsampled = True
        elif t in ACTIVATIONS:
            steps.append(("act", ACTIVATIONS[t], where))
        elif t == "prelu":
            if steps and steps[-1][0] in ("act", "prelu"):
                raise ExportError(f"{where}: two activations in a row")
            shape, slopes = model.tensors.get(layer.get("weight"), (None, None))
            if slopes is None:
                raise ExportError(f"{where}: tensor {layer.get('weight')!r} is not in the file")
            if list(shape) not in ([1], [channels]):
                raise ExportError(f"{where}: slope shape {shape}, expected [1] or [{channels}]")
            steps.append(("prelu", slopes, where))
        else:
            raise ExportError(f"{where}: layer type {t!r} has no FFmpeg native equivalent")
    if not upsampled:
        raise ExportError("network: no upsampler (pixel_shuffle or deconv)")
    if channels != 1:
        raise ExportError(f"network: ends with {channels} channels; only luma (1) is supported")
    # After the upsampler C = 1, so "crd" and "dcr" are the same channel order
    # (i*r + j), which is what DEPTH_TO_SPACE reads. Nothing to permute.

    # Fuse relu/tanh/sigmoid/identity (and all-zero PReLU) into the conv before
    # them; one written after the shuffle goes into the conv feeding the shuffle.
    fused = []
    for s in steps:
        if s[0] == "prelu" and all(v == 0.0 for v in s[1]):
            s = ("act", ACT_RELU, s[2])
        if s[0] == "act":
            prev = [p for p in fused if p[0] == "conv"]
            if not prev:
                raise ExportError(f"{s[2]}: an activation before any conv")
            conv = prev[-1][1]
            if fused[-1][0] not in ("conv", "shuffle") or conv.act != ACT_NONE:
                raise ExportError(f"{s[2]}: two activations in a row")
            conv.act = s[1]
            continue
        fused.append(s)

    g = NativeGraph()
    cur = g.operand("x", dims=(1, -1, -1, 1))
    if (f32(lo), f32(hi)) != (0.0, 1.0):
        span = f32(f32(hi) - f32(lo))
        cur = g.binary(OP_MUL, cur, scalar=span, what="(range: decode)")
        cur = g.binary(OP_ADD, cur, scalar=lo, what="(range: decode)")
    chans = 1
    for s in fused:
        if s[0] == "conv":
            c = s[1]
            k, cin = c.k, c.cin
            w = [0.0] * len(c.w_oikk)
            for o in range(c.cout):
                for i in range(cin):
                    for ky in range(k):
                        for kx in range(k):
                            w[((o * k + ky) * k + kx) * cin + i] = c.w_oikk[((o * cin + i) * k + ky) * k + kx]
            cur = g.conv(cur, cin, c.cout, k, w, c.bias, c.act, c.what)
            chans = c.cout
        elif s[0] == "shuffle":
            cur = g.depth_to_space(cur, r)
            chans //= r * r
        elif s[0] == "prelu":
            slopes = s[1]
            x = cur
            neg = g.binary(OP_MINIMUM, x, scalar=0.0, what=f"({s[2]}: prelu)")
            if len(slopes) == 1 or all(v == slopes[0] for v in slopes):
                t = g.binary(OP_MUL, neg, scalar=slopes[0] - 1.0, what=f"({s[2]}: prelu)")
            else:
                diag = [0.0] * (chans * chans)
                for ch in range(chans):
                    diag[ch * chans + ch] = slopes[ch] - 1.0
                t = g.conv(neg, chans, chans, 1, diag, None, ACT_NONE, f"{s[2]}: prelu slopes - 1")
            cur = g.binary(OP_ADD, x, t, what=f"({s[2]}: prelu)")
    if (f32(lo), f32(hi)) != (0.0, 1.0):
        span = f32(f32(hi) - f32(lo))
        cur = g.binary(OP_SUB, cur, scalar=lo, what="(range: encode)")
        cur = g.binary(OP_REALDIV, cur, scalar=span, what="(range: encode)")
    g.operands[cur].name = "y"
    info = {"name": net.get("name", ""), "scale": r, "range": (lo, hi)}
    return g, info


def export(src: str, dst: str) -> tuple[NativeGraph, dict]:
    model = read_espcn(src)
    g, info = build_native(model)
    with open(dst, "wb") as f:
        f.write(g.to_bytes())
    return g, info


# ------------------------------------------------- reading a native file back

def describe_native(path: str) -> list[str]:
    """Parse a native model as ff_dnn_load_model_native does (supported layer
    types only) and return a description; raises ExportError where FFmpeg's
    loader would refuse the file."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0

    def u32(signed=False):
        nonlocal pos
        if pos + 4 > len(data):
            raise ExportError(f"{path}: truncated at byte {pos}")
        (v,) = struct.unpack_from("<i" if signed else "<I", data, pos)
        pos += 4
        return v

    def floats(n):
        nonlocal pos
        if pos + 4 * n > len(data):
            raise ExportError(f"{path}: truncated at byte {pos}")
        v = struct.unpack_from(f"<{n}f", data, pos)
        pos += 4 * n
        return v

    if data[:15] != MAGIC:
        raise ExportError(f"{path}: no {MAGIC.decode()} magic")
    pos = 15
    major, minor = u32(), u32()
    if major != MAJOR:
        raise ExportError(f"{path}: major version {major}, FFmpeg expects {MAJOR}")
    n_layers, n_operands = struct.unpack_from("<2I", data, len(data) - 8)
    lines = [f"{path}: FFmpeg native DNN model v{major}.{minor}, {n_layers} layers, {n_operands} operands"]
    for n in range(n_layers):
        t = u32()
        if t == DLT_CONV2D:
            dil, padm, act, cin, cout, k, has_bias = (u32() for _ in range(7))
            floats(cin * cout * k * k)
            if has_bias:
                floats(cout)
            i, o = u32(), u32()
            lines.append(f"  layer {n}: conv2d {k}x{k} {cin}->{cout} dilation {dil} padding "
                         f"{PAD_NAMES.get(padm, padm)} activation {ACT_NAMES.get(act, act)}"
                         f"{' +bias' if has_bias else ''}: op{i} -> op{o}")
        elif t == DLT_DEPTH_TO_SPACE:
            b, i, o = u32(), u32(), u32()
            lines.append(f"  layer {n}: depth_to_space {b}: op{i} -> op{o}")
        elif t == DLT_MATH_BINARY:
            op = u32()
            args = []
            for _ in range(2):
                if u32():
                    args.append(repr(floats(1)[0]))
                else:
                    args.append(f"op{u32()}")
            o = u32()
            lines.append(f"  layer {n}: math_binary {OP_NAMES.get(op, op)}({', '.join(args)}) -> op{o}")
        else:
            raise ExportError(f"{path}: layer {n} has type {LAYER_NAMES.get(t, t)}, not described here")
    for _ in range(n_operands):
        idx, name_len = u32(), u32()
        if idx >= n_operands:
            raise ExportError(f"{path}: operand index {idx} >= {n_operands}")
        name = data[pos:pos + name_len].decode(errors="replace")
        pos += name_len
        iotype, dt = u32(), u32()
        dims = [u32(signed=True) for _ in range(4)]
        if iotype == IO_INPUT and dims[0] != 1:
            raise ExportError(f"{path}: input operand {name!r} has batch {dims[0]} (FFmpeg needs 1)")
        lines.append(f"  op{idx} {name!r}: {({1: 'input', 2: 'output', 3: 'intermediate'}).get(iotype, iotype)}"
                     f" dtype {dt} dims {dims}")
    if pos + 8 != len(data):
        raise ExportError(f"{path}: {len(data) - pos - 8} bytes unaccounted for (FFmpeg refuses the file)")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="our .safetensors model (or, with --describe, a native .model)")
    ap.add_argument("output", nargs="?", help="the FFmpeg native .model file to write")
    ap.add_argument("--describe", action="store_true",
                    help="print the layers of a native .model file instead (checks its structure)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    try:
        if a.describe:
            print("\n".join(describe_native(a.model)))
            return 0
        if not a.output:
            ap.error("the output .model path is required")
        g, info = export(a.model, a.output)
        if not a.quiet:
            print(f"wrote {a.output}: '{info['name']}' x{info['scale']}, {len(g.layers)} native layers "
                  f"({', '.join(d.split(' (')[0] for d, _ in g.layers)})")
            print(f"use: ffmpeg -i in -vf sr=dnn_backend=native:model={a.output} out "
                  "(FFmpeg <= 6.1; luma only, chroma is bicubic)")
        describe_native(a.output)  # self-check: FFmpeg's size accounting
        return 0
    except (ExportError, KeyError, ValueError, OSError) as e:
        msg = f"{type(e).__name__}: {e}" if isinstance(e, KeyError) else str(e)
        print(f"export_ffmpeg_native: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
