#!/usr/bin/env python3
"""Temporal stability for the video models (issue #23): pairs of consecutive x264 frames.

A network that adds detail also adds detail to what the codec changes from one frame to the
next, and a viewer sees that as flicker. What the codec changes is measured here the way
scripts/eval_compressed.sh --flicker measures it, on training images only:

- **Training pairs** (`make_pairs`): a short clip of an image's LR, each frame the HR window
  moved by (ky, kx) * r HR pixels (ky, kx in -1..1, not both 0: a pan of whole LR pixels, so
  consecutive frames hold the same LR content before coding), coded as one x264 stream at a
  CRF drawn from `crf` and decoded; two consecutive decoded frames (k, k+1, the IDR frame
  included) are kept, cropped to the region they share less `margin` LR pixels at each side
  (where the bicubic downscale of a window sees the window's own border), so that pixel
  (i, j) of both crops is the same LR pixel of the scene and both have one HR target. Their
  difference is codec change only. train.py's temporal loss, weight `weight`:
  MSE(f(a), f(b)) beside each crop's own loss against the target.
- **Validation clips** (`make_val_clips`): each held-out image panned one LR pixel per frame
  to the right, `val_frames` frames, at each of `val_crfs`; `flicker` is eval_compressed's
  measure (mean |O_{k+1}(y, x) - O_k(y, x + r)| in 8-bit codes over the overlap less 4r
  pixels at each border), pooled over every measured pixel of every clip, so train.py can log
  the ratio to bicubic and keep a checkpoint as best only under `select.flicker_max_ratio`.

Both are cached like degrade.py's variants (build/train-cache/<pairs|tval>-<digest>/x<r>/),
under a digest of the "temporal" settings that make them, degrade.FORMAT and the encoder.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import degrade  # noqa: E402
import sr_data  # noqa: E402
from matlab_imresize import upscale  # noqa: E402

DEFAULTS = {
    "pairs": 4,               # per image and scale
    "crf": [18, 40],
    "frames": 5,              # clip length; the kept pair is frames (k, k+1), k uniform
    "margin": 4,              # LR pixels cropped at each side of the shared region
    "batch": 4,               # pairs per training step (beside the config's batch)
    "loss": "excess_l1",      # train.py temporal_loss: excess_l1 or l2 (not cached)
    "weight": 4.0,            # of the temporal loss against the per-crop losses (not cached)
    "val_crfs": [23, 28, 33],
    "val_frames": 8,
}
NOT_CACHED = ("batch", "weight", "loss")


def settings_of(cfg: dict) -> dict | None:
    t = (cfg.get("degrade") or {}).get("temporal")
    return None if t is None else degrade.sr_data_merge(DEFAULTS, t)


def cache_dir(t: dict, kind: str, identity: str, root: str) -> str:
    keep = {k: v for k, v in t.items() if k not in NOT_CACHED
            and k.startswith("val_") == (kind == "tval")}
    key = json.dumps({"format": degrade.FORMAT, "kind": kind, "settings": keep, "encoder": identity},
                     sort_keys=True)
    return os.path.join(root, f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:16]}")


def draw_pair_specs(name: str, r: int, t: dict, seed: int) -> list[dict]:
    rng = np.random.default_rng([seed, r, zlib.crc32(name.encode()), 7])
    moves = [(ky, kx) for ky in (-1, 0, 1) for kx in (-1, 0, 1) if (ky, kx) != (0, 0)]
    out = []
    for _ in range(int(t["pairs"])):
        ky, kx = moves[int(rng.integers(len(moves)))]
        out.append({"crf": int(rng.integers(t["crf"][0], t["crf"][1] + 1)), "move": [ky, kx],
                    "keep": int(rng.integers(0, int(t["frames"]) - 1))})
    return out


def panned_clip(rgb: np.ndarray, r: int, ky: int, kx: int, frames: int) -> tuple[list, list]:
    """LR frames of HR windows moved (ky, kx) * r HR pixels (whole LR pixels) per frame, and
    each window's top-left HR corner."""
    boxes = degrade.pan_boxes(*rgb.shape[:2], r, ky * r, kx * r, frames)
    return ([degrade.lr_frame(rgb[y:y + h, x:x + w], r) for y, x, h, w in boxes],
            [(y, x) for y, x, _, _ in boxes])


def make_pairs(rgb: np.ndarray, r: int, specs: list[dict], ffmpeg: str, frames: int,
               margin: int) -> list[dict]:
    """Per spec: {"a", "b": the two decoded LR crops, "box": [y0, x0, h, w] of their HR}."""
    clips, where = [], []
    for s in specs:
        ky, kx = s["move"]
        lr, corners = panned_clip(rgb, r, ky, kx, frames)
        clips.append(lr)
        where.append((lr[0].y.shape, corners))
    decoded, _ = degrade.x264_roundtrip(clips, [s["crf"] for s in specs], ffmpeg)
    out = []
    for s, ys, (shape, corners) in zip(specs, decoded, where):
        k = s["keep"]
        a, b, (y0, x0, h, w) = shared_crops(ys[k], ys[k + 1], *s["move"], margin)
        cy, cx = corners[k]
        out.append({"a": a, "b": b, "box": [cy + y0 * r, cx + x0 * r, h * r, w * r]})
    return out


