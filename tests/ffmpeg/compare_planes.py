#!/usr/bin/env python3
"""Raw-frame checks for test_filter_rgb.sh (needs numpy).

  compare_planes.py replicate IN OUT FMT W H R [TOL]
      OUT (FMT, W*R x H*R, one frame) is IN (FMT, W x H) with every sample
      replicated R x R: for formats without subsampling (gbrp*, rgb24, ...).
  compare_planes.py roundtrip IN OUT FMT W H R FILTER [TOL]
      Y'CbCr 4:2:0 through an identity network at x2: Y' replicated; each
      output chroma sample (one per input pixel) the input chroma interpolated
      at that pixel with FILTER (nearest or bicubic, as espcn_upscale_plane:
      centres aligned, edges clamped, float32, rounded half up). Prints the
      worst differences.
  compare_planes.py alpha IN OUT FMT W H R [TOL]
      The alpha plane (the 4th plane of yuva*/gbrap) of OUT is the bicubic
      upscale (as above) of IN's.
  compare_planes.py make FMT OUT W H MATRIX RANGE
      Writes one smooth, in-gamut frame (yuv420p10le or yuva420p; MATRIX
      bt709, bt601 or bt2020, RANGE tv or pc): R, G, B gradients in [0.2, 0.8]
      converted, chroma the mean of each 2x2 block; yuva420p's alpha a ramp.
Exit status 0 when every sample is within TOL (default 0; 1 for the others).
"""
from __future__ import annotations

import sys

import numpy as np

# planes of FMT: (bytes per sample, [(width divisor log2, height divisor log2)] per plane, samples per pixel)
FORMATS = {
    "gbrp": (1, [(0, 0)] * 3, 1), "gbrp10le": (2, [(0, 0)] * 3, 1), "gbrp16le": (2, [(0, 0)] * 3, 1),
    "gbrap": (1, [(0, 0)] * 4, 1),
    "rgb24": (1, [(0, 0)], 3), "bgr24": (1, [(0, 0)], 3), "rgb48le": (2, [(0, 0)], 3), "bgr48le": (2, [(0, 0)], 3),
    "yuv420p": (1, [(0, 0), (1, 1), (1, 1)], 1), "yuv420p10le": (2, [(0, 0), (1, 1), (1, 1)], 1),
    "yuva420p": (1, [(0, 0), (1, 1), (1, 1), (0, 0)], 1),
    "yuva420p10le": (2, [(0, 0), (1, 1), (1, 1), (0, 0)], 1),
    "yuv444p": (1, [(0, 0)] * 3, 1),
}


def planes(path: str, fmt: str, w: int, h: int) -> list[np.ndarray]:
    bps, layout, spp = FORMATS[fmt]
    raw = np.fromfile(path, dtype=np.uint8 if bps == 1 else "<u2").astype(np.int64)
    out, at = [], 0
    for lw, lh in layout:
        pw, ph = -(-w // (1 << lw)), -(-h // (1 << lh))
        n = pw * ph * spp
        out.append(raw[at:at + n].reshape(ph, pw * spp))
        at += n
    if at != raw.size:
        sys.exit(f"{path}: {raw.size} samples, {fmt} {w}x{h} has {at}")
    return out


def keys(x: np.ndarray) -> np.ndarray:
    a = np.float32(-0.5)
    x = np.abs(x).astype(np.float32)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, np.float32(0))).astype(np.float32)


def taps(kind: str, n_out: int, r: int):
    j = np.arange(n_out, dtype=np.float32)
    u = (j + np.float32(0.5)) / np.float32(r) - np.float32(0.5)
    base = np.floor(u).astype(np.int64)
    t = (u - base).astype(np.float32)
    if kind == "nearest":
        return [(np.where(t < 0.5, base, base + 1), np.ones_like(t))]
    return [(base - 1, keys(1 + t)), (base, keys(t)), (base + 1, keys(1 - t)), (base + 2, keys(2 - t))]


