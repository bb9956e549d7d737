#!/usr/bin/env python3
"""The PyTorch peer of espcn-bench --cuda: the same network (read from our
.safetensors file) in PyTorch, timed the way a careful PyTorch user would run
it: fp16, channels_last, cuDNN benchmark mode, and the whole forward pass
captured in a CUDA graph (plus the eager fp16 and fp32 figures for context).
Times are CUDA events around batches of replays after warm-up; the input is a
1x1xHxW tensor already on the device (what espcn-bench's "dev luma" column
times). The upsampler is PyTorch's own: nn.PixelShuffle, or nn.ConvTranspose2d
for FSRCNN-style files (PyTorch has no LR-space rewrite of it). A file's
global residual (FORMAT.md, "residual": "nearest", the LRNet defaults) is
part of the network: added to every one of the r^2 channels before the
shuffle, as weights/train/models.py LRNet does (for a transposed-conv
upsampler, to the HR output, nearest-upsampled). Any other residual value is
refused: the peer must never time a different network than the file's.

  python3 bench/pytorch_peer.py --model weights/espcn-x2.safetensors \
      --sizes 640x360,1920x1080 [--csv out.csv] [--device cuda|cpu]

--device cpu runs the same code on the CPU at fp32 without graphs (a smoke
test where there is no GPU; its timings are not the peer's figures).

--plane IN WxH OUT: no timing; runs the network once (fp32, --device) on a
raw 8-bit plane IN of WxH samples, decoded and encoded as espcn does (the
file's range; clamp, round half up), and writes the 8-bit result to OUT: how
tests/python/test_pytorch_peer.py checks that the peer computes the file's
network (its residual included) against espcn-cli.
"""
import argparse
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights", "train"))
from models import read_espcn_file  # noqa: E402  (the training code's reader of our format)


class Peer(nn.Module):
    """The file's network: `body` up to the upsampler, the upsampler, and the global
    residual (x added to body's r^2 maps before a pixel shuffle; nearest-upsampled
    to the HR output after a transposed conv)."""

    def __init__(self, body, upsampler, residual, scale):
        super().__init__()
        self.body, self.upsampler, self.residual, self.scale = body, upsampler, residual, scale
        self.before_shuffle = isinstance(upsampler, nn.PixelShuffle)

    def forward(self, x):
        y = self.body(x)
        if self.residual and self.before_shuffle:
            y = y + x  # broadcast over the r^2 channels
        y = self.upsampler(y)
        if self.residual and not self.before_shuffle:
            y = y + nn.functional.interpolate(x, scale_factor=self.scale, mode="nearest")
        return y


def read_model(path):
    net, arrays = read_espcn_file(path)
    residual = net.get("residual") or "none"
    if residual not in ("none", "nearest"):
        raise SystemExit(f"pytorch_peer: {path}: residual {residual!r} is not one this peer runs")
    tensors = {name: torch.from_numpy(a.copy()) for name, a in arrays.items()}
    layers = []
    for spec in net["layers"]:
        t = spec["type"]
        if t == "conv":
            w = tensors[spec["weight"]]
            m = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=w.shape[2] // 2, bias="bias" in spec)
            m.weight.data.copy_(w)
            if spec.get("bias"):
                m.bias.data.copy_(tensors[spec["bias"]])
        elif t == "deconv":
            w = tensors[spec["weight"]]
            m = nn.ConvTranspose2d(w.shape[0], w.shape[1], w.shape[2], stride=spec["stride"],
                                   padding=spec.get("padding", 0), output_padding=spec.get("output_padding", 0),
                                   bias="bias" in spec)
            m.weight.data.copy_(w)
            if spec.get("bias"):
                m.bias.data.copy_(tensors[spec["bias"]])
        elif t == "prelu":
            w = tensors[spec["weight"]]
            m = nn.PReLU(w.numel())
            m.weight.data.copy_(w.reshape(-1))
        elif t in ("tanh", "relu", "sigmoid"):
            m = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[t]()
        elif t == "identity":
            continue
        elif t == "pixel_shuffle":
            if spec.get("order", "crd") != "crd":
                raise SystemExit("pytorch_peer: only the CRD (PyTorch) shuffle order is supported")
            m = nn.PixelShuffle(net["scale"])
        else:
            raise SystemExit(f"pytorch_peer: unknown layer type {t!r}")
        layers.append(m)
    # The upsampler (the shuffle, or the transposed conv and anything after it) apart
    # from the body, so the residual goes where the file says.
    up = next((i for i, m in enumerate(layers) if isinstance(m, (nn.PixelShuffle, nn.ConvTranspose2d))),
              len(layers))
    upsampler = nn.Sequential(*layers[up:]) if up < len(layers) - 1 else (layers[up] if up < len(layers) else nn.Identity())
    peer = Peer(nn.Sequential(*layers[:up]), upsampler, residual == "nearest", net["scale"])
    return peer.eval(), net