def shared_crops(a: np.ndarray, b: np.ndarray, ky: int, kx: int, margin: int):
    """Frames k and k+1 of a clip moved (ky, kx) LR pixels per frame (b's pixel (i, j) shows
    a's pixel (i + ky, j + kx)): the crops of both that show the same pixels, less `margin` at
    each side, and where they lie in a (y0, x0, h, w; LR pixels)."""
    h, w = a.shape
    y0, y1 = max(0, ky) + margin, h + min(0, ky) - margin
    x0, x1 = max(0, kx) + margin, w + min(0, kx) - margin
    return (a[y0:y1, x0:x1].copy(), b[y0 - ky:y1 - ky, x0 - kx:x1 - kx].copy(),
            (y0, x0, y1 - y0, x1 - x0))


def make_val_clips(rgb: np.ndarray, r: int, crfs: list[int], ffmpeg: str, frames: int) -> dict:
    lr, _ = panned_clip(rgb, r, 0, 1, frames)
    decoded, _ = degrade.x264_roundtrip([lr] * len(crfs), list(crfs), ffmpeg)
    return {f"crf{c}": np.stack(ys) for c, ys in zip(crfs, decoded)}


def _job(job):
    kind, path, r, payload, ffmpeg, t, out_path = job
    rgb = sr_data.modcrop(sr_data.load_image(path), r)
    if kind == "pairs":
        got = make_pairs(rgb, r, payload, ffmpeg, int(t["frames"]), int(t["margin"]))
        arrays = {f"{n}{i}": g[n] for i, g in enumerate(got) for n in ("a", "b")}
        arrays["boxes"] = np.array([g["box"] for g in got], np.int64)
        arrays["specs"] = np.array(json.dumps(payload))
    else:
        arrays = make_val_clips(rgb, r, t["val_crfs"], ffmpeg, int(t["val_frames"]))
    tmp = out_path + f".tmp{os.getpid()}.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, out_path)


def build(paths: list[str], r: int, t: dict, kind: str, ffmpeg: str, root: str, seed: int,
          processes: int = 1, log=print) -> str:
    """Fills the cache ("pairs": training pairs; "tval": validation clips); returns its folder."""
    folder = os.path.join(cache_dir(t, kind, degrade.encoder_identity(ffmpeg), root), f"x{r}")
    os.makedirs(folder, exist_ok=True)
    jobs = []
    for p in paths:
        out = os.path.join(folder, os.path.basename(p) + ".npz")
        if not os.path.exists(out):
            payload = draw_pair_specs(os.path.basename(p), r, t, seed) if kind == "pairs" else None
            jobs.append((kind, p, r, payload, ffmpeg, t, out))
    if jobs:
        t0 = time.perf_counter()
        degrade.run_jobs(_job, jobs, processes)
        log(f"temporal: {kind} x{r}: {len(jobs)} images encoded in {time.perf_counter() - t0:.1f} s "
            f"into {folder}")
    return folder


def load_pairs(paths: list[str], r: int, folder: str, hr_by_path: dict) -> list[sr_data.Pair]:
    out = []
    for p in paths:
        z = np.load(os.path.join(folder, os.path.basename(p) + ".npz"))
        hr = hr_by_path[p]
        for i, (y0, x0, h, w) in enumerate(z["boxes"]):
            a, b = z[f"a{i}"], z[f"b{i}"]
            if a.shape != b.shape or a.shape != (h // r, w // r):
                raise RuntimeError(f"{folder}: {os.path.basename(p)} pair {i} has the wrong size; "
                                   "delete the cache folder")
            out.append(sr_data.Pair(f"{os.path.basename(p)}#t{i}", hr[y0:y0 + h, x0:x0 + w], a, b))
    return out


def load_val_clips(paths: list[str], folder: str) -> list[dict]:
    return [dict(np.load(os.path.join(folder, os.path.basename(p) + ".npz"))) for p in paths]


def pan_abs_diffs(outs, r: int) -> tuple[float, int]:
    """The sum and the number of |O_{k+1}(y, x) - O_k(y, x + r)| over consecutive outputs of a
    clip panned one LR pixel right, over the overlap less 4r pixels at each border."""
    m = 4 * r
    total, n = 0.0, 0
    for a, b in zip(outs, outs[1:]):
        a = a.astype(np.float64)
        b = b.astype(np.float64)
        h, w = a.shape
        d = np.abs(b[m:h - m, m:w - r - m] - a[m:h - m, m + r:w - m])
        total, n = total + float(d.sum()), n + d.size
    return total, n


def pan_mad(outs, r: int) -> float:
    """eval_compressed's flicker (mean absolute difference, 8-bit codes)."""
    total, n = pan_abs_diffs(outs, r)
    return total / n if n else float("nan")


def flicker_totals(upscale_fn, clips: list[dict], r: int) -> dict:
    """Per CRF: the summed absolute differences (pan_abs_diffs) of every clip under upscale_fn."""
    out: dict[str, float] = {}
    for c in clips:
        for key, frames in c.items():
            out[key] = out.get(key, 0.0) + pan_abs_diffs([upscale_fn(f) for f in frames], r)[0]
    return out


def flicker_ratios(upscale_fn, clips: list[dict], r: int, bicubic: dict | None = None) -> dict:
    """Per CRF: flicker under upscale_fn over bicubic's, each pooled over every measured pixel
    of every clip (so a clip weighs by its size: a 19 x 12 LR image, whose measured region is
    nearly all border, cannot outweigh the others). `bicubic`: flicker_totals of bicubic on
    the same clips, when already computed (it does not change between validations)."""
    ours = flicker_totals(upscale_fn, clips, r)
    bic = bicubic if bicubic is not None else flicker_totals(lambda f: upscale(f, r), clips, r)
    return {k: ours[k] / max(bic[k], 1e-12) for k in sorted(ours)}
