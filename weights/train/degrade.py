#!/usr/bin/env python3
"""Compressed LR for training and evaluation (issue #23): real low-resolution video is H.264.

What one degraded LR image is, for an RGB (or gray) HR image and a scale r:

1. The protocol's LR Y: Y of MATLAB rgb2ycbcr on the modcropped HR, downscaled with MATLAB
   imresize bicubic on uint8 (sr_data.py, matlab_imresize.py), so a "clean" variant is exactly
   the LR the clean models were trained and scored on.
2. Its chroma: Cb and Cr of MATLAB rgb2ycbcr (BT.601 limited range, as Y), downscaled the same
   way, then 4:2:0 (2x2 means, rounded; the plane padded to even sides by repeating the last
   row/column, as libx264 needs even sides in yuv420p). A gray image has Cb = Cr = 128.
3. Optionally mild noise (Gaussian, on Y, Cb and Cr before the encoder: sensor noise) and mild
   blur (Gaussian on the HR planes before the downscale: optics; the target stays sharp).
4. One of:
   - x264: the yuv420p frame (or a short clip of frames panned across the image, of which a
     P/B frame is kept) through ffmpeg's libx264 at a CRF, `-preset medium`, `-threads 1`,
     then decoded by ffmpeg, and the Y plane taken (cropped back to the LR size);
   - JPEG: the Y plane as a grayscale baseline JPEG at a quality (Pillow's libjpeg, the IJG
     quality scaling). A colour JPEG codes Y with the same luminance table and the same 8x8
     DCT whatever the chroma is, so this is the Y of a colour JPEG of the same quality up to
     JFIF's full-range colour conversion;
   - clean: nothing.

x264 writes its settings into the stream (an SEI message, "x264 - core ... options: ...");
`encoder_settings` returns them, and the cache manifest, train.py's log and
scripts/eval_compressed.sh record them.

Training data (`training_pairs`): per image, `variants` LR versions drawn from a generator
seeded by (seed, r, crc32 of the file name), so the set is a function of the configuration,
the image and the encoder alone. Encoding 276 images x N variants with ffmpeg costs minutes,
so the results are cached on disk (default build/train-cache/, git-ignored), one .npz per
image and scale, under a folder named by a digest of the degradation settings, this file's
FORMAT version and the encoder's identity: training then reads arrays and stays bound by
the network, not the encoder. `python3 degrade.py --config C [C ...]` fills the cache ahead
(all scales of the given configs, `--processes N` images at a time).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from matlab_imresize import downscale  # noqa: E402
import sr_data  # noqa: E402

FORMAT = 1  # bump when the meaning of a cached variant changes
DEFAULT_CACHE = os.path.join(REPO, "build", "train-cache")

# The training recipe's defaults (a config's "degrade" object overrides them key by key).
DEFAULTS = {
    "seed": 0,
    "variants": {"clean": 2, "x264": 6, "jpeg": 2},   # per image and scale
    "extra_clean": 0,         # training samples the clean LR this many more times per image
                              # (a weight, not cached: the cache is the same for any value)
    "cached_clean": True,     # False: the cached clean variants are left out of training
                              # (not cached either: a second stage on compressed LR only)
    "x264": {"crf": [18, 40], "preset": "medium", "clip_prob": 0.5, "clip_frames": 5,
             "clip_motion": 3},                      # clip: pan up to +-motion HR px per frame
    "jpeg": {"quality": [30, 95]},
    "noise": {"prob": 0.0, "sigma": [0.5, 2.0]},      # code values, on Y/Cb/Cr before coding
    "blur": {"prob": 0.0, "sigma": [0.3, 0.8]},       # HR pixels, before the downscale
    # validation: the held-out images, each under every one of these (single frames)
    "val": [["x264", 23], ["x264", 28], ["x264", 33], ["x264", 38], ["jpeg", 50], ["jpeg", 75]],
}


# ----------------------------------------------------------------------------- encoder

_MUXER: dict[str, str] = {}


def container(ffmpeg: str) -> str:
    """The muxer the x264 stream travels in: raw H.264 where this ffmpeg has the muxer, else
    Matroska (the project's lean build has no h264 muxer). The coded bits are the same."""
    if ffmpeg not in _MUXER:
        out = subprocess.run([ffmpeg, "-hide_banner", "-muxers"], capture_output=True, text=True).stdout
        names = {w for line in out.splitlines() for w in line.split()[1:2]}
        _MUXER[ffmpeg] = "h264" if "h264" in names else "matroska"
    return _MUXER[ffmpeg]


def has_libx264(ffmpeg: str) -> bool:
    """True when a 16x16 frame goes through libx264 and back with this ffmpeg."""
    try:
        fr = Frame(np.full((16, 16), 100, np.uint8), np.full((16, 16), 128, np.uint8),
                   np.full((16, 16), 128, np.uint8))
        x264_roundtrip([[fr]], [28], ffmpeg)
        return True
    except (OSError, subprocess.SubprocessError, RuntimeError):
        return False


def find_ffmpeg(explicit: str | None = None) -> str | None:
    """An ffmpeg that encodes with libx264 and decodes H.264: `explicit`, $ESPCN_FFMPEG, then
    /usr/bin/ffmpeg (Debian's), `ffmpeg` on PATH, the project's build (build/ffmpeg-7.1/ffmpeg,
    scripts/build_ffmpeg.sh). None if none does. The training cache is keyed by the encoder,
    so the order matters for reuse, not for correctness."""
    candidates = [explicit] if explicit else [
        os.environ.get("ESPCN_FFMPEG"), "/usr/bin/ffmpeg", shutil.which("ffmpeg"),
        os.path.join(REPO, "build", "ffmpeg-7.1", "ffmpeg")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK) and has_libx264(c):
            return c
    return None


def ffmpeg_version(ffmpeg: str) -> str:
    out = subprocess.run([ffmpeg, "-hide_banner", "-version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "unknown"


def encoder_settings(stream: bytes) -> str:
    """libx264's own record of its settings, from the SEI it writes into the stream."""
    i = stream.find(b"x264 - core")
    if i < 0:
        return "unknown (no x264 SEI in the stream)"
    return stream[i:stream.find(b"\0", i)].decode("ascii", "replace")


# ----------------------------------------------------------------------------- colour

def ycbcr(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MATLAB rgb2ycbcr(uint8): Y, Cb, Cr (uint8, BT.601 limited range). A gray image is its
    own Y, with Cb = Cr = 128."""
    if img.ndim == 2:
        c = np.full(img.shape, 128, np.uint8)
        return img, c, c.copy()
    rgb = img[..., :3].astype(np.float64)
    R, G, B = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = sr_data.rgb_to_y(img)
    cb = 128 + (-37.797 * R - 74.203 * G + 112.0 * B) / 255
    cr = 128 + (112.0 * R - 93.786 * G - 18.214 * B) / 255
    rnd = lambda v: np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8)  # noqa: E731
    return y, rnd(cb), rnd(cr)


def pad_even(p: np.ndarray) -> np.ndarray:
    h, w = p.shape
    return np.pad(p, ((0, h % 2), (0, w % 2)), mode="edge")


def chroma420(c: np.ndarray) -> np.ndarray:
    """A full-resolution chroma plane -> 4:2:0 (2x2 means rounded half up, even-padded)."""
    c = pad_even(c).astype(np.uint16)
    s = c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]
    return ((s + 2) // 4).astype(np.uint8)


def gaussian_blur(p: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian (radius ceil(3 sigma), symmetric edges), float64 out."""
    rad = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-rad, rad + 1) / sigma) ** 2)
    k /= k.sum()
    a = np.pad(p.astype(np.float64), rad, mode="symmetric")
    a = sum(k[i] * a[i:i + a.shape[0] - 2 * rad] for i in range(2 * rad + 1))
    a = sum(k[i] * a[:, i:i + a.shape[1] - 2 * rad] for i in range(2 * rad + 1))
    return a


def to_u8(v: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- codecs

@dataclass
class Frame:
    """One LR frame ready for the encoder: Y (h, w) and full-resolution Cb, Cr."""
    y: np.ndarray
    cb: np.ndarray
    cr: np.ndarray

    def yuv420(self) -> bytes:
        return pad_even(self.y).tobytes() + chroma420(self.cb).tobytes() + chroma420(self.cr).tobytes()


def x264_roundtrip(clips: list[list[Frame]], crfs: list[int], ffmpeg: str, preset: str = "medium",
                   tmp: str | None = None) -> tuple[list[list[np.ndarray]], list[str]]:
    """Each clip (frames of one size) through libx264 at its CRF and back through ffmpeg's
    decoder; returns the decoded Y planes (cropped to the input size) per clip and x264's
    settings string per clip. All clips in one encoder and one decoder process."""
    if not clips:
        return [], []
    with tempfile.TemporaryDirectory(dir=tmp, prefix="espcn-x264-") as d:
        enc = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
        for k, frames in enumerate(clips):
            h, w = frames[0].y.shape
            hp, wp = h + h % 2, w + w % 2
            with open(os.path.join(d, f"{k}.yuv"), "wb") as f:
                for fr in frames:
                    if fr.y.shape != (h, w):
                        raise ValueError("the frames of a clip must have one size")
                    f.write(fr.yuv420())
            enc += ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{wp}x{hp}", "-r", "25",
                    "-i", os.path.join(d, f"{k}.yuv")]
        for k, crf in enumerate(crfs):
            enc += ["-map", f"{k}:v", "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                    "-threads", "1", "-pix_fmt", "yuv420p", "-f", container(ffmpeg), "-y",
                    os.path.join(d, f"{k}.h264")]
        subprocess.run(enc, check=True, capture_output=True)
        dec = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1"]
        for k in range(len(clips)):
            dec += ["-i", os.path.join(d, f"{k}.h264")]
        for k in range(len(clips)):
            dec += ["-map", f"{k}:v", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-y",
                    os.path.join(d, f"{k}.out.yuv")]
        subprocess.run(dec, check=True, capture_output=True)
        out, settings = [], []
        for k, frames in enumerate(clips):
            h, w = frames[0].y.shape
            hp, wp = h + h % 2, w + w % 2
            size = hp * wp + 2 * (hp // 2) * (wp // 2)
            raw = np.fromfile(os.path.join(d, f"{k}.out.yuv"), np.uint8)
            if raw.size != size * len(frames):
                raise RuntimeError(f"ffmpeg decoded {raw.size / size:.2f} frames of {len(frames)}")
            out.append([raw[i * size: i * size + hp * wp].reshape(hp, wp)[:h, :w].copy()
                        for i in range(len(frames))])
            with open(os.path.join(d, f"{k}.h264"), "rb") as f:
                settings.append(encoder_settings(f.read()))
    return out, settings


def jpeg_roundtrip(y: np.ndarray, quality: int) -> np.ndarray:
    """The Y plane through a grayscale baseline JPEG (Pillow / libjpeg) at `quality`."""
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(y, "L").save(buf, format="JPEG", quality=int(quality), optimize=False)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("L"), np.uint8).copy()


# ----------------------------------------------------------------------------- variants

def lr_frame(hr_rgb: np.ndarray, r: int, blur: float = 0.0) -> Frame:
    """The LR frame of a modcropped HR image (uint8 RGB or gray)."""
    y, cb, cr = ycbcr(hr_rgb)
    if blur > 0:
        y, cb, cr = (to_u8(gaussian_blur(p, blur)) for p in (y, cb, cr))
    return Frame(downscale(y, r), downscale(cb, r), downscale(cr, r))


def pan_boxes(H: int, W: int, r: int, dy: int, dx: int, frames: int) -> list[list[int]]:
    """The HR windows [y0, x0, h, w] of a clip panned (dy, dx) HR pixels per frame across an
    H x W image: all inside it, of one size, a multiple of r."""
    hc = (H - (frames - 1) * abs(dy)) // r * r
    wc = (W - (frames - 1) * abs(dx)) // r * r
    oy = (frames - 1) * abs(dy) if dy < 0 else 0
    ox = (frames - 1) * abs(dx) if dx < 0 else 0
    return [[oy + k * dy, ox + k * dx, hc, wc] for k in range(frames)]


def add_noise(fr: Frame, sigma: float, rng: np.random.Generator) -> Frame:
    return Frame(*(to_u8(p.astype(np.float64) + rng.normal(0, sigma, p.shape)) for p in (fr.y, fr.cb, fr.cr)))


def draw_specs(name: str, r: int, d: dict) -> list[dict]:
    """The training variants of one image: kinds in the configured numbers, parameters drawn
    from a generator seeded by (seed, r, crc32(name))."""
    rng = np.random.default_rng([int(d["seed"]), r, zlib.crc32(name.encode())])
    specs = []
    for kind in ("clean", "x264", "jpeg"):
        for _ in range(int(d["variants"].get(kind, 0))):
            s = {"kind": kind}
            if kind == "x264":
                lo, hi = d["x264"]["crf"]
                s["crf"] = int(rng.integers(lo, hi + 1))
                if rng.random() < d["x264"]["clip_prob"]:
                    m = int(d["x264"]["clip_motion"])
                    s["clip"] = [int(rng.integers(-m, m + 1)), int(rng.integers(-m, m + 1)),
                                 int(rng.integers(1, int(d["x264"]["clip_frames"])))]
            elif kind == "jpeg":
                lo, hi = d["jpeg"]["quality"]
                s["quality"] = int(rng.integers(lo, hi + 1))
            if kind != "clean":
                if rng.random() < d["noise"]["prob"]:
                    s["noise"] = float(rng.uniform(*d["noise"]["sigma"]))
                if rng.random() < d["blur"]["prob"]:
                    s["blur"] = float(rng.uniform(*d["blur"]["sigma"]))
            s["noise_seed"] = int(rng.integers(0, 2**31))
            specs.append(s)
    return specs


def make_variants(hr_rgb: np.ndarray, r: int, specs: list[dict], ffmpeg: str | None,
                  preset: str = "medium", frames: int = 5) -> tuple[list[dict], list[str]]:
    """Each spec applied to one modcropped HR image. Returns per spec {"lr": uint8 LR Y,
    "box": [y0, x0, h, w] of the HR Y it corresponds to} and the x264 settings strings."""
    H, W = hr_rgb.shape[:2]
    out: list[dict | None] = [None] * len(specs)
    clips, crfs, where = [], [], []
    for i, s in enumerate(specs):
        rng = np.random.default_rng(s.get("noise_seed", 0))
        if "clip" in s:
            dy, dx, keep = s["clip"]
            boxes = pan_boxes(H, W, r, dy, dx, frames)
            fr = [lr_frame(hr_rgb[y:y + h, x:x + w], r, s.get("blur", 0.0)) for y, x, h, w in boxes]
            if s.get("noise"):
                fr = [add_noise(f, s["noise"], rng) for f in fr]
            clips.append(fr)
            crfs.append(s["crf"])
            where.append((i, keep, boxes[keep]))
            continue
        fr = lr_frame(hr_rgb, r, s.get("blur", 0.0))
        if s.get("noise"):
            fr = add_noise(fr, s["noise"], rng)
        box = [0, 0, H, W]
        if s["kind"] == "clean":
            out[i] = {"lr": fr.y, "box": box}
        elif s["kind"] == "jpeg":
            out[i] = {"lr": jpeg_roundtrip(fr.y, s["quality"]), "box": box}
        elif s["kind"] == "x264":
            clips.append([fr])
            crfs.append(s["crf"])
            where.append((i, 0, box))
        else:
            raise ValueError(f"unknown degradation {s['kind']!r}")
    settings: list[str] = []
    if clips:
        if not ffmpeg:
            raise RuntimeError("x264 variants need an ffmpeg with libx264 (find_ffmpeg)")
        decoded, settings = x264_roundtrip(clips, crfs, ffmpeg, preset)
        for (i, keep, box), ys in zip(where, decoded):
            out[i] = {"lr": ys[keep], "box": box}
    return out, settings  # type: ignore[return-value]


# ----------------------------------------------------------------------------- cache

def settings_of(cfg: dict) -> dict:
    return sr_data_merge(DEFAULTS, cfg.get("degrade") or {})


def sr_data_merge(base: dict, over: dict) -> dict:
    out = json.loads(json.dumps(base))
    for k, v in over.items():
        out[k] = sr_data_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def encoder_identity(ffmpeg: str) -> str:
    """ffmpeg's version and libx264's core/revision (what decides the encoded bits)."""
    fr = Frame(np.full((16, 16), 100, np.uint8), np.full((16, 16), 128, np.uint8),
               np.full((16, 16), 128, np.uint8))
    _, s = x264_roundtrip([[fr]], [28], ffmpeg)
    core = s[0].split(" - H.264")[0]
    return f"{ffmpeg_version(ffmpeg)}; {core}"


NOT_CACHED = ("extra_clean", "cached_clean", "temporal")  # weigh the cached data, not make it
# ("temporal": temporal.py caches its own clips)


def cache_dir(d: dict, kind: str, lr_mode: str, identity: str, root: str) -> str:
    keep = {k: v for k, v in d.items() if (k == "val") == (kind == "val") and k not in NOT_CACHED}
    key = json.dumps({"format": FORMAT, "kind": kind, "settings": keep, "lr_mode": lr_mode,
                      "encoder": identity}, sort_keys=True)
    return os.path.join(root, f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:16]}")


