#!/usr/bin/env python3
"""espcn on the CPU against ONNX Runtime and OpenVINO, on the same network, in
one interleaved run.

  python3 bench/cpu_peers.py [--build build/release] [--models lrnet-x2,lrnet-x3,lrnet-x4,espcn-x2,fsrcnn-x3,fsrcnn-x4]
                             [--sizes 640x360,1920x1080] [--threads 2] [--rounds 5]
                             [--min-time 1.0] [--espcn-precision fp32,bf16]
                             [--peer-settings matched,defaults] [--allow-load] [--out bench/results]

What it does, in order:
 0. Refuses to run (exit status 3, nothing measured) when the 1-minute load
    average exceeds --max-load (0.5) per logical CPU: the run would time the
    other jobs. --allow-load runs anyway and marks the output and every CSV
    row. The figure is read before anything of this script loads the machine.
 1. Creates (once) a virtual environment with pinned ONNX Runtime, OpenVINO,
    onnx and numpy from PyPI (--venv, default build/cpu-peers-venv) and re-runs
    itself inside it.
 2. Reads each model from our .safetensors file (weights/espcn_format.py) and
    writes it as ONNX with weights/onnx_export.py, its input fixed at
    1×1×H×W: Conv, Tanh/Relu/Sigmoid/PRelu, DepthToSpace (CRD/DCR), the
    global nearest residual (Resize + Add), and ConvTranspose for FSRCNN-style
    files, exactly as PyTorch's exporter writes nn.ConvTranspose2d. The peers
    also get the forms espcn itself runs, as further graphs: for a
    deconvolution the "LR form" (rewritten as an LR conv + DepthToSpace CRD by
    weights/deconv_conversion.py, Shi et al. 2016); for a global residual the
    "LR residual" (the input added to the last conv's r² maps, broadcast,
    before DepthToSpace: the same sum of the same two floats per output
    sample). A peer's figure is the fastest of its graphs; every graph is
    printed.
 3. Each peer runs at two settings (cpu_peers_runtimes.py says exactly what
    each is): "matched" (fp32, as espcn: OpenVINO INFERENCE_PRECISION_HINT=f32)
    and "defaults" (the runtime's own defaults but for the thread count; on
    CPUs with AVX512-BF16 or AMX OpenVINO then computes in bf16). OpenVINO's
    resolved properties (threads, precision hint, execution mode, streams) and
    the precision its convolutions actually ran in are read back and printed,
    and ONNX Runtime's session options.
 4. espcn runs per --espcn-precision (fp32, bf16; a precision this build
    refuses is reported and skipped): cpu-fast as it chooses (its planner
    measures its candidates on the first frames), cpu-fast forced to each
    instruction set the CPU has (ESPCN_CPU_ISA=avx512, =avx2 with
    ESPCN_CPU_TUNE=0: that set's best kernels on every layer, unmeasured;
    the "best single forced ISA" the default is compared with), and onednn
    for context.
 5. Checks the outputs first: on a crop, every runtime against espcn's
    reference backend; at every timed size, every runtime against espcn
    cpu-fast fp32. 8-bit codes; peers' float outputs are encoded as espcn
    encodes (clamp, ·255, +0.5, floor). fp32 runtimes may differ by at most 1
    code; runtimes computing in bf16 by at most 8 codes and 1 code on
    average, bounds that catch a wrong graph, not bf16's rounding (OpenVINO
    bf16 on the six default models: max 2-3 codes, mean 0.14-0.37; bf16
    quality is for the PSNR tests). A check that fails stops the run at
    once: nothing more is timed, no result file is written, exit status 1.
 6. Times all runtimes in rounds: each round runs every runtime for at least
    --min-time seconds, in turn (the order rotated by one each round), so that
    all of them see the same background load; the figure is the median over
    rounds (min and max are printed too). What one timed call is
    (cpu_peers_runtimes.py in full): espcn, espcn_process_plane() through
    ctypes on 8-bit planes, end to end (decode, network, shuffle, residual,
    encode into a preallocated plane); ONNX Runtime,
    run_with_iobinding() with input and output bound to preallocated float32
    arrays (no copy); OpenVINO, infer(share_inputs=True, share_outputs=True)
    on one request whose input and output tensors share preallocated float32
    arrays. The peers' float input is prepared once, outside the loop, and
    their output is not encoded: that favours them. Between rounds it
    measures the CPU time the rest of the machine took during the round
    (/proc/stat busy and steal time minus this process's own): a round where
    that exceeds --max-load per logical CPU is marked as taken under load
    (the load average, also printed per round, cannot tell: it counts this
    run's own threads).
 7. Prints fps, GFLOP/s (2 · MACs per LR pixel · pixels / time, the direct
    convolution's count for every runtime) and ratios: espcn fp32 against the
    fastest peer row that computed in fp32 (either setting), espcn bf16
    against the fastest peer at its defaults (whatever it computed in), and
    espcn's default against its best single forced ISA; with the command
    line, date, CPU model, ISA flags, versions and load averages; and writes
    the same under --out as <date>-cpu-peers-<cpu>.txt and .csv (every row
    with every column).

Exit status: 0 done; 1 a failed check or a setup error (message on stderr);
3 refused because the machine is loaded.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Pinned so a result can be reproduced; --packages overrides.
PEER_PACKAGES = ["onnxruntime==1.32.0", "openvino==2026.4.1", "onnx==1.23.2", "numpy<3"]
IN_VENV = "ESPCN_CPU_PEERS_IN_VENV"
LOAD_AT_START = "ESPCN_CPU_PEERS_LOAD_AT_START"  # read before the venv, passed to the re-run
EXIT_LOADED = 3
# Output checks, in 8-bit codes (see the docstring).
FP32_MAX_DIFF = 1
BF16_MAX_DIFF, BF16_MEAN_DIFF = 8, 1.0


# --- the virtual environment -------------------------------------------------

def ensure_venv(venv: str, packages: list[str], script: str = __file__, in_venv: str = IN_VENV,
                stamp_name: str = "espcn-packages.txt") -> None:
    """Re-executes `script` (this one, or community_peers.py) inside `venv`,
    creating or updating it first: `packages` installed unless the stamp file
    `stamp_name` there lists them; the environment variable `in_venv` marks
    the re-run."""
    if os.environ.get(in_venv) == "1":
        return
    prog = os.path.splitext(os.path.basename(script))[0]
    python = os.path.join(venv, "bin", "python3")
    stamp = os.path.join(venv, stamp_name)
    wanted = "\n".join(packages) + "\n"
    if not os.path.exists(python):
        print(f"{prog}: creating {venv}", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", venv])
    if not os.path.exists(stamp) or open(stamp).read() != wanted:
        print(f"{prog}: installing {' '.join(packages)} into {venv}", flush=True)
        subprocess.check_call([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               *packages])
        with open(stamp, "w") as f:
            f.write(wanted)
    env = dict(os.environ, **{in_venv: "1"})
    os.execve(python, [python, os.path.abspath(script), *sys.argv[1:]], env)


# --- our model format ---------------------------------------------------------
# Read by weights/espcn_format.py, written as ONNX by weights/onnx_export.py, a
# deconvolution rewritten in LR form by weights/deconv_conversion.py: the tools'
# one reader, ONNX writer and conversion, not copies of them.

sys.path.insert(0, os.path.join(ROOT, "weights"))
from deconv_conversion import deconv_lr_radius, lr_form  # noqa: E402
from espcn_format import read_model, residual_of  # noqa: E402
from onnx_export import to_onnx  # noqa: E402  (imports the onnx package only when called)

from cpu_peers_runtimes import PEERS, SETTINGS, Espcn, load_libespcn  # noqa: E402


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


def peer_graphs(net, tensors) -> dict:
    """{name suffix: (network, tensors, residual_form)}: the file's graph and the LR forms
    espcn runs (module docstring, step 2)."""
    forms = {"": (net, tensors)}
    if any(s["type"] == "deconv" for s in net["layers"]):
        forms["LR form"] = lr_form(net, tensors)
    graphs = {}
    for name, (n, t) in forms.items():
        graphs[f" ({name})" if name else ""] = (n, t, "hr")
        layers = n["layers"]
        if residual_of(n) and layers and layers[-1]["type"] == "pixel_shuffle":
            graphs[f" ({name + ', ' if name else ''}LR residual)"] = (n, t, "lr")
    return graphs


# --- the machine and its load --------------------------------------------------

def cpu_description():
    model, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    isa = sorted(f for f in flags if re.fullmatch(r"avx\w*|fma|amx\w*", f))
    return model, isa, os.cpu_count() or 1


def load_averages() -> tuple[float, float, float]:
    return os.getloadavg()


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return open("/proc/loadavg").read().strip()


class CpuMeter:
    """CPU time the rest of the machine takes: /proc/stat's busy time (user, nice,
    system, irq, softirq, steal) minus this process's own (all its threads: espcn's
    workers, ONNX Runtime's and OpenVINO's pools, spinning included)."""

    def __init__(self):
        self.hz = os.sysconf("SC_CLK_TCK")

    def snapshot(self):
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        busy = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / self.hz
        t = os.times()
        return time.monotonic(), busy, t.user + t.system

    @staticmethod
    def others(a, b) -> float:
        """Logical CPUs' worth of time others used between snapshots a and b."""
        wall = b[0] - a[0]
        return max(0.0, ((b[1] - a[1]) - (b[2] - a[2])) / wall) if wall > 0 else 0.0


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
    """(max difference, % identical, mean difference) in codes."""
    import numpy as np
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return int(d.max()), float((d == 0).mean() * 100), float(d.mean())


