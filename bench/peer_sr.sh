#!/usr/bin/env bash
# The peer, side by side: our `espcn` filter against FFmpeg's own `sr` filter
# (native DNN backend, the same weights exported by
# weights/export_ffmpeg_native.py) and against plain bicubic and lanczos
# scaling, on the same LR clip, for speed (fps) and quality (PSNR Y against the
# HR ground truth).
#
#   bench/peer_sr.sh [--ffmpeg build/ffmpeg-7.1/ffmpeg] [--native-ffmpeg /usr/bin/ffmpeg]
#                    [--model FILE.safetensors] [--frames 10] [--source testsrc2|IMAGE]
#                    [--out out/peer_sr]
#
# Clip: an HR clip of (640·r)×(360·r) (1280×720 for r = 2) — testsrc2, or an
# image (e.g. ../shared/data/sr/Set14/comic.png) looped, scaled to cover and
# cropped — downscaled to 640×360 with `scale=…:flags=bicubic`. Both are
# written losslessly (y4m, yuv420p) to a temporary directory, never into the
# repository. Every method reads the same LR y4m and writes an HR y4m:
#   espcn    our ffmpeg:    espcn=scale=R:backend=cpu:model=M
#   sr       /usr/bin/ffmpeg: sr=dnn_backend=native:model=M.model (exported M)
#   bicubic  our ffmpeg:    scale=iw*R:ih*R:flags=bicubic
#   lanczos  our ffmpeg:    scale=iw*R:ih*R:flags=lanczos
# fps = frames / wall time of that whole ffmpeg run (process start, model load,
# y4m decode and encode included); "marginal fps" = (N−1) / (t(N) − t(1)) from
# an extra 1-frame run, which removes the fixed start-up cost (for sr that
# includes a full extra pass of the network: vf_sr's config_output "try run"
# executes the model once to learn the output size). PSNR (Y) by
# ffmpeg's psnr filter, averaged over the N frames.
#
# Default model: weights/espcn-x2.safetensors (trained, the paper's ESPCN, which
# is what `sr` supports: FSRCNN's deconvolution is not in its native format);
# without it, `espcn-make-model --arch espcn --scale 2` with UNTRAINED weights
# (then only the fps ratio means anything, and the script says so). FFmpeg's
# native sr at 640×360 ×2 runs at about 0.2 fps here, so the default N = 10
# keeps the run to a couple of minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

ffmpeg=$root/build/ffmpeg-7.1/ffmpeg
native=/usr/bin/ffmpeg
model=
frames=10
source=testsrc2
outdir=$root/out/peer_sr
cli=$root/build/release/bin/espcn-cli
make_model=$root/build/release/bin/espcn-make-model
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --ffmpeg) ffmpeg=$2; shift 2 ;;
        --native-ffmpeg) native=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --frames) frames=$2; shift 2 ;;
        --source) source=$2; shift 2 ;;
        --out) outdir=$2; shift 2 ;;
        --cli) cli=$2; shift 2 ;;
        --make-model) make_model=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "peer_sr: unknown argument $1" >&2; usage 2 ;;
    esac
done
die() { echo "peer_sr: $*" >&2; exit 1; }
[ -x "$ffmpeg" ] || die "$ffmpeg not found: build it (scripts/build_ffmpeg.sh) or pass --ffmpeg"
filters=$("$ffmpeg" -hide_banner -filters 2>/dev/null || true)  # (no grep -q in a pipe: pipefail + SIGPIPE)
grep -qE '^ *[.A-Z|]+ +espcn +' <<<"$filters" || die "$ffmpeg has no espcn filter"
[ -x "$cli" ] || die "$cli not built"
[[ $frames =~ ^[1-9][0-9]*$ ]] || die "--frames must be a positive integer"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$outdir"
log=$outdir/peer_sr.txt csv=$outdir/peer_sr.csv
exec > >(tee "$log") 2>&1

if [ -z "$model" ] && [ -f "$root/weights/espcn-x2.safetensors" ]; then
    model=$root/weights/espcn-x2.safetensors  # trained; the ESPCN the sr filter also runs
