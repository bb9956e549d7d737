#!/usr/bin/env bash
# Is `ffmpeg -vf espcn` real time on this CPU? 640×360 → 1280×720 (x2, the
# shipped default model) end to end in the patched ffmpeg, on the CPU.
#
#   bench/ffmpeg_cpu_realtime.sh [--ffmpeg build/ffmpeg-7.1/ffmpeg] [--frames 250]
#                                [--rounds 3] [--threads 2] [--out bench/results]
#
# One LR clip of --frames frames (testsrc2, 640×360, 25 fps) is made once,
# losslessly (y4m) and as H.264 (x264 -crf 18), in a temporary directory. Then,
# in interleaved rounds (each case once per round; the figure is the median):
#   filter      y4m in → espcn=scale=2 → -f null        (decode of y4m is free;
#                                                        the filter is the work)
#   filter-avx2 the same with ESPCN_CPU_ISA=avx2         (the forced-AVX2 path)
#   transcode   H.264 in → espcn=scale=2 → libx264 -preset ultrafast -tune
#               zerolatency out (a real transcode: decode + upscale + encode,
#               all on the same cores)
#   bicubic     y4m in → scale=1280:720:flags=bicubic → -f null (what the
#               pipeline costs without a network)
# fps = frames / wall time of the whole ffmpeg run (start-up and model load
# included). On a shared machine the wall time includes waiting for the cores,
# so the CPU time of the run is reported too: "cpu fps" = frames / ((user +
# sys) / threads), what the run would do on `threads` idle cores if its work
# spread evenly over them (it includes OpenMP's spin-waiting, so it is not
# flattering). `uptime` is recorded before and after; raw output goes to
# <out>/<date>-ffmpeg-cpu-realtime.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ffmpeg=$root/build/ffmpeg-7.1/ffmpeg
frames=250
rounds=3
threads=2
out=$root/bench/results
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --ffmpeg) ffmpeg=$2; shift 2 ;;
        --frames) frames=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "ffmpeg_cpu_realtime: unknown argument $1" >&2; usage 2 ;;
    esac
done
[ -x "$ffmpeg" ] || { echo "ffmpeg_cpu_realtime: $ffmpeg not found (scripts/build_ffmpeg.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/report.txt
say() { echo "$*" | tee -a "$log"; }

"$ffmpeg" -v error -f lavfi -i "testsrc2=size=640x360:rate=25" -frames:v "$frames" -pix_fmt yuv420p \
    "$tmp/lr.y4m"
"$ffmpeg" -v error -i "$tmp/lr.y4m" -c:v libx264 -crf 18 -preset medium "$tmp/lr.mp4"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
isa=$(grep -o -w -E 'avx2|fma|avx512f|avx512bw|avx512vl|avx512_bf16|avx512_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')
say "# bench/ffmpeg_cpu_realtime.sh $(date '+%Y-%m-%d %H:%M:%S %Z'): $frames frames of 640x360 -> 1280x720, $rounds rounds, filter threads $threads"
say "# cpu: $cpu, $(nproc) logical CPUs, ISA: $isa"
say "# ffmpeg: $("$ffmpeg" -version | head -n 1)"
say "# espcn: git $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- kernels filter || echo +uncommitted)"
say "# uptime before: $(uptime)"

run_case() {  # name -> "wall_seconds cpu_seconds" on stdout
    local name=$1 times
    local filter="espcn=scale=2:backend=cpu:threads=$threads"
    local TIMEFORMAT='%R %U %S'
    times=$( { time case $name in
        filter) "$ffmpeg" -v error -nostdin -i "$tmp/lr.y4m" -vf "$filter" -f null - ;;
        filter-avx2) ESPCN_CPU_ISA=avx2 "$ffmpeg" -v error -nostdin -i "$tmp/lr.y4m" -vf "$filter" -f null - ;;
        transcode) "$ffmpeg" -v error -nostdin -y -i "$tmp/lr.mp4" -vf "$filter" -c:v libx264 \
                       -preset ultrafast -tune zerolatency -threads "$threads" "$tmp/hr.mp4" ;;
        bicubic) "$ffmpeg" -v error -nostdin -i "$tmp/lr.y4m" -vf scale=1280:720:flags=bicubic -f null - ;;
    esac; } 2>&1 )
    awk '{printf "%.4f %.4f\n", $1, $2 + $3}' <<<"$times"
}

median() { sort -g | awk '{a[NR]=$1} END{print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

cases=(filter filter-avx2 transcode bicubic)
declare -A fps cpufps
for ((r = 1; r <= rounds; r++)); do
    for c in "${cases[@]}"; do
        read -r wall cpu < <(run_case "$c")
        f=$(awk -v n="$frames" -v s="$wall" 'BEGIN{printf "%.4f\n", n / s}')
        g=$(awk -v n="$frames" -v s="$cpu" -v t="$threads" 'BEGIN{printf "%.4f\n", n / (s / t)}')
        fps[$c]="${fps[$c]:-} $f"
        cpufps[$c]="${cpufps[$c]:-} $g"
        say "round $r: $(printf '%-12s %7.2f fps wall (%.2f s)   %7.2f cpu fps (%.2f s of CPU)' "$c" "$f" "$wall" "$g" "$cpu")"
    done
done
say "# uptime after: $(uptime)"
say ""
say "case          median fps (wall)   median cpu fps   (all rounds, wall)"
for c in "${cases[@]}"; do
    # shellcheck disable=SC2086
    med=$(printf '%s\n' ${fps[$c]} | median)
    # shellcheck disable=SC2086
    cmed=$(printf '%s\n' ${cpufps[$c]} | median)
    # shellcheck disable=SC2086
    say "$(printf '%-12s %17.2f %16.2f   (%s)' "$c" "$med" "$cmed" "$(printf '%.2f ' ${fps[$c]})")"
done
if [ -n "$out" ]; then
    mkdir -p "$out"
    cp "$log" "$out/$(date +%Y-%m-%d)-ffmpeg-cpu-realtime.txt"
    echo "# wrote $out/$(date +%Y-%m-%d)-ffmpeg-cpu-realtime.txt"
fi