def within(result, reduced: bool) -> bool:
    d, _, mean = result
    return d <= BF16_MAX_DIFF and mean <= BF16_MEAN_DIFF if reduced else d <= FP32_MAX_DIFF


def check_text(result) -> str:
    d, p, mean = result
    return f"max {d} ({p:.2f}% identical, mean {mean:.3f})"


def time_rounds(runners: dict, rounds: int, min_time: float, meter: CpuMeter):
    """({name: [fps per round]}, [others' CPUs per round], [1-minute load average at each
    round's start]): every runner for >= min_time per round, in turn, the starting runner
    rotated by one each round."""
    fps = {n: [] for n in runners}
    others, loads = [], []
    for name, fn in runners.items():
        # Warm-up: first-call allocations, plan choice (espcn cpu-fast measures
        # its candidates on its first ~16 frames of a size, fast_tuner.hpp:
        # until espcn_backend_details says the plan is chosen).
        settled = getattr(fn, "settled", lambda: True)
        start = time.perf_counter()
        for frame in range(64):
            fn()
            if frame >= 12 and time.perf_counter() - start >= 0.5 and settled():
                break
        if not settled():
            print(f"# warning: {name} still measuring its kernels after 64 warm-up frames", flush=True)
    names = list(runners)
    for k in range(rounds):
        loads.append(load_averages()[0])
        start_round = meter.snapshot()
        for name in names[k % len(names):] + names[:k % len(names)]:
            fn = runners[name]
            frames, start = 0, time.perf_counter()
            while True:
                fn()
                frames += 1
                elapsed = time.perf_counter() - start
                if elapsed >= min_time and frames >= 2:
                    break
            fps[name].append(frames / elapsed)
        others.append(meter.others(start_round, meter.snapshot()))
    return fps, others, loads


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+uncommitted" if dirty else "")
    except OSError:
        return "unknown"


