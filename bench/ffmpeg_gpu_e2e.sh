#!/usr/bin/env bash
# End-to-end ffmpeg throughput of the espcn filter on the GPU (issue #4's
# "host-frame ffmpeg end to end" figure), side by side in one run:
#
#   host cuda   yuv420p host frames -> espcn=backend=cuda (frame queue, pinned
#               staging, copies overlapping the network) -> host frames
#   cuda frames the same frames uploaded once by hwupload_cuda -> espcn on CUDA
#               frames (no host round trip inside the filter) -> hwdownload
#   host cpu    espcn=backend=cpu, for the ratio (short run)
#
#   bench/ffmpeg_gpu_e2e.sh [--ffmpeg build/ffmpeg-7.1/ffmpeg] [--size 1920x1080]
#                           [--scale 2] [--frames 600] [--precision fp16] [--cpu-frames 10]
#
# --cpu-frames 0 leaves the CPU row out (a libespcn without oneDNN runs the
# CPU path on the slow reference backend: seconds per 1080p frame).
#
# Source: 60 frames of testsrc2 written once as raw yuv420p and read in a loop
# (-stream_loop: a memcpy per frame, where generating testsrc2 at 1080p would
# itself cap the rate), the output discarded (-f null), so the figure is the
# filter path itself plus FFmpeg's frame handling. fps = frames / wall time of the ffmpeg process, and
# ffmpeg's own -benchmark line is printed too. Needs a GPU; says so and exits
# 3 without one. The default model of the scale (ESPCN_MODEL_DIR, else the
# installed one, else weights/ through ESPCN_MODEL_DIR set below).
set -euo pipefail
cd "$(dirname "$0")/.."
ffmpeg=build/ffmpeg-7.1/ffmpeg size=1920x1080 scale=2 frames=600 precision=fp16 cpu_frames=10
while [ $# -gt 0 ]; do
    case $1 in
        --ffmpeg) ffmpeg=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --frames) frames=$2; shift 2 ;;
        --precision) precision=$2; shift 2 ;;
        --cpu-frames) cpu_frames=$2; shift 2 ;;
        *) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2 ;;
    esac
done
[ -x "$ffmpeg" ] || { echo "ffmpeg_gpu_e2e: no ffmpeg at $ffmpeg (scripts/build_ffmpeg.sh builds one)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -z "${ESPCN_MODEL_DIR:-}" ]; then
    # weights/ holds the models under their names; DEFAULTS says which is default-x<r>.
    while read -r tag file; do
        case $tag in x[0-9]*) cp "weights/$file" "$tmp/default-$tag.safetensors" ;; esac
    done <weights/DEFAULTS
    export ESPCN_MODEL_DIR=$tmp
fi
"$ffmpeg" -hide_banner -nostdin -loglevel error -f lavfi -i "testsrc2=size=$size:rate=60" \
    -frames:v 60 -pix_fmt yuv420p -f rawvideo "$tmp/src.yuv"
src=(-f rawvideo -pixel_format yuv420p -video_size "$size" -framerate 60 -stream_loop -1 -i "$tmp/src.yuv")
run() {  # label, frames, args...
    local label=$1 n=$2 t0 t1 out
    shift 2
    t0=$EPOCHREALTIME
    if ! out=$("$ffmpeg" -hide_banner -nostdin -loglevel error "$@" -frames:v "$n" -f null - 2>&1); then
        echo "$label: failed: $(tail -n 3 <<<"$out")"
        return 1
    fi
    t1=$EPOCHREALTIME
    awk -v l="$label" -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%-12s %6d frames %8.2f s %9.1f fps\n", l, n, b - a, n / (b - a) }'
}
echo "# ffmpeg_gpu_e2e $(date '+%Y-%m-%d %H:%M:%S %Z') | $("$ffmpeg" -hide_banner -version | head -n 1)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/# gpu: /'
echo "# $size -> x$scale, precision $precision, model default-x$scale from $ESPCN_MODEL_DIR"
if ! run "probe" 1 "${src[@]}" -vf "espcn=scale=$scale:backend=cuda" >/dev/null; then
    echo "ffmpeg_gpu_e2e: backend=cuda does not start here (no usable GPU); nothing measured" >&2
    exit 3
fi
run "host cuda" "$frames" "${src[@]}" -vf "espcn=scale=$scale:backend=cuda:precision=$precision"
run "cuda frames" "$frames" -init_hw_device cuda=gpu -filter_hw_device gpu "${src[@]}" \
    -vf "hwupload_cuda,espcn=scale=$scale:precision=$precision,hwdownload,format=yuv420p"
if [ "$cpu_frames" -gt 0 ]; then
    run "host cpu" "$cpu_frames" "${src[@]}" -vf "espcn=scale=$scale:backend=cpu"
fi
