#!/usr/bin/env python3
"""Train an ESPCN or FSRCNN-style model and export it in the espcn format.

    /usr/bin/python3 weights/train/train.py --config weights/train/configs/espcn_x3.json

Reads T91 + BSDS200 (or what the config names) from --data (default: ../shared/data/sr
relative to the repository root), holds out a seeded validation split, trains on random
LR/HR patch pairs (see sr_data.py for the protocol), and writes to --out (default
weights/train/runs/<config name>):

    config.json     the effective configuration (after command-line overrides)
    log.csv         iteration, train_loss, val_psnr, lr, elapsed_s (+ monitor_psnr)
    best.pt         the best state by validation PSNR-Y (state_dict + iteration + psnr)
    last.pt         everything needed to --resume (model, optimizer, RNG states, iteration)
    model.pt        the best model as a whole nn.Sequential (for export_pytorch.py's CLI)
    <name>.safetensors   the best model in the espcn format (F32), via export_pytorch.export
    summary.json    best val PSNR, Set5/Set14 PSNR-Y (model and bicubic), wall time, versions

Deterministic for a given config, seed, torch version, device and thread count: seeded
torch and numpy, torch.use_deterministic_algorithms(True), a single-process data sampler
with its own seeded generator (the order of patches depends only on the seed). CUDA is used
when available (--device auto, the default); set --device cpu to force the CPU.
"""
from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import math
import os
import platform
import struct
import sys
import time

# Before torch initializes CUDA: deterministic cuBLAS (harmless on the CPU).
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
# Before torch loads OpenMP: idle threads sleep instead of spinning. On a machine shared with
# other work (builds), spinning threads burned ~4x the CPU time per step and ran 2-3x slower
# (bench_speed.py, 2 threads, load ~6); export OMP_WAIT_POLICY=ACTIVE to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import degrade  # noqa: E402
import temporal  # noqa: E402
import models  # noqa: E402
import sr_data  # noqa: E402
from export_pytorch import export  # noqa: E402

DEFAULTS = {
    "name": None,             # model name in the file; default: the config file's stem with '-'
    "arch": "espcn",          # espcn | fsrcnn | lrnet | hrnet (models.py)
    "scale": 3,
    "model": {},              # architecture kwargs: espcn c1, c2; fsrcnn d, s, m;
                              # lrnet f, m, first_k, last_k, expand, act, residual; hrnet f, m, ...
    "init": "he",             # he | torch (models.py)
    "init_from": None,        # a model file in our format, or a train.py checkpoint (.pt), repository-
                              # relative; .pt: the tensors whose name and shape match. Its weights
                              # start the run instead (FSRCNN: another scale's model)
    "last_std": 1e-3,         # std of the last layer under init "he"
    "range": [0.0, 1.0],      # network value of code 0 and code 255 (FORMAT.md "range")
    "seed": 1,
    "data": {"train": ["T91", "BSDS200"], "val_fraction": 0.05, "split_seed": 0,
             "lr_mode": "uint8"},
    "sampler": "stream",      # stream: one generator seeded once (the shipped 2026-11 runs);
                              # indexed: batch i drawn from a generator seeded with (seed, i),
                              # the same for any number of loader workers and after --resume
    "workers": 0,             # indexed sampler: batch-making processes (0: in the training process)
    "patch": 17,              # LR patch side; HR patch = scale * patch
    "batch": 64,
    "augment": True,          # the 8 flips/rotations
    "iterations": 20000,
    "optimizer": {"type": "adam", "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8,
                  "weight_decay": 0.0},
    "last_layer_lr_scale": 1.0,   # lr multiplier of the last conv / the deconvolution
    "schedule": {"type": "cosine", "min_lr": 1e-5, "warmup": 0},
    "loss": "mse",            # mse | l1 | logmse (mean over the patches of log10(MSE + 1e-4):
                              # each patch's PSNR counts alike, so the most degraded inputs
                              # of a mixed batch do not dominate it)
    "loss_final": None,       # e.g. "mse": switch to this loss at iteration loss_final_from
    "loss_final_from": None,  # an iteration, or a fraction (< 1) of "iterations"
    "checkpoint_every": None, # save last.pt (model, optimizer, RNG, iteration) this often;
                              # default: at each validation. A multiple of log_every.
    "val_every": 1000,
    "log_every": 100,
    "threads": 2,
    "test_sets": ["Set5", "Set14"],
    "monitor": None,          # e.g. "Set5": also log that set's PSNR at each validation
                              # (information only; never used to pick the checkpoint)
    "degrade": None,          # compressed LR (issue #23, degrade.py): training pairs are the
                              # cached degraded variants; validation PSNR is the mean over the
                              # held-out images under every degrade.val setting, and the clean
                              # validation PSNR is logged beside it (val_clean_psnr)
    "select": None,           # {"clean_max_drop": dB}: a checkpoint is kept as best only if its
                              # clean validation PSNR is at most that far below the starting
                              # model's (iteration 0, i.e. init_from's);
                              # {"flicker_max_ratio": x}: only if its validation flicker is at
                              # most x times bicubic's at every CRF (degrade.temporal)
}


def merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def lr_at(it: int, cfg: dict) -> float:
    base = cfg["optimizer"]["lr"]
    s = cfg["schedule"]
    total = cfg["iterations"]
    warm = int(s.get("warmup", 0))
    if warm and it < warm:
        return base * (it + 1) / warm
    kind = s.get("type", "constant")
    if kind == "constant":
        return base
    if kind == "cosine":
        lo = s.get("min_lr", 0.0)
        t = (it - warm) / max(1, total - warm)
        return lo + 0.5 * (base - lo) * (1 + math.cos(math.pi * min(1.0, t)))
    if kind == "step":
        return base * s.get("gamma", 0.1) ** sum(it >= m for m in s["milestones"])
    raise ValueError(f"unknown schedule {kind!r} (constant, cosine, step)")


def loss_at(it: int, cfg: dict) -> str:
    final, start = cfg.get("loss_final"), cfg.get("loss_final_from")
    if final and start is not None:
        start = int(round(start * cfg["iterations"])) if start < 1 else int(start)
        if it >= start:
            return final
    return cfg["loss"]


@torch.no_grad()
def evaluate(model, pairs, r: int, device, value_range=(0.0, 1.0)) -> list[float]:
    """PSNR-Y of the model on whole images, as the engine computes them: code v enters as
    lo + (hi - lo) v/255; the output t leaves as (t - lo)/(hi - lo), clamped to [0, 1] and
    rounded to uint8; r pixels shaved."""
    lo, hi = value_range
    was_training = model.training
    model.eval()
    out = []
    for p in pairs:
        x = torch.from_numpy(p.lr.astype(np.float32) / np.float32(255))[None, None].to(device)
        y = models.forward(model, x * (hi - lo) + lo)[0, 0].double().cpu().numpy()
        out.append(sr_data.psnr(sr_data.to_uint8((y - lo) / (hi - lo)), p.hr, r))
    model.train(was_training)
    return out


