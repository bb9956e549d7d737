#!/usr/bin/env python3
"""The markdown table of a bench/cpu_peers.py run, from its CSV.

    python3 bench/peers_table.py RESULTS.csv

One row per model x size: espcn cpu-fast fp32 as the planner chooses, each
forced ISA, the oneDNN backend, the fastest graph of each peer at fp32 and at
its defaults (with the precision it computed in), espcn bf16, and the two
ratios the issue's goals name (fp32 ÷ the fastest fp32 peer; bf16 ÷ the
fastest peer at its defaults) plus ÷ the best forced ISA. Figures are the run's
medians (fps); nothing is recomputed but the maxima and ratios.
"""
from __future__ import annotations

import csv
import sys
from collections import defaultdict


def fps(row: dict) -> float:
    return float(row["fps_median"])


def best(rows: list[dict], pred) -> dict | None:
    chosen = [r for r in rows if pred(r)]
    return max(chosen, key=fps) if chosen else None


def cell(row: dict | None, precision: bool = False) -> str:
    if row is None:
        return "unmeasured"
    text = f"{fps(row):.2f}"
    if precision:
        text += f" ({row['precision']})"
    return text


def main(path: str) -> None:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            groups[(row["model"], row["size"])].append(row)
    print("| model | LR input | cpu-fast fp32 | forced AVX-512 | forced AVX2 | onednn | ONNX Runtime fp32 "
          "| OpenVINO fp32 | fastest peer at its defaults | cpu-fast bf16 | fp32 ÷ fastest fp32 peer "
          "| ÷ best forced ISA | bf16 ÷ fastest peer at defaults |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (model, size), rows in groups.items():
        espcn = [r for r in rows if r["engine"] == "espcn"]
        peers = [r for r in rows if r["engine"] != "espcn"]
        chosen = best(espcn, lambda r: r["backend"] == "cpu-fast" and r["precision"] == "fp32" and not r["isa_cap"])
        isa = {cap: best(espcn, lambda r, c=cap: r["backend"] == "cpu-fast" and r["precision"] == "fp32"
                         and r["isa_cap"] == c) for cap in ("avx512", "avx2")}
        onednn = best(espcn, lambda r: r["backend"] == "onednn")
        bf16 = best(espcn, lambda r: r["backend"] == "cpu-fast" and r["precision"] == "bf16" and not r["isa_cap"])
        ort = best(peers, lambda r: r["engine"] == "onnxruntime" and r["setting"] != "defaults")
        ov = best(peers, lambda r: r["engine"] == "openvino" and r["setting"] != "defaults")
        peer_fp32 = best(peers, lambda r: r["setting"] != "defaults" and r["precision"] == "fp32")
        peer_dflt = best(peers, lambda r: r["setting"] == "defaults")
        forced = [r for r in isa.values() if r is not None]
        best_isa = max(forced, key=fps) if forced else None

        def ratio(a: dict | None, b: dict | None) -> str:
            return f"{fps(a) / fps(b):.2f}×" if a and b else "unmeasured"

        name = model.removesuffix(".safetensors")
        print(f"| {name} | {size.replace('x', '×')} | {cell(chosen)} | {cell(isa['avx512'])} | {cell(isa['avx2'])} "
              f"| {cell(onednn)} | {cell(ort)} | {cell(ov)} | {cell(peer_dflt, True)} | {cell(bf16)} "
              f"| **{ratio(chosen, peer_fp32)}** | {ratio(chosen, best_isa).rstrip('×')} "
              f"| {ratio(bf16, peer_dflt)} |")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) == 2 else 2)
    main(sys.argv[1])
