#!/usr/bin/env bash
# The espcn filter inside a patched ffmpeg, end to end (CTest label ffmpeg).
#   test_filter.sh FFMPEG FFPROBE ESPCN_CLI ESPCN_MAKE_MODEL [EXAMPLE]
# Models: the exact bicubic network and untrained ESPCN/FSRCNN from
# espcn-make-model (the shipped trained models are measured by
# test_filter_quality.sh); what is checked here is the plumbing: sizes, formats, frame counts, pts, bit-exactness against the
# engine, transcodes, reconfiguration and clean failures.
#
# Environment: ESPCN_FILTER_TEST_SECTIONS="7" runs only the sections listed
# (default: all; scripts/gpu_check.sh runs section 7 alone);
# ESPCN_GPU_REQUIRED=1 makes section 7's "no GPU here" a failure, not a note.
set -uo pipefail
ffmpeg=$1 ffprobe=$2 cli=$3 make_model=$4 example=${5:-}
sections=" ${ESPCN_FILTER_TEST_SECTIONS:-1 2 3 4 5 6 7} "
section() { [[ $sections == *" $1 "* ]]; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../lib.sh"  # ok, fail, finish, ff, run_signal_aware

for r in 2 3 4; do
    "$make_model" --arch bicubic --scale $r -o "$work/bicubic-x$r.safetensors" >/dev/null
    "$make_model" --arch espcn --scale $r -o "$work/espcn-x$r.safetensors" >/dev/null
done
"$make_model" --arch fsrcnn --scale 2 -o "$work/fsrcnn-x2.safetensors" >/dev/null
# A usable GPU (driver, device, cuDNN) or not: the engine's own answer.
if "$cli" -m "$work/espcn-x2.safetensors" --info --backend cuda >/dev/null 2>&1; then have_gpu=1; else have_gpu=0; fi

if section 1; then
# 1. Every pixel format x scale: output size and format, frame count, pts.
# (testsrc2 rounds sizes to even; crop makes them odd.)
formats="yuv420p yuv422p yuv444p gray nv12 yuv420p10le yuv422p10le yuv444p10le gray10le
         yuv420p12le gray12le yuv420p16le yuv444p16le gray16le p010le p016le"
for fmt in $formats; do
    for r in 2 3 4; do
        log=$("$ffmpeg" -hide_banner -nostdin -loglevel info -f lavfi -i testsrc2=size=64x32:rate=10:duration=0.5 \
              -vf "crop=33:17:0:0:exact=1,format=$fmt,espcn=scale=$r:model=$work/espcn-x$r.safetensors,showinfo" -f null - 2>&1)
        rc=$?
        n=$(grep -c "Parsed_showinfo.*n: *[0-9]" <<<"$log")
        sizes=$(grep -o "s:[0-9]*x[0-9]*" <<<"$log" | sort -u)
        fmts=$(grep -o "fmt:[a-z0-9]*" <<<"$log" | sort -u)
        pts=$(grep -o "pts: *[0-9]*" <<<"$log" | tr -d ' ' | tr '\n' ' ')
        if [ $rc -eq 0 ] && [ "$n" = 5 ] && [ "$sizes" = "s:$((33 * r))x$((17 * r))" ] &&
           [ "$fmts" = "fmt:$fmt" ] && [ "$pts" = "pts:0 pts:1 pts:2 pts:3 pts:4 " ]; then ok
        else fail "format $fmt x$r: rc=$rc frames=$n $sizes $fmts pts=[$pts]"; fi
    done
done
fi

if section 2; then
# 2. Filter output equals the engine CLI on the same frame (same backend: bit-exact).
#    backend=cpu is cpu-fast on x86 CPUs with AVX2 (espcn_backend_available), else onednn.
if grep -qw avx2 /proc/cpuinfo; then cpu_backend=cpu-fast; else cpu_backend=onednn; fi
for fmt in gray yuv420p; do
    for model in espcn-x3 fsrcnn-x2; do
        r=${model##*x}
        ff -f lavfi -i testsrc2=size=64x32:duration=0.1:rate=10 -vf crop=41:23:0:0:exact=1,format=$fmt -frames:v 1 -f rawvideo "$work/in.raw"
        head -c $((41 * 23)) "$work/in.raw" >"$work/in.y"
        "$cli" -m "$work/$model.safetensors" --backend $cpu_backend --raw-in 41x23 -i "$work/in.y" -o "$work/cli.y" >/dev/null
        ff -f rawvideo -pixel_format $fmt -video_size 41x23 -i "$work/in.raw" \
           -vf "espcn=scale=$r:backend=cpu:model=$work/$model.safetensors" -f rawvideo "$work/ff.raw"
        head -c $((41 * 23 * r * r)) "$work/ff.raw" >"$work/ff.y"
        if cmp -s "$work/cli.y" "$work/ff.y"; then ok; else fail "$fmt $model: filter luma differs from espcn-cli"; fi
    done
done
fi

if section 3; then
# 3. Odd and tiny sizes; an x264 -> espcn -> x264 transcode, checked with ffprobe.
for size in 321x241 2x2 1x1; do  # color: testsrc2 has a minimum size
    if ff -f lavfi -i color=c=orange:size=$size:duration=0.2:rate=10 -vf "format=yuv420p,espcn=model=$work/espcn-x2.safetensors" \
          -f null -; then ok; else fail "size $size"; fi
done
ff -f lavfi -i testsrc2=size=96x64:rate=25:duration=1 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$work/src.mp4"
if ff -i "$work/src.mp4" -vf "espcn=scale=2:model=$work/espcn-x2.safetensors" -c:v libx264 -preset ultrafast "$work/up.mp4"; then
    probe=$("$ffprobe" -v error -select_streams v:0 -count_frames \
            -show_entries stream=width,height,pix_fmt,nb_read_frames -of csv=p=0 "$work/up.mp4")
    if [ "$probe" = "192,128,yuv420p,25" ]; then ok; else fail "transcode probe: $probe"; fi
else fail "x264 -> espcn -> x264 transcode failed"; fi
fi

if section 4; then
# 4. A resolution change mid-stream: ffmpeg reconfigures the graph. (Annex B
#    H.264 written with the rawvideo muxer, which passes packets through.)
ff -f lavfi -i testsrc2=size=64x48:rate=10:duration=0.5 -c:v libx264 -preset ultrafast -f rawvideo "$work/a.264"
ff -f lavfi -i testsrc2=size=80x40:rate=10:duration=0.5 -c:v libx264 -preset ultrafast -f rawvideo "$work/b.264"
cat "$work/a.264" "$work/b.264" >"$work/ab.264"
sizes=$("$ffmpeg" -hide_banner -nostdin -loglevel info -f h264 -i "$work/ab.264" \
        -vf "espcn=model=$work/espcn-x2.safetensors,showinfo" -f null - 2>&1 | grep -o " s:[0-9x]*" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')
if [ "$sizes" = "5s:128x96 5s:160x80 " ]; then ok; else fail "resolution change: [$sizes]"; fi
fi

# 5. Bad options and inputs fail at init with a message and an error exit, never a signal.
printf 'garbage, not a model' >"$work/garbage.safetensors"
# ffmpeg exits with AVERROR codes & 0xff, which can exceed 128, so a signal is
# told apart by Python's subprocess (negative return code), not by bash's $?.
expect_failure() {  # description, expected message fragment, filter string [ffmpeg options before -i]
    local out rc
    out=$(run_signal_aware "$ffmpeg" -hide_banner ${4:-} -f lavfi -i testsrc2=size=${5:-32x32}:duration=0.1 -vf "$3" -f null -)
    rc=$(tail -n 1 <<<"$out" | sed 's/^rc=//')
    if [ "$rc" -gt 0 ] && grep -q -- "$2" <<<"$out"; then ok
    else fail "$1: rc=$rc, message '$2' not found in: $(tail -n 3 <<<"$out")"; fi
}
if section 5; then
expect_failure "scale out of range" "scale" "espcn=scale=5:model=$work/espcn-x2.safetensors"
expect_failure "missing model" "cannot open model file" "espcn=model=$work/nope.safetensors"
expect_failure "malformed model" "header length" "espcn=model=$work/garbage.safetensors"
expect_failure "scale mismatch" "upscales x3" "espcn=scale=2:model=$work/espcn-x3.safetensors"
if [ $have_gpu -eq 0 ]; then
    expect_failure "cuda unavailable" "CUDA backend is not available" "espcn=backend=cuda:model=$work/espcn-x2.safetensors"
    # backend=auto runs on the CPU with exactly one warning that says why.
    out=$("$ffmpeg" -hide_banner -nostdin -loglevel warning -f lavfi -i testsrc2=size=32x32:rate=10:duration=0.5 \
          -vf "espcn=model=$work/espcn-x2.safetensors" -f null - 2>&1)
    if [ "$(grep -c 'GPU not used (.*); running on the CPU' <<<"$out")" = 1 ]; then ok
    else fail "backend=auto without a GPU: expected one 'GPU not used' warning, got: $out"; fi
fi
expect_failure "fp16 on the cpu" "fp16 needs the cuda backend" "espcn=backend=cpu:precision=fp16:model=$work/espcn-x2.safetensors"
expect_failure "unknown precision" "precision" "espcn=precision=fp8:model=$work/espcn-x2.safetensors"
expect_failure "unknown option" "colour" "espcn=colour=red"
fi

# 6. The embedding example: decode -> espcn -> encode through libavfilter's API.
if [ -n "$example" ] && section 6; then
    if "$example" "$work/src.mp4" "$work/example.mkv" "espcn=scale=2:model=$work/espcn-x2.safetensors,format=yuv420p" libx264 &&
       [ "$("$ffprobe" -v error -select_streams v:0 -count_frames -show_entries stream=width,height,nb_read_frames -of csv=p=0 "$work/example.mkv")" = "192,128,25" ]; then ok
    else fail "espcn_transcode example"; fi
fi

# 7. CUDA frames (FFmpeg built with ffnvcodec): hwupload_cuda -> espcn ->
#    hwdownload equals the host-frame path on the same GPU, bit for bit, for
#    each software format the filter takes. Even sizes: FFmpeg's CUDA frame
#    copies move h >> 1 chroma rows, so an odd height leaves a chroma row
#    undefined (the filter refuses it, checked below). Both processes choose
#    cuDNN's algorithms by the heuristic (ESPCN_CUDNN_SEARCH=heuristic), so
#    they run the same ones: benchmarking separately, they might pick
#    different algorithms whose fp16 sums differ in the last bit. Needs a GPU;
#    says so otherwise (a failure with ESPCN_GPU_REQUIRED=1).
if section 7; then
    no_cuda_frames=''
    if ! "$ffmpeg" -hide_banner -filters 2>/dev/null | grep -cw hwupload_cuda >/dev/null; then
        no_cuda_frames="this ffmpeg has no hwupload_cuda (built without ffnvcodec)"
    elif [ $have_gpu -eq 0 ]; then
        no_cuda_frames="no usable GPU here"
    fi
    if [ -n "$no_cuda_frames" ]; then
        if [ "${ESPCN_GPU_REQUIRED:-0}" = 1 ]; then fail "CUDA frames not checked: $no_cuda_frames (ESPCN_GPU_REQUIRED=1)"
        else echo "test_filter: CUDA frames not checked: $no_cuda_frames"; fi
    else
        export ESPCN_CUDNN_SEARCH=heuristic
        m="model=$work/espcn-x2.safetensors"
        hw=(-init_hw_device cuda=gpu -filter_hw_device gpu)
        for fmt in nv12 yuv420p p010le yuv444p; do
            src=(-f lavfi -i testsrc2=size=96x60:rate=10:duration=0.5)
            ff "${src[@]}" -vf "format=$fmt,espcn=backend=cuda:$m" -f rawvideo "$work/host.$fmt" &&
            ff "${hw[@]}" "${src[@]}" \
               -vf "format=$fmt,hwupload_cuda,espcn=$m,hwdownload,format=$fmt" -f rawvideo "$work/dev.$fmt"
            if [ -s "$work/host.$fmt" ] && cmp -s "$work/host.$fmt" "$work/dev.$fmt"; then ok
            else fail "CUDA frames ($fmt): hwupload_cuda,espcn differs from the host-frame path"; fi
        done
        # Refusals on CUDA frames: a clear error, never a signal or an
        # assertion (each also runs the filter's teardown after a failed start).
        expect_failure "CUDA frames, odd height" "need an even height" \
            "crop=96:59:0:0:exact=1,format=nv12,hwupload_cuda,espcn=$m" "${hw[*]}" 96x60
        expect_failure "CUDA frames, backend=cpu" "backend=cpu cannot take CUDA frames" \
            "format=nv12,hwupload_cuda,espcn=backend=cpu:$m" "${hw[*]}" 96x60
        expect_failure "CUDA frames, scale mismatch" "upscales x3" \
            "format=nv12,hwupload_cuda,espcn=scale=2:model=$work/espcn-x3.safetensors" "${hw[*]}" 96x60
    fi
fi

finish test_filter