def upscale(p: np.ndarray, out_w: int, out_h: int, r: int, kind: str) -> np.ndarray:
    """espcn's resampler in float32: horizontal pass, vertical pass, round half up, clamp."""
    src = p.astype(np.float32)
    h, w = src.shape
    rows = np.zeros((h, out_w), np.float32)
    for idx, wt in taps(kind, out_w, r):
        rows += src[:, np.clip(idx, 0, w - 1)] * wt[None, :]
    out = np.zeros((out_h, out_w), np.float32)
    for idx, wt in taps(kind, out_h, r):
        out += rows[np.clip(idx, 0, h - 1), :] * wt[:, None]
    return out


def report(name: str, got: np.ndarray, want: np.ndarray, tol: int) -> bool:
    d = np.abs(got.astype(np.int64) - np.rint(want).astype(np.int64))
    worst = int(d.max())
    print(f"{name}: max |diff| {worst}, {int(np.count_nonzero(d))} of {d.size} samples differ")
    return worst <= tol


KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722), "bt2020": (0.2627, 0.0593)}


def make(fmt: str, out: str, w: int, h: int, matrix: str, rng: str) -> int:
    bits = 10 if fmt == "yuv420p10le" else 8
    kr, kb = KR_KB[matrix]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 0.2 + 0.6 * x / w
    g = 0.3 + 0.4 * y / h
    b = 0.5 + 0.3 * np.sin(0.2 * (x + y))
    luma = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = (b - luma) / (2 * (1 - kb)), (r - luma) / (2 * (1 - kr))
    unit = 1 << (bits - 8)
    if rng == "tv":
        yc, cc = 16 * unit + 219 * unit * luma, (128 * unit, 224 * unit)
    else:
        yc, cc = ((1 << bits) - 1) * luma, (1 << (bits - 1), (1 << bits) - 1)

    def sub(c):  # the mean of each 2x2 block (odd sizes: what there is)
        hh, ww = -(-h // 2), -(-w // 2)
        p = np.pad(c, ((0, hh * 2 - h), (0, ww * 2 - w)), mode="edge")
        return p.reshape(hh, 2, ww, 2).mean(axis=(1, 3))
    planes = [yc, cc[0] + cc[1] * sub(cb), cc[0] + cc[1] * sub(cr)]
    if fmt == "yuva420p":
        planes.append((7 * x + 3 * y) % 256)
    dtype = np.uint8 if bits == 8 else "<u2"
    with open(out, "wb") as f:
        for p in planes:
            f.write(np.rint(p).astype(dtype).tobytes())
    return 0


def main() -> int:
    if sys.argv[1] == "make":
        fmt, out = sys.argv[2:4]
        return make(fmt, out, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7])
    mode, a, b, fmt = sys.argv[1:5]
    w, h, r = (int(x) for x in sys.argv[5:8])
    pin, pout = planes(a, fmt, w, h), planes(b, fmt, w * r, h * r)
    ok = True
    if mode == "replicate":
        tol = int(sys.argv[8]) if len(sys.argv) > 8 else 0
        spp = FORMATS[fmt][2]
        for k, (p, q) in enumerate(zip(pin, pout)):
            want = np.repeat(np.repeat(p.reshape(h, w, spp), r, 0), r, 1).reshape(h * r, w * r * spp)
            ok &= report(f"plane {k}", q, want, tol)
    elif mode == "roundtrip":
        kind = sys.argv[8]
        tol = int(sys.argv[9]) if len(sys.argv) > 9 else 1
        ok &= report("Y'", pout[0], np.repeat(np.repeat(pin[0], r, 0), r, 1), tol)
        for k, name in ((1, "Cb"), (2, "Cr")):
            # The output's chroma of a x2 4:2:0 frame has the input's luma size.
            want = np.floor(np.clip(upscale(pin[k], w, h, 2, kind), 0, None) + np.float32(0.5))
            ok &= report(name, pout[k], want, tol)
    elif mode == "alpha":
        tol = int(sys.argv[8]) if len(sys.argv) > 8 else 1
        top = 255 if FORMATS[fmt][0] == 1 else 1023 if "10" in fmt else 65535
        want = np.floor(np.clip(upscale(pin[3], w * r, h * r, r, "bicubic"), 0, top) + np.float32(0.5))
        ok &= report("alpha", pout[3], want, tol)
    else:
        sys.exit(f"unknown mode {mode}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
