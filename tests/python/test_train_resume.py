"""A resumed training run ends with the same weights as an uninterrupted one, bit for bit.

    pytest test_train_resume.py [--train-python PYTHON]

Trains tiny configurations (an LRNet with collapsible blocks, indexed multi-process sampler,
L1 -> MSE switch; an ESPCN with the original stream sampler; and, where an ffmpeg with libx264
is found, the LRNet on compressed LR (weights/train/degrade.py: x264 single frames and clips,
JPEG, noise, the clean-validation selection rule), its encodings cached and reused by the
later runs) on generated images twice:
straight through, and stopped half way (--stop-after) then continued with --resume (the
second half with a different number of loader workers, which must not matter). Compares the
final last.pt (model and optimizer state, exactly), the exported model files (bytes) and
log.csv (every column but the wall clock).

The training python: --train-python, else $ESPCN_TRAIN_PYTHON, else the repository's
.venv-torch2/bin/train-python (scripts/train_venv.sh), else this interpreter. Skips (exit 77,
ctest: skipped) when none of them imports torch, numpy and PIL; the compressed-LR
configuration skips without an ffmpeg with libx264 (degrade.find_ffmpeg()).
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TRAIN = os.path.join(REPO, "weights", "train", "train.py")

COMMON = {
    "seed": 3, "range": [0.0, 1.0],
    "data": {"train": ["img"], "val_fraction": 0.25, "split_seed": 0, "lr_mode": "uint8"},
    "patch": 8, "batch": 4, "augment": True, "iterations": 8,
    "optimizer": {"type": "adam", "lr": 0.002, "betas": [0.9, 0.999], "eps": 1e-08, "weight_decay": 0.0},
    "schedule": {"type": "cosine", "min_lr": 1e-05, "warmup": 0},
    "val_every": 4, "log_every": 2, "checkpoint_every": 2, "threads": 1, "test_sets": [],
}
CONFIGS = {
    "lrnet": dict(COMMON, name="tiny-lrnet", arch="lrnet", scale=2, init="torch",
                  model={"f": 4, "m": 1, "first_k": 3, "last_k": 3, "expand": 6, "act": "prelu",
                         "residual": "nearest"},
                  sampler="indexed", workers=1, loss="l1", loss_final="mse", loss_final_from=0.5),
    "espcn": dict(COMMON, name="tiny-espcn", arch="espcn", scale=3, init="torch",
                  model={"c1": 4, "c2": 4}, sampler="stream", loss="mse"),
}
CONFIGS["lrnet-degrade"] = dict(
    CONFIGS["lrnet"], name="tiny-lrnet-video",
    degrade={"seed": 5, "variants": {"clean": 1, "x264": 3, "jpeg": 1},
             "x264": {"crf": [20, 40], "clip_prob": 0.5, "clip_frames": 3, "clip_motion": 2},
             "noise": {"prob": 0.5}, "val": [["x264", 30], ["jpeg", 50]]},
    select={"clean_max_drop": 1.0})


def find_python(given: str | None) -> str | None:
    candidates = [given, os.environ.get("ESPCN_TRAIN_PYTHON"),
                  os.path.join(REPO, ".venv-torch2", "bin", "train-python"), sys.executable]
    for c in candidates:
        if c and os.path.exists(c) and subprocess.run(
                [c, "-c", "import torch, numpy, PIL"], capture_output=True).returncode == 0:
            return c
    return None


def make_images(folder: str, python: str) -> None:
    """Eight 40x36 RGB images: gradients, a disc and stripes, different per image."""
    code = r'''
import sys, numpy as np
from PIL import Image
out = sys.argv[1]
yy, xx = np.mgrid[0:36, 0:40].astype(np.float64)
for k in range(8):
    r = 128 + 100 * np.sin(xx / (3 + k) + yy / 7)
    g = 255 * ((xx - 20 - k) ** 2 + (yy - 18) ** 2 < (6 + k) ** 2)
    b = 255 * (((xx + 2 * yy + 3 * k) // 5) % 2)
    img = np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(f"{out}/im{k}.png")
'''
    os.makedirs(folder)
    subprocess.run([python, "-c", code, folder], check=True)


def train(python: str, config: str, data: str, out: str, *extra: str) -> None:
    cmd = [python, TRAIN, "--config", config, "--data", data, "--out", out, "--no-progress", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")


def compare_checkpoints(python: str, a: str, b: str) -> str:
    code = r'''
import sys, torch
def flat(prefix, x, out):
    if isinstance(x, dict):
        for k in sorted(x, key=str): flat(f"{prefix}.{k}", x[k], out)
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x): flat(f"{prefix}[{i}]", v, out)
    else:
        out[prefix] = x
A, B = ({}, {})
for path, d in ((sys.argv[1], A), (sys.argv[2], B)):
    ck = torch.load(path, map_location="cpu", weights_only=False)
    ck.pop("elapsed_s")
    flat("", ck, d)
assert A.keys() == B.keys(), sorted(set(A) ^ set(B))
bad = []
for k in A:
    x, y = A[k], B[k]
    same = torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y
    if not same: bad.append(k)
print("differ: " + ", ".join(bad) if bad else f"identical: {len(A)} entries")
sys.exit(1 if bad else 0)
'''
    p = subprocess.run([python, "-c", code, a, b], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"checkpoints {a} and {b}: {p.stdout}{p.stderr}")
    return p.stdout.strip()


def log_rows(path: str) -> list[list[str]]:
    with open(path) as f:
        rows = list(csv.reader(f))
    col = rows[0].index("elapsed_s")
    return [r[:col] + r[col + 1:] for r in rows]


@pytest.fixture(scope="module")
def python(option):
    found = find_python(option("--train-python", required=False))
    if found is None:
        pytest.skip("no python with torch, numpy and PIL (scripts/train_venv.sh, or Debian's python3-torch)")
    return found


@pytest.fixture(scope="module")
def data(python, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("data"))
    make_images(os.path.join(folder, "img"), python)
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The degradation cache (weights/train/degrade.py's encodings), shared by every run."""
    return str(tmp_path_factory.mktemp("cache"))


