#!/usr/bin/env python3
"""espcn on the CPU against ONNX Runtime and OpenVINO, on the same network, in
one interleaved run.

  python3 bench/cpu_peers.py [--build build/release] [--models lrnet-x2,lrnet-x3,lrnet-x4,espcn-x2,fsrcnn-x3,fsrcnn-x4]
                             [--sizes 640x360,1920x1080] [--threads 2] [--rounds 5]
                             [--min-time 1.0] [--out bench/results]

What it does, in order:
 1. Creates (once) a virtual environment with pinned ONNX Runtime, OpenVINO,
    onnx and numpy from PyPI (--venv, default build/cpu-peers-venv) and re-runs
    itself inside it.
 2. Reads each model from our .safetensors file (weights/espcn_format.py) and
    writes it as ONNX with weights/onnx_export.py, its input fixed at
    1×1×H×W: Conv, Tanh/Relu/Sigmoid/PRelu, DepthToSpace (CRD/DCR), the
    global nearest residual (Resize + Add), and ConvTranspose for FSRCNN-style
    files, exactly as PyTorch's exporter writes nn.ConvTranspose2d. For those
    files the peers also get the LR form espcn itself runs (the deconvolution
    rewritten as an LR conv + DepthToSpace CRD by weights/deconv_conversion.py,
    Shi et al. 2016), and a peer's figure is the faster of its two graphs.
 3. Checks the outputs first: on a crop, every runtime against espcn's
    reference backend (8-bit, at most 1 code apart); at every timed size,
    every runtime against espcn cpu-fast. Peers' float outputs are encoded as
    espcn encodes (clamp, ·255, +0.5, floor). Any larger difference stops the
    run before timing.
 4. Times all runtimes in rounds: each round runs every runtime for at least
    --min-time seconds, in turn, so that all of them see the same background
    load; the figure is the median over rounds (min and max are printed too).
    Peers are timed on the inference call alone with the float input already
    prepared (that favours them); espcn end to end on 8-bit planes
    (espcn_process_plane through ctypes: decode, network, shuffle, encode).
 5. Prints fps, GFLOP/s (2 · MACs per LR pixel · pixels / time, the direct
    convolution's count for every runtime) and ratios, with CPU model, ISA,
    versions and `uptime`, and writes the same under --out as
    <date>-cpu-peers-<cpu>.txt and .csv.

espcn runs as: cpu-fast with the best instruction set of this CPU; cpu-fast
capped at AVX2 (ESPCN_CPU_ISA=avx2, the forced-AVX2 path); and onednn, for
context. On a machine without AVX-512 the first two are the same kernels.
"""
from __future__ import annotations

import argparse
import ctypes
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Pinned so a result can be reproduced; --packages overrides.
PEER_PACKAGES = ["onnxruntime==1.32.0", "openvino==2026.4.1", "onnx==1.23.2", "numpy<3"]
IN_VENV = "ESPCN_CPU_PEERS_IN_VENV"


# --- the virtual environment -------------------------------------------------

