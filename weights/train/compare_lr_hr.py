#!/usr/bin/env python3
"""The note's Section 3: an all-LR network vs an upsample-first (HR-space) one at about the
same MACs, trained with the same recipe and budget (configs/cmp_{lr,hr}_x{2,3}.json).

    <python with torch> weights/train/compare_lr_hr.py [--runs weights/train/logs] [--repeat 7]

Reads each run's summary.json (Set5/Set14 PSNR-Y of the best validation checkpoint, as
train.py measured it in PyTorch; parameters; MACs per LR pixel) and measures the forward pass
of both networks on a 640x360 LR input in PyTorch on the CPU (1 thread, eval mode, no
gradients; the rounds alternate LR and HR, the median of --repeat rounds is reported). Waits
while /work/wt/timing.active (another engineer's timing run) exists. Prints a Markdown table
and the raw timings.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402

FLAG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "timing.active")


def load(run: str):
    with open(os.path.join(run, "summary.json")) as f:
        s = json.load(f)
    cfg = s["config"]
    m = models.build(cfg["arch"], cfg["scale"], cfg["init"], **cfg["model"])
    best = os.path.join(run, "best.pt")
    if os.path.exists(best):
        m.load_state_dict(torch.load(best, map_location="cpu", weights_only=False)["model"])
    return s, m.eval()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", default=os.path.join(HERE, "logs"))
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--no-timing", action="store_true",
                    help="only the table from the summaries (e.g. while timing.active holds the CPU)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    w, h = (int(v) for v in a.size.split("x"))
    rows = []
    for r in (2, 3):
        dirs = [os.path.join(a.runs, f"cmp_{k}_x{r}") for k in ("lr", "hr")]
        if not all(os.path.exists(os.path.join(d, "summary.json")) for d in dirs):
            print(f"x{r}: skipped, a run of the pair has no summary.json: {dirs}", file=sys.stderr)
            continue
        pair = [load(d) for d in dirs]
        x = torch.rand(1, 1, h, w)
        times = ([], [])
        with torch.no_grad():
            if a.no_timing:
                for k, (s, m) in enumerate(pair):
                    rows.append((r, ("LR", "HR")[k], s, None, []))
                continue
            for k in range(2):
                pair[k][1](x)  # warm-up
            for _ in range(a.repeat):
                for k in range(2):
                    while os.path.exists(FLAG):
                        time.sleep(2)
                    t0 = time.perf_counter()
                    pair[k][1](x)
                    times[k].append(time.perf_counter() - t0)
        for k, (s, m) in enumerate(pair):
            t = statistics.median(times[k]) if times[k] else None
            rows.append((r, ("LR", "HR")[k], s, t, times[k]))
    print(f"torch {torch.__version__}, 1 thread, {a.size} LR input, median of {a.repeat}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f}")
    print("| scale | network | layers | parameters | MACs / LR px | Set5 PSNR-Y | Set14 PSNR-Y | "
          "forward, 640×360 (PyTorch CPU) | iterations |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r, kind, s, t, _ in rows:
        mc = s["config"]["model"]
        desc = (f"conv5 1→{mc['f']}, conv3 {mc['f']}→{mc['f']}, conv3 {mc['f']}→{r * r}, shuffle"
                if kind == "LR" else
                f"bicubic ×{r}, conv5 1→{mc['f']}, conv3 {mc['f']}→{mc['f']}, conv3 {mc['f']}→1 (HR)")
        print(f"| x{r} | {kind} | {desc} | {s['parameters']} | {s['macs_per_lr_pixel']} | "
              f"{s['tests']['Set5']['psnr_y']:.2f} | {s['tests']['Set14']['psnr_y']:.2f} | "
              + (f"{t * 1000:.1f} ms" if t is not None else "not measured") + f" | {s['iterations']} |")
    print()
    for r, kind, _, _, ts in rows:
        print(f"raw x{r} {kind}: " + " ".join(f"{v * 1000:.1f}" for v in ts) + " ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
