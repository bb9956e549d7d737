#!/usr/bin/env python3
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

Skips (exit 77) when --torch-python is empty or cannot import torch. Why torch
is opt-in: PyPI's Linux torch wheel is the CUDA build
(539 MB for 2.15.0) and does not import without ~3 GB of nvidia-* wheels;
Debian's CPU-only python3-torch works (apt-get install python3-torch) but
brings ~230 packages, too heavy for every CI root.

Run with the python of build/venv-cluster (onnx, numpy).
Usage: test_onnx_pytorch.py --cli PATH/espcn-cli --torch-python /usr/bin/python3
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from test_onnx import DEFAULT_WEIGHTS_DIR, H, W, Failure, check, compare, run_cli

SKIP = 77


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--torch-python", default="", help="a python that can import torch")
    ap.add_argument("--weights-dir", default=str(DEFAULT_WEIGHTS_DIR))
    args = ap.parse_args()
    if not args.torch_python:
        print("SKIP: no python with torch given (install Debian's python3-torch, then reconfigure)")
        return SKIP
    probe = subprocess.run([args.torch_python, "-c", "import torch, numpy; print(torch.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIP: {args.torch_python} cannot import torch and numpy: {probe.stderr.strip().splitlines()[-1:]}")
        return SKIP
    importer = [sys.executable, str(Path(args.weights_dir) / "onnx_import.py")]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="espcn_test_onnx_pytorch.") as tmp:
        work = Path(tmp)
        p = subprocess.run([args.torch_python, str(Path(__file__).with_name("onnx_torch_models.py")), str(work)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(f"FAIL exporting the PyTorch models: {p.stderr.strip()}", file=sys.stderr)
            return 1
        meta = json.loads((work / "cases.json").read_text())
        print(f"torch {meta['torch']}")
        for c in meta["cases"]:
            name, r, w, h = c["name"], c["scale"], c["width"], c["height"]
            try:
                check((w, h) == (W, H), f"{name}: {w}x{h} planes; run_cli reads {W}x{H}")
                model = work / f"{name}.safetensors"
                q = subprocess.run(importer + [str(work / f"{name}.onnx"), "-o", str(model)],
                                   capture_output=True, text=True)
                check(q.returncode == 0, f"onnx_import failed: {q.stderr.strip()}")
                plane = np.fromfile(work / f"{name}.in.u16", dtype="<u2").reshape(h, w)
                want = np.fromfile(work / f"{name}.out.f32", dtype="<f4").reshape(h * r, w * r)
                detail = compare(run_cli(args.cli, model, plane, work, r), want)
                passed += 1
                print(f"ok   {name}: PyTorch vs espcn-cli: {detail}; {q.stdout.strip().split(': ', 1)[-1]}")
            except Failure as e:
                failed += 1
                print(f"FAIL {name}: {e}", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
