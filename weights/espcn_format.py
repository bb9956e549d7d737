"""Write and read espcn model files (weights/FORMAT.md) from Python.

Pure standard library: no numpy, torch or safetensors package is needed to
write or read a file (finite_tensor, for the importers' numpy arrays, imports
numpy when called). `export_pytorch.py` builds on this to export
nn.Sequential models, `onnx_export.py` / `onnx_import.py` to convert to and
from ONNX, `ncnn_import.py` to convert from ncnn; the importers share
ModelWriter.add_layers, finite_tensor, parse_range and ModelWriter.summary.
"""
from __future__ import annotations

import argparse
import json
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

FORMAT_VERSION = "1"
FORMAT_VERSION_RESIDUAL = "2"  # "1" + the network's "residual" field (FORMAT.md)


@dataclass
class Tensor:
    shape: Sequence[int]
    values: Sequence[float]  # row-major, len == prod(shape)
    dtype: str = "F32"       # "F32" or "F16"

    def encode(self) -> bytes:
        n = 1
        for d in self.shape:
            n *= d
        if len(self.values) != n:
            raise ValueError(f"tensor of shape {tuple(self.shape)} needs {n} values, got {len(self.values)}")
        code = {"F32": "f", "F16": "e"}[self.dtype]
        return struct.pack(f"<{n}{code}", *self.values)


@dataclass
class ModelWriter:
    """Collects layers in order and writes one .safetensors file."""
    name: str
    scale: int
    value_range: tuple[float, float] = (0.0, 1.0)
    residual: str | None = None  # None or "nearest" (FORMAT.md "residual")
    plane: str = "luma"          # "luma" (1 channel in and out) or "rgb" (R, G, B)
    layers: list[dict] = field(default_factory=list)
    tensors: dict[str, Tensor] = field(default_factory=dict)

    def _add(self, name: str, t: Tensor) -> str:
        if name in self.tensors:
            raise ValueError(f"duplicate tensor name {name!r}")
        self.tensors[name] = t
        return name

    def conv(self, prefix: str, weight: Tensor, bias: Tensor | None) -> None:
        out_c, in_c, k, k2 = weight.shape
        if k != k2 or k % 2 == 0:
            raise ValueError("conv kernels must be square and odd ('same' padding)")
        self.layers.append({
            "type": "conv", "in": in_c, "out": out_c, "kernel": k, "padding": "same",
            "weight": self._add(prefix + ".weight", weight),
            "bias": self._add(prefix + ".bias", bias) if bias is not None else None,
        })

    def activation(self, kind: str) -> None:
        if kind not in ("relu", "tanh", "sigmoid", "identity"):
            raise ValueError(f"unknown activation {kind!r}")
        self.layers.append({"type": kind})

    def prelu(self, prefix: str, slope: Tensor) -> None:
        self.layers.append({"type": "prelu", "weight": self._add(prefix + ".weight", slope)})

    def pixel_shuffle(self, order: str = "crd") -> None:
        self.layers.append({"type": "pixel_shuffle", "scale": self.scale, "order": order})

    def deconv(self, prefix: str, weight: Tensor, bias: Tensor | None, stride: int, padding: int,
               output_padding: int = 0) -> None:
        in_c, out_c, k, _ = weight.shape  # PyTorch ConvTranspose2d layout
        self.layers.append({
            "type": "deconv", "in": in_c, "out": out_c, "kernel": k, "stride": stride,
            "padding": padding, "output_padding": output_padding,
            "weight": self._add(prefix + ".weight", weight),
            "bias": self._add(prefix + ".bias", bias) if bias is not None else None,
        })

    def network(self) -> dict:
        if self.plane not in ("luma", "rgb"):
            raise ValueError(f"unknown plane {self.plane!r} (luma or rgb)")
        net = {"name": self.name, "scale": self.scale, "plane": self.plane,
               "range": list(self.value_range), "layers": self.layers}
        if self.residual is not None:
            if self.residual != "nearest":
                raise ValueError(f"unknown residual {self.residual!r} (nearest)")
            net["residual"] = self.residual
        return net

    def to_bytes(self) -> bytes:
        version = FORMAT_VERSION if self.residual is None else FORMAT_VERSION_RESIDUAL
        header: dict = {"__metadata__": {"espcn.format": version,
                                         "espcn.network": json.dumps(self.network())}}
        data = bytearray()
        for name, t in self.tensors.items():
            raw = t.encode()
            header[name] = {"dtype": t.dtype, "shape": list(t.shape),
                            "data_offsets": [len(data), len(data) + len(raw)]}
            data += raw
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)  # align the data section, as safetensors does
        return struct.pack("<Q", len(text)) + text + bytes(data)

    def save(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self.to_bytes())

    def add_layers(self, layers: Iterable, tensor: Callable[[Any], Tensor]) -> None:
        """Appends a network an importer walked: `layers` as (kind, fields,
        arrays) in order, kind "conv" (arrays weight, bias optional), "deconv"
        (the same; fields stride, padding, output_padding), "pixel_shuffle"
        (fields order), "prelu" (arrays weight) or an activation's name; each
        array made a Tensor by `tensor`. Tensors are named layer<i>.weight/.bias."""
        for i, (kind, fields, arrays) in enumerate(layers):
            p = f"layer{i}"
            bias = tensor(arrays["bias"]) if "bias" in arrays else None
            if kind == "conv":
                self.conv(p, tensor(arrays["weight"]), bias)
            elif kind == "deconv":
                self.deconv(p, tensor(arrays["weight"]), bias, **fields)
            elif kind == "pixel_shuffle":
                self.pixel_shuffle(fields["order"])
            elif kind == "prelu":
                self.prelu(p, tensor(arrays["weight"]))
            else:
                self.activation(kind)

    def summary(self, plane: bool = False) -> str:
        """'NAME, xR[, PLANE]: LAYER TYPES[ + RESIDUAL residual]': what an importer
        reports of the file it wrote."""
        kinds = " ".join(layer["type"] for layer in self.layers)
        return (f"{self.name}, x{self.scale}{', ' + self.plane if plane else ''}: {kinds}"
                + (f" + {self.residual} residual" if self.residual else ""))