class Runner:
    """One timed row: an espcn context (backend, ISA cap) or a peer (graph, setting), and
    the precision it computes in."""

    def __init__(self, name, engine, obj, precision, backend="", isa="", graph="", setting=""):
        self.name, self.engine, self.obj, self.precision = name, engine, obj, precision
        self.backend, self.isa, self.graph, self.setting = backend, isa, graph, setting

    @property
    def reduced(self) -> bool:
        return self.precision != "fp32"

    @property
    def is_peer(self) -> bool:
        return self.engine != "espcn"


def add_run_arguments(ap: argparse.ArgumentParser, sizes: str) -> None:
    """The arguments this script and community_peers.py share (the build, the
    sizes, default `sizes`, threads, rounds, precisions and peer settings, the
    load gate, the output, the venv); finish_run_arguments reads them."""
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"),
                    help="a build directory holding lib/libespcn.so (default build/release)")
    ap.add_argument("--sizes", default=sizes, help="LR input sizes WxH")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per runtime per round")
    ap.add_argument("--espcn-precision", default="fp32,bf16",
                    help="espcn precisions to run, comma-separated (fp32, bf16; fp32 is always run: "
                         "the checks compare with it)")
    ap.add_argument("--peer-settings", default=",".join(SETTINGS),
                    help="matched (fp32, espcn's settings), defaults (the runtime's, threads aside)")
    ap.add_argument("--max-load", type=float, default=0.5,
                    help="refuse to run when the 1-minute load average exceeds this per logical CPU, and "
                         "mark rounds where other processes used more (default 0.5; a negative value "
                         "refuses every run, for tests)")
    ap.add_argument("--allow-load", action="store_true",
                    help="run on a loaded machine anyway (the output and CSV say so)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"),
                    help="folder for the raw results ('' = do not write)")
    ap.add_argument("--tag", default="", help="appended to the result file names")
    ap.add_argument("--venv", default=os.path.join(ROOT, "build", "cpu-peers-venv"))


