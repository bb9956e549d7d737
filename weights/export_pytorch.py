#!/usr/bin/env python3
"""Export a PyTorch super-resolution model to the espcn format.

The model must be an nn.Sequential (nested Sequentials are flattened) of
Conv2d ('same' padding, stride 1), ReLU / Tanh / Sigmoid / PReLU / Identity,
ending in either Conv2d + PixelShuffle or ConvTranspose2d, on one (luma)
channel with values in [0, 1]. Example:

    import torch.nn as nn
    from export_pytorch import export
    net = nn.Sequential(nn.Conv2d(1, 64, 5, padding=2), nn.Tanh(),
                        nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
                        nn.Conv2d(32, 4, 3, padding=1), nn.PixelShuffle(2))
    export(net, scale=2, name="my-espcn-x2", path="my-espcn-x2.safetensors")

Then: espcn-cli --info -m my-espcn-x2.safetensors
"""
from __future__ import annotations

import argparse
import sys

from espcn_format import ModelWriter, Tensor


def _tensor(t, half: bool) -> Tensor:
    t = t.detach().to("cpu").float().contiguous()
    return Tensor(list(t.shape), t.flatten().tolist(), "F16" if half else "F32")


def _layers(module):
    import torch.nn as nn
    for m in module.children() if isinstance(module, nn.Sequential) else [module]:
        if isinstance(m, nn.Sequential):
            yield from _layers(m)
        else:
            yield m


def export(model, scale: int, name: str, path: str, half: bool = False,
           shuffle_order: str = "crd", residual: str | None = None) -> None:
    """residual: None, or "nearest" (FORMAT.md: the input, upsampled by pixel replication, is
    added to the network's output; the model must have been trained that way)."""
    import torch.nn as nn
    w = ModelWriter(name=name, scale=scale, residual=residual)
    for i, m in enumerate(_layers(model)):
        p = f"layer{i}"
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0]
            if m.kernel_size != (k, k) or m.stride != (1, 1) or m.padding != (k // 2, k // 2) \
                    or m.dilation != (1, 1) or m.groups != 1:
                raise ValueError(f"{p}: Conv2d must be square, stride 1, padding k//2, no groups/dilation")
            w.conv(p, _tensor(m.weight, half), _tensor(m.bias, half) if m.bias is not None else None)
        elif isinstance(m, nn.ConvTranspose2d):
            k, s = m.kernel_size[0], m.stride[0]
            if m.kernel_size != (k, k) or m.stride != (s, s) or m.padding[0] != m.padding[1] \
                    or m.output_padding[0] != m.output_padding[1] or m.groups != 1 or m.dilation != (1, 1):
                raise ValueError(f"{p}: ConvTranspose2d must be square and symmetric")
            if s != scale:
                raise ValueError(f"{p}: stride {s} differs from scale {scale}")
            w.deconv(p, _tensor(m.weight, half), _tensor(m.bias, half) if m.bias is not None else None,
                     stride=s, padding=m.padding[0], output_padding=m.output_padding[0])
        elif isinstance(m, nn.PixelShuffle):
            if m.upscale_factor != scale:
                raise ValueError(f"{p}: PixelShuffle factor {m.upscale_factor} differs from scale {scale}")
            w.pixel_shuffle(shuffle_order)
        elif isinstance(m, nn.PReLU):
            w.prelu(p, _tensor(m.weight, half))
        elif isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity)):
            w.activation({nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid",
                          nn.Identity: "identity"}[type(m)])
        else:
            raise ValueError(f"{p}: {type(m).__name__} is not supported by the espcn format")
    w.save(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="a file saved with torch.save(model) (a whole nn.Sequential)")
    ap.add_argument("output")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--name", default=None)
    ap.add_argument("--f16", action="store_true", help="store weights as float16")
    a = ap.parse_args(argv)
    import torch
    model = torch.load(a.checkpoint, map_location="cpu", weights_only=False)
    export(model, a.scale, a.name or a.output.rsplit("/", 1)[-1].split(".")[0], a.output, a.f16)
    print(f"wrote {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
