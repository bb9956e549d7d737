#!/usr/bin/env bash
# Installs what is missing, builds libespcn, its tools and a patched FFmpeg,
# upscales a clip with `ffmpeg -vf espcn`, prints fps and writes the result and
# a side-by-side PNG (bicubic | espcn | original) under out/demo/.
#
# The model: weights/espcn-x2.safetensors once trained weights are shipped
# (issue #5). Until then a stand-in is used and said so: "bicubic-x2", an
# exact bicubic upscaler written as one LR conv + periodic shuffle, so the
# picture goes through the real engine and filter but looks like bicubic. The
# paper's ESPCN architecture with untrained weights gives the speed figure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
espcn_install_deps
jobs=$(espcn_jobs)
build=build/release
out=out/demo
series=${ESPCN_FFMPEG_SERIES:-7.1}
mkdir -p "$out"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target espcn espcn-cli espcn-make-model
scripts/build_ffmpeg.sh --series "$series" --jobs "$jobs"
ffmpeg=build/ffmpeg-$series/ffmpeg
make_model=$build/kernels/cli/espcn-make-model

if [ -f weights/espcn-x2.safetensors ]; then
    model=weights/espcn-x2.safetensors; label="trained ESPCN x2"
else
    model=$out/bicubic-x2.safetensors; label="STAND-IN: bicubic as an ESPCN layer (no trained weights yet)"
    "$make_model" --arch bicubic --scale 2 -o "$model" >/dev/null
fi
"$make_model" --arch espcn --scale 2 --seed 1 -o "$out/espcn-x2-untrained.safetensors" >/dev/null

# The original: a Set14 picture when the shared data sits beside the checkout
# (read in place, never copied into the repo), else a synthetic test pattern;
# 50 frames of 1280x720 panning over it, then bicubic-downscaled to 640x360.
src=../shared/data/sr/Set14/zebra.png
if [ -f "$src" ]; then
    hr_filter="scale=1280:720:flags=lanczos,format=yuv420p"
    input=(-loop 1 -framerate 25 -i "$src")
else
    hr_filter="format=yuv420p"
    input=(-f lavfi -i testsrc2=size=1280x720:rate=25)
fi
ff() { "$ffmpeg" -hide_banner -nostdin -y -loglevel error "$@"; }
ff "${input[@]}" -frames:v 50 -vf "$hr_filter" -c:v rawvideo -f yuv4mpegpipe "$out/original-1280x720.y4m"
ff -i "$out/original-1280x720.y4m" -vf scale=640:360:flags=bicubic -c:v rawvideo -f yuv4mpegpipe "$out/input-640x360.y4m"

timed() {  # label, then an ffmpeg command line (after "ffmpeg")
    local what=$1 start end; shift
    start=$(date +%s.%N); ff "$@"; end=$(date +%s.%N)
    python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); print('   %s: 50 frames in %.2f s = %.1f fps (640x360 -> 1280x720, %s cores)' % (sys.argv[3], t, 50/t, sys.argv[4]))" \
        "$start" "$end" "$what" "$jobs"
}
echo "== ffmpeg -vf espcn=scale=2, 50 frames"
timed "$label, decode + espcn + x264" -i "$out/input-640x360.y4m" -vf "espcn=scale=2:model=$model" \
    -c:v libx264 -preset veryfast -crf 16 "$out/espcn-x2.mp4"
timed "paper's ESPCN x2 architecture, untrained (speed only), decode + espcn" \
    -i "$out/input-640x360.y4m" -vf "espcn=scale=2:model=$out/espcn-x2-untrained.safetensors" -f null -

# Side by side: bicubic | espcn | original, first frame.
ff -i "$out/input-640x360.y4m" -i "$out/original-1280x720.y4m" -filter_complex \
   "[0:v]split[a][b];[a]scale=1280:720:flags=bicubic[bic];[b]espcn=scale=2:model=$model[sr];[bic][sr][1:v]hstack=inputs=3,format=rgb24" \
   -frames:v 1 "$out/side-by-side.png"
echo "== wrote $out/espcn-x2.mp4 and $out/side-by-side.png (bicubic | espcn | original)"
