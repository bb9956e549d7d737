#!/usr/bin/env python3
"""Super-resolution of compressed LR (issue #23): Set5/Set14 through x264 and JPEG, every model.

    weights/eval_compressed.py --eval build/release/bin/espcn-eval [--models M ...] [--out CSV]
    weights/eval_compressed.py --eval ... --flicker [--out CSV]

Conditions (each image of each test set, at each scale of the given models):
- clean: espcn-eval's own protocol (MATLAB-bicubic LR of the Y plane), the numbers of record;
- x264 CRF c: the image's LR frame (Y: MATLAB imresize bicubic of the HR Y, as clean; Cb/Cr:
  MATLAB rgb2ycbcr, downscaled the same way, then 4:2:0) as one yuv420p frame through
  ffmpeg's libx264 (`-preset medium -crf c -threads 1`, an IDR frame) and ffmpeg's decoder,
  Y taken (weights/train/degrade.py, the training pipeline's code);
- JPEG q: the LR Y plane as a grayscale JPEG at quality q (Pillow / libjpeg).
The decoded LR planes go to espcn-eval --lr-dir, which scores the model and bicubic (from
the same compressed LR) on Y against the original HR, r pixels shaved: PSNR and SSIM.

Writes one CSV (condition, dataset, image, scale, method, psnr_y, ssim_y, bicubic_psnr_y,
bicubic_ssim_y; '#' lines first: date, machine, command, encoder, x264's settings) and prints
a Markdown table of the Set5/Set14 means per scale and condition (--markdown FILE writes it).

--flicker: temporal stability on a panned clip (see `flicker`).
"""
from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
sys.path.insert(0, HERE)

import degrade  # noqa: E402
import sr_data  # noqa: E402
from matlab_imresize import upscale  # noqa: E402
import temporal  # noqa: E402  (the flicker clip and measure training validates with)

CRFS = (23, 28, 33)
JPEGS = (50, 75, 90)
SETS = ("Set5", "Set14")


def machine() -> str:
    cpu = "unknown CPU"
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        cpu = re.search(r"^model name\s*:\s*(.*)$", text, re.M).group(1)
        fl = re.search(r"^flags\s*:\s*(.*)$", text, re.M).group(1).split()
        flags = "AVX-512" if "avx512f" in fl else "AVX2" if "avx2" in fl else "SSE"
    except (OSError, AttributeError):
        pass
    return f"{cpu} ({os.cpu_count()} cores, {flags}), {platform.system()} {platform.release()}"


def model_scale(path: str) -> int:
    m = re.search(r"-x(\d)(?:-[a-z]+)?\.safetensors$", os.path.basename(path))
    if not m:
        raise SystemExit(f"{path}: cannot tell the scale from the name (<arch>-x<r>[-<kind>].safetensors)")
    return int(m.group(1))


def make_conditions(data: str, r: int, work: str, ffmpeg: str, crfs, jpegs, log=print) -> dict:
    """Writes work/<condition>/<set>/<stem>.pgm (the decoded LR Y) for every image; returns
    {condition: lr_dir} and x264's settings per CRF."""
    frames, where = [], []
    for s in SETS:
        for path in sr_data.list_images(os.path.join(data, s)):
            rgb = sr_data.modcrop(sr_data.load_image(path), r)
            frames.append(degrade.lr_frame(rgb, r))
            where.append((s, os.path.splitext(os.path.basename(path))[0]))
    dirs, settings = {}, {}
    clips = [[f] for f in frames for _ in crfs]
    crf_list = [c for _ in frames for c in crfs]
    decoded, sets = degrade.x264_roundtrip(clips, crf_list, ffmpeg) if crfs else ([], [])
    for i, (ys, st, c) in enumerate(zip(decoded, sets, crf_list)):
        s, stem = where[i // len(crfs)]
        cond = f"x264-crf{c}"
        settings.setdefault(cond, st)
        write_pgm(os.path.join(work, cond, s, stem + ".pgm"), ys[0])
        dirs[cond] = os.path.join(work, cond)
    for q in jpegs:
        cond = f"jpeg-q{q}"
        for (s, stem), f in zip(where, frames):
            write_pgm(os.path.join(work, cond, s, stem + ".pgm"), degrade.jpeg_roundtrip(f.y, q))
        dirs[cond] = os.path.join(work, cond)
    return {"dirs": dirs, "settings": settings}


def write_pgm(path: str, y: np.ndarray) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (y.shape[1], y.shape[0]) + np.ascontiguousarray(y).tobytes())