def set_value_range(path: str, lo: float, hi: float) -> None:
    """Sets the network's "range" in an exported file (export_pytorch.export writes the
    default [0, 1]); the tensor data and its offsets are unchanged."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    net = json.loads(header["__metadata__"]["espcn.network"])
    net["range"] = [float(lo), float(hi)]
    header["__metadata__"]["espcn.network"] = json.dumps(net)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + raw[8 + n:])


def config_digest(cfg: dict) -> str:
    """What a checkpoint must agree with to be resumed: the configuration that shapes the
    trajectory (not the thread count or the device, which a resume may change, nor "select",
    which only decides which validated state becomes best.pt)."""
    keep = {k: v for k, v in cfg.items()
            if k not in ("threads", "workers", "monitor", "init_from_sha256", "degrade_encoder", "select")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()


def load_set(data: str, name: str, r: int, lr_mode: str) -> list:
    return [sr_data.load_pair(f, r, lr_mode) for f in sr_data.list_images(os.path.join(data, name))]


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="a JSON config (weights/train/configs/*.json)")
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "sr"),
                    help="folder holding T91/, BSDS200/, Set5/, Set14/ (default: %(default)s)")
    ap.add_argument("--out", default=None, help="output folder (default: weights/train/runs/<config stem>)")
    ap.add_argument("--device", default="auto", help="auto (cuda if available, else cpu), cpu, cuda, cuda:N")
    ap.add_argument("--threads", type=int, default=None, help="override the config's CPU threads")
    ap.add_argument("--iterations", type=int, default=None, help="override (smoke runs); the schedule follows")
    ap.add_argument("--val-every", type=int, default=None)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--monitor", default=None, help="also log this test set's PSNR at each validation")
    ap.add_argument("--resume", action="store_true", help="continue from --out/last.pt")
    ap.add_argument("--stop-after", type=int, default=None,
                    help="save last.pt after this many iterations and stop (continue with --resume)")
    ap.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    ap.add_argument("--workers", type=int, default=None, help="override the config's loader workers")
    ap.add_argument("--ffmpeg", default=None, help="degrade: an ffmpeg with libx264 (default: degrade.find_ffmpeg)")
    ap.add_argument("--cache", default=degrade.DEFAULT_CACHE, help="degrade: the cache folder (default: %(default)s)")
    a = ap.parse_args(argv)

    with open(a.config) as f:
        user_cfg = json.load(f)
    cfg = merge(DEFAULTS, user_cfg)
    stem = os.path.splitext(os.path.basename(a.config))[0]
    for key, val in (("threads", a.threads), ("iterations", a.iterations), ("val_every", a.val_every),
                     ("seed", a.seed), ("monitor", a.monitor), ("workers", a.workers)):
        if val is not None:
            cfg[key] = val
    cfg["name"] = cfg["name"] or stem.replace("_", "-")
    r = int(cfg["scale"])
    lo, hi = (float(v) for v in cfg["range"])
    if not hi > lo:
        raise ValueError("range must be [lo, hi] with hi > lo")
    out_dir = a.out or os.path.join(HERE, "runs", stem)
    os.makedirs(out_dir, exist_ok=True)
    data = os.path.abspath(a.data)

    # ---- determinism and device
    torch.set_num_threads(int(cfg["threads"]))
    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(a.device)
    torch.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False

    # ---- data
    t_load = time.perf_counter()
    paths = []
    for name in cfg["data"]["train"]:
        paths += sr_data.list_images(os.path.join(data, name))
    train_paths, val_paths = sr_data.split_train_val(paths, cfg["data"]["val_fraction"],
                                                     cfg["data"]["split_seed"])
    lr_mode = cfg["data"].get("lr_mode", "uint8")
    train_pairs = [sr_data.load_pair(p, r, lr_mode) for p in train_paths]
    val_pairs = [sr_data.load_pair(p, r, lr_mode) for p in val_paths]
    clean_val_pairs = None
    tsampler, tval_clips, tval_bicubic, tset = None, None, None, temporal.settings_of(cfg)
    if cfg.get("degrade"):
        # compressed LR: the cached variants replace the clean pairs (degrade.py)
        ffmpeg = degrade.find_ffmpeg(a.ffmpeg)
        if not ffmpeg:
            raise SystemExit("degrade: no ffmpeg with libx264 (--ffmpeg or $ESPCN_FFMPEG)")
        dset = degrade.settings_of(cfg)
        procs = max(1, int(cfg["workers"]))
        val_dir = degrade.build(val_paths, r, dset, "val", ffmpeg, a.cache, procs, lr_mode)
        train_dir = degrade.build(train_paths, r, dset, "train", ffmpeg, a.cache, procs, lr_mode)
        with open(os.path.join(train_dir, "manifest.json")) as f:
            cfg["degrade_encoder"] = f"{ffmpeg}: " + json.load(f)["encoder"]
        print(f"degrade: encoder {cfg['degrade_encoder']}; x264 settings (but crf): "
              f"{degrade.manifest_settings(val_dir)}", flush=True)
        clean_val_pairs = val_pairs
        clean_train = train_pairs
        train_pairs = [q for v in degrade.load(train_paths, r, train_dir,
                                               {p: q.hr for p, q in zip(train_paths, train_pairs)}) for q in v
                       if dset["cached_clean"] or not q.name.endswith(":clean")]
        train_pairs += clean_train * int(dset["extra_clean"])
        val_pairs = [q for v in degrade.load(val_paths, r, val_dir,
                                             {p: q.hr for p, q in zip(val_paths, val_pairs)}) for q in v]
        if tset:
            # consecutive x264 frames of the same LR content (temporal.py)
            pairs_dir = temporal.build(train_paths, r, tset, "pairs", ffmpeg, a.cache, int(dset["seed"]), procs)
            tval_dir = temporal.build(val_paths, r, tset, "tval", ffmpeg, a.cache, int(dset["seed"]), procs)
            tsampler = sr_data.PatchSampler(
                temporal.load_pairs(train_paths, r, pairs_dir, {p: q.hr for p, q in zip(train_paths, clean_train)}),
                r, int(cfg["patch"]), cfg["seed"] + 7919, bool(cfg["augment"]))
            tval_clips = temporal.load_val_clips(val_paths, tval_dir)
            tval_bicubic = temporal.flicker_totals(lambda f: sr_data.upscale(f, r), tval_clips, r)
    sampler = sr_data.PatchSampler(train_pairs, r, int(cfg["patch"]), cfg["seed"], bool(cfg["augment"]))
    monitor_pairs = load_set(data, cfg["monitor"], r, lr_mode) if cfg["monitor"] else None
    val_bicubic = float(np.mean(sr_data.bicubic_psnr(val_pairs, r))) if val_pairs else float("nan")
    t_load = time.perf_counter() - t_load

    # ---- model and optimizer
    model = models.build(cfg["arch"], r, cfg["init"], cfg["last_std"], **cfg["model"])
    if cfg["sampler"] not in ("stream", "indexed"):
        raise ValueError("sampler must be 'stream' or 'indexed'")
    ck_every = int(cfg["checkpoint_every"] or cfg["val_every"])
    if ck_every % int(cfg["log_every"]):
        raise ValueError("checkpoint_every must be a multiple of log_every")
    if cfg.get("init_from"):
        init_path = os.path.join(REPO, cfg["init_from"])
        if init_path.endswith(".pt"):
            # a train.py checkpoint (best.pt / last.pt) of another run, e.g. another scale's:
            # every tensor whose name and shape match (LRNet: all but the last conv)
            src = torch.load(init_path, map_location="cpu", weights_only=False)["model"]
            own = model.state_dict()
            taken = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape}
            model.load_state_dict(taken, strict=False)
            print(f"init_from: {len(taken)} of {len(own)} tensors taken; "
                  f"not taken: {', '.join(sorted(set(own) - set(taken))) or 'none'}", flush=True)
        else:
            models.load_espcn_file(model, init_path)
        cfg["init_from_sha256"] = sha256(init_path)
        print(f"initialized from {cfg['init_from']} (sha256 {cfg['init_from_sha256'][:16]}...)", flush=True)
    model = model.to(device)
    last = models.last_layer(model)
    last_ids = {id(p) for p in last.parameters()}
    groups = [{"params": [p for p in model.parameters() if id(p) not in last_ids], "lr_scale": 1.0},
              {"params": list(last.parameters()), "lr_scale": float(cfg["last_layer_lr_scale"])}]
    oc = cfg["optimizer"]
    if oc["type"] != "adam":
        raise ValueError("only the adam optimizer is implemented")
    opt = torch.optim.Adam(groups, lr=oc["lr"], betas=tuple(oc["betas"]), eps=oc["eps"],
                           weight_decay=oc["weight_decay"])
    def val_flicker(model) -> dict:
        """Validation flicker over bicubic's per CRF (temporal.flicker_ratios), the model run
        as evaluate() runs it."""
        was_training = model.training
        model.eval()

        @torch.no_grad()
        def up(y8):
            x = torch.from_numpy(y8.astype(np.float32) / np.float32(255))[None, None].to(device)
            o = models.forward(model, x * (hi - lo) + lo)[0, 0].double().cpu().numpy()
            return sr_data.to_uint8((o - lo) / (hi - lo))
        got = temporal.flicker_ratios(up, tval_clips, r, tval_bicubic)
        model.train(was_training)
        return got

    bicubic_up = None
    if tset:
        bicubic_up = models.bicubic_taps(r).float().to(device)

    def temporal_loss(fa, fb, xa, xb):
        """"l2": MSE between the two frames' outputs. "excess_l1": per pair, how far the mean
        absolute difference of the outputs (what eval_compressed's flicker measures) exceeds
        bicubic's (models.bicubic_taps) on the same two frames; differences up to bicubic's
        cost nothing."""
        if tset["loss"] == "l2":
            return F.mse_loss(fa, fb)
        if tset["loss"] != "excess_l1":
            raise ValueError("degrade.temporal.loss must be 'l2' or 'excess_l1'")
        def bic(x):
            return F.pixel_shuffle(F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), bicubic_up), r)
        ours = (fa - fb).abs().mean(dim=(1, 2, 3))
        with torch.no_grad():
            theirs = (bic(xa) - bic(xb)).abs().mean(dim=(1, 2, 3))
        return F.relu(ours - theirs).mean()

    def logmse(out, target):
        return torch.log10(((out - target) ** 2).mean(dim=(1, 2, 3)) + 1e-4).mean()
    loss_fns = {"mse": F.mse_loss, "l1": F.l1_loss, "logmse": logmse}

    start, best_psnr, best_it, elapsed0 = 0, -1.0, -1, 0.0
    clean_ref = None  # the starting model's clean validation PSNR ("select")
    log_path = os.path.join(out_dir, "log.csv")
    if a.resume:
        ck = torch.load(os.path.join(out_dir, "last.pt"), map_location=device, weights_only=False)
        if ck.get("config_digest") not in (None, config_digest(cfg)):
            raise SystemExit(f"{out_dir}/last.pt was written by a different configuration; "
                             "resume with the same --config and overrides")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sampler.rng.bit_generator.state = ck["sampler_rng"]
        torch.set_rng_state(ck["torch_rng"])
        start, best_psnr, best_it, elapsed0 = ck["iteration"], ck["best_psnr"], ck["best_it"], ck["elapsed_s"]
        clean_ref = ck.get("clean_ref")
        # drop log rows written after that checkpoint
        with open(log_path) as f:
            rows = list(csv.reader(f))
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerows([rows[0]] + [x for x in rows[1:] if int(x[0]) <= start])
    else:
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(["iteration", "train_loss", "val_psnr", "lr", "elapsed_s"]
                                   + (["monitor_psnr"] if monitor_pairs else [])
                                   + (["val_clean_psnr"] if clean_val_pairs else [])
                                   + (["val_flicker_ratio"] if tval_clips else []))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)

    print(f"{cfg['name']}: {cfg['arch']} x{r}, {models.deployed_parameters(model)} parameters "
          f"({sum(p.numel() for p in model.parameters())} trained), "
          f"{models.macs_per_lr_pixel(model)} MACs/LR pixel; device {device}, threads {torch.get_num_threads()}, "
          f"torch {torch.__version__}", flush=True)
    print(f"data {data}: {len(train_pairs)} training images ({len(sampler.skipped)} too small), "
          f"{len(val_pairs)} validation; loaded in {t_load:.1f} s; val bicubic PSNR-Y {val_bicubic:.3f} dB",
          flush=True)
    max_drop = (cfg.get("select") or {}).get("clean_max_drop")
    max_flicker = (cfg.get("select") or {}).get("flicker_max_ratio")
    if max_flicker is not None and not tval_clips:
        raise ValueError("select.flicker_max_ratio needs degrade.temporal (its validation clips)")
    if tval_clips:
        print(f"temporal: {len(tsampler.pairs)} training pairs, weight {tset['weight']}, "
              f"{tset['batch']} per step; the starting model's validation flicker / bicubic: "
              + ", ".join(f"{k} {v:.3f}" for k, v in val_flicker(model).items()), flush=True)
    if max_drop is not None and not clean_val_pairs:
        raise ValueError("select.clean_max_drop needs degrade (a clean validation beside the compressed one)")
    if clean_val_pairs and clean_ref is None:
        clean_ref = float(np.mean(evaluate(model, clean_val_pairs, r, device, (lo, hi))))
        start_val = float(np.mean(evaluate(model, val_pairs, r, device, (lo, hi))))
        print(f"the starting model: val PSNR-Y {start_val:.3f} dB compressed, {clean_ref:.3f} dB clean"
              + (f"; a best checkpoint must keep clean >= {clean_ref - max_drop:.3f} dB"
                 if max_drop is not None else ""), flush=True)

    # ---- train
    progress = None
    if not a.no_progress:
        from tqdm import tqdm
        progress = tqdm(total=cfg["iterations"], initial=start, unit="it", dynamic_ncols=True,
                        smoothing=0.05)
    say = progress.write if progress else print
    best_state = None
    if a.resume and os.path.exists(os.path.join(out_dir, "best.pt")):
        best_state = torch.load(os.path.join(out_dir, "best.pt"), map_location="cpu",
                                weights_only=False)["model"]
    t0 = time.perf_counter() - elapsed0
    loss_sum, loss_n, val_psnr = 0.0, 0, float("nan")

    def save_last(done: int, elapsed: float) -> None:
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                    "sampler_rng": sampler.rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(), "iteration": done,
                    "best_psnr": best_psnr, "best_it": best_it, "elapsed_s": elapsed,
                    "clean_ref": clean_ref, "config_digest": config_digest(cfg)},
                   os.path.join(out_dir, "last.pt.tmp"))
        os.replace(os.path.join(out_dir, "last.pt.tmp"), os.path.join(out_dir, "last.pt"))

    model.train()
    loader = None
    if cfg["sampler"] == "indexed":
        loader = sr_data.BatchLoader(sampler, int(cfg["batch"]), start, cfg["iterations"],
                                     int(cfg["workers"]))
        batches = iter(loader)
    def to_net(v):
        return torch.from_numpy(v).to(device, non_blocking=True) * (hi - lo) + lo

    for it in range(start, cfg["iterations"]):
        lr = lr_at(it, cfg)
        for g in opt.param_groups:
            g["lr"] = lr * g["lr_scale"]
        xb, yb = next(batches) if loader else sampler.sample(int(cfg["batch"]))
        xb, yb = to_net(xb), to_net(yb)
        if tsampler is None:
            loss = loss_fns[loss_at(it, cfg)](models.forward(model, xb), yb)
        else:
            # the frame pairs join the batch (each crop against its target) and add the
            # temporal term: the two frames' outputs should differ no more than bicubic's do
            ta, tb, ty = (to_net(v) for v in tsampler.batch(int(tset["batch"]), it))
            n, m = xb.shape[0], ta.shape[0]
            out = models.forward(model, torch.cat([xb, ta, tb]))
            loss = loss_fns[loss_at(it, cfg)](out, torch.cat([yb, ty, ty]))
            loss = loss + float(tset["weight"]) * temporal_loss(out[n:n + m], out[n + m:], ta, tb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.item()
        loss_n += 1
        done = it + 1
        is_val = done % cfg["val_every"] == 0 or done == cfg["iterations"]
        if done % cfg["log_every"] == 0 or is_val:
            row_val, row_mon = "", []
            if is_val:
                val_psnr = float(np.mean(evaluate(model, val_pairs, r, device, (lo, hi))))
                row_val = f"{val_psnr:.4f}"
                if monitor_pairs:
                    row_mon = [f"{np.mean(evaluate(model, monitor_pairs, r, device, (lo, hi))):.4f}"]
                clean_ok = flicker_ok = True
                if clean_val_pairs:
                    val_clean = float(np.mean(evaluate(model, clean_val_pairs, r, device, (lo, hi))))
                    row_mon = row_mon + [f"{val_clean:.4f}"]
                    clean_ok = max_drop is None or val_clean >= clean_ref - max_drop
                flicker_note = ""
                if tval_clips:
                    fl = val_flicker(model)
                    worst = max(fl.values())
                    row_mon = row_mon + [f"{worst:.4f}"]
                    flicker_ok = max_flicker is None or worst <= max_flicker
                    flicker_note = ("  flicker/bicubic " + " ".join(f"{k} {v:.3f}" for k, v in fl.items())
                                    + ("" if flicker_ok else " (over the bound)"))
                if val_psnr > best_psnr and clean_ok and flicker_ok:
                    best_psnr, best_it = val_psnr, done
                    best_state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
                    torch.save({"model": best_state, "iteration": done, "val_psnr": val_psnr,
                                "config": cfg}, os.path.join(out_dir, "best.pt"))
            elapsed = time.perf_counter() - t0
            with open(log_path, "a", newline="") as f:
                csv.writer(f).writerow([done, f"{loss_sum / loss_n:.6g}", row_val, f"{lr:.6g}",
                                        f"{elapsed:.1f}"] + row_mon)
            if is_val:
                say(f"it {done}: loss {loss_sum / loss_n:.6f}  val PSNR-Y {val_psnr:.3f} dB "
                    f"(bicubic {val_bicubic:.3f}, best {best_psnr:.3f} @ {best_it})"
                    + (f"  {cfg['monitor']} {row_mon[0]} dB" if monitor_pairs else "")
                    + (f"  clean {val_clean:.4f} dB"
                       + ("" if max_drop is None or val_clean >= clean_ref - max_drop else " (too far below the start)")
                       if clean_val_pairs else "") + flicker_note
                    + f"  lr {lr:.3g}  {elapsed:.0f} s")
            if done % ck_every == 0 or is_val:
                save_last(done, elapsed)
            if progress:
                progress.set_postfix(loss=f"{loss_sum / loss_n:.5f}", val=f"{val_psnr:.2f}",
                                     best=f"{best_psnr:.2f}", refresh=False)
            loss_sum, loss_n = 0.0, 0
        if progress:
            progress.update(1)
        if a.stop_after is not None and done == a.stop_after and done < cfg["iterations"]:
            if loss_n:
                raise SystemExit("--stop-after must be a multiple of log_every")
            save_last(done, time.perf_counter() - t0)
            if loader:
                loader.close()
            if progress:
                progress.close()
            print(f"stopped after iteration {done}; continue with --resume")
            return 0
    if progress:
        progress.close()
    train_s = time.perf_counter() - t0

    if loader:
        loader.close()

    # ---- export the best model and evaluate it
    model = model.to("cpu")
    select_note = None
    if best_state is None:
        # no validation met "select" (clean_max_drop, flicker_max_ratio):
        # the last state is exported, and the summary says so
        rules = ([f"clean validation within {max_drop} dB of the start ({clean_ref:.3f} dB)"]
                 if max_drop is not None else []) + \
                ([f"validation flicker at most {max_flicker} x bicubic's"] if max_flicker is not None else [])
        select_note = f"no checkpoint met {' and '.join(rules)}: the last state is exported"
        print("select: " + select_note, flush=True)
        best_state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
        best_it = cfg["iterations"]
    model.load_state_dict(best_state)
    for mod in model.modules():
        mod.__dict__.pop("_subpixel_cache", None)
    file = os.path.join(out_dir, f"{cfg['name']}.safetensors")
    if isinstance(model, models.HRNet):
        # upsampling first: not an LR network, so not in the engine's format
        torch.save(model, os.path.join(out_dir, "model.pt"))
        file = None
    else:
        deployed = model.to_sequential() if isinstance(model, models.LRNet) else model
        torch.save(deployed, os.path.join(out_dir, "model.pt"))
        export(deployed, scale=r, name=cfg["name"], path=file,
               residual=getattr(model, "residual", None))
        if (lo, hi) != (0.0, 1.0):
            set_value_range(file, lo, hi)
    tests = {}
    for name in cfg["test_sets"]:
        try:
            pairs = load_set(data, name, r, lr_mode)
        except FileNotFoundError as e:
            print(f"skipping test set {name}: {e}")
            continue
        m = evaluate(model, pairs, r, torch.device("cpu"), (lo, hi))
        b = sr_data.bicubic_psnr(pairs, r)
        tests[name] = {"psnr_y": float(np.mean(m)), "bicubic_psnr_y": float(np.mean(b)),
                       "gain_db": float(np.mean(m) - np.mean(b)),
                       "per_image": {p.name: [round(x, 4), round(y, 4)] for p, x, y in zip(pairs, m, b)}}
        print(f"{name}: PSNR-Y {np.mean(m):.3f} dB, bicubic {np.mean(b):.3f} dB, gain {np.mean(m) - np.mean(b):+.3f} dB")
    summary = {
        "name": cfg["name"], "arch": cfg["arch"], "scale": r,
        "file": os.path.abspath(file) if file else None, "sha256": sha256(file) if file else None,
        "parameters": models.deployed_parameters(model), "macs_per_lr_pixel": models.macs_per_lr_pixel(model),
        "best_val_psnr_y": best_psnr, "best_iteration": best_it,
        "val_bicubic_psnr_y": val_bicubic, "val_images": [p.name for p in val_pairs],
        "val_clean_start_psnr_y": clean_ref, "select_note": select_note,
        "iterations": cfg["iterations"], "train_wall_s": round(train_s, 1),
        "iterations_per_s": round((cfg["iterations"] - start) / max(1e-9, train_s - elapsed0), 3),
        "tests": tests, "torch": torch.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name(),
        "threads": torch.get_num_threads(), "seed": cfg["seed"], "config": cfg,
    }
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"wrote {file} (best val PSNR-Y {best_psnr:.3f} dB at iteration {best_it}; "
          f"{train_s:.0f} s of training) and {os.path.join(out_dir, 'summary.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