def finish_run_arguments(ap: argparse.ArgumentParser, args) -> None:
    """--espcn-precision and --peer-settings as lists (fp32 first, always run),
    every item checked (ap.error otherwise)."""
    args.espcn_precision = ["fp32"] + [p for p in args.espcn_precision.split(",") if p and p != "fp32"]
    for p in args.espcn_precision:
        if p not in ("fp32", "bf16"):
            ap.error(f"--espcn-precision: {p!r} is neither fp32 nor bf16")
    args.peer_settings = [s for s in args.peer_settings.split(",") if s]
    for s in args.peer_settings:
        if s not in SETTINGS:
            ap.error(f"--peer-settings: {s!r} is not one of {', '.join(SETTINGS)}")
    if not args.peer_settings:
        ap.error("--peer-settings: none given")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="lrnet-x2,lrnet-x3,lrnet-x4,espcn-x2,fsrcnn-x3,fsrcnn-x4",
                    help="names in weights/ or paths (default: the shipped defaults, weights/DEFAULTS, "
                         "then the paper models espcn-x2, fsrcnn-x3 and fsrcnn-x4)")
    add_run_arguments(ap, sizes="640x360,1920x1080")
    ap.add_argument("--check-size", default="240x136", help="crop checked against the reference backend")
    ap.add_argument("--packages", default=",".join(PEER_PACKAGES), help="pip requirements, comma-separated")
    args = ap.parse_args()
    finish_run_arguments(ap, args)
    return args


def start_report(script: str, started, cpu: str, cores: int, isa) -> tuple[list[str], Callable[..., None]]:
    """A run's report: its lines, and say(text), which prints a line and keeps
    it; said already: `script`'s name, the time, the command line and the CPU."""
    lines: list[str] = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    command = shlex.join(["python3", os.path.relpath(os.path.abspath(script), ROOT), *sys.argv[1:]])
    say(f"# bench/{os.path.basename(script)} {started:%Y-%m-%d %H:%M:%S %Z}")
    say(f"# command: {command}")
    say(f"# cpu: {cpu}, {cores} logical CPUs, ISA: {' '.join(isa) or 'none of avx2/avx512/amx'}; "
        f"{platform.platform()}")
    return lines, say


