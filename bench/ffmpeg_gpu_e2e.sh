#!/usr/bin/env bash
# ffmpeg -vf espcn end to end on the GPU, each path timed and its output checked
# against the CPU's (question (d) of scripts/gpu_check.sh --run):
#
#   host cuda    yuv420p host frames -> espcn=backend=cuda (frame queue, pinned
#                staging, copies overlapping the network) -> host frames
#   cuda frames  the same frames uploaded by hwupload_cuda -> espcn on CUDA
#                frames (no host round trip inside the filter) -> hwdownload
#   hwaccel cuda an H.264 file decoded by NVDEC (-hwaccel cuda, CUDA frames,
#                nv12) -> espcn -> hwdownload; skipped, saying why, where
#                NVDEC is not available
#   host cpu     espcn=backend=cpu, for the ratio (--cpu-frames, short)
#
#   bench/ffmpeg_gpu_e2e.sh [--ffmpeg build/ffmpeg-7.1/ffmpeg] [--size 1920x1080]
#       [--scale 2] [--frames 300] [--precision auto] [--check-frames 5] [--cpu-frames 0]
#
# Source: 60 frames of testsrc2 written once as raw yuv420p and read in a loop
# (-stream_loop: a memcpy per frame, where generating testsrc2 at 1080p would
# itself cap the rate), and the same 60 frames as H.264 (libx264, crf 16) for
# NVDEC. fps = frames / wall time of an ffmpeg process whose output is
# discarded (-f null), start-up included. Check: the first --check-frames
# frames of each path written out and compared with the CPU's output of the
# same input (backend=cpu, fp32; for NVDEC, the software decode of the same
# file, bit-exact for H.264): PSNR of Y over those frames and the largest
# difference of any sample (chroma is resampled by the same code on both).
# Needs a GPU: says so and exits 3 without one. The default model of the scale
# (ESPCN_MODEL_DIR, else the installed one, else weights/ through
# ESPCN_MODEL_DIR set below). Needs python3 with numpy for the check.
set -euo pipefail
cd "$(dirname "$0")/.."
ffmpeg=build/ffmpeg-7.1/ffmpeg size=1920x1080 scale=2 frames=300 precision=auto check_frames=5 cpu_frames=0
while [ $# -gt 0 ]; do
    case $1 in
        --ffmpeg) ffmpeg=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --frames) frames=$2; shift 2 ;;
        --precision) precision=$2; shift 2 ;;
        --check-frames) check_frames=$2; shift 2 ;;
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
w=${size%x*} h=${size#*x}
ow=$((w * scale)) oh=$((h * scale))
ff=("$ffmpeg" -hide_banner -nostdin -loglevel error)
"${ff[@]}" -f lavfi -i "testsrc2=size=$size:rate=60" -frames:v 60 -pix_fmt yuv420p -f rawvideo "$tmp/src.yuv"
"${ff[@]}" -f rawvideo -pixel_format yuv420p -video_size "$size" -framerate 60 -i "$tmp/src.yuv" \
    -c:v libx264 -preset ultrafast -crf 16 "$tmp/src.mp4"
raw=(-f rawvideo -pixel_format yuv420p -video_size "$size" -framerate 60 -stream_loop -1 -i "$tmp/src.yuv")
mp4=(-stream_loop -1 -i "$tmp/src.mp4")
espcn="espcn=scale=$scale:precision=$precision"

timed() {  # label frames args...: prints "label frames s fps" or "label: failed: ..."
    local label=$1 n=$2 t0 t1 out
    shift 2
    t0=$EPOCHREALTIME
    if ! out=$("${ff[@]}" "$@" -frames:v "$n" -f null - 2>&1); then
        echo "$label: failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
        return 1
    fi
    t1=$EPOCHREALTIME
    awk -v l="$label" -v n="$n" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%-13s %6d frames %7.2f s %9.1f fps", l, n, b - a, n / (b - a) }'
}
# check label reference args...: the first check_frames frames of a path into
# a file, then PSNR(Y) and the largest difference against `reference`.
check() {
    local label=$1 ref=$2
    shift 2
    if ! "${ff[@]}" "$@" -frames:v "$check_frames" -pix_fmt yuv420p -f rawvideo "$tmp/$label.yuv" 2>"$tmp/err"; then
        echo "   check failed: $(tail -n 2 "$tmp/err" | tr '\n' ' ')"
        return 1
    fi
    python3 - "$tmp/$label.yuv" "$ref" "$ow" "$oh" <<'EOF'
import sys
import numpy as np
a, b = (np.fromfile(p, np.uint8) for p in sys.argv[1:3])
w, h = int(sys.argv[3]), int(sys.argv[4])
frame = w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)
if a.size != b.size or a.size % frame:
    sys.exit(f"   sizes differ: {a.size} vs {b.size} bytes")
a, b = a.reshape(-1, frame).astype(np.int32), b.reshape(-1, frame).astype(np.int32)
mse = float(((a[:, :w * h] - b[:, :w * h]) ** 2).mean())
psnr = "inf" if mse == 0 else f"{10 * np.log10(255 ** 2 / mse):.2f}"
print(f"   vs CPU output ({a.shape[0]} frames): PSNR-Y {psnr} dB, max |diff| {int(np.abs(a - b).max())} codes "
      f"(all planes), {float((np.abs(a - b) > 1).mean()) * 100:.3f}% of samples over 1 code")
EOF
}

