#!/usr/bin/env python3
"""bench/cpu_peers.py still works: a tiny run of the whole harness (not a measurement).

1. Refused under load: --max-load -1 (every load is too high) exits 3 with a message
   naming --allow-load, before any venv or model is touched; no traceback, no file.
   Needs nothing but Python: always checked.
2. lrnet-x2 at 64x48, --threads 1, one round of >= 0.02 s, --max-load -1 --allow-load:
   exit 0; the text names the command line, CPU, ISA flags, versions and load
   averages, OpenVINO's read-back properties and the precision its convolutions ran
   in, ONNX Runtime's session options, the ratios against the fastest peer and the
   best single forced ISA; the CSV has every column and a row per runtime: espcn
   cpu-fast fp32 (and forced to each ISA of this CPU), each peer at "fp32" and at
   "defaults" on the file's graph and on the LR-residual graph, all with fps > 0, a
   check within tolerance and the load mark; espcn bf16 rows exist or the text says
   this build has no bf16.
3. A failed check stops the run: the same run with the check tolerances set below
   zero (in process) exits 1, says FAILED, and writes no result file.

2 and 3 need the peers' virtual environment (ONNX Runtime, OpenVINO, onnx from PyPI;
bench/cpu_peers.py creates it on its first run, at --venv). Where it is missing or its
packages are not the pinned ones, they are skipped (exit 77) with the reason; set
ESPCN_TEST_CPU_PEERS_CREATE=1 to let this test create it. Opt-in because creating it
downloads ~400 MB and took ~65 s here, more than a CI test should add; with the venv
in place the test takes ~10 s on 2 cores.

Usage: test_cpu_peers.py --build BUILD_DIR [--venv build/cpu-peers-venv]
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "bench")
SCRIPT = os.path.join(BENCH, "cpu_peers.py")
SKIP = 77
COLUMNS = ["model", "size", "runtime", "engine", "backend", "graph", "setting", "precision", "isa_cap",
           "threads", "fps_median", "fps_min", "fps_max", "fps_rounds", "gflops", "vs_fastest_peer_fp32",
           "vs_fastest_peer_defaults", "check_max_diff", "check_identical_pct", "check_mean_diff", "rounds",
           "rounds_under_load", "others_cpus_rounds", "load_at_start", "load_mark"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="build directory holding lib/libespcn.so")
    ap.add_argument("--venv", default=os.path.join(ROOT, "build", "cpu-peers-venv"))
    a = ap.parse_args()
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)

    tiny = ["--build", a.build, "--venv", a.venv, "--models", "lrnet-x2", "--sizes", "64x48",
            "--check-size", "24x16", "--threads", "1", "--rounds", "1", "--min-time", "0.02", "--max-load", "-1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESPCN_CPU_PEERS_")}
    with tempfile.TemporaryDirectory(prefix="espcn_test_cpu_peers.") as tmp:
        # 1. Refused under load.
        out = os.path.join(tmp, "refused")
        p = subprocess.run([sys.executable, SCRIPT, *tiny, "--out", out], capture_output=True, text=True,
                           env=env, timeout=60)
        expect(p.returncode == 3, f"refusal: exit {p.returncode}, expected 3 (stderr: {p.stderr[-300:]})")
        expect("--allow-load" in p.stderr and "load average" in p.stderr and "Traceback" not in p.stderr,
               f"refusal message: {p.stderr.strip()[:300]}")
        expect(not os.path.exists(out), "refusal: the result folder was created")
        print(f"{'ok  ' if not failures else 'FAIL'} refused under load: {p.stderr.strip()[:120]}")

        python = os.path.join(a.venv, "bin", "python3")
        sys.path.insert(0, BENCH)
        from cpu_peers import PEER_PACKAGES  # the stdlib part of the script only
        stamp = os.path.join(a.venv, "espcn-packages.txt")
        ready = os.path.exists(python) and os.path.exists(stamp) and \
            open(stamp).read() == "\n".join(PEER_PACKAGES) + "\n"
        if not ready and os.environ.get("ESPCN_TEST_CPU_PEERS_CREATE") != "1":
            for f in failures:
                print(f"FAIL {f}", file=sys.stderr)
            if failures:
                return 1
            print(f"skip the run itself: no peers venv with {', '.join(PEER_PACKAGES)} at {a.venv} "
                  "(bench/cpu_peers.py creates it from PyPI, ~400 MB; or set ESPCN_TEST_CPU_PEERS_CREATE=1)")
            return SKIP

        # 2. One tiny run.
        out = os.path.join(tmp, "run")
        p = subprocess.run([sys.executable, SCRIPT, *tiny, "--allow-load", "--out", out, "--tag", "test"],
                           capture_output=True, text=True, env=env, timeout=600)
        text = p.stdout
        expect(p.returncode == 0, f"run: exit {p.returncode} (stderr: {p.stderr[-800:]})")
        written = sorted(os.listdir(out)) if os.path.isdir(out) else []
        txt = [f for f in written if f.endswith("-test.txt")]
        csvs = [f for f in written if f.endswith("-test.csv")]
        expect(len(txt) == 1 and len(csvs) == 1, f"run: wrote {written}, expected one .txt and one .csv")
        if txt:
            expect(open(os.path.join(out, txt[0])).read().strip() in text.strip(),
                   "the .txt differs from what was printed")
        cpu_flags = open("/proc/cpuinfo").read()
        isas = [i for i, flag in (("avx512", "avx512f"), ("avx2", "avx2")) if re.search(rf"\b{flag}\b", cpu_flags)]
        for words in (["# command: python3 bench/cpu_peers.py", "--allow-load"], ["# cpu: ", "ISA: "],
                      ["onnxruntime 1.", "openvino 20", "git "], ["load average at start (1, 5, 15 min)"],
                      ["LOADED: the 1-minute load average"], ["INFERENCE_NUM_THREADS 1", "INFERENCE_PRECISION_HINT f32",
                                                              "EXECUTION_MODE_HINT", "convolutions ran: "],
                      ["intra_op_num_threads 1", "execution_mode"], ["÷ fastest peer at fp32"],
                      ["rounds: other processes used"], ["## summary"]):
            for w in words:
                expect(w in text, f"the output lacks {w!r}")
        if isas:
            expect("best single forced ISA ESPCN_CPU_ISA=" in text, "no best-forced-ISA line")
        has_bf16 = "espcn bf16: not available in this build" not in text
        if csvs:
            with open(os.path.join(out, csvs[0]), newline="") as f:
                rows = list(csv.reader(f))
            expect(rows and rows[0] == COLUMNS, f"CSV header {rows[0] if rows else None}")
            by_name = {r[2]: dict(zip(rows[0], r)) for r in rows[1:]}
            want = ["espcn cpu-fast fp32"] + [f"espcn cpu-fast fp32 ESPCN_CPU_ISA={i}" for i in isas]
            want += [f"{e} {s}{g}" for e in ("onnxruntime", "openvino") for s in ("fp32", "defaults")
                     for g in ("", " (LR residual)")]
            if has_bf16:
                want += ["espcn cpu-fast bf16"] + [f"espcn cpu-fast bf16 ESPCN_CPU_ISA={i}" for i in isas]
            for n in want:
                expect(n in by_name, f"CSV: no row {n!r} (rows: {sorted(by_name)})")
            for n, r in by_name.items():
                expect(len(r) == len(COLUMNS), f"CSV row {n!r} has {len(r)} fields")
                expect(float(r.get("fps_median") or 0) > 0, f"CSV row {n!r}: fps {r.get('fps_median')}")
                limit = 1 if r.get("precision") == "fp32" else 8
                expect(int(r.get("check_max_diff") or 99) <= limit, f"CSV row {n!r}: check {r.get('check_max_diff')}")
                expect("loaded at start" in r.get("load_mark", ""), f"CSV row {n!r}: load mark {r.get('load_mark')!r}")
            for n in ("openvino fp32", "onnxruntime fp32", "openvino fp32 (LR residual)"):
                if n in by_name:
                    expect(by_name[n]["precision"] == "fp32", f"{n} ran in {by_name[n]['precision']}")
        print(f"{'ok  ' if not failures else 'FAIL'} tiny run: exit {p.returncode}, {len(written)} files, "
              f"bf16 rows: {'yes' if has_bf16 else 'no (not in this build)'}")

        # 3. A failed check stops the run.
        out = os.path.join(tmp, "failed")
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import cpu_peers; "
                "cpu_peers.FP32_MAX_DIFF = cpu_peers.BF16_MAX_DIFF = -1; "
                "sys.argv = [sys.argv[2], *sys.argv[3:]]; sys.exit(cpu_peers.main())")
        p = subprocess.run([python, "-c", code, BENCH, SCRIPT, *tiny, "--allow-load", "--out", out],
                           capture_output=True, text=True, env=dict(env, ESPCN_CPU_PEERS_IN_VENV="1"), timeout=300)
        expect(p.returncode == 1, f"failed check: exit {p.returncode}, expected 1 (stderr: {p.stderr[-300:]})")
        expect("# FAILED:" in p.stdout and "Traceback" not in p.stderr, f"failed check output: {p.stdout[-300:]}")
        expect("### 64x48" not in p.stdout, "failed check: went on to the timed size")
        expect(not os.path.exists(out) or not os.listdir(out), "failed check: a result file was written")
        print(f"{'ok  ' if not failures else 'FAIL'} a failed check stops the run (exit {p.returncode})")
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
