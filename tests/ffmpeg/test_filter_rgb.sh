#!/usr/bin/env bash
# The espcn filter with models of RGB (CTest label ffmpeg), no PyPI needed:
# espcn-make-model's rgb-identity (each output plane its input plane
# replicated: a model with known output) and compact (animevideov3's shape,
# random weights). The real animevideov3 against ncnn is the `community`
# label's (tests/community/test_community.sh).
#   test_filter_rgb.sh FFMPEG FFPROBE ESPCN_MAKE_MODEL PYTHON_WITH_NUMPY
# 1. every pixel format a model of RGB takes: size, format, frame count;
#    NV12 converted by FFmpeg first.
# 2. gbrp, gbrp16, rgb24, bgr48 through the identity model: pixel
#    replication, exact (no YUV step; packed RGB through 16-bit planes).
# 3. the acceptance's round trip: 10-bit BT.2020 limited 4:2:0 through the
#    identity model within 1 code (Y' replicated, chroma the input's
#    interpolated with the chroma option: nearest and bicubic); colour tags
#    (matrix, range, primaries, transfer, chroma location) kept.
# 4. alpha (yuva420p, 8-bit BT.601 full): upscaled bicubic (espcn's
#    resampler, recomputed in numpy) within 1 code; tags kept.
# 5. untagged frames: one log line for the whole stream; a matrix libespcn
#    does not convert (FCC) and an x4 model at scale=2 fail with the reason.
set -uo pipefail
ffmpeg=$1 ffprobe=$2 make_model=$3 python=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../lib.sh"  # ok, fail, finish, ff
compare="$python $(dirname "$0")/compare_planes.py"

for r in 2 3; do "$make_model" --arch rgb-identity --scale $r -o "$work/id-x$r.safetensors" >/dev/null; done
"$make_model" --arch compact --scale 2 -o "$work/compact-x2.safetensors" >/dev/null
"$make_model" --arch compact --scale 4 -o "$work/compact-x4.safetensors" >/dev/null

# 1. Formats.
formats="yuv420p yuv422p yuv444p yuv420p10le yuv444p16le yuva420p yuva444p10le gbrp gbrp10le gbrp16le gbrap
         rgb24 bgr24 rgb48le bgr48le"