fi
if [ -z "$model" ]; then
    [ -x "$make_model" ] || die "$make_model not built"
    model=$work/espcn-x2-untrained.safetensors
    "$make_model" --arch espcn --scale 2 -o "$model" >/dev/null
fi
info=$("$cli" -m "$model" --info) || die "espcn-cli cannot read $model"
r=$(sed -n 's/^scale: *x\([0-9]*\)/\1/p' <<<"$info")
mname=$(sed -n 's/^model: *//p' <<<"$info")
untrained=0
grep -qi untrained <<<"$mname" && untrained=1
lw=640 lh=360 hw=$((640 * r)) hh=$((360 * r))

ff() { "$ffmpeg" -hide_banner -nostdin -y -loglevel error "$@"; }
echo "== peer_sr: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPU threads ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model: $model ($mname, x$r)"
echo "ours:  $ffmpeg ($("$ffmpeg" -hide_banner -version | head -n 1 | cut -d' ' -f1-3))"

# 1. The clip.
if [ "$source" = testsrc2 ]; then
    src=(-f lavfi -i "testsrc2=size=${hw}x${hh}:rate=25")
    srcdesc="testsrc2 ${hw}x${hh}"
else
    [ -f "$source" ] || die "--source: $source is not testsrc2 nor a file"
    src=(-loop 1 -framerate 25 -i "$source" -vf "scale=${hw}:${hh}:force_original_aspect_ratio=increase:flags=lanczos,crop=${hw}:${hh}")
    srcdesc="$(basename "$source") looped, scaled to cover ${hw}x${hh} and cropped (upscaled: a soft ground truth)"
fi
ff "${src[@]}" -frames:v "$frames" -pix_fmt yuv420p -f yuv4mpegpipe "$work/hr.y4m"
ff -i "$work/hr.y4m" -vf "scale=${lw}:${lh}:flags=bicubic" -pix_fmt yuv420p -f yuv4mpegpipe "$work/lr.y4m"
echo "clip:  $frames frames, HR $srcdesc -> LR ${lw}x${lh} (scale flags=bicubic)"

# 2. The methods: name, ffmpeg binary, filter.
names=(espcn sr bicubic lanczos)
declare -A bin filt note
bin[espcn]=$ffmpeg;  filt[espcn]="espcn=scale=$r:backend=cpu:model=$model"
bin[bicubic]=$ffmpeg; filt[bicubic]="scale=iw*$r:ih*$r:flags=bicubic"
bin[lanczos]=$ffmpeg; filt[lanczos]="scale=iw*$r:ih*$r:flags=lanczos"
bin[sr]=$native;     filt[sr]="sr=dnn_backend=native:model=$work/native-x$r.model"
if [ ! -x "$native" ]; then
    note[sr]="skipped: $native not found (Debian 12: apt-get install ffmpeg)"
elif ! grep -qE '^ +native +0 ' <<<"$("$native" -hide_banner -h filter=sr 2>/dev/null || true)"; then
    note[sr]="skipped: $native has no sr filter with the native DNN backend (FFmpeg 4.2 to 6.1 only)"
elif ! python3 "$root/weights/export_ffmpeg_native.py" -q "$model" "$work/native-x$r.model"; then
    note[sr]="skipped: the model cannot be exported to the native format"
else
    echo "peer:  $native ($("$native" -hide_banner -version | head -n 1 | cut -d' ' -f1-3)), model exported by weights/export_ffmpeg_native.py"
fi

