#!/usr/bin/env python3
"""Clean against compressed LR along the line between two trained LRNets (issue #23).

Issue #23 asks one fixed video model to stay within 0.4 dB of the clean default on clean LR
and to gain on compressed LR. This measures the best a blend of the two trained endpoints
can do: the collapsed weights of the clean model (a = 0) and of the video model (a = 1) are
interpolated, w = (1 - a) w_clean + a w_video (network interpolation, Wang et al., CVPR 2019;
the video models are fine-tuned from the clean ones, so the line stays in one basin), and
each blend is scored on the held-out *validation* images (never Set5/Set14), clean and under
every degrade.val condition, beside bicubic of the same LR.

    .venv-torch2/bin/train-python weights/train/interpolation_tradeoff.py --scale 2 \
        --clean weights/train/checkpoints/lrnet_x2_long/best.pt \
        --video weights/train/checkpoints/lrnet_x2_video/best.pt --alphas 0,0.5,0.75,0.9,1

Prints a Markdown table: PSNR-Y (dB) per condition and alpha.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import degrade  # noqa: E402
import models  # noqa: E402
import sr_data  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--clean", required=True, help="train.py checkpoint (.pt) of the clean model")
    ap.add_argument("--video", required=True, help="train.py checkpoint (.pt) of the video model")
    ap.add_argument("--config", default=None, help="a video config (default: configs/lrnet_x<r>_video.json)")
    ap.add_argument("--alphas", default="0,0.25,0.5,0.75,0.9,1")
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "sr"))
    ap.add_argument("--cache", default=degrade.DEFAULT_CACHE)
    a = ap.parse_args(argv)
    r = a.scale
    torch.set_num_threads(1)
    cfg = json.load(open(a.config or os.path.join(HERE, "configs", f"lrnet_x{r}_video.json")))

    def collapsed(ck: str) -> torch.nn.Sequential:
        m = models.build("lrnet", r, "torch", 1e-3, **cfg["model"])
        m.load_state_dict(torch.load(ck, map_location="cpu", weights_only=False)["model"])
        return m.to_sequential().eval()

    clean_net, video_net = collapsed(a.clean), collapsed(a.video)
    paths = []
    for name in cfg["data"]["train"]:
        paths += sr_data.list_images(os.path.join(a.data, name))
    _, val = sr_data.split_train_val(paths, cfg["data"]["val_fraction"], cfg["data"]["split_seed"])
    d = degrade.settings_of(cfg)
    folder = degrade.build(val, r, d, "val", degrade.find_ffmpeg(), a.cache)
    clean = {p: sr_data.load_pair(p, r) for p in val}
    conds: dict[str, list] = {"clean": [(q.hr, q.lr) for q in clean.values()]}
    for variants in degrade.load(val, r, folder, {p: q.hr for p, q in clean.items()}):
        for q in variants:
            conds.setdefault(q.name.split(":")[1], []).append((q.hr, q.lr))

    @torch.no_grad()
    def run(net, lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(lr.astype(np.float32) / 255)[None, None]
        y = net(x) + F.interpolate(x, scale_factor=r, mode="nearest")  # residual "nearest"
        return sr_data.to_uint8(y[0, 0].double().numpy())

    print(f"x{r}: {len(val)} validation images; PSNR-Y dB; a = 0 is {a.clean}, a = 1 is {a.video}\n")
    print("| a | " + " | ".join(conds) + " |")
    print("|---" * (len(conds) + 1) + "|")
    bic = [np.mean([sr_data.psnr(sr_data.upscale(lr, r), h, r) for h, lr in v]) for v in conds.values()]
    print("| bicubic | " + " | ".join(f"{x:.3f}" for x in bic) + " |")
    ca, cb = clean_net.state_dict(), video_net.state_dict()
    net = collapsed(a.clean)
    for al in (float(s) for s in a.alphas.split(",")):
        net.load_state_dict({k: (1 - al) * ca[k] + al * cb[k] for k in ca})
        row = [np.mean([sr_data.psnr(run(net, lr), h, r) for h, lr in v]) for v in conds.values()]
        print(f"| {al:g} | " + " | ".join(f"{x:.3f}" for x in row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
