#!/usr/bin/env python3
"""Plot espcn-bench --csv results: fps and GFLOP/s per input resolution.

    bench/plot_fps.py RESULTS.csv [MORE.csv ...] -o PLOT-fps.png [--title TEXT] [--markdown]

Reads the CSV of the CPU throughput run (`espcn-bench --csv F`: columns
backend, width, height, scale, fps, gflops; precision fp32), of the GPU
run (`espcn-bench --cuda --csv F`: model, width, height, scale, precision,
dev_luma_fps or --cuda-column, gflop_per_frame), and of bench/cpu_peers.py
(model, size, runtime, fps_median, gflops: espcn cpu-fast as it chooses and
each peer's fastest graph at fp32 and at its defaults; the forced-ISA and
onednn rows are left out), any number of each. One line
per scale x backend x precision; x: the input (LR) resolution; left panel:
frames per second (log scale) with the real-time lines at 25, 30 and 60 fps;
right panel: GFLOP/s. Rows without a figure (e.g. the reference backend
"skipped" above 1280x720) are left out of their line.

--markdown also prints the table the plot shows (for README), from the same rows.
Needs matplotlib (Debian: python3-matplotlib, run with /usr/bin/python3).
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from dataclasses import dataclass

REAL_TIME = (25, 30, 60)


@dataclass(frozen=True)
class Point:
    width: int
    height: int
    scale: int
    backend: str
    precision: str
    fps: float
    gflops: float


def _float(text: str | None) -> float | None:
    try:
        v = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return v if v is not None and v > 0 else None


def read_points(path: str, cuda_column: str) -> list[Point]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no rows")
    cols = set(rows[0])
    if {"runtime", "fps_median", "size"} <= cols:
        return read_peer_points(path, rows)
    points = []
    for row in rows:
        w, h, r = int(row["width"]), int(row["height"]), int(row["scale"])
        if "backend" in cols:  # CPU throughput CSV
            fps, gflops = _float(row.get("fps")), _float(row.get("gflops"))
            backend, precision = row["backend"], row.get("precision") or "fp32"
        elif "dev_luma_fps" in cols:  # espcn-bench --cuda CSV
            if cuda_column not in cols:
                raise ValueError(f"{path}: no column {cuda_column!r} (have {', '.join(sorted(cols))})")
            fps = _float(row.get(cuda_column))
            per_frame = _float(row.get("gflop_per_frame"))
            gflops = fps * per_frame if fps and per_frame else None
            backend, precision = "cuda", row.get("precision") or "?"
        else:
            raise ValueError(f"{path}: not an espcn-bench CSV (columns: {', '.join(sorted(cols))})")
        if fps is None:
            continue
        points.append(Point(w, h, r, backend, precision, fps, gflops or 0.0))
    return points


def read_peer_points(path: str, rows: list[dict]) -> list[Point]:
    """bench/cpu_peers.py's rows: espcn cpu-fast as it chooses (per precision),
    and per peer and setting the faster of its graphs; the scale from the model
    name (lrnet-x2 ...)."""
    best: dict[tuple, Point] = {}
    for row in rows:
        runtime = row["runtime"]
        if row.get("isa_cap") or " onednn " in f" {runtime} ":
            continue  # forced instruction sets and the onednn context row
        fps = _float(row.get("fps_median"))
        if fps is None:
            continue
        try:
            w, h = (int(v) for v in row["size"].split("x"))
            r = int(row["model"].split("-x")[-1].split(".")[0])
        except ValueError:
            raise ValueError(f"{path}: cannot read size {row['size']!r} or model {row['model']!r}")
        if row.get("engine") == "espcn":
            backend = "espcn " + row.get("backend", "cpu-fast")
        else:  # the runtime at fp32 or at its defaults, either graph
            backend = runtime.split(" (")[0]
        precision = row.get("precision") or "fp32"
        key = (w, h, r, backend, precision)
        point = Point(w, h, r, backend, precision, fps, _float(row.get("gflops")) or 0.0)
        if key not in best or best[key].fps < fps:
            best[key] = point
    return list(best.values())


def plot(points: list[Point], out: str, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({(p.width, p.height) for p in points}, key=lambda s: s[0] * s[1])
    x_of = {s: i for i, s in enumerate(sizes)}
    series: dict[tuple, list[Point]] = defaultdict(list)
    for p in points:
        series[(p.scale, p.backend, p.precision)].append(p)
    colours = {2: "tab:blue", 3: "tab:orange", 4: "tab:green"}
    styles = {"onednn": "-", "reference": ":", "cuda": "--", "espcn cpu-fast": "-",
              "openvino fp32": ":", "openvino defaults": (0, (1, 3)), "onnxruntime fp32": "-.",
              "onnxruntime defaults": (0, (3, 3))}
    markers = {"fp32": "o", "fp16": "s", "bf16": "D"}

    fig, (ax_fps, ax_flops) = plt.subplots(1, 2, figsize=(13, 5.2))
    for (r, backend, precision), pts in sorted(series.items()):
        pts.sort(key=lambda p: x_of[(p.width, p.height)])
        xs = [x_of[(p.width, p.height)] for p in pts]
        style = dict(color=colours.get(r, "tab:gray"), linestyle=styles.get(backend, "-."),
                     marker=markers.get(precision, "^"), label=f"x{r} {backend} {precision}")
        ax_fps.plot(xs, [p.fps for p in pts], **style)
        if any(p.gflops for p in pts):
            ax_flops.plot(xs, [p.gflops for p in pts], **style)
    ax_fps.set_yscale("log")
    for fps in REAL_TIME:
        ax_fps.axhline(fps, color="black", linewidth=0.8, linestyle=(0, (4, 4)), alpha=0.6)
        below = fps == min(REAL_TIME)  # 25 and 30 are close on a log axis: one label under its line
        ax_fps.annotate(f"{fps} fps", xy=(-0.25, fps), xytext=(0, -2 if below else 2), textcoords="offset points",
                        fontsize=8, ha="left", va="top" if below else "bottom")
    ticks = [f"{w}×{h}" for w, h in sizes]
    for ax, label in ((ax_fps, "frames per second (log)"), (ax_flops, "GFLOP/s")):
        ax.set_xticks(range(len(sizes)), ticks)
        ax.set_xlim(-0.3, len(sizes) - 0.4)
        ax.set_xlabel("input (low-resolution) size; output = scale × each side")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    ax_flops.set_ylim(bottom=0)
    ax_fps.set_title("throughput (real-time lines: 25 / 30 / 60 fps)", fontsize=10)
    ax_flops.set_title("compute rate", fontsize=10)
    handles, labels = ax_fps.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.07 + 0.035 * ((len(labels) - 1) // 6), 1, 1))
    fig.savefig(out, dpi=110)


def markdown(points: list[Point]) -> str:
    lines = ["| input → output | r | backend | precision | fps | GFLOP/s |", "|---|---|---|---|---|---|"]
    for p in sorted(points, key=lambda p: (p.width * p.height, p.scale, p.backend, p.precision)):
        lines.append(f"| {p.width}×{p.height} → {p.width * p.scale}×{p.height * p.scale} | {p.scale} | "
                     f"{p.backend} | {p.precision} | {p.fps:.3g} | {p.gflops:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+", help="espcn-bench --csv files")
    ap.add_argument("-o", "--output", required=True, help="the PNG to write")
    ap.add_argument("--title", default="espcn-bench")
    ap.add_argument("--cuda-column", default="dev_luma_fps",
                    help="which fps of a --cuda CSV to plot (dev_luma_fps, dev_420_fps, host_sync_fps, host_pipe_fps)")
    ap.add_argument("--markdown", action="store_true", help="also print the plotted rows as a Markdown table")
    a = ap.parse_args(argv)
    try:
        points = [p for path in a.csv for p in read_points(path, a.cuda_column)]
    except (OSError, ValueError, KeyError) as e:
        print(f"plot_fps: {e}", file=sys.stderr)
        return 1
    if not points:
        print("plot_fps: no row has a figure to plot", file=sys.stderr)
        return 1
    try:
        plot(points, a.output, a.title)
    except ImportError:
        print("plot_fps: needs matplotlib (Debian: apt-get install python3-matplotlib; run /usr/bin/python3)",
              file=sys.stderr)
        return 1
    if a.markdown:
        print(markdown(points))
    print(f"wrote {a.output}: {len(points)} points", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