def have_x264_ffmpeg(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import degrade; "
                            "print(degrade.find_ffmpeg() or '')", os.path.dirname(TRAIN)],
                           capture_output=True, text=True)
    return probe.returncode == 0 and bool(probe.stdout.strip())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_resumed_run_equals_an_uninterrupted_one(python, data, cache, tmp_path, name):
    cfg = CONFIGS[name]
    if "degrade" in cfg and not have_x264_ffmpeg(python):
        pytest.skip("no ffmpeg with libx264: the compressed-LR configuration is not run")
    tmp = str(tmp_path)
    config = os.path.join(tmp, f"{name}.json")
    with open(config, "w") as f:
        json.dump(cfg, f)
    whole, parts = os.path.join(tmp, f"{name}-whole"), os.path.join(tmp, f"{name}-resumed")
    train(python, config, data, whole, "--cache", cache)
    train(python, config, data, parts, "--stop-after", "4", "--cache", cache)
    train(python, config, data, parts, "--resume", "--workers", "0", "--cache", cache)
    msg = compare_checkpoints(python, os.path.join(whole, "last.pt"), os.path.join(parts, "last.pt"))
    fa = os.path.join(whole, f"{cfg['name']}.safetensors")
    fb = os.path.join(parts, f"{cfg['name']}.safetensors")
    with open(fa, "rb") as f1, open(fb, "rb") as f2:
        assert f1.read() == f2.read(), f"exported files differ: {fa} {fb}"
    la, lb = log_rows(os.path.join(whole, "log.csv")), log_rows(os.path.join(parts, "log.csv"))
    assert la == lb, f"log.csv differs:\n{la}\n{lb}"
    print(f"resumed = uninterrupted (last.pt {msg}; model file and {len(la) - 1} log rows identical)")
