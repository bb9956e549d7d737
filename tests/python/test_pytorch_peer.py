"""bench/pytorch_peer.py runs the network of the file it is given, residual included
(issue 21, fault 5: it ignored "residual": "nearest", so pointed at the shipped LRNet
defaults it timed a different network). Each shipped model with a residual, and one
without, through the peer on the CPU (fp32) and through espcn-cli's reference backend,
on the same 8-bit plane: within 1 code everywhere (two fp32 summation orders), where a
peer without the residual is off by tens of codes. ~5 s (torch import).

Needs a python with torch and numpy (--torch-python; skipped without one)."""
import json
import os
import struct
import subprocess

import numpy as np
import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PEER = os.path.join(ROOT, "bench", "pytorch_peer.py")


def shipped(weights, name):
    path = os.path.join(weights, name)
    if not os.path.exists(path):
        pytest.skip(f"{path} is not there")
    return path


@pytest.mark.parametrize("name", ["lrnet-x2.safetensors", "lrnet-x3.safetensors", "espcn-x2.safetensors"])
def test_the_peer_computes_the_files_network(option, tmp_path, name):
    torch_python = option("--torch-python", required=False)
    if not torch_python:
        pytest.skip("no python with torch and numpy (--torch-python empty)")
    cli, weights = option("--cli"), option("--weights-dir")
    model = shipped(weights, name)
    w, h = 37, 23
    rng = np.random.default_rng(5)
    # Smooth content plus noise: a residual network's output stays near its input.
    yy, xx = np.mgrid[0:h, 0:w]
    plane = np.clip(128 + 80 * np.sin(xx / 5.0) * np.cos(yy / 4.0) + rng.normal(0, 12, (h, w)), 0, 255)
    plane.astype(np.uint8).tofile(tmp_path / "in.y")
    subprocess.run([cli, "-m", model, "--backend", "reference", "--raw-in", f"{w}x{h}", "-i", str(tmp_path / "in.y"),
                    "-o", str(tmp_path / "espcn.y")], check=True, capture_output=True)
    subprocess.run([torch_python, PEER, "--model", model, "--device", "cpu", "--plane", str(tmp_path / "in.y"),
                    f"{w}x{h}", str(tmp_path / "peer.y")], check=True, capture_output=True)
    ours = np.fromfile(tmp_path / "espcn.y", np.uint8).astype(int)
    peer = np.fromfile(tmp_path / "peer.y", np.uint8).astype(int)
    assert ours.size == peer.size, (ours.size, peer.size)
    diff = np.abs(ours - peer)
    assert diff.max() <= 1, f"{name}: peer vs espcn-cli max {diff.max()} codes, {(diff > 1).sum()} samples over 1"


def test_an_unknown_residual_is_refused(option, tmp_path):
    torch_python = option("--torch-python", required=False)
    if not torch_python:
        pytest.skip("no python with torch and numpy (--torch-python empty)")
    weights = option("--weights-dir")
    # The shipped file with its network's residual rewritten (the data section kept).
    raw = open(shipped(weights, "lrnet-x2.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    net = json.loads(header["__metadata__"]["espcn.network"])
    net["residual"] = "bicubic"
    header["__metadata__"]["espcn.network"] = json.dumps(net)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])
    r = subprocess.run([torch_python, PEER, "--model", str(bad), "--device", "cpu", "--sizes", "8x8",
                        "--min-time", "0"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "residual 'bicubic'" in r.stderr + r.stdout, r.stderr + r.stdout
