#!/usr/bin/env bash
# fps of cluster/espcn_ray.py on a local Ray cluster (ray.init() on this
# machine) with 1 and with 2 CPUs, one task (ffmpeg -vf espcn, threads=1) per
# CPU, beside one plain `ffmpeg -vf espcn` run over the whole clip with
# threads=1 and threads=2; interleaved, REPEAT rounds, with `uptime` before each
# run (the machine is shared: the load says how much of it we had).
#
#   bench/ray_scaling.sh [--size 320x180] [--frames 480] [--gop 48] [--repeat 2]
#                        [--ffmpeg build/ffmpeg-7.1/ffmpeg] [--python build/venv-cluster/bin/python]
#
# The clip: FFmpeg's testsrc2, H.264 (crf 18, a keyframe every GOP frames:
# frames/GOP segments). Output: libx264 veryfast crf 16 with one thread for
# both, so that a task is one core's work. fps = frames / wall time: for espcn_ray.py the
# "segments running" time it reports (split, join and Ray start-up apart) and
# its whole run; for ffmpeg its whole run.
set -euo pipefail
cd "$(dirname "$0")/.."
size=320x180 frames=480 gop=48 repeat=2
ffmpeg=build/ffmpeg-7.1/ffmpeg python=build/venv-cluster/bin/python
while [ $# -gt 0 ]; do
    case $1 in
        --size) size=$2; shift 2 ;;
        --frames) frames=$2; shift 2 ;;
        --gop) gop=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --ffmpeg) ffmpeg=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        *) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2 ;;
    esac
done
ffprobe=$(dirname "$ffmpeg")/ffprobe
encoder="-c:v libx264 -preset veryfast -crf 16 -threads 1"
work=$(mktemp -d /tmp/espcn-ray-scaling.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$ffmpeg" -hide_banner -nostdin -loglevel error -f lavfi -i "testsrc2=size=$size:rate=25" -frames:v "$frames" \
    -pix_fmt yuv420p -c:v libx264 -crf 18 -preset veryfast -x264-params "keyint=$gop:min-keyint=$gop:scenecut=0" \
    "$work/clip.mkv"
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC') | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) | $(nproc) cores"
echo "# clip: testsrc2 $size, $frames frames, keyframe every $gop -> $((frames / gop)) segments; espcn x2, backend cpu"
echo "# run | workers | fps (segments running) | fps (whole run) | load before (1 min)"
for round in $(seq 1 "$repeat"); do
    for n in 1 2; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        rm -rf "$work/out"
        log=$("$python" cluster/espcn_ray.py "$work/clip.mkv" -o "$work/out" --backend cpu --num-cpus "$n" \
              --segment-frames "$gop" --ffmpeg "$ffmpeg" --ffprobe "$ffprobe" --no-progress \
              --encoder-args "$encoder" 2>&1) ||
            { echo "$log" >&2; exit 1; }
        line=$(grep 'frames upscaled in' <<<"$log")
        seg_fps=$(sed -n 's/.*= \([0-9.]*\) fps (segments running).*/\1/p' <<<"$line")
        all_s=$(sed -n 's/.*running), \([0-9.]*\) s in all.*/\1/p' <<<"$line")
        echo "espcn_ray.py round $round | $n | $seg_fps | $(awk -v f="$frames" -v s="$all_s" 'BEGIN{printf "%.1f", f/s}') | $load"
        load=$(cut -d' ' -f1 /proc/loadavg)
        start=$(date +%s.%N)
        "$ffmpeg" -hide_banner -nostdin -y -loglevel error -i "$work/clip.mkv" \
            -vf "espcn=scale=2:backend=cpu:threads=$n" $encoder "$work/plain.mkv"
        end=$(date +%s.%N)
        echo "ffmpeg threads=$n round $round | - | - | $(awk -v f="$frames" -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", f/(b-a)}') | $load"
    done
done