echo "# ffmpeg_gpu_e2e $(date '+%Y-%m-%d %H:%M:%S %Z') | $("$ffmpeg" -hide_banner -version | head -n 1)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/# gpu: /'
echo "# $size -> x$scale ($ow x $oh), precision $precision, model default-x$scale from $ESPCN_MODEL_DIR; fps over $frames frames, start-up included"
if ! timed probe 1 "${raw[@]}" -vf "$espcn:backend=cuda" >/dev/null; then
    echo "ffmpeg_gpu_e2e: backend=cuda does not start here (no usable GPU); nothing measured" >&2
    exit 3
fi
# The CPU's output of the same inputs (fp32), the check's reference.
"${ff[@]}" "${raw[@]}" -vf "espcn=scale=$scale:backend=cpu" -frames:v "$check_frames" -f rawvideo "$tmp/ref-raw.yuv"
"${ff[@]}" -i "$tmp/src.mp4" -vf "espcn=scale=$scale:backend=cpu" -frames:v "$check_frames" -pix_fmt yuv420p \
    -f rawvideo "$tmp/ref-mp4.yuv"
status=0
timed "host cuda" "$frames" "${raw[@]}" -vf "$espcn:backend=cuda" && echo && check host "$tmp/ref-raw.yuv" "${raw[@]}" -vf "$espcn:backend=cuda" || status=1
hw=(-init_hw_device cuda=gpu -filter_hw_device gpu)
timed "cuda frames" "$frames" "${hw[@]}" "${raw[@]}" -vf "hwupload_cuda,$espcn,hwdownload,format=yuv420p" && echo &&
    check upload "$tmp/ref-raw.yuv" "${hw[@]}" "${raw[@]}" -vf "hwupload_cuda,$espcn,hwdownload,format=yuv420p" || status=1
nvdec=(-hwaccel cuda -hwaccel_output_format cuda)
if out=$("${ff[@]}" "${nvdec[@]}" -i "$tmp/src.mp4" -frames:v 1 -f null - 2>&1); then
    timed "hwaccel cuda" "$frames" "${nvdec[@]}" "${mp4[@]}" -vf "$espcn,hwdownload,format=nv12" && echo &&
        check nvdec "$tmp/ref-mp4.yuv" "${nvdec[@]}" -i "$tmp/src.mp4" -vf "$espcn,hwdownload,format=nv12,format=yuv420p" ||
        status=1
else
    echo "hwaccel cuda: skipped: NVDEC does not decode here: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
fi
if [ "$cpu_frames" -gt 0 ]; then
    timed "host cpu" "$cpu_frames" "${raw[@]}" -vf "espcn=scale=$scale:backend=cpu" && echo || status=1
fi
exit $status
