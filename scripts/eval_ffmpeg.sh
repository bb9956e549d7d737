#!/usr/bin/env bash
# The SR quality protocol applied to the patched ffmpeg's `espcn` filter (not
# only the library): espcn-eval writes each dataset image's LR Y plane (MATLAB
# bicubic, uint8) as a gray PNG, ffmpeg upscales every one with
# `-vf espcn=scale=R[:model=M]`, and espcn-eval scores the PNGs ffmpeg wrote
# (PSNR/SSIM on Y, R pixels shaved), beside bicubic.
#
#   scripts/eval_ffmpeg.sh [--ffmpeg build/ffmpeg-7.1/ffmpeg] [--eval build/release/bin/espcn-eval]
#                          [--scale 2] [--model FILE] [--filter-args ARGS] [--csv FILE]
#                          DATASET_DIR...
#
# Without --model the filter uses its default (the shipped model for the scale,
# found through ESPCN_MODEL_DIR or the installed model folder). --filter-args
# appends options, e.g. backend=cpu:threads=2.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ffmpeg=$root/build/ffmpeg-7.1/ffmpeg
eval_bin=$root/build/release/bin/espcn-eval
scale=2 model= extra= csv=
datasets=()
while [ $# -gt 0 ]; do
    case $1 in
        --ffmpeg) ffmpeg=$2; shift 2 ;;
        --eval) eval_bin=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --filter-args) extra=$2; shift 2 ;;
        --csv) csv=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "eval_ffmpeg: unknown option $1" >&2; exit 2 ;;
        *) datasets+=("$1"); shift ;;
    esac
done
die() { echo "eval_ffmpeg: $*" >&2; exit 1; }
[ ${#datasets[@]} -gt 0 ] || die "give at least one dataset folder"
[ -x "$ffmpeg" ] || die "$ffmpeg not found (scripts/build_ffmpeg.sh builds it)"
[ -x "$eval_bin" ] || die "$eval_bin not built"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
filter="espcn=scale=$scale"
[ -n "$model" ] && filter+=":model=$model"
[ -n "$extra" ] && filter+=":$extra"

"$eval_bin" -s "$scale" --lr-only --write-lr "$work/lr" "${datasets[@]}" >/dev/null
n=0
for lr in "$work"/lr/*/*.png; do
    set_name=$(basename "$(dirname "$lr")")
    mkdir -p "$work/sr/$set_name"
    "$ffmpeg" -hide_banner -nostdin -loglevel error -y -i "$lr" -vf "$filter" -frames:v 1 \
        -pix_fmt gray -c:v png "$work/sr/$set_name/$(basename "$lr")" || die "ffmpeg failed on $lr with -vf $filter"
    n=$((n + 1))
done
echo "eval_ffmpeg: $n images through $ffmpeg -vf $filter"
args=(-s "$scale" --sr-dir "$work/sr" --label "ffmpeg-$filter")
[ -n "$csv" ] && args+=(--csv "$csv")
"$eval_bin" "${args[@]}" "${datasets[@]}"