def ensure_venv(venv: str, packages: list[str]) -> None:
    """Re-executes this script inside `venv`, creating or updating it first."""
    if os.environ.get(IN_VENV) == "1":
        return
    python = os.path.join(venv, "bin", "python3")
    stamp = os.path.join(venv, "espcn-packages.txt")
    wanted = "\n".join(packages) + "\n"
    if not os.path.exists(python):
        print(f"cpu_peers: creating {venv}", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", venv])
    if not os.path.exists(stamp) or open(stamp).read() != wanted:
        print(f"cpu_peers: installing {' '.join(packages)} into {venv}", flush=True)
        subprocess.check_call([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               *packages])
        with open(stamp, "w") as f:
            f.write(wanted)
    env = dict(os.environ, **{IN_VENV: "1"})
    os.execve(python, [python, os.path.abspath(__file__), *sys.argv[1:]], env)


# --- our model format ---------------------------------------------------------
# Read by weights/espcn_format.py, written as ONNX by weights/onnx_export.py, a
# deconvolution rewritten in LR form by weights/deconv_conversion.py: the tools'
# one reader, ONNX writer and conversion, not copies of them.

sys.path.insert(0, os.path.join(ROOT, "weights"))
from deconv_conversion import deconv_lr_radius, lr_form  # noqa: E402
from espcn_format import read_model  # noqa: E402
from onnx_export import to_onnx  # noqa: E402  (imports the onnx package only when called)


def macs_per_lr_pixel(net, tensors) -> float:
    """As espcn counts them: every conv in LR space (a deconvolution as the LR
    conv it is converted into)."""
    macs = 0.0
    for spec in net["layers"]:
        if spec["type"] == "conv":
            o, i, k, _ = tensors[spec["weight"]].shape
            macs += o * i * k * k
        elif spec["type"] == "deconv":
            i, o, k, _ = tensors[spec["weight"]].shape
            r = spec["stride"]
            lr_k = 2 * deconv_lr_radius(k, r, spec.get("padding", 0)) + 1
            macs += o * r * r * i * lr_k * lr_k
    return macs


# --- libespcn through ctypes -------------------------------------------------

class EspcnPlane(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("stride", ctypes.c_ssize_t), ("width", ctypes.c_int),
                ("height", ctypes.c_int), ("bit_depth", ctypes.c_int), ("shift", ctypes.c_int)]


LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)


class EspcnParams(ctypes.Structure):
    # espcn.h's espcn_params, in order; the trailing zero bytes stand for any
    # field a newer header appends (zero is every field's default).
    _fields_ = [("model_path", ctypes.c_char_p), ("model_data", ctypes.c_void_p),
                ("model_size", ctypes.c_size_t), ("backend", ctypes.c_int), ("threads", ctypes.c_int),
                ("device", ctypes.c_int), ("log_callback", LOG_FN), ("log_opaque", ctypes.c_void_p),
                ("log_level", ctypes.c_int), ("precision", ctypes.c_int),
                ("cuda_use_current_context", ctypes.c_int), ("_reserved", ctypes.c_char * 256)]


BACKENDS = {"reference": 1, "onednn": 2, "cpu-fast": 4}


class Espcn:
    """One libespcn context, processing 8-bit planes."""

    def __init__(self, lib, model: str, backend: str, threads: int, isa: str | None):
        self.lib = lib
        self.messages = []
        self._log = LOG_FN(lambda _o, _lvl, msg: self.messages.append(msg.decode()))
        p = EspcnParams()
        p.model_path = model.encode()
        p.backend = BACKENDS[backend]
        p.threads = threads
        p.log_callback = self._log
        p.log_level = 3  # debug: the cpu-fast backend names its kernels
        saved = os.environ.get("ESPCN_CPU_ISA")
        if isa:
            os.environ["ESPCN_CPU_ISA"] = isa
        else:
            os.environ.pop("ESPCN_CPU_ISA", None)
        ctx = ctypes.c_void_p()
        status = lib.espcn_create(ctypes.byref(p), ctypes.byref(ctx))
        if saved is None:
            os.environ.pop("ESPCN_CPU_ISA", None)
        else:
            os.environ["ESPCN_CPU_ISA"] = saved
        if status != 0:
            raise RuntimeError(f"espcn_create({backend}): {lib.espcn_last_error().decode()}")
        self.ctx = ctx
        self.kernels = next((m for m in self.messages if m.startswith("cpu-fast: ") and "kernels" in m), "")

    def run(self, lr, hr) -> None:
        src = EspcnPlane(lr.ctypes.data, lr.strides[0], lr.shape[1], lr.shape[0], 8, 0)
        dst = EspcnPlane(hr.ctypes.data, hr.strides[0], hr.shape[1], hr.shape[0], 8, 0)
        if self.lib.espcn_process_plane(self.ctx, ctypes.byref(src), ctypes.byref(dst)) != 0:
            raise RuntimeError(self.lib.espcn_last_error().decode())

    def close(self) -> None:
        if self.ctx:
            self.lib.espcn_destroy(ctypes.byref(self.ctx))