def time_cuda(fn, min_seconds):
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    total_ms, calls, batch = 0.0, 0, 4
    while total_ms < min_seconds * 1e3:
        start.record()
        for _ in range(batch):
            fn()
        stop.record()
        stop.synchronize()
        total_ms += start.elapsed_time(stop)
        calls += batch
        batch = min(batch * 2, 1024)
    return total_ms * 1e-3 / calls


def time_cpu(fn, min_seconds):
    fn()
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds or calls < 1:
        fn()
        calls += 1
    return (time.perf_counter() - t0) / calls


def run_plane(model, net, path_in, size, path_out, dev):
    import numpy as np
    w, h = (int(v) for v in size.split("x"))
    lo, hi = net.get("range", [0.0, 1.0])
    v = np.fromfile(path_in, np.uint8)
    if v.size != w * h:
        raise SystemExit(f"pytorch_peer: {path_in} holds {v.size} samples, not {w}x{h}")
    x = torch.from_numpy(lo + (hi - lo) * (v.astype(np.float32) / 255.0)).reshape(1, 1, h, w).to(dev)
    with torch.inference_mode():
        y = model.to(dev, dtype=torch.float32)(x)[0, 0].double().cpu().numpy()
    y = np.nan_to_num((y - lo) / (hi - lo), nan=0.0)
    np.floor(np.clip(y, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).tofile(path_out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--sizes", default="640x360,960x540,1280x720,1920x1080")
    ap.add_argument("--variants", default="all",
                    help="all, or 'graph' for the fp16 channels_last CUDA-graph run alone")
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--csv")
    ap.add_argument("--plane", nargs=3, metavar=("IN", "WxH", "OUT"))
    a = ap.parse_args()
    model, net = read_model(a.model)
    dev = torch.device(a.device)
    if a.plane:
        return run_plane(model, net, a.plane[0], a.plane[1], a.plane[2], dev)
    cuda = dev.type == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit("pytorch_peer: no CUDA device visible to PyTorch (use --device cpu for a smoke test)")
    torch.backends.cudnn.benchmark = True
    # The fp32 row must be fp32: PyTorch lets cuDNN convolutions (and matmuls,
    # where enabled) run fp32 as TF32 on Ampere and later, which espcn's fp32
    # never does (FMA math only). fp16 is unaffected.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"# pytorch_peer {time.strftime('%Y-%m-%d %H:%M:%S')} | torch {torch.__version__} | "
          f"cuDNN {torch.backends.cudnn.version() if cuda else '-'} (TF32 off) | "
          f"{torch.cuda.get_device_name(dev) if cuda else 'cpu'} | model {a.model} ({net.get('name', '?')}, x{net['scale']}, "
          f"residual {net.get('residual') or 'none'})")
    print(f"# {'input':>9} {'variant':>24} {'ms/frame':>9} {'fps':>9}")
    rows = []
    variants = [("fp16 channels_last graph", torch.float16, True), ("fp16 channels_last eager", torch.float16, False),
                ("fp32 eager", torch.float32, False)] if cuda else [("fp32 eager (cpu smoke)", torch.float32, False)]
    if cuda and a.variants == "graph":
        variants = variants[:1]
    for size in a.sizes.split(","):
        w, h = (int(v) for v in size.split("x"))
        for name, dtype, graph in variants:
            m = model.to(dev, dtype=dtype)
            if dtype == torch.float16:
                m = m.to(memory_format=torch.channels_last)
            x = torch.rand(1, 1, h, w, device=dev, dtype=dtype).contiguous(memory_format=torch.channels_last)
            with torch.inference_mode():
                if graph:
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(s):
                        for _ in range(3):
                            m(x)
                    torch.cuda.current_stream().wait_stream(s)
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(g):
                        y = m(x)
                    fn = g.replay
                else:
                    def fn():
                        return m(x)
                    y = fn()
                assert y.shape[-2:] == (h * net["scale"], w * net["scale"]), y.shape
                sec = (time_cuda if cuda else time_cpu)(fn, a.min_time)
            print(f"  {size:>9} {name:>24} {sec * 1e3:9.3f} {1 / sec:9.1f}", flush=True)
            rows.append((size, name, sec))
    best = {}
    for size, name, sec in rows:
        best[size] = min(best.get(size, (1e9, ""))[0], sec), name
    for size, (sec, _) in best.items():
        print(f"# best {size}: {1 / sec:.1f} fps")
    if a.csv:
        new = not os.path.exists(a.csv) or os.path.getsize(a.csv) == 0
        with open(a.csv, "a") as f:  # one file for several models
            if new:
                f.write("model,input,variant,ms,fps\n")
            for size, name, sec in rows:
                f.write(f"{os.path.basename(a.model)},{size},{name},{sec * 1e3:.4f},{1 / sec:.3f}\n")


if __name__ == "__main__":
    main()
