"""bench/plot_fps.py on espcn-bench CSVs: the committed CPU run and a --cuda-style
CSV written here. Checks: a PNG is written (PNG signature, plausible size);
--markdown prints one row per measured point (the reference rows "skipped"
above 1280x720 left out); a CSV of another program, an empty one and a
missing file exit 1 with a message. Needs matplotlib (python3-matplotlib).

Usage: pytest test_plot_fps.py --csv bench/results/<date>-...-throughput-fps.csv
"""
import csv
import subprocess
import sys
from pathlib import Path

import pytest

PLOT = Path(__file__).resolve().parents[2] / "bench" / "plot_fps.py"
CUDA_CSV = ("model,width,height,scale,precision,dev_luma_fps,dev_420_fps,conv_fps,host_sync_fps,"
            "host_pipe_fps,gflop_per_frame,mb_per_frame,roof_fps,of_roof\n"
            "espcn-x2,1920,1080,2,fp16,1500,1400,1600,300,700,87.9,10,2000,0.75\n"
            "espcn-x2,1920,1080,2,fp32,700,650,750,250,500,87.9,10,1000,0.7\n")


def run(args):
    return subprocess.run([sys.executable, str(PLOT), *args], capture_output=True, text=True)


def test_plot_and_markdown_of_a_cpu_and_a_cuda_csv(option, tmp_path):
    cpu_csv = option("--csv")
    with open(cpu_csv, newline="") as f:
        measured = sum(1 for r in csv.DictReader(f) if r["fps"])
    cuda = tmp_path / "cuda.csv"
    cuda.write_text(CUDA_CSV)
    png = tmp_path / "fps.png"
    p = run([cpu_csv, str(cuda), "-o", str(png), "--markdown", "--title", "test"])
    assert p.returncode == 0, f"plot failed: {p.stderr.strip()}"
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 20000, \
        f"{png} is not a plausible PNG ({len(data)} bytes)"
    table = [line for line in p.stdout.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(table) == measured + 2, f"--markdown printed {len(table)} rows, expected {measured} + 2 cuda"
    assert any("| cuda | fp16 | 1.5e+03 | 131850.0 |" in line for line in table), \
        "the cuda fp16 row (fps 1500, 87.9 GFLOP per frame) is not in the table"


@pytest.mark.parametrize("label", ["foreign", "empty", "missing"])
def test_a_bad_csv_exits_1_with_a_message(tmp_path, label):
    path = tmp_path / f"{label}.csv"
    if label == "foreign":
        path.write_text("a,b\n1,2\n")
    elif label == "empty":
        path.write_text("")
    p = run([str(path), "-o", str(tmp_path / "x.png")])
    assert p.returncode == 1 and "plot_fps:" in p.stderr and "Traceback" not in p.stderr, \
        f"{label} CSV: exit {p.returncode}, stderr {p.stderr.strip()[:200]}"
