#!/usr/bin/env python3
"""Writes the PyTorch fixture that tests/unit/test_deconv_fixture.cpp checks the engine against.

For each shipped FSRCNN-style model (weights/fsrcnn-x<r>.safetensors): the file's tensors
are loaded into the nn.Sequential of models.fsrcnn(r) -- an nn.ConvTranspose2d upsampler,
run by PyTorch's own ConvTranspose2d (not the training shortcut) -- and evaluated in float32
on a fixed 8-bit LR plane (37 x 29: odd; edges, a gradient, seeded noise). Written to
tests/data/deconv_fixture/:

    lr.pgm                     the input plane (8-bit)
    fsrcnn-x<r>.torch.f32      PyTorch's output, unclamped float32 little-endian, row-major
                               (37r x 29r), on the network's [0, 1] scale
    fixture.json               sizes, torch version, and the sha256 of each model file used

The test needs no PyTorch. Regenerate after retraining (the test compares the file's
sha256 through tests/python/test_shipped_weights.py):

    /usr/bin/python3 weights/train/make_deconv_fixture.py
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import models  # noqa: E402

W, H = 37, 29


def load_model(path: str, r: int) -> torch.nn.Sequential:
    """The file's weights in models.fsrcnn(r): a plain nn.ConvTranspose2d upsampler."""
    net, _ = models.read_espcn_file(path)
    assert net["layers"][-1]["type"] == "deconv", f"{path} has no deconvolution upsampler"
    model = models.fsrcnn(r)
    models.load_espcn_file(model, path)
    assert isinstance(list(model)[-1], torch.nn.ConvTranspose2d)
    return model.eval()


def lr_plane() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    img = 40 + 150 * x / (W - 1)
    img[(x > 8) & (x < 20) & (y > 5) & (y < 17)] = 230   # a bright square: edges and corners
    img[np.abs(x - y - 10) < 1.5] = 15                     # a dark diagonal line
    rng = np.random.default_rng(5)
    img[20:, 24:] = rng.integers(0, 256, (H - 20, W - 24))  # texture
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def main() -> int:
    out_dir = os.path.join(REPO, "tests", "data", "deconv_fixture")
    os.makedirs(out_dir, exist_ok=True)
    lr = lr_plane()
    with open(os.path.join(out_dir, "lr.pgm"), "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (W, H) + lr.tobytes())
    info = {"lr": "lr.pgm", "width": W, "height": H, "torch": torch.__version__, "models": {}}
    torch.set_num_threads(1)
    for r in (2, 3, 4):
        path = os.path.join(REPO, "weights", f"fsrcnn-x{r}.safetensors")
        model = load_model(path, r)
        with torch.no_grad():
            x = torch.from_numpy(lr.astype(np.float32) / np.float32(255))[None, None]
            y = model(x)[0, 0].numpy().astype("<f4")  # nn.ConvTranspose2d itself
        assert y.shape == (H * r, W * r), y.shape
        name = f"fsrcnn-x{r}.torch.f32"
        y.tofile(os.path.join(out_dir, name))
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        info["models"][f"fsrcnn-x{r}.safetensors"] = {"scale": r, "output": name, "sha256": digest}
        print(f"x{r}: {name}, output range [{y.min():.4f}, {y.max():.4f}]")
    with open(os.path.join(out_dir, "fixture.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
