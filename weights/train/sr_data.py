"""The super-resolution data protocol: Y channel, modcrop, MATLAB bicubic LR, PSNR-Y.

- Y: MATLAB's rgb2ycbcr on uint8 RGB, Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255)
  (imlincomb: computed in double, rounded half away from zero to uint8). A one-channel
  (grayscale) image is its own Y.
- HR: Y cropped to a multiple of r (modcrop: the bottom/right remainder dropped).
- LR: imresize(HR, 1/r, 'bicubic') on the uint8 HR, as MATLAB (weights/matlab_imresize.py):
  antialiased, symmetric edges, rounded to uint8 after each pass. lr_mode="double" instead
  resizes im2double(HR) and rounds once at the end (what kernels/imaging/bicubic_resize.cpp
  computes); the two differ by at most one code value except where MATLAB's intermediate
  uint8 pass saturates.
- Bicubic baseline: imresize(LR, r, 'bicubic') on uint8.
- PSNR-Y: on uint8 images, `shave` pixels dropped on every side (r by default), peak 255.
- Network values: code / 255 in [0, 1] (the engine's range [0, 1] for 8-bit samples).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from matlab_imresize import downscale, upscale  # noqa: E402

IMAGE_EXTENSIONS = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".ppm", ".pgm")


def load_image(path: str) -> np.ndarray:
    """uint8 (H, W, 3) RGB, or (H, W) for a one-channel image. Alpha is dropped."""
    with Image.open(path) as im:
        if im.mode in ("L", "1"):
            return np.asarray(im.convert("L"), dtype=np.uint8)
        if im.mode in ("I;16", "I;16B", "I"):
            raise ValueError(f"{path}: 16-bit images are not supported by the 8-bit protocol")
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr(uint8)'s Y plane; a 2-D (gray) image is returned as it is."""
    if img.ndim == 2:
        return img
    rgb = img[..., :3].astype(np.float64)
    y = 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255
    return np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)


def modcrop(img: np.ndarray, r: int) -> np.ndarray:
    h, w = img.shape[:2]
    return img[: h - h % r, : w - w % r]


def make_lr(hr: np.ndarray, r: int, lr_mode: str = "uint8") -> np.ndarray:
    if lr_mode == "uint8":
        return downscale(hr, r)
    if lr_mode == "double":
        lr = downscale(hr.astype(np.float64) / 255, r)
        return np.clip(np.floor(lr * 255 + 0.5), 0, 255).astype(np.uint8)
    raise ValueError(f"lr_mode must be 'uint8' or 'double', not {lr_mode!r}")


@dataclass
class Pair:
    name: str
    hr: np.ndarray  # uint8 (r*h, r*w), Y, modcropped
    lr: np.ndarray  # uint8 (h, w)
    lr2: np.ndarray | None = None  # a second LR of the same HR (temporal.py: the next frame)


def load_pair(path: str, r: int, lr_mode: str = "uint8") -> Pair:
    hr = modcrop(rgb_to_y(load_image(path)), r)
    return Pair(os.path.basename(path), np.ascontiguousarray(hr), make_lr(hr, r, lr_mode))


def list_images(folder: str) -> list[str]:
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"no image folder {folder}")
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                   if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise FileNotFoundError(f"no images in {folder}")
    return files


