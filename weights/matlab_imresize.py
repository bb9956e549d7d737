#!/usr/bin/env python3
"""MATLAB's imresize(A, scale, 'bicubic'), in numpy, for the super-resolution protocol.

Follows the algorithm of the Image Processing Toolbox's imresize.m (R2007a and later):

- kernel: Keys' cubic convolution, a = -0.5, width 4, written as MATLAB writes it;
- shrinking (scale < 1) antialiases: the kernel becomes h(x) = scale * cubic(scale * x) and its
  width 4 / scale (the kernel stretched by r = 1/scale, its weights scaled by 1/r);
- coordinates: output pixel x (1-based) samples the input at u = x/scale + 0.5*(1 - 1/scale);
- taps: left = floor(u - width/2), P = ceil(width) + 2 of them, weights normalized to sum 1,
  all-zero tap columns dropped;
- boundary: indices outside the image are reflected, aux = [1:n, n:-1:1] (the edge pixel
  repeated, "symmetric"), as MATLAB since about R2016b. Older releases clamped (replicated
  the edge pixel); pass edge="replicate" for that;
- separable: one dimension after the other, the one with the smaller scale first; with equal
  scales (always here) dimension 1, the rows axis (the height), first;
- output size: ceil(scale * size), as MATLAB computes it;
- class: float64 arithmetic. A uint8 input gives a uint8 output, and MATLAB's imresizemex
  returns the input's class after *each* dimension, so a uint8 image is rounded (half away
  from zero) and saturated to uint8 after the first pass as well as after the second. Float
  input stays float64 with no rounding at all (MATLAB on double images).

numpy only. `python3 matlab_imresize.py` runs the self-checks.
"""
from __future__ import annotations

import math
import sys

import numpy as np

__all__ = ["cubic", "contributions", "imresize", "downscale", "upscale"]


def cubic(x: np.ndarray) -> np.ndarray:
    """MATLAB's cubic() (Keys, a = -0.5), same expression and support (|x| <= 2)."""
    absx = np.abs(x)
    absx2 = absx ** 2
    absx3 = absx ** 3
    return ((1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1)
            + (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * ((1 < absx) & (absx <= 2)))


def contributions(in_length: int, out_length: int, scale: float, kernel_width: float = 4.0,
                  antialiasing: bool = True, edge: str = "symmetric"):
    """MATLAB's contributions(): (weights, indices), each out_length x taps; indices 0-based."""
    if scale < 1 and antialiasing:
        def h(x):
            return scale * cubic(scale * x)
        kernel_width = kernel_width / scale
    else:
        h = cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    p = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(p, dtype=np.float64)[None, :]  # 1-based, as MATLAB
    weights = h(u[:, None] - indices)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    idx = indices.astype(np.int64)
    if edge == "symmetric":
        aux = np.concatenate([np.arange(1, in_length + 1), np.arange(in_length, 0, -1)])
        idx = aux[np.mod(idx - 1, aux.size)]
    elif edge == "replicate":
        idx = np.clip(idx, 1, in_length)
    else:
        raise ValueError(f"edge must be 'symmetric' or 'replicate', not {edge!r}")
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], idx[:, keep] - 1


