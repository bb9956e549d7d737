"""PyTorch -> ONNX -> ours: ESPCN (Tanh, PixelShuffle x3), FSRCNN (PReLU per
channel, ConvTranspose2d 9x9 stride 2) and PReLU-style (shared nn.PReLU(),
ReLU, PixelShuffle x4, Sigmoid) nn.Sequential nets, and ESPCN x3 plus the
global residual `F.interpolate(x, scale_factor=3, mode="nearest")` (torch
writes Resize asymmetric + floor and Add), with seeded weights are
exported by torch.onnx.export (tests/python/onnx_torch_models.py, run by
--torch-python), converted by weights/onnx_import.py and run through
`espcn-cli --raw-in WxH:16 --bits 16`; PyTorch's own output, clamped and
rounded to 16 bits as the engine encodes, is the oracle: every sample within
2/65535 (float32 on both sides, different summation orders).

Skips (exit 77, so CTest says skipped) when --torch-python is empty or cannot
import torch. Why torch
is opt-in: PyPI's Linux torch wheel is the CUDA build
(539 MB for 2.15.0) and does not import without ~3 GB of nvidia-* wheels;
Debian's CPU-only python3-torch works (apt-get install python3-torch) but
brings ~230 packages, too heavy for every CI root.

Run with the python of build/venv-cluster (onnx, numpy).
Usage: pytest test_onnx_pytorch.py --cli PATH/espcn-cli --torch-python /usr/bin/python3
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_onnx import DEFAULT_WEIGHTS_DIR, H, W, check, compare, run_cli

# The models tests/python/onnx_torch_models.py exports.
CASES = ["espcn-x3", "fsrcnn-x2", "prelu-x4", "espcn-residual-x3"]


@pytest.fixture(scope="module")
def exported(option, tmp_path_factory):
    """The PyTorch models exported to ONNX with their inputs and outputs (cases.json)."""
    torch_python = option("--torch-python", required=False)
    if not torch_python:
        pytest.skip("no python with torch given (install Debian's python3-torch, then reconfigure)")
    probe = subprocess.run([torch_python, "-c", "import torch, numpy; print(torch.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"{torch_python} cannot import torch and numpy: {probe.stderr.strip().splitlines()[-1:]}")
    work = tmp_path_factory.mktemp("torch")
    p = subprocess.run([torch_python, str(Path(__file__).with_name("onnx_torch_models.py")), str(work)],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"exporting the PyTorch models failed: {p.stderr.strip()}")
    meta = json.loads((work / "cases.json").read_text())
    print(f"torch {meta['torch']}")
    return work, {c["name"]: c for c in meta["cases"]}


def test_every_exported_model_is_tried(exported):
    _, cases = exported
    check(sorted(cases) == sorted(CASES), f"onnx_torch_models.py exports {sorted(cases)}; CASES lists {sorted(CASES)}")


@pytest.mark.parametrize("name", CASES)
def test_pytorch_matches_espcn_cli(option, exported, tmp_path, name):
    cli = option("--cli")
    importer = [sys.executable, str(Path(option("--weights-dir", required=False) or DEFAULT_WEIGHTS_DIR) / "onnx_import.py")]
    work, cases = exported
    c = cases[name]
    r, w, h = c["scale"], c["width"], c["height"]
    check((w, h) == (W, H), f"{name}: {w}x{h} planes; run_cli reads {W}x{H}")
    model = tmp_path / f"{name}.safetensors"
    q = subprocess.run(importer + [str(work / f"{name}.onnx"), "-o", str(model)], capture_output=True, text=True)
    check(q.returncode == 0, f"onnx_import failed: {q.stderr.strip()}")
    plane = np.fromfile(work / f"{name}.in.u16", dtype="<u2").reshape(h, w)
    want = np.fromfile(work / f"{name}.out.f32", dtype="<f4").reshape(h * r, w * r)
    print(f"PyTorch vs espcn-cli: {compare(run_cli(cli, model, plane, tmp_path, r), want)}; "
          f"{q.stdout.strip().split(': ', 1)[-1]}")
