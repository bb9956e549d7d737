#!/usr/bin/env python3
"""Exports four PyTorch super-resolution nets to ONNX for test_onnx_pytorch.py.

Runs under a python that has torch and numpy (not the onnx package: the
TorchScript exporter writes the protobuf itself). For each net, with seeded
weights, writes into OUTDIR:
  NAME.onnx       torch.onnx.export, opset 13 (PixelShuffle -> DepthToSpace CRD;
                  F.interpolate(mode="nearest") -> Resize asymmetric + floor)
  NAME.in.u16     the LR plane, H x W little-endian uint16 (sample v is v/65535)
  NAME.out.f32    PyTorch's output on it, float32, (r*H) x (r*W)
and OUTDIR/cases.json ([{"name", "scale", "width", "height"}], torch's version).

  onnx_torch_models.py OUTDIR
"""
import inspect
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

W, H = 23, 17


def espcn(r):
    return nn.Sequential(nn.Conv2d(1, 64, 5, padding=2), nn.Tanh(), nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
                         nn.Conv2d(32, r * r, 3, padding=1), nn.PixelShuffle(r))


def fsrcnn(r):
    layers = [nn.Conv2d(1, 56, 5, padding=2), nn.PReLU(56), nn.Conv2d(56, 12, 1), nn.PReLU(12)]
    for _ in range(4):
        layers += [nn.Conv2d(12, 12, 3, padding=1), nn.PReLU(12)]
    layers += [nn.Conv2d(12, 56, 1), nn.PReLU(56),
               nn.ConvTranspose2d(56, 1, 9, stride=r, padding=4, output_padding=r - 1)]
    return nn.Sequential(*layers)


def prelu_style(r):
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.PReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.PReLU(32),
                         nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, r * r, 3, padding=1),
                         nn.PixelShuffle(r), nn.Sigmoid())


class NearestResidual(nn.Module):
    """body(x) + x upsampled nearest: the format's global residual (FORMAT.md "residual")."""

    def __init__(self, body: nn.Sequential, r: int):
        super().__init__()
        self.body, self.r = body, r

    def forward(self, x):
        return self.body(x) + F.interpolate(x, scale_factor=self.r, mode="nearest")


def espcn_residual(r):
    return NearestResidual(espcn(r), r)


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for seed, (name, builder, r) in enumerate([("espcn-x3", espcn, 3), ("fsrcnn-x2", fsrcnn, 2),
                                              ("prelu-x4", prelu_style, 4),
                                              ("espcn-residual-x3", espcn_residual, 3)]):
        torch.manual_seed(seed)
        net = builder(r).eval()
        seq = net.body if isinstance(net, NearestResidual) else net
        with torch.no_grad():  # centre the outputs in [0, 1] so few samples clamp
            last = [m for m in seq if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))][-1]
            if isinstance(net, NearestResidual):
                last.weight.mul_(0.3)  # the input, added, already lies in [0, 1]
            elif not isinstance(seq[-1], nn.Sigmoid):
                last.bias.add_(0.5)
            for m in seq:  # PReLU slopes away from PyTorch's uniform 0.25
                if isinstance(m, nn.PReLU):
                    m.weight.uniform_(0.05, 0.4)
        plane = np.random.default_rng(seed + 100).integers(0, 65536, size=(H, W), dtype=np.uint16)
        x = torch.from_numpy(plane.astype(np.float32) / np.float32(65535.0)).reshape(1, 1, H, W)
        with torch.no_grad():
            y = net(x)[0, 0].numpy().astype(np.float32)
        kwargs = {"opset_version": 13, "input_names": ["lr"], "output_names": ["sr"],
                  "dynamic_axes": {"lr": {2: "H", 3: "W"}, "sr": {2: "rH", 3: "rW"}}}
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            kwargs["dynamo"] = False  # the TorchScript exporter: needs no onnx/onnxscript package
        torch.onnx.export(net, x, str(out / f"{name}.onnx"), **kwargs)
        plane.astype("<u2").tofile(out / f"{name}.in.u16")
        y.astype("<f4").tofile(out / f"{name}.out.f32")
        cases.append({"name": name, "scale": r, "width": W, "height": H})
    (out / "cases.json").write_text(json.dumps({"torch": torch.__version__, "cases": cases}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