def load_gate(args, cores: int) -> tuple[tuple[float, float, float], str]:
    """The load averages at start and the mark the results carry ('' on a quiet machine);
    exits with EXIT_LOADED when the machine is loaded and --allow-load is not given."""
    saved = os.environ.get(LOAD_AT_START)
    loads = tuple(float(v) for v in saved.split(",")) if saved else load_averages()
    os.environ[LOAD_AT_START] = ",".join(f"{v:.2f}" for v in loads)
    limit = args.max_load * cores
    if loads[0] <= limit:
        return loads, ""
    what = (f"the 1-minute load average is {loads[0]:.2f} on {cores} logical CPUs, over "
            f"{args.max_load} per CPU ({limit:.2f})")
    if not args.allow_load:
        print(f"cpu_peers: {what}: other jobs are running and would be timed with the runtimes. "
              "Run on a quiet machine, or pass --allow-load to run anyway (the results are then marked).",
              file=sys.stderr)
        sys.exit(EXIT_LOADED)
    return loads, f"LOADED: {what}; run with --allow-load"


def main() -> int:
    args = parse_args()
    cpu, isa, cores = cpu_description()
    loads, load_mark = load_gate(args, cores)
    ensure_venv(args.venv, args.packages.split(","))

    import numpy as np
    import onnx
    import onnxruntime
    import openvino

    lib, lib_path = load_libespcn(os.path.abspath(args.build))
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    check_w, check_h = (int(v) for v in args.check_size.split("x"))
    forced_isas = [i for i in ("avx512", "avx2") if {"avx512": "avx512f", "avx2": "avx2"}[i] in isa]
    round_limit = args.max_load * cores
    meter = CpuMeter()
    started = datetime.datetime.now().astimezone()
    lines, say = start_report(__file__, started, cpu, cores, isa)
    say(f"# espcn {lib.espcn_version().decode()} ({lib_path}, git {git_revision()}); onnxruntime "
        f"{onnxruntime.__version__}; openvino {openvino.get_version()}; onnx {onnx.__version__}; "
        f"numpy {np.__version__}; python {platform.python_version()}")
    say(f"# threads {args.threads}; {args.rounds} interleaved rounds of >= {args.min_time} s per runtime; "
        "figures are medians over rounds [min-max]")
    say(f"# load average at start (1, 5, 15 min): {loads[0]:.2f} {loads[1]:.2f} {loads[2]:.2f} "
        f"(limit {args.max_load} per CPU = {round_limit:.2f}); uptime: {uptime()}")
    if load_mark:
        say(f"# {load_mark}")
    say(f"# espcn precisions: {', '.join(args.espcn_precision)}; forced ISAs: "
        f"{', '.join(f'ESPCN_CPU_ISA={i}' for i in forced_isas) or 'none'}"
        + ("" if "avx512" in forced_isas else " (no AVX-512 on this CPU: ESPCN_CPU_ISA=avx512 not run)"))
    say(f"# peer settings: {', '.join(args.peer_settings)}; checks: fp32 within {FP32_MAX_DIFF} code, "
        f"bf16 within {BF16_MAX_DIFF} codes and {BF16_MEAN_DIFF} on average")
    columns = ["model", "size", "runtime", "engine", "backend", "graph", "setting", "precision", "isa_cap",
               "threads", "fps_median", "fps_min", "fps_max", "fps_rounds", "gflops", "vs_fastest_peer_fp32",
               "vs_fastest_peer_defaults", "check_max_diff", "check_identical_pct", "check_mean_diff",
               "rounds", "rounds_under_load", "others_cpus_rounds", "load_at_start", "load_mark"]
    csv_rows = [columns]
    summary = []
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
            + (", deconvolution upsampler" if has_deconv else "")
            + (", global nearest residual" if residual_of(net) else ""))

        # espcn's rows: per precision, cpu-fast as it chooses, capped at each ISA, onednn.
        espcn = []
        for prec in args.espcn_precision:
            def make(backend, isa_cap=None, prec=prec):
                e = Espcn(lib, path, backend, args.threads, isa_cap, prec)
                if e.precision != prec:
                    e.close()
                    raise RuntimeError(f"the context computes in {e.precision}")
                return e
            try:
                default = make("cpu-fast")
            except RuntimeError as e:
                if prec == "fp32":
                    raise SystemExit(f"cpu_peers: espcn cpu-fast fp32: {e}") from None
                say(f"# espcn {prec}: not available in this build ({e})")
                continue
            espcn.append(Runner(f"espcn cpu-fast {prec}", "espcn", default, prec, "cpu-fast"))
            for backend, cap in [("cpu-fast", cap) for cap in forced_isas] + [("onednn", None)]:
                name = f"espcn {backend} {prec}" + (f" ESPCN_CPU_ISA={cap}" if cap else "")
                try:
                    espcn.append(Runner(name, "espcn", make(backend, cap), prec, backend, isa=cap or ""))
                except RuntimeError as e:
                    say(f"# {name}: not available in this build ({e})")
        for e in espcn:
            if e.obj.kernels:
                say(f"#   {e.name}: {e.obj.kernels}")

        def close_all():
            for e in espcn:
                e.obj.close()

        graphs = peer_graphs(net, tensors)

        def peers_for(h, w, x, describe):
            made = []
            for suffix, (graph_net, graph_tensors, form) in graphs.items():
                # The input size fixed: some runtimes plan faster for one shape.
                graph = to_onnx(graph_net, graph_tensors, input_size=(w, h), batch_size=1, residual_form=form)
                out_shape = [d.dim_value for d in graph.graph.output[0].type.tensor_type.shape.dim]
                model_bytes = graph.SerializeToString()
                for setting in args.peer_settings:
                    for engine, cls in PEERS.items():
                        peer = cls(model_bytes, args.threads, setting, x, out_shape)
                        label = "fp32" if setting == "matched" else "defaults"
                        made.append(Runner(f"{engine} {label}{suffix}", engine, peer, peer.precision,
                                           graph=suffix.strip(" ()"), setting=setting))
                        if describe:
                            say(f"#   {made[-1].name}: {peer.settings}")
            return made

        def float_input(lr):
            return np.ascontiguousarray(
                (np.float32(lo) + np.float32(hi - lo) * (lr.astype(np.float32) / np.float32(255)))[None, None])

        def stop(what):
            say(f"# FAILED: {what}; the run stops here (exit status 1), no result file is written")
            close_all()
            return 1

        # 1. Every runtime against the reference backend on a crop.
        reference = Espcn(lib, path, "reference", 1, None, "fp32")
        lr = test_frame(check_w, check_h)
        x = float_input(lr)
        want = np.zeros((check_h * r, check_w * r), np.uint8)
        reference.run(lr, want)
        reference.close()
        check = {}
        for e in espcn:
            got = np.zeros_like(want)
            e.obj.run(lr, got)
            check[e.name] = (compare(want, got), e.reduced)
        for p in peers_for(check_h, check_w, x, describe=False):
            check[p.name] = (compare(want, encode(p.obj.run()[0, 0], lo, hi)), p.reduced)
        say(f"# check vs the reference backend, {check_w}x{check_h}: " +
            "; ".join(f"{n} {check_text(c)}" for n, (c, _) in check.items()))
        bad = [n for n, (c, reduced) in check.items() if not within(c, reduced)]
        if bad:
            return stop(f"{', '.join(bad)} differ from the reference backend by more than allowed")

        for w, h in sizes:
            lr = test_frame(w, h)
            x = float_input(lr)
            say(f"\n### {w}x{h} -> {w * r}x{h * r}")
            peers = peers_for(h, w, x, describe=True)
            # 2. At the timed size, every runtime against espcn cpu-fast fp32.
            outs = {e.name: np.zeros((h * r, w * r), np.uint8) for e in espcn}
            for e in espcn:
                e.obj.run(lr, outs[e.name])
            base = outs["espcn cpu-fast fp32"]
            size_check = {e.name: (compare(base, outs[e.name]), e.reduced) for e in espcn[1:]}
            for p in peers:
                size_check[p.name] = (compare(base, encode(p.obj.run()[0, 0], lo, hi)), p.reduced)
            say("# check vs espcn cpu-fast fp32: " +
                "; ".join(f"{n} {check_text(c)}" for n, (c, _) in size_check.items()))
            bad = [n for n, (c, reduced) in size_check.items() if not within(c, reduced)]
            if bad:
                return stop(f"at {w}x{h}, {', '.join(bad)} differ from espcn cpu-fast fp32 by more than allowed")
            # 3. Interleaved timing.
            runners = {}
            for e in espcn:
                hr = outs[e.name]
                run = (lambda e=e, hr=hr: e.obj.run(lr, hr))
                run.settled = e.obj.settled
                runners[e.name] = run
            for p in peers:
                runners[p.name] = p.obj.run
            rows = espcn + peers
            fps, others, round_loads = time_rounds(runners, args.rounds, args.min_time, meter)
            for e in espcn:
                if e.obj.details():
                    say(f"#   {e.name}: {e.obj.details()}")
            loaded_rounds = [k for k, o in enumerate(others) if o > round_limit]
            flop = 2.0 * macs * w * h
            med = {n: statistics.median(v) for n, v in fps.items()}

            def fastest(candidates):
                return max(candidates, key=lambda q: med[q.name]) if candidates else None
            # fp32 is compared with every peer row that computed in fp32 (ONNX Runtime at its
            # defaults too), bf16 with every peer at its defaults, whatever it computed in.
            peer_fp32 = fastest([p for p in peers if p.precision == "fp32"])
            peer_defaults = fastest([p for p in peers if p.setting == "defaults"])
            say(f"{'runtime':52s} {'fps':>8s} {'[min-max]':>17s} {'GFLOP/s':>8s} {'÷ peer fp32':>11s} "
                f"{'÷ peer dflt':>11s}  precision")
            for q in rows:
                lo_f, hi_f = min(fps[q.name]), max(fps[q.name])
                vs32 = med[q.name] / med[peer_fp32.name] if peer_fp32 else None
                vsdef = med[q.name] / med[peer_defaults.name] if peer_defaults else None
                say(f"{q.name:52s} {med[q.name]:8.2f} {f'[{lo_f:.2f}-{hi_f:.2f}]':>17s} "
                    f"{flop * med[q.name] / 1e9:8.1f} {_num(vs32, 11, 2)} {_num(vsdef, 11, 2)}  {q.precision}")
                c = size_check.get(q.name, ((0, 100.0, 0.0), False))[0]
                csv_rows.append([os.path.basename(path), f"{w}x{h}", q.name, q.engine, q.backend, q.graph,
                                 q.setting, q.precision, q.isa, str(args.threads), f"{med[q.name]:.3f}",
                                 f"{lo_f:.3f}", f"{hi_f:.3f}", ";".join(f"{v:.3f}" for v in fps[q.name]),
                                 f"{flop * med[q.name] / 1e9:.2f}", "" if vs32 is None else f"{vs32:.3f}",
                                 "" if vsdef is None else f"{vsdef:.3f}", str(c[0]),
                                 f"{c[1]:.3f}", f"{c[2]:.4f}", str(args.rounds), str(len(loaded_rounds)),
                                 ";".join(f"{o:.2f}" for o in others), f"{loads[0]:.2f}",
                                 "; ".join(m for m in ("loaded at start (--allow-load)" if load_mark else "",
                                                       f"{len(loaded_rounds)} rounds under load"
                                                       if loaded_rounds else "") if m)])
            say("# rounds: other processes used " + " ".join(
                f"{o:.2f}{'*' if k in loaded_rounds else ''}" for k, o in enumerate(others))
                + f" CPUs (* over {round_limit:.2f}: taken under load)"
                + (f"; {len(loaded_rounds)} of {len(others)} rounds UNDER LOAD" if loaded_rounds else ""))
            say("# rounds: 1-minute load average at each start " + " ".join(f"{v:.2f}" for v in round_loads)
                + f" (this run's own {args.threads} threads included)")
            case = {"model": os.path.basename(path), "size": f"{w}x{h}", "under_load": len(loaded_rounds)}
            for prec in args.espcn_precision:
                default = next((e for e in espcn if e.name == f"espcn cpu-fast {prec}"), None)
                peer = peer_fp32 if prec == "fp32" else peer_defaults
                against = "fastest peer at fp32" if prec == "fp32" else "fastest peer at its defaults"
                if default is None:
                    say(f"# {prec}: espcn {prec} not available in this build")
                    continue
                if peer is not None:
                    case[f"{prec}_ratio"] = med[default.name] / med[peer.name]
                    case[f"{prec}_peer"] = f"{peer.name} [{peer.precision}]"
                    say(f"# {prec}: {default.name} ÷ {against} ({peer.name}, {peer.precision}): "
                        f"{case[f'{prec}_ratio']:.2f}x")
                forced = [e for e in espcn if e.precision == prec and e.isa]
                if forced:
                    best = max(forced, key=lambda e: med[e.name])
                    case[f"{prec}_vs_isa"] = med[default.name] / med[best.name]
                    case[f"{prec}_isa"] = best.isa
                    say(f"# {prec}: best single forced ISA ESPCN_CPU_ISA={best.isa} ({med[best.name]:.2f} fps); "
                        f"{default.name} (as it chooses) ÷ it: {case[f'{prec}_vs_isa']:.3f} (goal >= 0.97)")
            base_default = next(e for e in espcn if e.name == "espcn cpu-fast fp32")
            if peer_defaults is not None:
                say(f"# for reference: espcn cpu-fast fp32 ÷ fastest peer at its defaults "
                    f"({peer_defaults.name}, {peer_defaults.precision}): "
                    f"{med[base_default.name] / med[peer_defaults.name]:.2f}x")
            summary.append(case)
            del peers, runners, rows
        close_all()

    say(f"\n# load average at end (1, 5, 15 min): {' '.join(f'{v:.2f}' for v in load_averages())}; "
        f"uptime: {uptime()}")
    say("\n## summary: espcn cpu-fast ÷ the fastest peer (fp32: at fp32; bf16: at its defaults), and "
        "÷ espcn's best single forced ISA (goals: fp32 >= 1.5, bf16 >= 1.2, ÷ best ISA >= 0.97)")
    if load_mark:
        say(f"# {load_mark}")
    for c in summary:
        parts = []
        for prec in args.espcn_precision:
            if f"{prec}_ratio" in c or f"{prec}_vs_isa" in c:
                parts.append(f"{prec} {_num(c.get(f'{prec}_ratio'), 5, 2)}x (vs {c.get(f'{prec}_peer', '-')}); "
                             f"÷ best ISA ({c.get(f'{prec}_isa', '-')}) {_num(c.get(f'{prec}_vs_isa'), 5, 3)}")
            else:
                parts.append(f"{prec} not available")
        say(f"{c['model']:24s} {c['size']:>10s}  " + " | ".join(parts)
            + (f"  [{c['under_load']} rounds under load]" if c["under_load"] else ""))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-")
        stem = os.path.join(args.out, f"{started:%Y-%m-%d}-cpu-peers-{slug}{'-' + args.tag if args.tag else ''}")
        with open(stem + ".txt", "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(stem + ".csv", "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(csv_rows)
        print(f"# wrote {stem}.txt and .csv")
    return 0


def _num(value, width: int, digits: int) -> str:
    """A figure, or '-' where there is none (e.g. no peer ran at that setting)."""
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}s}"


if __name__ == "__main__":
    sys.exit(main())
