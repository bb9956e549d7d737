#!/usr/bin/env python3
"""Convert an ncnn network (.param + .bin) into an espcn model file (weights/FORMAT.md).

    ncnn_import.py MODEL.param MODEL.bin -o OUT.safetensors [--name NAME] [--range LO,HI] [--f32]

Made for the LR-space networks video users run through ncnn, above all
Real-ESRGAN's SRVGGNetCompact family (realesr-animevideov3-x{2,3,4},
realesr-general-x4v3 and the community Compact models): a chain from the one
`Input` of 1 (luma) or 3 (R, G, B) channels to one output of as many channels,
made of

  Convolution    square odd kernel (1x1, 3x3, 5x5, ...), stride 1, dilation 1,
                 'same' padding (k/2 on every side, or -233 = SAME), a bias or
                 none, fp32 or fp16 weight storage, its fused activation_type
                 0 (none), 1 (ReLU), 2 (LeakyReLU), 4 (Sigmoid)
  PReLU          one slope per channel, or one shared
  ReLU           slope 0 (ReLU) or not (LeakyReLU: a shared PReLU slope)
  Sigmoid TanH
  PixelShuffle   mode 0 (PyTorch's order: "crd") or 1 (TensorFlow's: "dcr")
  Split          copies of a blob (how ncnn gives the input to two layers)
  Interp         resize_type 1 (nearest) by the network's integer scale, of the
                 Input: with
  BinaryOp       op_type 0 (add) of the network's output and that Interp: the
                 global residual (FORMAT.md "residual": "nearest")

exactly one upsampler, only activations after it. A trailing Interp that
downscales the network's output (realesr-animevideov3-x2/-x3: the x4 network
followed by a bicubic Interp by 0.5 / 0.75) is recognised and reported: the
file written is the x4 network, which espcn runs at x4 (`-vf espcn=scale=4`);
for what the ncnn file computes, downscale its output afterwards
(`,scale=iw/2:ih/2:flags=bicubic`; ncnn's bicubic has a = -0.75, swscale's
default bicubic differs slightly). espcn does not perform the downscale itself
(docs/COMMUNITY.md says why). Anything else fails with exit status 1 and a
message naming the layer, its line in the .param file and what cannot be
expressed.

Weights: ncnn stores a Convolution's weights with a 4-byte tag (0x01306B47:
float16; 0: float32) and its bias and PReLU slopes as float32; fp16 weights
are kept as F16 in the file (exactly), unless --f32. Value range: [0, 1] (what
Real-ESRGAN's tools feed: 8-bit RGB / 255), or --range.

Needs numpy. As a module: `from ncnn_import import convert, UnsupportedGraph`.
"""
from __future__ import annotations

import argparse
import os
import struct
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from espcn_format import ModelWriter, finite_tensor, parse_range  # noqa: E402

MAGIC = 7767517
TAG_FP16 = 0x01306B47
TAG_INT8 = 0x000D4B38
TAG_FP32_SCALED = 0x0002C056
SUPPORTED = ("Input", "Convolution", "PReLU", "ReLU", "Sigmoid", "TanH", "PixelShuffle", "Split", "Interp",
             "BinaryOp")
HINTS = {
    "ConvolutionDepthWise": "a grouped convolution",
    "Deconvolution": "a transposed convolution (the ncnn importer reads pixel-shuffle networks)",
    "Eltwise": "the format's only sum is the global residual (BinaryOp add of an Interp of the input)",
    "Concat": "the format is one chain without concatenation",
    "Pooling": "the format keeps the size until its upsampler",
    "InnerProduct": "a fully connected layer",
    "BatchNorm": "fold it into the preceding Convolution",
    "Clip": "the format clamps only when it encodes the output samples",
}
INTERP_KINDS = {0: "none", 1: "nearest", 2: "bilinear", 3: "bicubic"}


class UnsupportedGraph(ValueError):
    """The network uses something the espcn format cannot express; the message names it."""


@dataclass
class Layer:
    line: int
    type: str
    name: str
    bottoms: list[str]
    tops: list[str]
    params: dict[int, object]

    def where(self) -> str:
        return f"line {self.line}: {self.type} '{self.name}'"

    def get(self, key: int, default):
        return self.params.get(key, default)


@dataclass
class Network:
    channels: int = 0
    scale: int = 0
    layers: list[tuple] = field(default_factory=list)  # (kind, fields, arrays), as onnx_import's
    residual: bool = False
    downscale: str | None = None  # a trailing Interp downscale, as reported
    downscale_factor: float = 1.0
    layers_channels: int = 0      # channels at the end of the chain so far