def load_libespcn(build: str):
    path = os.path.join(build, "lib", "libespcn.so")
    if not os.path.exists(path):
        raise SystemExit(f"cpu_peers: {path} not found; build first (cmake --build {build})")
    lib = ctypes.CDLL(path)
    lib.espcn_create.argtypes = [ctypes.POINTER(EspcnParams), ctypes.POINTER(ctypes.c_void_p)]
    lib.espcn_process_plane.argtypes = [ctypes.c_void_p, ctypes.POINTER(EspcnPlane), ctypes.POINTER(EspcnPlane)]
    lib.espcn_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.espcn_last_error.restype = ctypes.c_char_p
    lib.espcn_version.restype = ctypes.c_char_p
    return lib, path


# --- the peers -----------------------------------------------------------------

class OrtPeer:
    def __init__(self, model_bytes: bytes, threads: int):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
        self.name = self.session.get_inputs()[0].name

    def run(self, x):
        return self.session.run(None, {self.name: x})[0]


class OpenVinoPeer:
    def __init__(self, model_bytes: bytes, threads: int):
        import openvino as ov
        core = ov.Core()
        with tempfile.NamedTemporaryFile(suffix=".onnx", delete=False) as f:
            f.write(model_bytes)
            path = f.name
        try:
            model = core.read_model(path)
        finally:
            os.unlink(path)
        # fp32 as espcn (OpenVINO would pick bf16 on CPUs that have it), one
        # stream of `threads` threads, latency mode: one frame at a time.
        self.compiled = core.compile_model(model, "CPU", {
            "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32"})
        self.request = self.compiled.create_infer_request()

    def run(self, x):
        self.request.infer({0: x})
        return self.request.get_output_tensor(0).data


# --- measurement ---------------------------------------------------------------

