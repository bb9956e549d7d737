#!/usr/bin/env python3
"""bench/plot_fps.py on espcn-bench CSVs: the committed CPU run and a --cuda-style
CSV written here. Checks: a PNG is written (PNG signature, plausible size);
--markdown prints one row per measured point (the reference rows "skipped"
above 1280x720 left out); a CSV of another program, an empty one and a
missing file exit 1 with a message. Needs matplotlib (python3-matplotlib).

Usage: test_plot_fps.py --csv bench/results/<date>-...-throughput-fps.csv
"""
import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

PLOT = Path(__file__).resolve().parents[2] / "bench" / "plot_fps.py"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    a = ap.parse_args()
    failures = []

    def run(args):
        return subprocess.run([sys.executable, str(PLOT), *args], capture_output=True, text=True)

    with open(a.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    measured = sum(1 for r in rows if r["fps"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cuda = tmp / "cuda.csv"
        cuda.write_text("model,width,height,scale,precision,dev_luma_fps,dev_420_fps,conv_fps,host_sync_fps,"
                        "host_pipe_fps,gflop_per_frame,mb_per_frame,roof_fps,of_roof\n"
                        "espcn-x2,1920,1080,2,fp16,1500,1400,1600,300,700,87.9,10,2000,0.75\n"
                        "espcn-x2,1920,1080,2,fp32,700,650,750,250,500,87.9,10,1000,0.7\n")
        png = tmp / "fps.png"
        p = run([a.csv, str(cuda), "-o", str(png), "--markdown", "--title", "test"])
        if p.returncode != 0:
            failures.append(f"plot failed: {p.stderr.strip()}")
        else:
            data = png.read_bytes()
            if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 20000:
                failures.append(f"{png} is not a plausible PNG ({len(data)} bytes)")
            table = [line for line in p.stdout.splitlines() if line.startswith("| ") and line[2].isdigit()]
            if len(table) != measured + 2:
                failures.append(f"--markdown printed {len(table)} rows, expected {measured} + 2 cuda")
            if not any("| cuda | fp16 | 1.5e+03 | 131850.0 |" in line for line in table):
                failures.append("the cuda fp16 row (fps 1500, 87.9 GFLOP per frame) is not in the table")
        bad = tmp / "bad.csv"
        bad.write_text("a,b\n1,2\n")
        empty = tmp / "empty.csv"
        empty.write_text("")
        for label, path in (("foreign", bad), ("empty", empty), ("missing", tmp / "none.csv")):
            p = run([str(path), "-o", str(tmp / "x.png")])
            if p.returncode != 1 or "plot_fps:" not in p.stderr or "Traceback" in p.stderr:
                failures.append(f"{label} CSV: exit {p.returncode}, stderr {p.stderr.strip()[:200]}")
    for f in failures:
        print("FAIL", f)
    checks = 6  # PNG, row count, cuda row, three refusals
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
