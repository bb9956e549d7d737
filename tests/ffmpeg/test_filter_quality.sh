#!/usr/bin/env bash
# The filter with the shipped models, measured with the SR protocol:
#   - `-vf espcn=scale=R` with no model= loads default-x<R>.safetensors from the
#     installed model folder (ESPCN_MODEL_DIR=<prefix>/share/espcn/models), a
#     copy of the model weights/DEFAULTS names for R;
#   - on generated content (FFmpeg's testsrc/testsrc2 test patterns -- digits,
#     colour bars, gradients, circles -- also rotated) downscaled with MATLAB
#     bicubic, the filter's PSNR(Y) beats bicubic by MARGIN_DB[R] on average
#     and on every image (scripts/eval_ffmpeg.sh: espcn-eval scores ffmpeg's
#     output);
#   - the filter's output scores exactly as the library's (espcn-eval -m, same
#     model): the filter adds nothing and loses nothing;
#   - with ESPCN_MODEL_DIR unset, the filter finds the models by itself (next
#     to the libespcn that ffmpeg loaded: <prefix>/lib/../share/espcn/models);
#   - content=video loads default-video-x<R>.safetensors, the copy of the model
#     weights/DEFAULTS names for video-x<R>, and runs exactly that model;
#   - with no shipped model where the filter looks, it fails with a clear error.
#
#   test_filter_quality.sh FFMPEG ESPCN_EVAL ESPCN_PREFIX REPO_ROOT
set -uo pipefail
ffmpeg=$1 eval_bin=$2 prefix=$3 root=$4
models=$prefix/share/espcn/models
# Stated margins: mean gain (dB) over bicubic on this set, below what the shipped
# defaults measure here (README, "Filter quality on generated content").
declare -A MARGIN_DB=([2]=1.5 [3]=1.0 [4]=0.7)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../lib.sh"  # ok, fail, finish, ff, run_signal_aware

[ -d "$models" ] || { echo "FAIL: no installed model folder $models"; exit 1; }
mkdir -p "$work/Gen"
ff -f lavfi -i testsrc=size=384x288:rate=1 -frames:v 1 "$work/Gen/testsrc.png" &&
ff -f lavfi -i testsrc2=size=384x288:rate=25 -vf "trim=start_frame=37" -frames:v 1 "$work/Gen/testsrc2.png" &&
ff -f lavfi -i testsrc2=size=512x384:rate=25 -vf "trim=start_frame=80,rotate=0.35:ow=384:oh=288,format=rgb24" -frames:v 1 "$work/Gen/rotated.png" &&
ff -f lavfi -i testsrc=size=256x192:rate=1 -vf "scale=384:288:flags=lanczos,rotate=-0.2:fillcolor=white,format=rgb24" -frames:v 1 "$work/Gen/testsrc_soft.png" ||
    { echo "FAIL: could not generate the test images"; exit 1; }

for r in 2 3 4; do
    # The filter, default model.
    if ESPCN_MODEL_DIR=$models bash "$root/scripts/eval_ffmpeg.sh" --ffmpeg "$ffmpeg" --eval "$eval_bin" \
            --scale "$r" --filter-args threads=2 --csv "$work/filter-x$r.csv" "$work/Gen" >"$work/filter-x$r.txt" 2>&1; then
        ok
    else
        fail "x$r: scripts/eval_ffmpeg.sh failed: $(tail -n 3 "$work/filter-x$r.txt")"; continue
    fi
    # The installed default is the model weights/DEFAULTS names, byte for byte.
    named=$(sed -n "s/^x$r  *//p" "$root/weights/DEFAULTS")
    if [ -n "$named" ] && cmp -s "$models/default-x$r.safetensors" "$models/$named"; then ok
    else fail "x$r: $models/default-x$r.safetensors is not the installed copy of '$named' (weights/DEFAULTS)"; fi
    # The library, same model file.
    "$eval_bin" -m "$models/default-x$r.safetensors" --threads 2 --csv "$work/lib-x$r.csv" "$work/Gen" >/dev/null 2>&1 ||
        { fail "x$r: espcn-eval on the library failed"; continue; }
    sed 's/^/    /' "$work/filter-x$r.txt"
    # columns: dataset,image,hr_width,hr_height,scale,method,psnr_y,ssim_y,bicubic_psnr_y,bicubic_ssim_y
    if diff <(cut -d, -f1-5,7- "$work/filter-x$r.csv") <(cut -d, -f1-5,7- "$work/lib-x$r.csv") >/dev/null; then ok
    else fail "x$r: the filter's scores differ from the library's: $(diff <(cut -d, -f7 "$work/filter-x$r.csv") <(cut -d, -f7 "$work/lib-x$r.csv") | head -n 4 | tr '\n' ' ')"; fi
    verdict=$(awk -F, -v m="${MARGIN_DB[$r]}" 'NR > 1 {
                  g = $7 - $9
                  if ($2 == "mean") { mean = g } else if (g <= 0) { worst = worst " " $2 "(" g ")" } }
              END { if (mean < m) print "mean gain " mean " dB < " m; else if (worst != "") print "worse than bicubic:" worst; else print "ok " mean }' \
              "$work/filter-x$r.csv")
    if [[ $verdict == ok* ]]; then
        ok; echo "x$r: filter (default model) beats bicubic by ${verdict#ok } dB on average (margin ${MARGIN_DB[$r]} dB), on every image"
    else
        fail "x$r: $verdict"
    fi
