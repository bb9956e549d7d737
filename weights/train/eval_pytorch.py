#!/usr/bin/env python3
"""PSNR-Y of a trained PyTorch model (and of bicubic) on Set5/Set14, and optionally the same
model run through the C++ engine (espcn-cli) compared with PyTorch.

    /usr/bin/python3 weights/train/eval_pytorch.py weights/train/runs/espcn_x3
    /usr/bin/python3 weights/train/eval_pytorch.py RUN_DIR --engine build/release/bin/espcn-cli

RUN_DIR is a train.py output folder (uses model.pt, or best.pt + config.json, and the
exported <name>.safetensors for --engine). A model.pt file (a whole nn.Sequential saved
with torch.save) also works, with --scale.

Protocol (sr_data.py): Y of MATLAB rgb2ycbcr, modcrop r, LR = MATLAB imresize(HR, 1/r)
on uint8; the network sees LR/255; its output is clamped to [0, 1] and rounded to uint8
(floor(255 v + 0.5), the engine's rule; with a
"range" [lo, hi] the network sees lo + (hi - lo) LR/255 and v = (t - lo)/(hi - lo)); PSNR on Y with r pixels shaved on each side;
bicubic = MATLAB imresize(LR, r) on uint8.

--engine runs espcn-cli on each LR Y plane (raw 8-bit in, 16-bit out) and reports
 - the largest difference between the engine's output and PyTorch's, in 16-bit code values
   (the engine's 16-bit quantization alone is at most 0.5 of one; float32 arithmetic in a
   different order adds ~1e-6 relative), with PyTorch evaluated *as the model is defined*:
   nn.ConvTranspose2d itself for FSRCNN, not the training shortcut;
 - the engine's PSNR-Y after rounding its 16-bit output to 8 bits (should equal PyTorch's
   to ~0.001 dB: only outputs within ~1e-6 of a rounding boundary can differ).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import models  # noqa: E402
import sr_data  # noqa: E402


def load_model(path: str, scale: int | None, value_range):
    """-> (model, scale, (lo, hi), safetensors path or None)"""
    if os.path.isdir(path):
        with open(os.path.join(path, "config.json")) as f:
            cfg = json.load(f)
        model = models.build(cfg["arch"], cfg["scale"], "torch", **cfg["model"])
        model.load_state_dict(torch.load(os.path.join(path, "best.pt"), map_location="cpu")["model"])
        st = os.path.join(path, f"{cfg['name']}.safetensors")
        rng = value_range or tuple(cfg.get("range", (0.0, 1.0)))
        return model, cfg["scale"], rng, st if os.path.exists(st) else None
    model = torch.load(path, map_location="cpu")
    if scale is None:
        raise SystemExit("--scale is needed with a model.pt file")
    return model, scale, value_range or (0.0, 1.0), None


def run_engine(cli: str, model_file: str, lr: np.ndarray, r: int) -> np.ndarray:
    h, w = lr.shape
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.y"), os.path.join(d, "out.y")
        lr.tofile(src)
        subprocess.run([cli, "-m", model_file, "--raw-in", f"{w}x{h}:8", "--bits", "16",
                        "-i", src, "-o", dst], check=True, capture_output=True)
        out = np.fromfile(dst, dtype="<u2")
    if out.size != h * w * r * r:
        raise RuntimeError(f"engine wrote {out.size} samples, expected {h * w * r * r}")
    return out.reshape(h * r, w * r)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a train.py output folder, or a whole-model .pt file")
    ap.add_argument("--scale", type=int, default=None)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "sr"))
    ap.add_argument("--sets", nargs="+", default=["Set5", "Set14"])
    ap.add_argument("--lr-mode", default="uint8", choices=["uint8", "double"])
    ap.add_argument("--engine", default=None, help="espcn-cli to compare with (e.g. build/release/bin/espcn-cli)")
    ap.add_argument("--engine-model", default=None, help="the .safetensors (default: the run folder's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--range", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                    help="the model's value range (default: the run's config, else 0 1)")
    ap.add_argument("--json", default=None, help="also write the results here")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    model, r, (lo, hi), st = load_model(a.model, a.scale, a.range)
    model.eval()
    st = a.engine_model or st
    if a.engine and not st:
        raise SystemExit("--engine needs the exported .safetensors (--engine-model)")
    results = {}
    worst16 = 0
    for name in a.sets:
        rows = []
        for f in sr_data.list_images(os.path.join(a.data, name)):
            p = sr_data.load_pair(f, r, a.lr_mode)
            x = torch.from_numpy(p.lr.astype(np.float32) / np.float32(255))[None, None]
            with torch.no_grad():
                # the model as defined (nn.ConvTranspose2d for FSRCNN), values mapped as the engine maps them
                t = model(x * (hi - lo) + lo)[0, 0].double().numpy()
            y = (t - lo) / (hi - lo)
            out8 = sr_data.to_uint8(y)
            row = {"image": p.name, "psnr": sr_data.psnr(out8, p.hr, r),
                   "bicubic": sr_data.psnr(sr_data.upscale(p.lr, r), p.hr, r)}
            if a.engine:
                e16 = run_engine(a.engine, st, p.lr, r)
                ref16 = np.floor(np.clip(y.astype(np.float64), 0, 1) * 65535 + 0.5)
                d = int(np.abs(e16.astype(np.int64) - ref16.astype(np.int64)).max())
                worst16 = max(worst16, d)
                e8 = np.floor(e16.astype(np.float64) * 255 / 65535 + 0.5).astype(np.uint8)
                row["engine_psnr"] = sr_data.psnr(e8, p.hr, r)
                row["engine_max_diff_16bit"] = d
            rows.append(row)
        m = float(np.mean([x["psnr"] for x in rows]))
        b = float(np.mean([x["bicubic"] for x in rows]))
        results[name] = {"psnr_y": m, "bicubic_psnr_y": b, "gain_db": m - b, "images": rows}
        print(f"== {name} x{r}")
        for x in rows:
            extra = (f"  engine {x['engine_psnr']:.3f}  max|engine-torch| {x['engine_max_diff_16bit']}/65535"
                     if a.engine else "")
            print(f"  {x['image']:<16} {x['psnr']:.3f}  bicubic {x['bicubic']:.3f}{extra}")
        line = f"  mean             {m:.3f}  bicubic {b:.3f}  gain {m - b:+.3f} dB"
        if a.engine:
            em = float(np.mean([x["engine_psnr"] for x in rows]))
            results[name]["engine_psnr_y"] = em
            line += f"  engine {em:.3f}"
        print(line)
    if a.engine:
        print(f"largest |engine - PyTorch| over all images: {worst16} of 65535 (16-bit code values)")
        results["engine_max_diff_16bit"] = worst16
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