def read_pgm(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        raw = f.read()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", raw)
    w, h = int(m.group(1)), int(m.group(2))
    return np.frombuffer(raw[m.end():m.end() + w * h], np.uint8).reshape(h, w)


def run_eval(eval_bin: str, model: str, data: str, lr_dir: str | None, threads: int, tmp: str,
             save: str | None = None, sets=SETS) -> list[dict]:
    out = os.path.join(tmp, "rows.csv")
    label = os.path.basename(model)[: -len(".safetensors")]
    cmd = [eval_bin, "-m", model, "--threads", str(threads), "--csv", out, "--label", label]
    if lr_dir:
        cmd += ["--lr-dir", lr_dir]
    if save:
        cmd += ["--save", save]
    cmd += [os.path.join(data, s) for s in sets]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stdout}{p.stderr}")
    return list(csv.DictReader(open(out)))


def evaluate(eval_bin: str, models: list[str], data: str, ffmpeg: str, crfs=CRFS, jpegs=JPEGS,
             threads: int = 2, log=print) -> tuple[list[dict], dict]:
    """Every model under every condition; rows as espcn-eval's CSV plus 'condition'."""
    rows, settings = [], {}
    by_scale: dict[int, list[str]] = {}
    for m in models:
        by_scale.setdefault(model_scale(m), []).append(m)
    with tempfile.TemporaryDirectory(prefix="espcn-compressed-") as tmp:
        for r, ms in sorted(by_scale.items()):
            conds = make_conditions(data, r, os.path.join(tmp, f"x{r}"), ffmpeg, crfs, jpegs, log)
            settings.update(conds["settings"])
            for m in ms:
                for cond, lr_dir in [("clean", None)] + sorted(conds["dirs"].items(), key=cond_order):
                    for row in run_eval(eval_bin, m, data, lr_dir, threads, tmp):
                        row["condition"] = cond
                        rows.append(row)
                log(f"x{r} {os.path.basename(m)}: done")
    return rows, settings


def cond_order(item) -> tuple:
    c = item[0] if isinstance(item, tuple) else item
    if c == "clean":
        return (0, 0)
    kind, v = re.match(r"(x264-crf|jpeg-q)(\d+)", c).groups()
    return (1, int(v)) if kind == "x264-crf" else (2, -int(v))


def markdown(rows: list[dict]) -> str:
    """Set5 / Set14 mean PSNR-Y (SSIM) per scale and condition: bicubic, then each model."""
    means = {}
    for row in rows:
        if row["image"] != "mean":
            continue
        key = (int(row["scale"]), row["condition"], row["dataset"])
        means.setdefault(key, {})["bicubic"] = (float(row["bicubic_psnr_y"]), float(row["bicubic_ssim_y"]))
        means[key][row["method"]] = (float(row["psnr_y"]), float(row["ssim_y"]))
    out = []
    for r in sorted({k[0] for k in means}):
        methods = []
        for (rr, _, _), v in means.items():
            if rr == r:
                methods += [m for m in v if m not in methods]
        methods = ["bicubic"] + sorted(m for m in methods if m != "bicubic")
        out.append(f"\n**x{r}** — PSNR-Y dB, Set5 / Set14 (SSIM-Y in the CSV)\n")
        out.append("| LR | " + " | ".join(methods) + " |")
        out.append("|---" * (len(methods) + 1) + "|")
        conds = sorted({k[1] for k in means if k[0] == r}, key=cond_order)
        for c in conds:
            cells = []
            for m in methods:
                a, b = means.get((r, c, "Set5"), {}).get(m), means.get((r, c, "Set14"), {}).get(m)
                cells.append(f"{a[0]:.2f} / {b[0]:.2f}" if a and b else "—")
            out.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def acceptance(rows: list[dict], defaults: dict) -> str:
    """Issue #23's acceptance per scale, for the models weights/DEFAULTS names: the video model
    ("video-x<r>") against bicubic and the clean default ("x<r>")."""
    mean = {(r["condition"], r["dataset"], r["method"], int(r["scale"])): r
            for r in rows if r["image"] == "mean"}
    out = ["| scale | video model | CRF 28: vs bicubic (≥ +0.5) | vs clean default (≥ +0.3) | "
           "CRF 33: vs bicubic (≥ +0.2) | clean LR: vs clean default (≥ −0.4) | "
           "least per-image gain over bicubic, CRF 23 / 28 / 33 (> 0) |",
           "|---|---|---|---|---|---|---|"]
    for r in (2, 3, 4):
        v = defaults.get(f"video-x{r}", "")[: -len(".safetensors")]
        c = defaults.get(f"x{r}", "")[: -len(".safetensors")]
        if (("clean", "Set5", v, r)) not in mean:
            continue

        def cell(cond, ref, need):
            parts = []
            for s in SETS:
                a = float(mean[(cond, s, v, r)]["psnr_y"])
                b = (float(mean[(cond, s, v, r)]["bicubic_psnr_y"]) if ref == "bicubic"
                     else float(mean[(cond, s, c, r)]["psnr_y"]))
                d = a - b
                parts.append(f"{d:+.2f}" + ("" if d >= need else " ✗"))
            return " / ".join(parts)
        least = []
        for crf in CRFS:
            g = [(float(x["psnr_y"]) - float(x["bicubic_psnr_y"]), x["image"]) for x in rows
                 if x["condition"] == f"x264-crf{crf}" and x["method"] == v and int(x["scale"]) == r
                 and x["image"] != "mean"]
            if g:
                d, img = min(g)
                least.append(f"{d:+.3f} ({img})" + ("" if d > 0 else " ✗"))
        out.append(f"| x{r} | {v} | {cell('x264-crf28', 'bicubic', 0.5)} | {cell('x264-crf28', c, 0.3)} | "
                   f"{cell('x264-crf33', 'bicubic', 0.2)} | {cell('clean', c, -0.4)} | {' / '.join(least)} |")
    return "\n".join(out) + "\n"