done

# No ESPCN_MODEL_DIR: what a user's shell has after the build. The default
# model must be found next to the libespcn ffmpeg loaded, and equal the one
# ESPCN_MODEL_DIR names.
for r in 2 3 4; do
    a=$(env -u ESPCN_MODEL_DIR "$ffmpeg" -hide_banner -nostdin -loglevel error -f lavfi -i testsrc=size=48x32 \
        -frames:v 2 -vf espcn=scale=$r -f framemd5 - 2>&1 | grep -v '^#')
    b=$(ESPCN_MODEL_DIR=$models "$ffmpeg" -hide_banner -nostdin -loglevel error -f lavfi -i testsrc=size=48x32 \
        -frames:v 2 -vf espcn=scale=$r -f framemd5 - 2>&1 | grep -v '^#')
    if [ -n "$a" ] && [ "$a" = "$b" ] && ! grep -qi error <<<"$a"; then ok
    else fail "x$r without ESPCN_MODEL_DIR: '$a' vs with it: '$b'"; fi
done

# content=video (issue #23): loads default-video-x<r>.safetensors, the installed
# copy of the model weights/DEFAULTS names for video-x<r>, and runs exactly it.
for r in 2 3 4; do
    named=$(sed -n "s/^video-x$r  *//p" "$root/weights/DEFAULTS")
    if [ -n "$named" ] && cmp -s "$models/default-video-x$r.safetensors" "$models/$named"; then ok
    else fail "x$r: $models/default-video-x$r.safetensors is not the installed copy of '$named' (weights/DEFAULTS)"; fi
    a=$(ESPCN_MODEL_DIR=$models "$ffmpeg" -hide_banner -nostdin -loglevel error -f lavfi -i testsrc=size=48x32 \
        -frames:v 2 -vf espcn=scale=$r:content=video -f framemd5 - 2>&1 | grep -v '^#')
    b=$(ESPCN_MODEL_DIR=$models "$ffmpeg" -hide_banner -nostdin -loglevel error -f lavfi -i testsrc=size=48x32 \
        -frames:v 2 -vf "espcn=scale=$r:model=$models/$named" -f framemd5 - 2>&1 | grep -v '^#')
    c=$(ESPCN_MODEL_DIR=$models "$ffmpeg" -hide_banner -nostdin -loglevel error -f lavfi -i testsrc=size=48x32 \
        -frames:v 2 -vf espcn=scale=$r -f framemd5 - 2>&1 | grep -v '^#')
    if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ] && ! grep -qi error <<<"$a"; then ok
    else fail "x$r content=video: '$a' vs model=$named: '$b' (clean default: '$c')"; fi
done

# No shipped model where the filter looks: a clear error at init and an error
# exit, not a signal.
out=$(ESPCN_MODEL_DIR=$work/empty run_signal_aware \
      "$ffmpeg" -hide_banner -loglevel error -f lavfi -i testsrc=size=64x48 -frames:v 1 -vf espcn=scale=3 -f null -)
rc=$(tail -n 1 <<<"$out" | sed 's/^rc=//')
if [ "$rc" -gt 0 ] && grep -q "no shipped x3 model" <<<"$out"; then ok
else fail "missing default model: rc=$rc, output: $out"; fi
out=$(ESPCN_MODEL_DIR=$work/empty run_signal_aware \
      "$ffmpeg" -hide_banner -loglevel error -f lavfi -i testsrc=size=64x48 -frames:v 1 -vf espcn=scale=2:content=video -f null -)
rc=$(tail -n 1 <<<"$out" | sed 's/^rc=//')
if [ "$rc" -gt 0 ] && grep -q "no shipped x2 model for content=video" <<<"$out"; then ok
else fail "missing video model: rc=$rc, output: $out"; fi

finish test_filter_quality