def split_train_val(paths: list[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """A fixed, seeded hold-out: sorted paths, permuted by `seed`, the first
    round(val_fraction * n) (at least 1 when val_fraction > 0) for validation."""
    paths = sorted(paths)
    n_val = max(1, int(round(val_fraction * len(paths)))) if val_fraction > 0 else 0
    perm = np.random.default_rng(seed).permutation(len(paths))
    val = sorted(paths[i] for i in perm[:n_val])
    val_set = set(val)
    return [p for p in paths if p not in val_set], val


def psnr(a: np.ndarray, b: np.ndarray, shave: int) -> float:
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if shave > 0:
        a = a[shave:-shave, shave:-shave]
        b = b[shave:-shave, shave:-shave]
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Network output in [0, 1] (unclamped) -> uint8 as the engine writes it:
    floor(clamp(v, 0, 1) * 255 + 0.5)."""
    return np.floor(np.clip(x.astype(np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)


def bicubic_psnr(pairs: list[Pair], r: int, shave: int | None = None) -> list[float]:
    s = r if shave is None else shave
    return [psnr(upscale(p.lr, r), p.hr, s) for p in pairs]


class PatchSampler:
    """Random LR patches (p x p) and their HR patches (r*p x r*p), uint8 -> float32 / 255,
    each under one of the 8 flips/rotations. Images are drawn with probability proportional
    to their number of patch positions (i.e. patches are uniform over all positions of the
    training set). Deterministic given the seed."""

    def __init__(self, pairs: list[Pair], r: int, patch: int, seed: int, augment: bool = True):
        self.r, self.patch, self.augment = r, patch, augment
        self.pairs = [p for p in pairs if min(p.lr.shape) >= patch]
        self.skipped = [p.name for p in pairs if min(p.lr.shape) < patch]
        if not self.pairs:
            raise ValueError(f"no training image has an LR side >= patch size {patch}")
        counts = np.array([(p.lr.shape[0] - patch + 1) * (p.lr.shape[1] - patch + 1)
                           for p in self.pairs], np.float64)
        self.prob = counts / counts.sum()
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next batch of the sampler's own stream (state: self.rng)."""
        return self._draw(n, self.rng)

    def batch(self, n: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch number `index`, a function of (seed, index) alone: what a worker process
        computes for any iteration in any order, so multi-process loading and --resume need
        no sampler state."""
        return self._draw(n, np.random.default_rng([self.seed, index]))

    def _draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """(LR, HR) patches; (LR, LR2, HR) when the pairs carry a second LR (lr2), its patch
        cut at the same place under the same flip/rotation."""
        p, r = self.patch, self.r
        second = self.pairs[0].lr2 is not None
        lr = np.empty((n, 1, p, p), np.uint8)
        lr2 = np.empty((n, 1, p, p), np.uint8) if second else None
        hr = np.empty((n, 1, p * r, p * r), np.uint8)
        imgs = rng.choice(len(self.pairs), size=n, p=self.prob)
        u = rng.random((n, 2))
        t = rng.integers(0, 8, size=n) if self.augment else np.zeros(n, np.int64)
        for k in range(n):
            pair = self.pairs[imgs[k]]
            h, w = pair.lr.shape
            y = int(u[k, 0] * (h - p + 1))
            x = int(u[k, 1] * (w - p + 1))
            a = pair.lr[y: y + p, x: x + p]
            b = pair.hr[y * r: (y + p) * r, x * r: (x + p) * r]
            c = pair.lr2[y: y + p, x: x + p] if second else a
            if t[k] >= 4:
                a, b, c = a[:, ::-1], b[:, ::-1], c[:, ::-1]
            if t[k] % 4:
                a, b, c = np.rot90(a, t[k] % 4), np.rot90(b, t[k] % 4), np.rot90(c, t[k] % 4)
            lr[k, 0] = a
            hr[k, 0] = b
            if second:
                lr2[k, 0] = c
        f = lambda v: v.astype(np.float32) / np.float32(255)  # noqa: E731
        return (f(lr), f(lr2), f(hr)) if second else (f(lr), f(hr))


_WORKER_SAMPLER: PatchSampler | None = None


def _worker_init(sampler: PatchSampler) -> None:
    global _WORKER_SAMPLER
    _WORKER_SAMPLER = sampler


def _worker_batch(job: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    n, index = job
    return _WORKER_SAMPLER.batch(n, index)


class BatchLoader:
    """Batches start..stop-1 of `sampler.batch` (indexed: deterministic whatever the number of
    workers), computed ahead by `workers` processes (0: in this process), in order."""

    def __init__(self, sampler: PatchSampler, n: int, start: int, stop: int, workers: int):
        self.sampler, self.n, self.start, self.stop, self.workers = sampler, n, start, stop, workers
        self._pool = None

    def __iter__(self):
        jobs = ((self.n, i) for i in range(self.start, self.stop))
        if self.workers <= 0:
            for n, i in jobs:
                yield self.sampler.batch(n, i)
            return
        import multiprocessing as mp
        ctx = mp.get_context("fork")
        self._pool = ctx.Pool(self.workers, initializer=_worker_init, initargs=(self.sampler,))
        # At most `ahead` batches in flight (Pool.imap would run arbitrarily far ahead of the
        # training loop and hold every finished batch in memory).
        from collections import deque
        ahead = 4 * self.workers
        pending: deque = deque()
        try:
            for job in jobs:
                pending.append(self._pool.apply_async(_worker_batch, (job,)))
                if len(pending) >= ahead:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