def finite_tensor(values, dtype: str, error: type[Exception], where: str) -> Tensor:
    """`values` (an array-like) rounded to float32, stored as `dtype`; raises
    error("WHERE: a weight holds NaN or Inf") where one does. Needs numpy
    (imported here, when called: the importers' arrays are numpy's)."""
    import numpy as np
    a = np.asarray(values, dtype=np.float32)
    if not np.all(np.isfinite(a)):
        raise error(f"{where}: a weight holds NaN or Inf")
    return Tensor(list(a.shape), a.ravel().tolist(), dtype)


def parse_range(text: str) -> tuple[float, float]:
    """An argparse type: a value range "LO,HI" with LO < HI (the importers' --range)."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not LO,HI") from None
    if not lo < hi:
        raise argparse.ArgumentTypeError(f"'{text}': LO must be below HI")
    return lo, hi


def flatten(values: Iterable) -> list[float]:
    """Nested lists -> flat row-major list."""
    out: list[float] = []
    for v in values:
        if isinstance(v, (list, tuple)):
            out.extend(flatten(v))
        else:
            out.append(float(v))
    return out


def channels_of(network: dict) -> int:
    """Image channels the network reads and writes: 1 ("plane": "luma") or 3 ("rgb")."""
    return 3 if network.get("plane", "luma") == "rgb" else 1


def residual_of(network: dict):
    """The network's global residual (FORMAT.md "residual"): None when it has none (field
    absent, null or "none"), else the field's value as written ("nearest", or something a
    reader must refuse)."""
    r = network.get("residual")
    return None if r in (None, "none") else r


def read_model(path: str) -> tuple[dict, dict[str, Tensor]]:
    """(the `espcn.network` document, {tensor name: Tensor}) of a model file.

    Checks only what reading needs (the safetensors framing, the two metadata
    keys, format version "1" or "2" and "2" for a residual, dtypes, offsets and
    element counts); the engine's loader is the judge of everything else
    (FORMAT.md's rules). Raises ValueError, with the path, for a file it cannot read."""
    _, network, tensors = read_versioned_model(path)
    return network, tensors


def read_versioned_model(path: str) -> tuple[str, dict, dict[str, Tensor]]:
    """read_model's result after the file's `espcn.format` ("1" or "2"), for a reader
    that cannot hold everything version "2" adds and refuses such a file
    (export_ffmpeg_native.py)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} runs past the end of the file ({len(raw)} bytes)")
    try:
        header = json.loads(raw[8:8 + n])
        meta = header.get("__metadata__", {})
        version = meta.get("espcn.format")
        if version not in (FORMAT_VERSION, FORMAT_VERSION_RESIDUAL):
            raise ValueError(f"espcn.format is {version!r}, expected {FORMAT_VERSION!r} or "
                             f"{FORMAT_VERSION_RESIDUAL!r}")
        network = json.loads(meta["espcn.network"])
        # As the engine's loader: a residual needs version "2", so that a reader of "1" never
        # drops it silently. Its value is the engine's (or the converter's) to judge.
        if residual_of(network) is not None and version != FORMAT_VERSION_RESIDUAL:
            raise ValueError(f"residual {network.get('residual')!r} needs espcn.format "
                             f"{FORMAT_VERSION_RESIDUAL!r}, not {version!r}")
    except (ValueError, KeyError, AttributeError) as e:
        raise ValueError(f"{path}: not an espcn model: {e}") from None
    body = raw[8 + n:]
    tensors: dict[str, Tensor] = {}
    for name, d in header.items():
        if name == "__metadata__":
            continue
        dtype = d.get("dtype")
        if dtype not in ("F32", "F16"):
            raise ValueError(f"{path}: tensor {name!r} has dtype {dtype!r}; the format holds F32 and F16")
        size = {"F32": 4, "F16": 2}[dtype]
        shape = list(d["shape"])
        count = 1
        for dim in shape:
            count *= dim
        begin, end = d["data_offsets"]
        if not 0 <= begin <= end <= len(body) or end - begin != count * size:
            raise ValueError(f"{path}: tensor {name!r}: data_offsets {begin}..{end} do not hold "
                             f"{count} {dtype} values inside the {len(body)}-byte data section")
        code = {"F32": "f", "F16": "e"}[dtype]
        tensors[name] = Tensor(shape, list(struct.unpack(f"<{count}{code}", body[begin:end])), dtype)
    return version, network, tensors