for fmt in $formats nv12; do
    for model in id-x3 compact-x2; do
        [ $model = compact-x2 ] && [ $fmt != yuv420p ] && [ $fmt != gbrp ] && continue
        r=${model##*x}
        log=$("$ffmpeg" -hide_banner -nostdin -loglevel info -f lavfi -i testsrc2=size=64x32:rate=10:duration=0.3 \
              -vf "crop=33:17:0:0:exact=1,format=$fmt,espcn=scale=$r:model=$work/$model.safetensors,showinfo" -f null - 2>&1)
        rc=$?
        n=$(grep -c "Parsed_showinfo.*n: *[0-9]" <<<"$log")
        sizes=$(grep -o "s:[0-9]*x[0-9]*" <<<"$log" | sort -u)
        fmts=$(grep -o "fmt:[a-z0-9]*" <<<"$log" | sort -u)
        want_fmt=$fmt; [ $fmt = nv12 ] && want_fmt=yuv420p  # interleaved chroma: FFmpeg converts
        if [ $rc -eq 0 ] && [ "$n" = 3 ] && [ "$sizes" = "s:$((33 * r))x$((17 * r))" ] && [ "$fmts" = "fmt:$want_fmt" ]; then ok
        else fail "format $fmt $model: rc=$rc frames=$n $sizes $fmts"; grep -i error <<<"$log" >&2; fi
    done
done

# 2. RGB without a matrix: exact replication.
for fmt in gbrp gbrp16le rgb24 bgr48le; do
    ff -f lavfi -i testsrc2=size=64x32:rate=10:duration=0.1 -vf crop=37:19:0:0:exact=1,format=$fmt -frames:v 1 \
       -f rawvideo "$work/in.raw"
    ff -f rawvideo -pixel_format $fmt -video_size 37x19 -i "$work/in.raw" \
       -vf "espcn=scale=2:model=$work/id-x2.safetensors" -f rawvideo "$work/out.raw"
    if $compare replicate "$work/in.raw" "$work/out.raw" $fmt 37 19 2 0 >"$work/cmp.txt"; then ok
    else fail "$fmt through the identity model is not exact replication: $(cat "$work/cmp.txt")"; fi
done

# 3. The round trip: 10-bit BT.2020 limited 4:2:0, smooth in-gamut colours
#    (written by compare_planes.py: the lean FFmpeg build has no gradients).
tags=(-colorspace bt2020nc -color_primaries bt2020 -color_trc smpte2084 -color_range tv)
$python "$(dirname "$0")/compare_planes.py" make yuv420p10le "$work/in10.raw" 66 38 bt2020 tv
for chroma in nearest bicubic; do
    ff "${tags[@]}" -f rawvideo -pixel_format yuv420p10le -video_size 66x38 -i "$work/in10.raw" \
       -vf "espcn=scale=2:chroma=$chroma:model=$work/id-x2.safetensors" -f rawvideo "$work/out10.raw"
    if $compare roundtrip "$work/in10.raw" "$work/out10.raw" yuv420p10le 66 38 2 $chroma 1 >"$work/cmp.txt"; then ok
        echo "round trip, chroma $chroma: $(tr '\n' ';' <"$work/cmp.txt")"
    else fail "10-bit BT.2020 limited round trip (chroma $chroma): $(cat "$work/cmp.txt")"; fi
done
log=$("$ffmpeg" -hide_banner -nostdin -loglevel info "${tags[@]}" -chroma_sample_location topleft -f rawvideo \
      -pixel_format yuv420p10le -video_size 66x38 -i "$work/in10.raw" \
      -vf "espcn=scale=2:model=$work/id-x2.safetensors,showinfo" -f null - 2>&1)
if grep -q "fmt:yuv420p10le cl:topleft .* s:132x76" <<<"$log" &&
   grep -q "color_range:tv color_space:bt2020nc color_primaries:bt2020 color_trc:smpte2084" <<<"$log"; then ok
else fail "colour tags of the output: $(grep Parsed_showinfo <<<"$log")"; fi

# 4. Alpha, 8-bit BT.601 full range.
tags601=(-colorspace bt470bg -color_range pc)
$python "$(dirname "$0")/compare_planes.py" make yuva420p "$work/inA.raw" 45 27 bt601 pc
ff "${tags601[@]}" -f rawvideo -pixel_format yuva420p -video_size 45x27 -i "$work/inA.raw" \
   -vf "espcn=scale=2:model=$work/compact-x2.safetensors" -f rawvideo "$work/outA.raw"
if $compare alpha "$work/inA.raw" "$work/outA.raw" yuva420p 45 27 2 1 >"$work/cmp.txt"; then ok
    echo "alpha: $(cat "$work/cmp.txt")"
else fail "alpha is not the bicubic upscale: $(cat "$work/cmp.txt")"; fi
log=$("$ffmpeg" -hide_banner -nostdin -loglevel info "${tags601[@]}" -f rawvideo -pixel_format yuva420p \
      -video_size 45x27 -i "$work/inA.raw" -vf "espcn=scale=2:model=$work/compact-x2.safetensors,showinfo" -f null - 2>&1)
if grep -q "fmt:yuva420p .* s:90x54" <<<"$log" && grep -q "color_range:pc color_space:bt470bg" <<<"$log"; then ok
else fail "alpha clip tags: $(grep Parsed_showinfo <<<"$log")"; fi

# 5. Untagged frames, refusals.
log=$("$ffmpeg" -hide_banner -nostdin -loglevel info -f lavfi -i testsrc2=size=64x32:rate=10:duration=0.5 \
      -vf "format=yuv420p,espcn=scale=2:model=$work/id-x2.safetensors" -f null - 2>&1)
if [ "$(grep -c "without a colour matrix tag: converted as BT.601" <<<"$log")" = 1 ]; then ok
else fail "untagged frames: not one log line: $(grep -i matrix <<<"$log")"; fi
log=$("$ffmpeg" -hide_banner -nostdin -loglevel error -colorspace fcc -f rawvideo -pixel_format yuv420p10le \
      -video_size 66x38 -i "$work/in10.raw" -vf "espcn=scale=2:model=$work/id-x2.safetensors" -f null - 2>&1)
if [ $? -ne 0 ] && grep -q "colour matrix fcc" <<<"$log"; then ok; else fail "FCC matrix not refused: $log"; fi
log=$("$ffmpeg" -hide_banner -nostdin -loglevel error -f lavfi -i testsrc2=size=64x32:rate=10:duration=0.2 \
      -vf "espcn=scale=2:model=$work/compact-x4.safetensors" -f null - 2>&1)
if [ $? -ne 0 ] && grep -q "upscales x4; set scale=4" <<<"$log"; then ok; else fail "x4 model at scale=2: $log"; fi

finish test_filter_rgb