def _number(text: str, where: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise UnsupportedGraph(f"{where}: parameter value '{text}' is not a number") from None


def parse_param(text: str) -> list[Layer]:
    """The layers of an ncnn .param text file (version 7767517)."""
    lines = [(n + 1, line.strip()) for n, line in enumerate(text.splitlines())]
    lines = [(n, line) for n, line in lines if line]
    if not lines or lines[0][1] != str(MAGIC):
        first = lines[0][1][:40] if lines else "(empty)"
        raise UnsupportedGraph(f"line 1: '{first}' is not ncnn's param magic {MAGIC} (a binary .param.bin "
                               "is not read: give the text .param)")
    if len(lines) < 2 or len(lines[1][1].split()) != 2:
        raise UnsupportedGraph("line 2: expected '<layer count> <blob count>'")
    count = int(lines[1][1].split()[0])
    layers = []
    for n, line in lines[2:]:
        f = line.split()
        where = f"line {n}"
        if len(f) < 4:
            raise UnsupportedGraph(f"{where}: '{line[:60]}' is not '<type> <name> <bottoms> <tops> ...'")
        try:
            nb, nt = int(f[2]), int(f[3])
        except ValueError:
            raise UnsupportedGraph(f"{where}: bottom and top counts '{f[2]} {f[3]}' are not integers") from None
        if len(f) < 4 + nb + nt:
            raise UnsupportedGraph(f"{where}: {nb} bottoms and {nt} tops announced, fewer given")
        params: dict[int, object] = {}
        for kv in f[4 + nb + nt:]:
            if "=" not in kv:
                raise UnsupportedGraph(f"{where}: parameter '{kv}' is not key=value")
            k, v = kv.split("=", 1)
            key = _number(k, where)
            if not isinstance(key, int):
                raise UnsupportedGraph(f"{where}: parameter key '{k}' is not an integer")
            if key <= -23300:  # an array: -23300 - id = count,v0,v1,...
                values = [_number(x, where) for x in v.split(",")]
                params[-23300 - key] = values[1:1 + int(values[0])]
            else:
                params[key] = _number(v, where)
        layers.append(Layer(n, f[0], f[1], f[4:4 + nb], f[4 + nb:4 + nb + nt], params))
    if len(layers) != count:
        raise UnsupportedGraph(f"line 2 announces {count} layers, the file has {len(layers)}")
    return layers


class _Weights:
    """ncnn's .bin read in layer order: tagged weights, raw float32 vectors."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def _take(self, n: int, what: str) -> bytes:
        if self.at + n > len(self.data):
            raise UnsupportedGraph(f"{what}: the .bin ends at byte {len(self.data)}, {self.at + n} needed "
                                   "(a .bin of another .param?)")
        b = self.data[self.at:self.at + n]
        self.at += n
        return b

    def tagged(self, count: int, what: str):
        """ModelBin::load(count, 0): (values as float32 array, 'F16' or 'F32')."""
        import numpy as np
        (tag,) = struct.unpack("<I", self._take(4, what))
        if tag == TAG_FP16:
            raw = self._take((count * 2 + 3) // 4 * 4, what)
            return np.frombuffer(raw[:count * 2], dtype="<f2").astype(np.float32), "F16"
        if tag == TAG_FP32_SCALED or tag == 0:
            return np.frombuffer(self._take(count * 4, what), dtype="<f4").astype(np.float32), "F32"
        if tag == TAG_INT8:
            raise UnsupportedGraph(f"{what}: int8 weights (quantized ncnn models are not read; use the float one)")
        raise UnsupportedGraph(f"{what}: weight storage tag 0x{tag:08X} (quantization table) is not read; "
                               "ncnn's fp32 (0) and fp16 (0x01306B47) are")

    def raw(self, count: int, what: str):
        import numpy as np
        return np.frombuffer(self._take(count * 4, what), dtype="<f4").astype(np.float32)


def _fail(layer: Layer, what: str):
    raise UnsupportedGraph(f"{layer.where()}: {what}")


def walk(layers: list[Layer], weights: _Weights) -> Network:
    """The espcn network of an ncnn graph, or UnsupportedGraph naming the first thing it cannot express."""
    import numpy as np
    for layer in layers:
        if layer.type not in SUPPORTED:
            hint = HINTS.get(layer.type)
            _fail(layer, f"layer type {layer.type} cannot be expressed in the espcn format"
                         + (f" ({hint})" if hint else "") + f"; supported: {', '.join(SUPPORTED)}")
    users: dict[str, int] = {}
    for layer in layers:
        for b in layer.bottoms:
            users[b] = users.get(b, 0) + 1
    net = Network()
    role: dict[str, str] = {}  # blob -> "input", "chain", "upsampled", "sum", "downscaled"
    chain = None       # the blob at the end of the chain
    activation_ok = False
    after_upsampler = False
    upsampled_scale = 0
    final = None       # the blob the graph ends with

    def chain_step(layer: Layer, kind: str, fields=None, arrays=None, activation=False):
        nonlocal chain, activation_ok
        if len(layer.bottoms) != 1 or len(layer.tops) != 1:
            _fail(layer, f"{len(layer.bottoms)} bottoms and {len(layer.tops)} tops; one each expected")
        b = layer.bottoms[0]
        if activation:
            if role.get(b) != "chain" or b != chain:
                _fail(layer, f"bottom '{b}' is not the end of the network's chain")
            if not activation_ok:
                _fail(layer, "a second activation after one layer cannot be expressed (at most one after each "
                             "convolution or upsampler)")
            activation_ok = False
        else:
            first = not net.layers
            if not ((first and role.get(b) == "input") or (not first and role.get(b) == "chain" and b == chain)):
                _fail(layer, f"bottom '{b}' is not the end of the network's chain ('{chain}'): the format is "
                             "a single chain")
            activation_ok = True
        if role.get(b) != "input" and users.get(b, 0) > 1:
            _fail(layer, f"blob '{b}' feeds {users[b]} layers: a branch cannot be expressed (only the input "
                         "may feed two: the network and the residual's Interp)")
        net.layers.append((kind, fields or {}, arrays or {}))
        chain = layer.tops[0]
        role[chain] = "chain"

    for layer in layers:
        t = layer.type
        if final is not None and t != "Interp":
            _fail(layer, "a layer after the global residual cannot be expressed (the residual is added last)")
        if t == "Input":
            if net.channels:
                _fail(layer, "a second Input: the format takes one image")
            c = layer.get(2, 0)
            if c not in (0, 1, 3):
                _fail(layer, f"{c} channels; the format takes 1 (luma) or 3 (R, G, B)")
            net.channels = c or -1  # -1: the first Convolution says
            for top in layer.tops:
                role[top] = "input"
        elif t == "Split":
            if len(layer.bottoms) != 1:
                _fail(layer, f"{len(layer.bottoms)} bottoms; one expected")
            r = role.get(layer.bottoms[0])
            if r is None:
                _fail(layer, f"bottom '{layer.bottoms[0]}' is produced by no layer before it")
            if r != "input":
                _fail(layer, "splits a blob other than the input: a branch cannot be expressed")
            for top in layer.tops:
                role[top] = r
        elif t == "Convolution":
            if after_upsampler:
                _fail(layer, "a Convolution after the upsampler cannot be expressed (only activations follow it)")
            out = layer.get(0, 0)
            kw = layer.get(1, 0)
            kh = layer.get(11, kw)
            if kw != kh or kw % 2 == 0 or kw < 1:
                _fail(layer, f"kernel {kw}x{kh}: the format's convolution is square and odd-sized")
            for key, what in ((2, "dilation_w"), (12, "dilation_h"), (3, "stride_w"), (13, "stride_h")):
                if layer.get(key, layer.get(key - 10, 1) if key > 10 else 1) != 1:
                    _fail(layer, f"{what}={layer.get(key, None)} cannot be expressed (stride 1, no dilation)")
            pl = layer.get(4, 0)
            pads = [pl, layer.get(14, pl), layer.get(15, pl), layer.get(16, layer.get(14, pl))]
            # -233 / -234: SAME_UPPER / SAME_LOWER, k/2 each side for an odd kernel at stride 1.
            if pl not in (-233, -234) and pads != [kw // 2] * 4:
                _fail(layer, f"pads {pads} cannot be expressed ('same' padding: {kw // 2} on every side)")
            if layer.get(8, 0):
                _fail(layer, "int8_scale_term: a quantized convolution (use the float model)")
            if layer.get(19, 0):
                _fail(layer, "dynamic_weight: weights from a blob cannot be expressed")
            if layer.get(18, 0.0) not in (0, 0.0):
                _fail(layer, f"pad_value={layer.get(18, 0)} cannot be expressed (zero padding)")
            size = layer.get(6, 0)
            if out < 1 or size < 1 or size % (out * kw * kw):
                _fail(layer, f"weight_data_size {size} is not num_output {out} x in x {kw} x {kw}")
            cin = size // (out * kw * kw)
            if not net.layers:
                if net.channels == -1:
                    net.channels = cin
                if cin not in (1, 3) or cin != net.channels:
                    _fail(layer, f"takes {cin} channels; the Input gives {net.channels} (the format reads 1 or 3)")
            elif cin != net.layers_channels:
                _fail(layer, f"takes {cin} channels, {net.layers_channels} arrive")
            w, dtype = weights.tagged(size, layer.where() + " weights")
            arrays = {"weight": (w.reshape(out, cin, kw, kw), dtype)}
            if layer.get(5, 0):
                arrays["bias"] = (weights.raw(out, layer.where() + " bias"), "F32")
            chain_step(layer, "conv", {}, arrays)
            net.layers_channels = out
            act = layer.get(9, 0)
            params = layer.get(10, [])
            if act == 1:
                net.layers.append(("relu", {}, {}))
            elif act == 2:
                slope = float(params[0]) if params else 0.0
                net.layers.append(("prelu", {}, {"weight": (np.array([slope], np.float32), "F32")}))
            elif act == 4:
                net.layers.append(("sigmoid", {}, {}))
            elif act != 0:
                _fail(layer, f"fused activation_type={act} cannot be expressed (0 none, 1 ReLU, 2 LeakyReLU, "
                             "4 Sigmoid)")
            if act:
                activation_ok = False
        elif t in ("PReLU", "ReLU", "Sigmoid", "TanH"):
            if not net.layers:
                _fail(layer, "an activation before the first Convolution cannot be expressed")
            if t == "PReLU":
                n = layer.get(0, 0)
                if n not in (1, net.layers_channels):
                    _fail(layer, f"{n} slopes for {net.layers_channels} channels (one per channel, or one shared)")
                chain_step(layer, "prelu", {}, {"weight": (weights.raw(n, layer.where() + " slopes"), "F32")},
                           activation=True)
            elif t == "ReLU":
                slope = float(layer.get(0, 0.0))
                if slope:
                    chain_step(layer, "prelu", {}, {"weight": (np.array([slope], np.float32), "F32")},
                               activation=True)
                else:
                    chain_step(layer, "relu", activation=True)
            else:
                chain_step(layer, "sigmoid" if t == "Sigmoid" else "tanh", activation=True)
        elif t == "PixelShuffle":
            if after_upsampler:
                _fail(layer, "a second upsampler cannot be expressed")
            if not net.layers or net.layers[-1][0] != "conv":
                _fail(layer, "PixelShuffle must follow a Convolution directly (the format's pixel_shuffle does)")
            r = layer.get(0, 1)
            mode = layer.get(1, 0)
            if mode not in (0, 1):
                _fail(layer, f"mode={mode}: 0 (PyTorch's order) or 1 (TensorFlow's)")
            if r < 2 or net.layers_channels % (r * r):
                _fail(layer, f"upscale_factor {r} does not divide the {net.layers_channels} channels into r*r groups")
            chain_step(layer, "pixel_shuffle", {"order": "crd" if mode == 0 else "dcr"})
            net.scale = r
            net.layers_channels //= r * r
            after_upsampler = True
        elif t == "Interp":
            if len(layer.bottoms) != 1 or len(layer.tops) != 1:
                _fail(layer, "one bottom and one top expected")
            b = layer.bottoms[0]
            kind = layer.get(0, 0)
            hs, ws = float(layer.get(1, 1.0)), float(layer.get(2, 1.0))
            if layer.get(3, 0) or layer.get(4, 0) or layer.get(5, 0):
                _fail(layer, "an output size (3=, 4=) or a dynamic target size (5=) cannot be expressed "
                             "(scales only)")
            if role.get(b) == "input":
                if kind != 1 or hs != ws or hs != int(hs) or hs < 2:
                    _fail(layer, f"{INTERP_KINDS.get(kind, kind)} Interp by {hs} x {ws} of the input: the format's "
                                 "residual is the input upsampled by pixel replication (resize_type 1) by an "
                                 "integer scale")
                role[layer.tops[0]] = "upsampled"
                upsampled_scale = int(hs)
            elif role.get(b) == "downscaled":
                _fail(layer, "a second Interp after the network cannot be expressed")
            elif b == final or (b == chain and after_upsampler and final is None):
                # A downscale of the output: recognised, reported, not written.
                if hs != ws or not hs < 1:
                    _fail(layer, f"Interp by {hs} x {ws} after the network: only a trailing downscale "
                                 "(scale < 1) is recognised")
                if users.get(layer.tops[0], 0):
                    _fail(layer, "layers after a trailing downscale cannot be expressed")
                net.downscale = (f"{layer.where()}: a {INTERP_KINDS.get(kind, str(kind))} downscale by {hs:g} of "
                                 "the network's output")
                net.downscale_factor = hs
                final = layer.tops[0]
                role[final] = "downscaled"
            else:
                _fail(layer, "an Interp inside the network cannot be expressed (nearest of the input for the "
                             "residual, or a downscale at the end)")
        elif t == "BinaryOp":
            op = layer.get(0, 0)
            if op != 0 or layer.get(1, 0) or len(layer.bottoms) != 2:
                _fail(layer, f"op_type={op}, with_scalar={layer.get(1, 0)}: only the add of two blobs (the "
                             "global residual) can be expressed")
            roles = sorted(role.get(x, "?") for x in layer.bottoms)
            if roles != ["chain", "upsampled"] or chain not in layer.bottoms or not after_upsampler:
                _fail(layer, "adds something other than the network's output (after its upsampler and "
                             "activation) and a nearest Interp of the input: the format's only sum is that "
                             "global residual")
            if upsampled_scale != net.scale:
                _fail(layer, f"the input is upsampled by {upsampled_scale}, the network by {net.scale}")
            net.residual = True
            final = layer.tops[0]
            role[final] = "sum"
    if not net.channels:
        raise UnsupportedGraph("the graph has no Input layer")
    if not net.scale:
        raise UnsupportedGraph("the graph has no upsampler (a PixelShuffle after a Convolution)")
    if net.layers_channels != net.channels:
        raise UnsupportedGraph(f"the network ends with {net.layers_channels} channel(s) but reads {net.channels}; "
                               "the format gives as many as it reads")
    if weights.at != len(weights.data):
        raise UnsupportedGraph(f"the .bin holds {len(weights.data)} bytes, the .param's layers read {weights.at} "
                               "(a .bin of another .param?)")
    return net



def convert(param_path: str, bin_path: str, out_path: str, name: str | None = None,
            value_range: tuple[float, float] = (0.0, 1.0), f32: bool = False) -> tuple[ModelWriter, Network]:
    """Reads the ncnn pair, writes OUT_PATH, returns (the writer, the walked network).
    Raises UnsupportedGraph naming the first layer the format cannot express."""
    with open(param_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    with open(bin_path, "rb") as f:
        data = f.read()
    net = walk(parse_param(text), _Weights(data))
    stem = os.path.splitext(os.path.basename(param_path))[0]
    if net.downscale and not name:
        for suffix in ("-x2", "-x3"):  # realesr-animevideov3-x2: the x4 network
            if stem.endswith(suffix):
                stem = stem[:-len(suffix)] + f"-x{net.scale}"
    w = ModelWriter(name=name or stem, scale=net.scale, value_range=value_range,
                    residual="nearest" if net.residual else None, plane="rgb" if net.channels == 3 else "luma")
    # Arrays come as (array, its storage type in the .bin).
    w.add_layers(net.layers, lambda pair: finite_tensor(pair[0], "F32" if f32 else pair[1], UnsupportedGraph,
                                                        param_path))
    w.save(out_path)
    return w, net


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("param", help="the ncnn .param (text)")
    ap.add_argument("bin", help="its .bin")
    ap.add_argument("-o", "--output", required=True, help="the espcn model file to write (.safetensors)")
    ap.add_argument("--name", help="the model's name (default: the .param's stem; -x2/-x3 of a network "
                                   "ending in a downscale become the network's own scale)")
    ap.add_argument("--range", type=parse_range, default=(0.0, 1.0), metavar="LO,HI",
                    help="the network's value range (default 0,1)")
    ap.add_argument("--f32", action="store_true", help="store fp16 weights as float32 (they are exact either way)")
    a = ap.parse_args(argv)
    try:
        w, net = convert(a.param, a.bin, a.output, a.name, a.range, a.f32)
    except UnsupportedGraph as e:
        print(f"ncnn_import: {a.param}: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"ncnn_import: {e}", file=sys.stderr)
        return 1
    print(f"wrote {a.output}: {w.summary(plane=True)}")
    if net.downscale:
        print(f"note: {net.downscale} is not part of the file written: it is the x{net.scale} network, which "
              f"espcn runs at x{net.scale} (-vf espcn=scale={net.scale}); for the ncnn file's own output, "
              f"downscale afterwards (e.g. -vf espcn=scale={net.scale}:model=...,scale=iw*{net.downscale_factor:g}:"
              f"ih*{net.downscale_factor:g}:flags=bicubic)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
