#!/usr/bin/env python3
"""ncnn's own CPU output of an ncnn network as the oracle of espcn's (test_community.sh).

Runs under the venv weights/community.sh makes, with PyPI's `ncnn` (fp32
forced: no Vulkan, no fp16/bf16 storage or arithmetic, no int8) and numpy.

  community_check.py rgb PARAM BIN IN_RGB24 W H OURS_GBRP
      IN_RGB24: W x H packed 8-bit RGB (the PNG decoded); OURS_GBRP: espcn's
      output of it through `-vf format=gbrp,espcn` (planes G, B, R of
      4W x 4H). ncnn runs on RGB / 255.
  community_check.py dump PARAM BIN DIR
      Each DIR/NNNNNN-in.ppm (the 16-bit R, G, B planes espcn fed the network,
      ESPCN_DEBUG_RGB_DIR) through ncnn, against DIR/NNNNNN-out.ppm (what
      espcn's network wrote), both at 8 bits.

Both: every sample within 2 codes at 8 bits on at least 99.9% of samples (the
issue's bound); prints the figures. Exit status 1 when outside.
"""
from __future__ import annotations

import glob
import os
import sys

import numpy as np

MIN_SHARE = 99.9
MAX_CODES = 2


def ncnn_forward(param: str, bin_: str, rgb: np.ndarray, threads: int = 2) -> np.ndarray:
    """ncnn's CPU output (3, rH, rW), float32, of rgb (3, H, W) in [0, 1]."""
    import ncnn
    net = ncnn.Net()
    o = net.opt
    o.use_vulkan_compute = False
    for name in ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic", "use_bf16_storage",
                 "use_bf16_packed", "use_int8_inference", "use_int8_storage", "use_int8_arithmetic",
                 "use_int8_packed"):
        if hasattr(o, name):
            setattr(o, name, False)
    o.num_threads = threads
    if net.load_param(param) != 0 or net.load_model(bin_) != 0:
        sys.exit(f"ncnn cannot load {param} / {bin_}")
    x = np.ascontiguousarray(rgb, dtype=np.float32)
    m = ncnn.Mat(x)  # borrows x's memory: x stays alive until extract() returns
    ex = net.create_extractor()
    ex.input("data", m)
    ret, out = ex.extract("output")
    if ret != 0:
        sys.exit(f"ncnn extract failed: {ret}")
    y = np.array(out, copy=True)
    del ex, m, x
    return y


def to8(y: np.ndarray) -> np.ndarray:
    """A float in [0, 1] as an 8-bit code: clamped, rounded half up (the engine's rule)."""
    return np.floor(np.clip(y.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.int64)


def judge(what: str, ours8: np.ndarray, theirs8: np.ndarray) -> bool:
    if ours8.shape != theirs8.shape:
        print(f"{what}: shapes differ, ours {ours8.shape}, ncnn's {theirs8.shape}")
        return False
    d = np.abs(ours8 - theirs8)
    share = float(np.mean(d <= MAX_CODES)) * 100
    print(f"{what}: {d.size} samples at 8 bits: {float(np.mean(d == 0)) * 100:.3f}% equal, "
          f"{share:.4f}% within {MAX_CODES} codes, max {int(d.max())}, mean |diff| {float(d.mean()):.4f}")
    return share >= MIN_SHARE


def read_ppm16(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    if parts[0] != b"P6" or parts[3] != b"65535":
        sys.exit(f"{path}: not a 16-bit P6")
    w, h = int(parts[1]), int(parts[2])
    px = np.frombuffer(parts[4][:w * h * 6], dtype=">u2").reshape(h, w, 3)
    return px.transpose(2, 0, 1).astype(np.int64)


def main() -> int:
    mode = sys.argv[1]
    if mode == "rgb":
        param, bin_, src, w, h, ours = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
        rgb8 = np.fromfile(src, dtype=np.uint8).reshape(h, w, 3).transpose(2, 0, 1)
        theirs = to8(ncnn_forward(param, bin_, rgb8 / np.float32(255.0)))
        r = theirs.shape[1] // h
        g, b, rr = np.fromfile(ours, dtype=np.uint8).astype(np.int64).reshape(3, h * r, w * r)
        return 0 if judge(f"gbrp {w}x{h} -> {w * r}x{h * r}", np.stack([rr, g, b]), theirs) else 1
    if mode == "dump":
        param, bin_, d = sys.argv[2:5]
        ins = sorted(glob.glob(os.path.join(d, "*-in.ppm")))
        if not ins:
            print(f"no *-in.ppm in {d}: espcn converted nothing (ESPCN_DEBUG_RGB_DIR not seen?)")
            return 1
        ok = True
        for path in ins:
            x16 = read_ppm16(path)
            ours16 = read_ppm16(path.replace("-in.ppm", "-out.ppm"))
            theirs = to8(ncnn_forward(param, bin_, x16 / np.float32(65535.0)))
            ours = to8(ours16 / 65535.0)
            ok &= judge(f"{os.path.basename(path)} {x16.shape[2]}x{x16.shape[1]}", ours, theirs)
        return 0 if ok else 1
    sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main())