now() { date +%s.%N; }
# run NAME FRAMES OUT: one timed ffmpeg run; prints the seconds
run() {
    local t0 t1
    t0=$(now)
    "${bin[$1]}" -hide_banner -nostdin -y -loglevel error -i "$work/lr.y4m" -vf "${filt[$1]}" \
        -frames:v "$2" -pix_fmt yuv420p -f yuv4mpegpipe "$3" || return 1
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
psnr_y() {
    "$ffmpeg" -hide_banner -nostdin -loglevel info -i "$1" -i "$work/hr.y4m" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 |
        sed -n 's/.*PSNR y:\([0-9.inf]*\).*/\1/p' | tail -n 1
}

echo
echo "commands (LR = $work/lr.y4m, each writes an HR y4m):"
declare -A wall wall1 fps mfps psnr
for m in "${names[@]}"; do
    [ -n "${note[$m]:-}" ] && { echo "  $m: ${note[$m]}"; continue; }
    echo "  $m: ${bin[$m]} -i LR -vf '${filt[$m]}' -frames:v $frames -f yuv4mpegpipe out.y4m"
done
for m in "${names[@]}"; do
    [ -n "${note[$m]:-}" ] && continue
    wall[$m]=$(run "$m" "$frames" "$work/$m.y4m") || { note[$m]="failed: the ffmpeg run exited non-zero"; continue; }
    fps[$m]=$(awk -v n="$frames" -v t="${wall[$m]}" 'BEGIN { printf "%.3f", n / t }')
    if [ "$frames" -gt 1 ]; then
        wall1[$m]=$(run "$m" 1 "$work/$m-1.y4m") || wall1[$m]=
        mfps[$m]=$(awk -v n="$frames" -v t="${wall[$m]}" -v t1="${wall1[$m]:-}" \
                   'BEGIN { if (t1 == "" || t <= t1) print "-"; else printf "%.3f", (n - 1) / (t - t1) }')
    else
        mfps[$m]=-
    fi
    psnr[$m]=$(psnr_y "$work/$m.y4m")
    [[ ${psnr[$m]} =~ ^[0-9]+\.[0-9]+$ ]] && psnr[$m]=$(printf '%.2f' "${psnr[$m]}")
    echo "  ran $m: ${wall[$m]} s for $frames frames"
done

ratio() {  # a / b, or "-"
    awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.3g", a / b }'
}
echo
printf '%-8s %-28s %7s %9s %9s %14s %10s %s\n' method filter frames wall_s fps marginal_fps "PSNR_Y_dB" "espcn_fps/this"
echo "method,ffmpeg,filter,frames,wall_s,fps,marginal_fps,psnr_y_db,espcn_fps_over_this_fps,espcn_marginal_fps_over_this,note" >"$csv"
for m in "${names[@]}"; do
    if [ -z "${wall[$m]:-}" ]; then
        printf '%-8s %s\n' "$m" "${note[$m]}"
        echo "$m,${bin[$m]},\"${filt[$m]}\",$frames,,,,,,,\"${note[$m]}\"" >>"$csv"
        continue
    fi
    short=${filt[$m]%%:model=*}
    printf '%-8s %-28s %7s %9s %9s %14s %10s %s\n' "$m" "${short:0:28}" "$frames" "${wall[$m]}" "${fps[$m]}" \
        "${mfps[$m]}" "${psnr[$m]}" "$(ratio "${fps[espcn]:-}" "${fps[$m]}")x"
    echo "$m,${bin[$m]},\"${filt[$m]}\",$frames,${wall[$m]},${fps[$m]},${mfps[$m]},${psnr[$m]},$(ratio "${fps[espcn]:-}" "${fps[$m]}"),$(ratio "${mfps[espcn]:-}" "${mfps[$m]}"),${note[$m]:-}" >>"$csv"
done
echo
if [ -n "${fps[espcn]:-}" ] && [ -n "${fps[sr]:-}" ]; then
    echo "espcn / sr (native): $(ratio "${fps[espcn]}" "${fps[sr]}")x wall fps, $(ratio "${mfps[espcn]}" "${mfps[sr]}")x marginal fps (same network, same weights)"
    agree=$("$ffmpeg" -hide_banner -nostdin -loglevel info -i "$work/espcn.y4m" -i "$work/sr.y4m" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 |
            sed -n 's/.*PSNR y:\([0-9.inf]*\).*/\1/p' | tail -n 1)
    echo "espcn output vs sr output, Y PSNR over the clip: ${agree:-?} dB (inf = identical; a few samples 1 code value"
    echo "  apart, from float rounding, give ~90-100 dB; chroma is not compared: each filter scales it its own way)"
fi
if [ "$untrained" = 1 ]; then
    echo "NOTE: '$mname' has UNTRAINED random weights: the espcn and sr PSNR figures are meaningless"
    echo "      (they only show that both filters compute the same thing); only the fps ratio counts."
    echo "      The trained weights are weights/espcn-x2.safetensors (the default model here)."
fi
echo "table: $log"
echo "csv:   $csv"