def _image_job(job):
    path, r, specs, ffmpeg, preset, frames, out_path = job
    rgb = sr_data.load_image(path)
    rgb = sr_data.modcrop(rgb, r)
    variants, settings = make_variants(rgb, r, specs, ffmpeg, preset, frames)
    tmp = out_path + f".tmp{os.getpid()}.npz"
    np.savez(tmp, **{f"lr{i}": v["lr"] for i, v in enumerate(variants)},
             boxes=np.array([v["box"] for v in variants], np.int64),
             specs=np.array(json.dumps(specs)), settings=np.array(json.dumps(settings)))
    os.replace(tmp, out_path)
    return path


def build(paths: list[str], r: int, d: dict, kind: str, ffmpeg: str | None, root: str,
          processes: int = 1, lr_mode: str = "uint8", log=print) -> str:
    """Fills the cache of `paths` at scale r ("train": draw_specs; "val": d["val"]); returns
    its folder. Already cached images are skipped."""
    if lr_mode != "uint8":
        raise ValueError("the degradation pipeline makes the LR with lr_mode 'uint8' only")
    identity = encoder_identity(ffmpeg) if ffmpeg else "no encoder"
    folder = os.path.join(cache_dir(d, kind, lr_mode, identity, root), f"x{r}")
    os.makedirs(folder, exist_ok=True)
    manifest = os.path.join(folder, "manifest.json")
    if not os.path.exists(manifest):
        with open(manifest, "w") as f:
            json.dump({"format": FORMAT, "kind": kind, "scale": r, "encoder": identity,
                       "ffmpeg": ffmpeg, "settings": d}, f, indent=2)
    jobs = []
    for p in paths:
        out = os.path.join(folder, os.path.basename(p) + ".npz")
        if os.path.exists(out):
            continue
        name = os.path.basename(p)
        specs = draw_specs(name, r, d) if kind == "train" else [
            {"kind": k, ("crf" if k == "x264" else "quality"): int(v)} for k, v in d["val"]]
        jobs.append((p, r, specs, ffmpeg, d["x264"]["preset"], int(d["x264"]["clip_frames"]), out))
    if jobs:
        t = time.perf_counter()
        run_jobs(_image_job, jobs, processes)
        log(f"degrade: {kind} x{r}: {len(jobs)} images encoded in {time.perf_counter() - t:.1f} s "
            f"({processes} processes) into {folder}")
    return folder