def read_defaults(path: str) -> dict:
    out = {}
    for line in open(path):
        m = re.match(r"^((?:video-)?x\d) +(\S+)$", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


# ----------------------------------------------------------------------------- flicker

def flicker(eval_bin: str, models: list[str], data: str, ffmpeg: str, image: str, crfs,
            frames: int, threads: int, log=print) -> list[dict]:
    """A panned clip: frame k is the HR image's window shifted right by k*r HR pixels (1 LR
    pixel per frame), its LR made as for the x264 condition, the whole clip encoded as one
    stream (libx264, -preset medium, CRF c: an IDR frame, then P/B frames) and decoded. Each
    method upscales every decoded frame; flicker = the mean absolute difference (8-bit code
    values) between consecutive outputs after compensating the known pan,
    |O_{k+1}(y, x) - O_k(y, x + r)|, over the overlap less 4r pixels at every border, averaged
    over the frames. 0 for the HR frames themselves."""
    rows = []
    path = os.path.join(data, image)
    rgb_full = sr_data.load_image(path)
    by_scale: dict[int, list[str]] = {}
    for m in models:
        by_scale.setdefault(model_scale(m), []).append(m)
    with tempfile.TemporaryDirectory(prefix="espcn-flicker-") as tmp:
        for r, ms in sorted(by_scale.items()):
            rgb = sr_data.modcrop(rgb_full, r)
            # the clip training validates flicker on (temporal.py), one LR pixel right per frame
            lr, corners = temporal.panned_clip(rgb, r, 0, 1, frames)
            h, w = (r * n for n in lr[0].y.shape)
            hr_frames = [rgb[y:y + h, x:x + w] for y, x in corners]
            gt = os.path.join(tmp, f"x{r}", "gt", "clip")
            for k, f in enumerate(hr_frames):
                write_pgm(os.path.join(gt, f"f{k:03d}.pgm"), sr_data.rgb_to_y(f))
            for c in crfs:
                decoded, settings = degrade.x264_roundtrip([lr], [c], ffmpeg)
                lr_dir = os.path.join(tmp, f"x{r}", f"crf{c}")
                for k, y in enumerate(decoded[0]):
                    write_pgm(os.path.join(lr_dir, "clip", f"f{k:03d}.pgm"), y)
                outs = {"bicubic": [upscale(y, r) for y in decoded[0]],
                        "lr-input": [np.repeat(np.repeat(y, r, 0), r, 1) for y in decoded[0]]}
                psnrs = {}
                for m in ms:
                    save = os.path.join(tmp, f"x{r}", f"save-{c}-{os.path.basename(m)}")
                    got = run_eval(eval_bin, m, os.path.dirname(gt), lr_dir, threads, tmp, save, ("clip",))
                    name = os.path.basename(m)[: -len(".safetensors")]
                    outs[name] = [read_pgm(os.path.join(save, "clip", f"f{k:03d}_sr.pgm")) for k in range(frames)]
                    psnrs[name] = float([g for g in got if g["image"] == "mean"][0]["psnr_y"])
                    psnrs["bicubic"] = float([g for g in got if g["image"] == "mean"][0]["bicubic_psnr_y"])
                for name, o in outs.items():
                    rows.append({"scale": r, "image": image, "crf": c, "frames": frames, "method": name,
                                 "flicker": round(temporal.pan_mad(o, r), 4), "mean_psnr_y": round(psnrs.get(name, float("nan")), 4)})
                log(f"x{r} CRF {c}: " + ", ".join(f"{n} {temporal.pan_mad(o, r):.3f}" for n, o in outs.items()))
    return rows


def flicker_markdown(rows: list[dict]) -> str:
    """Flicker per scale and CRF: each method's value and its ratio to bicubic's."""
    methods = []
    for x in rows:
        if x["method"] not in methods:
            methods.append(x["method"])
    methods = ["bicubic"] + [m for m in methods if m not in ("bicubic", "lr-input")] + ["lr-input"]
    out = ["| scale | CRF | " + " | ".join(methods) + " |", "|---" * (len(methods) + 2) + "|"]
    for key in sorted({(x["scale"], x["crf"]) for x in rows}):
        v = {x["method"]: x["flicker"] for x in rows if (x["scale"], x["crf"]) == key}
        b = v["bicubic"]
        cells = [f"{v[m]:.4f}" + ("" if m == "bicubic" else f" ({v[m] / b:.2f}×)") if m in v else "—"
                 for m in methods]
        out.append(f"| x{key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", required=True, help="espcn-eval")
    ap.add_argument("--models", nargs="*", default=None,
                    help="model files (default: every weights/*.safetensors)")
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "sr"))
    ap.add_argument("--ffmpeg", default=None, help="an ffmpeg with libx264 (default: degrade.find_ffmpeg)")
    ap.add_argument("--crf", type=int, nargs="*", default=None)
    ap.add_argument("--jpeg", type=int, nargs="*", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="CSV to write")
    ap.add_argument("--markdown", default=None, help="also write the Markdown table here")
    ap.add_argument("--flicker", action="store_true", help="the temporal stability measurement instead")
    ap.add_argument("--flicker-image", default="Set14/barbara.png")
    ap.add_argument("--frames", type=int, default=24)
    a = ap.parse_args(argv)
    ffmpeg = degrade.find_ffmpeg(a.ffmpeg)
    if not ffmpeg:
        raise SystemExit("no ffmpeg with libx264 (--ffmpeg, $ESPCN_FFMPEG, build/ffmpeg-7.1, PATH)")
    models = a.models if a.models else sorted(
        os.path.join(HERE, f) for f in os.listdir(HERE) if f.endswith(".safetensors"))
    identity = degrade.encoder_identity(ffmpeg)
    head = [f"# date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"# machine: {machine()}",
            f"# command: {' '.join([os.path.relpath(sys.argv[0], REPO)] + (argv if argv is not None else sys.argv[1:]))}",
            f"# encoder: {ffmpeg}: {identity}"]
    for h in head:
        print(h[2:])
    if a.flicker:
        crfs = a.crf if a.crf is not None else list(CRFS)
        rows = flicker(a.eval, models, a.data, ffmpeg, a.flicker_image, crfs, a.frames, a.threads)
        fields = ["scale", "image", "crf", "frames", "method", "flicker", "mean_psnr_y"]
        table = flicker_markdown(rows)
        print(table)
        if a.markdown:
            with open(a.markdown, "w") as f:
                f.write(table)
    else:
        crfs = a.crf if a.crf is not None else list(CRFS)
        jpegs = a.jpeg if a.jpeg is not None else list(JPEGS)
        rows, settings = evaluate(a.eval, models, a.data, ffmpeg, crfs, jpegs, a.threads)
        for cond, st in sorted(settings.items(), key=cond_order):
            line = f"# x264 {cond}: {st}"
            head.append(line)
            print(line[2:])
        fields = ["condition", "dataset", "image", "hr_width", "hr_height", "scale", "method",
                  "psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y"]
        table = markdown(rows)
        print(table)
        if os.path.exists(os.path.join(HERE, "DEFAULTS")):
            table += "\n" + acceptance(rows, read_defaults(os.path.join(HERE, "DEFAULTS")))
            print(table.split("\n\n")[-1])
        if a.markdown:
            with open(a.markdown, "w") as f:
                f.write(table)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        buf = io.StringIO()
        buf.write("\n".join(head) + "\n")
        w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        with open(a.out, "w") as f:
            f.write(buf.getvalue())
        print(f"wrote {a.out}")
    else:
        print(json.dumps(rows[:3], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