def test_frame(width: int, height: int):
    """Deterministic content with gradients, edges and noise (speed does not
    depend on it; the equality checks want varied values)."""
    import numpy as np
    y, x = np.mgrid[0:height, 0:width]
    img = 128 + 80 * np.sin(x / 7.0) * np.cos(y / 11.0) + 40 * ((x // 16 + y // 16) % 2)
    img += np.random.default_rng(1).normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(y, lo: float, hi: float):
    """espcn's output rule: floor(clamp((y − lo)/(hi − lo), 0, 1)·255 + 0.5)."""
    import numpy as np
    t = np.nan_to_num((y.astype(np.float32) - np.float32(lo)) / np.float32(hi - lo), nan=0.0)
    t = np.clip(t, 0, 1).astype(np.float32)
    return (t * np.float32(255) + np.float32(0.5)).astype(np.uint8)


def compare(a, b):
    import numpy as np
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return int(d.max()), float((d == 0).mean() * 100)


def time_rounds(runners: dict, rounds: int, min_time: float):
    """{name: [fps per round]}: every runner for >= min_time per round, in turn."""
    fps = {n: [] for n in runners}
    for fn in runners.values():  # warm-up (first-call allocations, plan choice)
        fn()
        fn()
    for _ in range(rounds):
        for name, fn in runners.items():
            frames, start = 0, time.perf_counter()
            while True:
                fn()
                frames += 1
                elapsed = time.perf_counter() - start
                if elapsed >= min_time and frames >= 2:
                    break
            fps[name].append(frames / elapsed)
    return fps


def cpu_description():
    model, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
                       "amx_bf16") if f in flags]
    return model, isa, os.cpu_count()


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return open("/proc/loadavg").read().strip()


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+uncommitted" if dirty else "")
    except OSError:
        return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"),
                    help="a build directory holding lib/libespcn.so (default build/release)")
    ap.add_argument("--models", default="lrnet-x2,lrnet-x3,lrnet-x4,espcn-x2,fsrcnn-x3,fsrcnn-x4",
                    help="names in weights/ or paths (default: the shipped defaults, weights/DEFAULTS, "
                         "then the paper models espcn-x2 and fsrcnn-x3)")
    ap.add_argument("--sizes", default="640x360,1920x1080", help="LR input sizes WxH")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per runtime per round")
    ap.add_argument("--check-size", default="240x136", help="crop checked against the reference backend")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"),
                    help="folder for the raw results ('' = do not write)")
    ap.add_argument("--tag", default="", help="appended to the result file names")
    ap.add_argument("--venv", default=os.path.join(ROOT, "build", "cpu-peers-venv"))
    ap.add_argument("--packages", default=",".join(PEER_PACKAGES), help="pip requirements, comma-separated")
    args = ap.parse_args()
    ensure_venv(args.venv, args.packages.split(","))

    import numpy as np
    import onnx
    import onnxruntime
    import openvino

    lib, lib_path = load_libespcn(os.path.abspath(args.build))
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    check_w, check_h = (int(v) for v in args.check_size.split("x"))
    cpu, isa, cores = cpu_description()
    started = datetime.datetime.now().astimezone()
    lines = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    say(f"# bench/cpu_peers.py {started:%Y-%m-%d %H:%M:%S %Z}  ({' '.join(sys.argv[1:]) or 'defaults'})")
    say(f"# cpu: {cpu}, {cores} logical CPUs, ISA: {' '.join(isa)}")
    say(f"# espcn {lib.espcn_version().decode()} ({lib_path}, git {git_revision()}); onnxruntime "
        f"{onnxruntime.__version__}; openvino {openvino.get_version()}; onnx {onnx.__version__}; "
        f"numpy {np.__version__}; python {platform.python_version()}")
    say(f"# threads {args.threads}; {args.rounds} interleaved rounds of >= {args.min_time} s per runtime; "
        "figures are medians over rounds [min-max]")
    say(f"# uptime before: {uptime()}")
    csv_rows = [["model", "size", "runtime", "fps_median", "fps_min", "fps_max", "gflops", "check_max_diff",
                 "check_identical_pct"]]
    summary = []
    failed = False
    for model_name in args.models.split(","):
        path = model_name if os.sep in model_name else os.path.join(ROOT, "weights", model_name + ".safetensors")
        try:
            net, tensors = read_model(path)
        except (OSError, ValueError) as e:
            raise SystemExit(f"cpu_peers: {e}") from None
        r = net["scale"]
        lo, hi = (net.get("range") or [0.0, 1.0])
        macs = macs_per_lr_pixel(net, tensors)
        has_deconv = any(s["type"] == "deconv" for s in net["layers"])
        say(f"\n## {os.path.basename(path)}: x{r}, {macs:.0f} MACs per LR pixel"
            + (", deconvolution upsampler" if has_deconv else ""))

        espcn = {"espcn cpu-fast": Espcn(lib, path, "cpu-fast", args.threads, None),
                 "espcn cpu-fast ESPCN_CPU_ISA=avx2": Espcn(lib, path, "cpu-fast", args.threads, "avx2"),
                 "espcn onednn": Espcn(lib, path, "onednn", args.threads, None)}
        for name, e in espcn.items():
            if e.kernels:
                say(f"#   {name}: {e.kernels}")
        reference = Espcn(lib, path, "reference", 1, None)
        # The peers' graphs: the file's network and, for a deconvolution, also the
        # LR form espcn runs (the deconv as an LR conv + DepthToSpace CRD).
        graphs = {"": (net, tensors)}
        if has_deconv:
            graphs[" (LR form)"] = lr_form(net, tensors)

        def peers_for(h, w):
            made = {}
            for suffix, (graph_net, graph_tensors) in graphs.items():
                model_bytes = to_onnx(graph_net, graph_tensors, input_size=(w, h),
                                      batch_size=1).SerializeToString()
                made["onnxruntime" + suffix] = OrtPeer(model_bytes, args.threads)
                made["openvino" + suffix] = OpenVinoPeer(model_bytes, args.threads)
            return made

        # 1. Every runtime against the reference backend on a crop.
        lr = test_frame(check_w, check_h)
        x = (np.float32(lo) + np.float32(hi - lo) * (lr.astype(np.float32) / np.float32(255)))[None, None]
        want = np.zeros((check_h * r, check_w * r), np.uint8)
        reference.run(lr, want)
        check = {}
        for name, e in espcn.items():
            got = np.zeros_like(want)
            e.run(lr, got)
            check[name] = compare(want, got)
        for name, peer in peers_for(check_h, check_w).items():
            check[name] = compare(want, encode(peer.run(x)[0, 0], lo, hi))
        say(f"# check vs the reference backend, {check_w}x{check_h}: " +
            "; ".join(f"{n} max {d} ({p:.2f}% identical)" for n, (d, p) in check.items()))
        bad = [n for n, (d, _) in check.items() if d > 1]
        if bad:
            say(f"# FAILED: {', '.join(bad)} differ from the reference by more than 1 code")
            failed = True
            continue
        reference.close()

        for w, h in sizes:
            lr = test_frame(w, h)
            x = np.ascontiguousarray(
                (np.float32(lo) + np.float32(hi - lo) * (lr.astype(np.float32) / np.float32(255)))[None, None])
            peers = peers_for(h, w)
            # 2. At the timed size, every runtime against espcn cpu-fast.
            outs = {n: np.zeros((h * r, w * r), np.uint8) for n in espcn}
            for n, e in espcn.items():
                e.run(lr, outs[n])
            base = outs["espcn cpu-fast"]
            size_check = {n: compare(base, o) for n, o in outs.items() if n != "espcn cpu-fast"}
            for n, peer in peers.items():
                size_check[n] = compare(base, encode(peer.run(x)[0, 0], lo, hi))
            say(f"\n### {w}x{h} -> {w * r}x{h * r}; check vs espcn cpu-fast: " +
                "; ".join(f"{n} max {d} ({p:.2f}%)" for n, (d, p) in size_check.items()))
            if any(d > 1 for d, _ in size_check.values()):
                say("# FAILED: outputs differ by more than 1 code; not timed")
                failed = True
                continue
            # 3. Interleaved timing.
            runners = {}
            for n, e in espcn.items():
                hr = outs[n]
                runners[n] = (lambda e=e, hr=hr: e.run(lr, hr))
            for n, peer in peers.items():
                runners[n] = (lambda peer=peer: peer.run(x))
            fps = time_rounds(runners, args.rounds, args.min_time)
            flop = 2.0 * macs * w * h
            med = {n: statistics.median(v) for n, v in fps.items()}
            peer_names = [n for n in med if not n.startswith("espcn")]
            best_peer = max(peer_names, key=lambda n: med[n])
            say(f"{'runtime':40s} {'fps':>8s} {'[min-max]':>17s} {'GFLOP/s':>8s} {'÷ best peer':>11s}")
            for n in runners:
                lo_f, hi_f = min(fps[n]), max(fps[n])
                say(f"{n:40s} {med[n]:8.2f} {f'[{lo_f:.2f}-{hi_f:.2f}]':>17s} {flop * med[n] / 1e9:8.1f} "
                    f"{med[n] / med[best_peer]:11.2f}")
                d, p = size_check.get(n, (0, 100.0))
                csv_rows.append([os.path.basename(path), f"{w}x{h}", n, f"{med[n]:.3f}", f"{lo_f:.3f}",
                                 f"{hi_f:.3f}", f"{flop * med[n] / 1e9:.2f}", str(d), f"{p:.3f}"])
            ratio = med["espcn cpu-fast"] / med[best_peer]
            ratio_avx2 = med["espcn cpu-fast ESPCN_CPU_ISA=avx2"] / med[best_peer]
            summary.append((os.path.basename(path), f"{w}x{h}", best_peer, ratio, ratio_avx2))
            say(f"# espcn cpu-fast ÷ fastest peer ({best_peer}): {ratio:.2f}x (forced AVX2: {ratio_avx2:.2f}x)")
        for e in espcn.values():
            e.close()

    say(f"\n# uptime after: {uptime()}")
    say("\n## summary: espcn cpu-fast fps ÷ the fastest of ONNX Runtime and OpenVINO (goal >= 1.5)")
    for m, s, peer, ratio, ratio_avx2 in summary:
        say(f"{m:28s} {s:>10s}  {ratio:5.2f}x  (forced AVX2 {ratio_avx2:5.2f}x; fastest peer: {peer})")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-")
        stem = os.path.join(args.out, f"{started:%Y-%m-%d}-cpu-peers-{slug}{'-' + args.tag if args.tag else ''}")
        with open(stem + ".txt", "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(stem + ".csv", "w") as f:
            f.write("\n".join(",".join(row) for row in csv_rows) + "\n")
        print(f"# wrote {stem}.txt and .csv")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
