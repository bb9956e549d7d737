"""A deconvolution (PyTorch ConvTranspose2d) as the LR convolution + CRD pixel shuffle
the engine runs in its place (Shi et al. 2016): a port of kernels/core/deconv_taps.hpp and
deconv_conversion.cpp, in Python's standard library.

One conversion for the Python tools: weights/export_ffmpeg_native.py writes it into FFmpeg's
native format, bench/cpu_peers.py gives it to ONNX Runtime and OpenVINO as the "LR form" of
a deconvolution model (`lr_form`).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from espcn_format import Tensor  # noqa: E402


def _floor_div(a: int, b: int) -> int:
    return a // b  # Python floors for b > 0


def _ceil_div(a: int, b: int) -> int:
    return -_floor_div(-a, b)


def deconv_lr_radius(kernel: int, stride: int, pad: int) -> int:
    """R of the (2R+1) x (2R+1) LR kernel that holds every tap of the deconvolution."""
    d_max = _floor_div(kernel - 1 - pad, stride)
    d_min = _ceil_div(-(stride - 1) - pad, stride)
    return max(max(d_max, 0), max(-d_min, 0))


def deconv_tap_for_lr_tap(lr_tap: int, radius: int, phase: int, kernel: int, stride: int,
                          pad: int) -> int:
    """The deconvolution tap that LR tap `lr_tap` of output phase `phase` reads, or -1."""
    k = (radius - lr_tap) * stride + phase + pad
    return k if 0 <= k < kernel else -1


def deconv_to_lr_conv(cin: int, cout: int, kernel: int, r: int, pad: int, output_pad: int,
                      weight: list, bias: list | None):
    """(in, out, K, K) ConvTranspose2d weights of stride r (flat, row-major) -> (out*r*r
    outputs, k, flat (out*r*r, in, k, k) weights, out*r*r biases) of the LR conv that a CRD
    shuffle by r follows. ValueError unless the deconvolution makes exactly r x its input."""
    if kernel - 2 * pad + output_pad != r:
        raise ValueError(f"deconv: kernel {kernel} - 2*padding {pad} + output_padding {output_pad}"
                         f" = {kernel - 2 * pad + output_pad}, not the scale {r}")
    radius = deconv_lr_radius(kernel, r, pad)
    k = 2 * radius + 1
    oc_n = cout * r * r
    w = [0.0] * (oc_n * cin * k * k)
    b = [0.0] * oc_n
    for o in range(cout):
        for a in range(r):
            for bb in range(r):
                oc = (o * r + a) * r + bb  # CRD
                b[oc] = bias[o] if bias is not None else 0.0
                for i in range(cin):
                    for ty in range(k):
                        ky = deconv_tap_for_lr_tap(ty, radius, a, kernel, r, pad)
                        if ky < 0:
                            continue
                        for tx in range(k):
                            kx = deconv_tap_for_lr_tap(tx, radius, bb, kernel, r, pad)
                            if kx < 0:
                                continue
                            w[((oc * cin + i) * k + ty) * k + tx] = weight[((i * cout + o) * kernel + ky) * kernel + kx]
    return oc_n, k, w, b


def lr_form(network: dict, tensors: dict[str, Tensor]) -> tuple[dict, dict[str, Tensor]]:
    """(network, tensors) as espcn_format.read_model returns them, with every deconv layer
    replaced by its LR conv (F32 weight and bias, named after the deconv's weight) and a
    pixel_shuffle of the deconv's stride in CRD order; the inputs are left as they are."""
    layers, out_tensors = [], dict(tensors)
    for layer in network["layers"]:
        if layer["type"] != "deconv":
            layers.append(layer)
            continue
        w = tensors[layer["weight"]]
        cin, cout, kernel = int(w.shape[0]), int(w.shape[1]), int(w.shape[2])
        stride = int(layer["stride"])
        bias = tensors[layer["bias"]].values if layer.get("bias") else None
        oc, k, lw, lb = deconv_to_lr_conv(cin, cout, kernel, stride, int(layer.get("padding", 0)),
                                          int(layer.get("output_padding", 0)), w.values, bias)
        name = f"{layer['weight']}.lr"
        if name + ".weight" in out_tensors or name + ".bias" in out_tensors:
            raise ValueError(f"lr_form: the file already has a tensor named {name}.weight or .bias")
        out_tensors[name + ".weight"] = Tensor([oc, cin, k, k], lw)
        out_tensors[name + ".bias"] = Tensor([oc], lb)
        layers.append({"type": "conv", "in": cin, "out": oc, "kernel": k, "padding": "same",
                       "weight": name + ".weight", "bias": name + ".bias"})
        layers.append({"type": "pixel_shuffle", "scale": stride, "order": "crd"})
    return dict(network, layers=layers), out_tensors
