#!/usr/bin/env python3
"""The demo's comparison picture: bicubic · espcn · original, labelled, each with
a zoomed crop of the place where espcn and bicubic differ most.

    side_by_side.py BICUBIC.png ESPCN.png ORIGINAL.png -o OUT.png [--espcn-label TEXT]

The three PNGs are the same frame, same size (RGB). The crop is the window
(1/8 of each side) with the largest summed |espcn - bicubic| in luma (BT.601),
away from the border; the top row marks it, the bottom row shows it enlarged
with nearest-neighbour pixels so no interpolation of ours hides or adds detail.
Each label carries PSNR(Y) against the original over the whole frame.
Needs matplotlib and numpy (Debian: python3-matplotlib; run /usr/bin/python3).
"""
from __future__ import annotations

import argparse
import sys


def luma(rgb):
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def psnr(a, b) -> float:
    import numpy as np
    mse = float(np.mean((luma(a) - luma(b)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def most_different_window(a, b, win_h: int, win_w: int, margin: int) -> tuple[int, int]:
    """(top, left) of the WIN_H x WIN_W window with the largest summed |a - b|."""
    import numpy as np
    d = np.abs(luma(a) - luma(b))
    s = np.pad(d.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = d.shape
    best, at = -1.0, (margin, margin)
    for y in range(margin, h - win_h - margin + 1, 2):
        row = s[y + win_h, win_w:] - s[y, win_w:] - s[y + win_h, :-win_w] + s[y, :-win_w]
        lo, hi = margin, w - win_w - margin + 1
        if hi <= lo:
            continue
        x = lo + int(np.argmax(row[lo:hi]))
        if row[x] > best:
            best, at = float(row[x]), (y, x)
    return at


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bicubic")
    ap.add_argument("espcn")
    ap.add_argument("original")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--espcn-label", default="espcn")
    a = ap.parse_args(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
    except ImportError:
        print("side_by_side: needs matplotlib (Debian: python3-matplotlib)", file=sys.stderr)
        return 1
    images = [plt.imread(p)[..., :3] for p in (a.bicubic, a.espcn, a.original)]
    if len({im.shape for im in images}) != 1:
        print(f"side_by_side: the three images differ in size: {[im.shape for im in images]}", file=sys.stderr)
        return 1
    h, w = images[0].shape[:2]
    win_h, win_w = max(h // 8, 8), max(w // 8, 8)
    top, left = most_different_window(images[1], images[0], win_h, win_w, margin=max(h, w) // 40)
    labels = [f"bicubic — PSNR(Y) of this frame {psnr(images[0], images[2]):.2f} dB",
              f"{a.espcn_label} — PSNR(Y) of this frame {psnr(images[1], images[2]):.2f} dB",
              f"original ({w}×{h})"]

    panel_w = 6.0
    fig, axes = plt.subplots(2, 3, figsize=(3 * panel_w, panel_w * h / w + panel_w * win_h / win_w + 0.9),
                             gridspec_kw={"height_ratios": [h / w, win_h / win_w]})
    for col, (im, label) in enumerate(zip(images, labels)):
        full, zoom = axes[0][col], axes[1][col]
        full.imshow(im, interpolation="antialiased")
        full.add_patch(Rectangle((left - 0.5, top - 0.5), win_w, win_h, fill=False, edgecolor="red", linewidth=1.5))
        full.set_title(label, fontsize=12)
        zoom.imshow(im[top:top + win_h, left:left + win_w], interpolation="nearest")
        zoom.set_title(f"red box enlarged: {win_w}×{win_h} pixels at ({left}, {top})", fontsize=10)
        for ax in (full, zoom):
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(a.output, dpi=100)
    from PIL import Image
    Image.open(a.output).convert("RGB").save(a.output, optimize=True)  # lossless; no alpha: ~10% smaller
    print(f"wrote {a.output}: crop {win_w}x{win_h} at ({left}, {top})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
