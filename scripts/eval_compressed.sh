#!/usr/bin/env bash
# Super-resolution of compressed LR (issue #23): Set5 and Set14 made into LR with
# MATLAB bicubic, then x264 (one yuv420p frame each, -preset medium, CRF 23, 28,
# 33; the encoder's settings are printed and written) or JPEG (quality 50, 75,
# 90), every shipped model (or --models) and bicubic scored on Y against the
# original with espcn-eval --lr-dir. Writes the rows as CSV (with date, machine,
# command and encoder settings in '#' lines) and prints the Markdown table that
# weights/MODELS.md carries ("Compressed input").
#
#   scripts/eval_compressed.sh [--eval build/release/bin/espcn-eval] [--ffmpeg FFMPEG]
#                              [--out bench/results/<date>-compressed-set5-set14.csv]
#                              [--flicker] [-- MORE weights/eval_compressed.py OPTIONS]
#
# --flicker: the temporal-stability measurement instead (a Set14 image panned one
# LR pixel per frame, 24 frames coded as one x264 stream at each CRF; the mean
# absolute difference of consecutive outputs after undoing the pan), written to
# bench/results/<date>-flicker.csv by default.
# The ffmpeg must have libx264: by default the project's build/ffmpeg-7.1/ffmpeg,
# else ffmpeg on PATH (Debian's has it). Needs python3 with numpy and Pillow.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
eval_bin=$root/build/release/bin/espcn-eval
ffmpeg_args=() out= flicker=0 extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --eval) eval_bin=$2; shift 2 ;;
        --ffmpeg) ffmpeg_args=(--ffmpeg "$2"); shift 2 ;;
        --out) out=$2; shift 2 ;;
        --flicker) flicker=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "eval_compressed: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$eval_bin" ] || { echo "eval_compressed: $eval_bin not built" >&2; exit 1; }
python=python3
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import numpy, PIL' 2>/dev/null; then python=$p; break; fi
done
if [ $flicker = 1 ]; then
    : "${out:=$root/bench/results/$(date +%F)-flicker.csv}"
    exec "$python" "$root/weights/eval_compressed.py" --eval "$eval_bin" "${ffmpeg_args[@]}" \
        --flicker --out "$out" "${extra[@]}"
fi
: "${out:=$root/bench/results/$(date +%F)-compressed-set5-set14.csv}"
exec "$python" "$root/weights/eval_compressed.py" --eval "$eval_bin" "${ffmpeg_args[@]}" \
    --out "$out" "${extra[@]}"
