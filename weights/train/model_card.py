#!/usr/bin/env python3
"""Markdown tables for weights/MODELS.md from the committed raw results.

    /usr/bin/python3 weights/train/model_card.py [--eval-dir weights/eval] [--runs weights/train/logs]

Reads weights/eval/<model>.csv (espcn-eval --csv on Set5 and Set14: the numbers of record,
measured through the engine) and, where present, weights/train/logs/<config>/summary.json
(training time, iterations, best validation PSNR; weights/train/logs holds the committed copies of
the shipped runs' summaries, runs/ the local, git-ignored run folders). Prints the quality table (mean PSNR/SSIM
per set, the gain over bicubic, and the paper's figure) and the per-model facts.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.dirname(HERE)

PAPER = {  # Set5 / Set14 PSNR-Y the issue quotes
    ("espcn", 3): (33.00, 29.42), ("espcn", 4): (30.90, 27.73),
    ("fsrcnn", 2): (37.00, 32.63), ("fsrcnn", 3): (33.16, 29.43), ("fsrcnn", 4): (30.71, 27.59),
    # lrnet: the best published figure per scale at <= ESPCN's MACs (issue #13's target)
    ("lrnet", 2): (37.00, 32.63), ("lrnet", 3): (33.16, 29.43), ("lrnet", 4): (30.90, 27.73),
}
ARCHS = ("espcn", "fsrcnn", "lrnet")


def means(path: str) -> dict[str, dict[str, float]]:
    out = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            if row["image"] == "mean":
                out[row["dataset"]] = {k: float(row[k]) for k in
                                       ("psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y")}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(WEIGHTS, "eval"))
    ap.add_argument("--runs", default=os.path.join(HERE, "logs"))
    a = ap.parse_args()
    print("| model | scale | Set5 PSNR / SSIM | bicubic | gain | Set14 PSNR / SSIM | bicubic | gain | paper Set5 / Set14 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for arch in ARCHS:
        for r, name in ((r, f"{arch}-x{r}{kind}") for r in (2, 3, 4) for kind in ("", "-video")):
            path = os.path.join(a.eval_dir, name + ".csv")
            if not os.path.exists(path):
                continue
            m = means(path)
            s5, s14 = m["Set5"], m["Set14"]
            paper = PAPER.get((arch, r))
            print(f"| {name} | x{r} | {s5['psnr_y']:.2f} / {s5['ssim_y']:.4f} | {s5['bicubic_psnr_y']:.2f} / "
                  f"{s5['bicubic_ssim_y']:.4f} | {s5['psnr_y'] - s5['bicubic_psnr_y']:+.2f} | "
                  f"{s14['psnr_y']:.2f} / {s14['ssim_y']:.4f} | {s14['bicubic_psnr_y']:.2f} / "
                  f"{s14['bicubic_ssim_y']:.4f} | {s14['psnr_y'] - s14['bicubic_psnr_y']:+.2f} | "
                  + (f"{paper[0]:.2f} / {paper[1]:.2f}" if paper else "—") + " |")
    print()
    print("| model | iterations | best at | val PSNR (bicubic) | training wall time | it/s | device, threads | torch |")
    print("|---|---|---|---|---|---|---|---|")
    for arch in ARCHS:
        for r in (2, 3, 4):
            # <config>_long, _long2: continuations (init_from another run's checkpoint), after their start
            for run, label in ((f"{arch}_x{r}", f"{arch}-x{r}"), (f"{arch}_x{r}_long", f"{arch}-x{r} continued"),
                               (f"{arch}_x{r}_long2", f"{arch}-x{r} continued again"),
                               (f"{arch}_x{r}_video", f"{arch}-x{r}-video (compressed LR)"),
                               (f"{arch}_x{r}_video_long", f"{arch}-x{r}-video continued"),
                               (f"{arch}_x{r}_video_temporal", f"{arch}-x{r}-video temporal loss")):
                p = os.path.join(a.runs, run, "summary.json")
                if not os.path.exists(p):
                    continue
                s = json.load(open(p))
                its = str(s["iterations"])
                start = continued_from(s["config"].get("init_from"), a.runs)
                if start:
                    its += f" (from {start})"
                print(f"| {label} | {its} | {s['best_iteration']} | {s['best_val_psnr_y']:.2f} "
                      f"({s['val_bicubic_psnr_y']:.2f}) | {s['train_wall_s'] / 60:.1f} min | {s['iterations_per_s']:.1f} | "
                      f"{s['device_name']}, {s['threads']} | {s['torch']} |")
    print()
    targets(a.eval_dir, a.runs)
    return 0


def continued_from(init_from: str | None, runs: str) -> str:
    """'<run> it <n> of <total>' when init_from is a committed best.pt of a run in `runs`."""
    if not init_from or not init_from.startswith("weights/train/checkpoints/") or not init_from.endswith("/best.pt"):
        return ""
    run = init_from.split("/")[-2]
    p = os.path.join(runs, run, "summary.json")
    if not os.path.exists(p):
        return ""
    s = json.load(open(p))
    return f"{run} it {s['best_iteration']} of {s['iterations']}"


# Issue #13: the best published Set5 / Set14 PSNR-Y per scale at <= ESPCN's MACs per LR pixel.
TARGET = {2: (37.00, 32.63), 3: (33.16, 29.43), 4: (30.90, 27.73)}
ESPCN_MACS = {2: 21184, 3: 22624, 4: 24640}


def targets(eval_dir: str, runs: str) -> None:
    """Per scale: each lrnet model against the target, through espcn-eval (weights/eval) and
    through ffmpeg -vf espcn (bench/results/*-ffmpeg-<model>-set5-set14.csv, newest)."""
    import glob
    results = os.path.join(os.path.dirname(WEIGHTS), "bench", "results")
    print("| scale | target Set5 / Set14 | model | MACs / LR px (bound) | espcn-eval Set5 / Set14 | "
          "ffmpeg -vf espcn Set5 / Set14 | vs target | +0.2 dB goal |")
    print("|---|---|---|---|---|---|---|---|")
    for r in (2, 3, 4):
        name = f"lrnet-x{r}"
        path = os.path.join(eval_dir, name + ".csv")
        if not os.path.exists(path):
            continue
        m = means(path)
        s5, s14 = m["Set5"]["psnr_y"], m["Set14"]["psnr_y"]
        ff = sorted(glob.glob(os.path.join(results, f"*-ffmpeg-{name}-set5-set14.csv")))
        fs = "not measured"
        if ff:
            f = means(ff[-1])
            fs = f"{f['Set5']['psnr_y']:.2f} / {f['Set14']['psnr_y']:.2f}"
        macs = "?"
        summ = os.path.join(runs, f"lrnet_x{r}", "summary.json")
        if os.path.exists(summ):
            macs = json.load(open(summ)).get("macs_per_lr_pixel", "?")
        t5, t14 = TARGET[r]
        d5, d14 = s5 - t5, s14 - t14
        verdict = ", ".join(f"{n} {'**met**' if d >= 0 else 'missed'} {d:+.3f}" for n, d in (("Set5", d5), ("Set14", d14)))
        goal = ("met" if d5 >= 0.2 and d14 >= 0.2
                else f"missed by {max(0.0, 0.2 - d5):.3f} / {max(0.0, 0.2 - d14):.3f}")
        print(f"| x{r} | {t5:.2f} / {t14:.2f} | {name} | {macs} ({ESPCN_MACS[r]}) | {s5:.3f} / {s14:.3f} | {fs} | "
              f"{verdict} dB | {goal} |")


if __name__ == "__main__":
    sys.exit(main())