def _to_class(v: np.ndarray, dtype) -> np.ndarray:
    """MATLAB's conversion of double to an integer class: round half away from zero, saturate."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        v = np.where(v >= 0, np.floor(v + 0.5), np.ceil(v - 0.5))
        return np.clip(v, info.min, info.max).astype(dtype)
    return v


def _resize_along(a: np.ndarray, axis: int, weights: np.ndarray, indices: np.ndarray) -> np.ndarray:
    src = a.astype(np.float64, copy=False)
    shape = [1] * src.ndim
    shape[axis] = weights.shape[0]
    out = np.zeros(src.shape[:axis] + (weights.shape[0],) + src.shape[axis + 1:], np.float64)
    for k in range(weights.shape[1]):  # the taps in order, as MATLAB sums them
        out += weights[:, k].reshape(shape) * np.take(src, indices[:, k], axis=axis)
    return _to_class(out, a.dtype)


def imresize(a: np.ndarray, scale: float, edge: str = "symmetric",
             antialiasing: bool = True) -> np.ndarray:
    """imresize(A, scale, 'bicubic') for a 2-D (H, W) or 3-D (H, W, C) array.

    uint8/uint16 in -> same class out (rounded after each pass, as MATLAB);
    float in -> float64 out, unrounded and unclamped."""
    a = np.asarray(a)
    if a.ndim not in (2, 3):
        raise ValueError("expected an (H, W) or (H, W, C) array")
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"unsupported dtype {a.dtype}")
    scale = float(scale)
    if not scale > 0:
        raise ValueError("scale must be positive")
    scales = (scale, scale)
    out_size = [int(math.ceil(scale * n)) for n in a.shape[:2]]
    # dimensionOrder: [~, order] = sort(scale), a stable sort: rows (axis 0) first on ties.
    order = sorted(range(2), key=lambda d: scales[d])
    b = a
    for dim in order:
        w, i = contributions(a.shape[dim], out_size[dim], scales[dim], 4.0, antialiasing, edge)
        b = _resize_along(b, dim, w, i)
    return b


def downscale(a: np.ndarray, r: int, edge: str = "symmetric") -> np.ndarray:
    """imresize(A, 1/r, 'bicubic') (antialiased)."""
    return imresize(a, 1 / r, edge)


def upscale(a: np.ndarray, r: int, edge: str = "symmetric") -> np.ndarray:
    """imresize(A, r, 'bicubic')."""
    return imresize(a, r, edge)


# ----------------------------------------------------------------------------- self-checks

def _self_check() -> None:
    # The x1/2 antialiased bicubic weights (MATLAB's well-known 8 taps): cubic(d/2)/2 at
    # distances d = 3.5, 2.5, 1.5, 0.5 input pixels on each side; they already sum to 1.
    w, idx = contributions(16, 8, 0.5)
    expect = np.array([-0.0234375, -0.0703125, 0.2265625, 0.8671875,
                       0.8671875, 0.2265625, -0.0703125, -0.0234375]) / 2
    assert np.allclose(w[3], expect, atol=1e-15), w[3]
    assert list(idx[3]) == list(range(3, 11)), idx[3]
    # Edge taps mirror with the edge pixel repeated: output 0 of a x1/2 shrink reads
    # input -3..4 (0-based) -> 2 1 0 0 1 2 3 4.
    assert list(idx[0]) == [2, 1, 0, 0, 1, 2, 3, 4], idx[0]
    _, idx_r = contributions(16, 8, 0.5, edge="replicate")
    assert list(idx_r[0]) == [0, 0, 0, 0, 1, 2, 3, 4], idx_r[0]
    # Upscaling by 2: P = 6 candidate taps, the outer two zero for every output -> 4 kept.
    w, idx = contributions(8, 16, 2.0)
    assert w.shape[1] == 4 and np.allclose(w.sum(axis=1), 1)
    assert np.allclose(w[4], cubic(np.array([1.75, 0.75, -0.25, -1.25]))), w[4]
    for r in (2, 3, 4):
        # Constants stay constant, everywhere (edges too), in both directions and classes.
        for dtype in (np.uint8, np.float64):
            c = np.full((12 * r + 1, 9 * r), 137, dtype)
            d = downscale(c, r)
            assert d.shape == (math.ceil((12 * r + 1) / r), 9), d.shape
            # (float: up to rounding of the normalized weights, as in MATLAB on doubles)
            assert d.dtype == dtype and np.allclose(d, 137, rtol=0, atol=1e-12), (r, dtype)
            u = upscale(c, r)
            assert u.shape == ((12 * r + 1) * r, 9 * r * r) and np.allclose(u, 137, rtol=0, atol=1e-12)
        # A linear ramp is reproduced exactly away from the edges (the cubic kernel, plain or
        # stretched and normalized, reproduces linear functions): shrinking samples it at
        # u = (x + 0.5) r - 0.5, enlarging at u = (x + 0.5)/r - 0.5 (0-based).
        n = 40 * r
        ramp = np.tile(np.arange(n, dtype=np.float64), (3, 1)) * 0.5 + 10
        d = downscale(ramp, r)
        x = np.arange(d.shape[1])
        want = ((x + 0.5) * r - 0.5) * 0.5 + 10
        m = 2 * r  # 4r-tap kernel: 2 output pixels from each edge touch the mirror
        assert np.allclose(d[:, m:-m], want[m:-m], atol=1e-10), (r, d[0, m:-m] - want[m:-m])
        u = upscale(ramp, r)
        x = np.arange(u.shape[1])
        want = ((x + 0.5) / r - 0.5) * 0.5 + 10
        m = 2 * r
        assert np.allclose(u[:, m:-m], want[m:-m], atol=1e-10), r
        # In uint8 the ramp is rounded after each pass; the interior is the rounded ramp.
        ramp8 = np.tile(np.arange(20 * r, dtype=np.uint8) * 2 + 3, (2 * r, 1))
        d8 = downscale(ramp8, r)
        x = np.arange(d8.shape[1])
        want8 = np.floor(((x + 0.5) * r - 0.5) * 2 + 3 + 0.5)
        assert np.array_equal(d8[:, 2:-2], np.broadcast_to(want8[2:-2], d8[:, 2:-2].shape)), r
    # Order of passes: rows (height) first. On uint8 this is observable; check against a
    # direct two-pass computation.
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (31, 29), dtype=np.uint8)
    wr, ir = contributions(31, 11, 1 / 3)
    wc, ic = contributions(29, 10, 1 / 3)
    first = _to_class(np.einsum("ok,okw->ow", wr, img.astype(np.float64)[ir]), np.uint8)
    second = _to_class(np.einsum("ok,hok->ho", wc, first.astype(np.float64)[:, ic]), np.uint8)
    assert np.array_equal(downscale(img, 3), second)
    print("matlab_imresize: self-checks passed")


if __name__ == "__main__":
    _self_check()
    sys.exit(0)