def run_jobs(fn, jobs: list, processes: int) -> None:
    """fn(job) for every job, `processes` at a time (forked workers; 1: in this process)."""
    if processes > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(processes) as pool:
            for _ in pool.imap_unordered(fn, jobs):
                pass
    else:
        for j in jobs:
            fn(j)


def load(paths: list[str], r: int, folder: str, hr_by_path: dict) -> list[list[sr_data.Pair]]:
    """The cached variants of each path, as sr_data.Pairs (HR: a view of hr_by_path[path])."""
    out = []
    for p in paths:
        z = np.load(os.path.join(folder, os.path.basename(p) + ".npz"))
        hr = hr_by_path[p]
        specs = json.loads(str(z["specs"]))
        pairs = []
        for i, (y0, x0, h, w) in enumerate(z["boxes"]):
            lr = z[f"lr{i}"]
            box_hr = hr[y0:y0 + h, x0:x0 + w]
            if lr.shape != (h // r, w // r) or box_hr.shape != (h, w):
                raise RuntimeError(f"{folder}: {os.path.basename(p)} variant {i} has the wrong size; "
                                   "delete the cache folder")
            pairs.append(sr_data.Pair(f"{os.path.basename(p)}#{i}:{spec_label(specs[i])}", box_hr, lr))
        out.append(pairs)
    return out


def spec_label(s: dict) -> str:
    if s["kind"] == "x264":
        return f"x264-crf{s['crf']}" + ("-clip" if "clip" in s else "")
    if s["kind"] == "jpeg":
        return f"jpeg-q{s['quality']}"
    return "clean"


def manifest_settings(folder: str) -> list[str]:
    """The distinct x264 settings strings recorded in a cache folder."""
    seen = []
    for f in sorted(os.listdir(folder)):
        if f.endswith(".npz"):
            for s in json.loads(str(np.load(os.path.join(folder, f))["settings"])):
                s = s.split(" options: ")[-1]
                s = " ".join(w for w in s.split() if not w.startswith("crf="))
                if s not in seen:
                    seen.append(s)
    return seen


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", nargs="+", required=True, help="train.py configs with a 'degrade' object")
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "sr"))
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("--ffmpeg", default=None)
    ap.add_argument("--processes", type=int, default=2)
    a = ap.parse_args(argv)
    ffmpeg = find_ffmpeg(a.ffmpeg)
    if not ffmpeg:
        raise SystemExit("no ffmpeg with libx264 (set --ffmpeg or $ESPCN_FFMPEG)")
    print(f"encoder: {ffmpeg}: {encoder_identity(ffmpeg)}")
    for c in a.config:
        with open(c) as f:
            cfg = json.load(f)
        d = settings_of(cfg)
        r = int(cfg["scale"])
        data = cfg.get("data", {})
        paths = []
        for name in data.get("train", ["T91", "BSDS200"]):
            paths += sr_data.list_images(os.path.join(a.data, name))
        train, val = sr_data.split_train_val(paths, data.get("val_fraction", 0.05), data.get("split_seed", 0))
        build(val, r, d, "val", ffmpeg, a.cache, a.processes)
        folder = build(train, r, d, "train", ffmpeg, a.cache, a.processes)
        print(f"{c}: x{r} cached in {folder}; x264 settings: {manifest_settings(folder)[:1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
