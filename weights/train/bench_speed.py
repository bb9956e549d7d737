#!/usr/bin/env python3
"""Training-step speed (forward + MSE + backward + Adam step) per model, scale, batch and patch
size, on random data. Example:
    nice -n 10 /usr/bin/python3 bench_speed.py --arch espcn --scale 3 --batch 16 64 --patch 17

it_per_s is wall-clock; cpu_s_per_it is the process's CPU time per step (all threads), which
is less sensitive to other load on the machine (with T threads and the cores to itself, a
step takes about cpu_s_per_it / T seconds if the threads scale perfectly).
gmac_per_s counts forward MACs x 3 (forward + two backward products).
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as train.py; set before torch loads OpenMP

import torch
import torch.nn.functional as F

import models


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", nargs="+", default=["espcn", "fsrcnn"])
    ap.add_argument("--scale", nargs="+", type=int, default=[2, 3, 4])
    ap.add_argument("--batch", nargs="+", type=int, default=[16, 64])
    ap.add_argument("--patch", nargs="+", type=int, default=[17])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0, help="time per case (after 3 warm-up steps)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--slow-deconv", action="store_true", help="use nn.ConvTranspose2d itself (see models.py)")
    ap.add_argument("--config", default=None,
                    help="a train.py config: its arch, scale, model, batch and patch (and loss) instead")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    kwargs, init, loss_fn = {}, "he", F.mse_loss
    if a.config:
        import json
        with open(a.config) as f:
            cfg = json.load(f)
        a.arch, a.scale, a.batch, a.patch = [cfg["arch"]], [cfg["scale"]], [cfg["batch"]], [cfg["patch"]]
        kwargs, init = cfg.get("model", {}), cfg.get("init", "he")
        loss_fn = {"mse": F.mse_loss, "l1": F.l1_loss}[cfg.get("loss", "mse")]
    print(f"torch {torch.__version__}, device {a.device}, threads {torch.get_num_threads()}")
    print("arch,scale,batch,patch,it_per_s,lr_px_per_s,gmac_per_s,cpu_s_per_it")
    for arch in a.arch:
        for r in a.scale:
            for b in a.batch:
                for p in a.patch:
                    model = models.build(arch, r, init, **kwargs).to(a.device)
                    opt = torch.optim.Adam(model.parameters(), 1e-3)
                    x = torch.rand(b, 1, p, p, device=a.device)
                    y = torch.rand(b, 1, p * r, p * r, device=a.device)

                    def step():
                        opt.zero_grad(set_to_none=True)
                        loss = loss_fn(models.forward(model, x, fast=not a.slow_deconv), y)
                        loss.backward()
                        opt.step()
                    for _ in range(3):
                        step()
                    if a.device.startswith("cuda"):
                        torch.cuda.synchronize()
                    n, t0, c0 = 0, time.perf_counter(), time.process_time()
                    while time.perf_counter() - t0 < a.seconds:
                        step()
                        n += 1
                    if a.device.startswith("cuda"):
                        torch.cuda.synchronize()
                    dt = time.perf_counter() - t0
                    cpu = time.process_time() - c0
                    px = n * b * p * p / dt
                    print(f"{arch},{r},{b},{p},{n / dt:.2f},{px:.0f},"
                          f"{3 * px * models.macs_per_lr_pixel(model) / 1e9:.2f},{cpu / n:.4f}", flush=True)


if __name__ == "__main__":
    main()
