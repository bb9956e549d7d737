#!/usr/bin/env bash
# Installs what is missing, builds libespcn, its tools and a patched FFmpeg,
# upscales a clip with `ffmpeg -vf espcn=scale=2` (the shipped default x2
# model, weights/DEFAULTS), prints fps and PSNR beside bicubic, and writes the
# result and a labelled side-by-side PNG (bicubic · espcn · original, with a
# zoomed crop) under out/demo/.
#
#   scripts/demo.sh [--scene auto|set14|generated] [--picture FILE]
#
# --scene    the original the clip is made of: set14 (crops of Set14 from
#            ../shared/data/sr, read in place), generated (a scene drawn by
#            scripts/lib/synthetic_scene.py), auto (default): set14 when the
#            shared data is there, else generated.
# --picture  where the side-by-side PNG goes (default out/demo/side-by-side.png).
#            The README's picture is made with generated pixels only (no
#            third-party data is committed; docs/images/README.md):
#              scripts/demo.sh --scene generated --picture docs/images/demo-side-by-side.png
#
# ESPCN_FFMPEG_SERIES=5.1|7.1|8.1|9.0 picks the FFmpeg series (7.1).
set -euo pipefail
caller_pwd=$PWD
cd "$(dirname "$0")/.."
scene=auto picture=''
while [ $# -gt 0 ]; do
    case $1 in
        --scene) [ $# -ge 2 ] || { echo "demo.sh: --scene needs a value" >&2; exit 2; }; scene=$2; shift 2 ;;
        --picture) [ $# -ge 2 ] || { echo "demo.sh: --picture needs a value" >&2; exit 2; }
                   case $2 in /*) picture=$2 ;; *) picture=$caller_pwd/$2 ;; esac; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $scene in auto|set14|generated) ;; *) echo "demo.sh: --scene must be auto, set14 or generated" >&2; exit 2 ;; esac
source scripts/lib/deps.sh
espcn_install_deps
jobs=$(espcn_jobs)
out=out/demo
series=${ESPCN_FFMPEG_SERIES:-7.1}
mkdir -p "$out"
picture=${picture:-$out/side-by-side.png}

# build_ffmpeg.sh builds libespcn (build/release) and installs it, models
# included, into build/espcn-prefix, which the patched ffmpeg links.
scripts/build_ffmpeg.sh --series "$series" --jobs "$jobs"
ffmpeg=build/ffmpeg-$series/ffmpeg
# With no model= the filter loads default-x2.safetensors from share/espcn/models
# next to the libespcn that ffmpeg loaded (build/espcn-prefix): nothing to set.
unset ESPCN_MODEL_DIR
models=build/espcn-prefix/share/espcn/models
[ -f "$models/default-x2.safetensors" ] || { echo "demo: no default x2 model in $models" >&2; exit 1; }

# The original, 1280x720 at native resolution (an upscaled picture would be a
# soft "ground truth" that punishes any sharpening): a mosaic of four 640x360
# crops of Set14's two largest pictures, barbara and monarch (read in place,
# never copied into the repo), or a generated scene of the same layout (text,
# a Siemens star and curves, a flat-colour landscape, lines, checkers and
# gradients; drawn anti-aliased at 4x and box-reduced). 50 frames of it, then
# bicubic-downscaled to 640x360.
b=../shared/data/sr/Set14/barbara.png m=../shared/data/sr/Set14/monarch.png
ff() { "$ffmpeg" -hide_banner -nostdin -y -loglevel error "$@"; }
if [ "$scene" = auto ]; then
    if [ -f "$b" ] && [ -f "$m" ]; then scene=set14; else scene=generated; fi
fi
if [ "$scene" = set14 ]; then
    if [ ! -f "$b" ] || [ ! -f "$m" ]; then echo "demo: --scene set14 needs $b and $m" >&2; exit 1; fi
    what="Set14 barbara + monarch crops"
    ff -loop 1 -framerate 25 -i "$b" -loop 1 -framerate 25 -i "$m" -filter_complex \
       "[0:v]format=rgb24,split[b0][b1];[1:v]format=rgb24,split[m0][m1];
        [b0]crop=640:360:0:0[c0];[m0]crop=640:360:128:0[c1];[b1]crop=640:360:80:216[c2];[m1]crop=640:360:0:152[c3];
        [c0][c1]hstack[top];[c2][c3]hstack[bottom];[top][bottom]vstack,format=yuv420p" \
       -frames:v 50 -c:v rawvideo -f yuv4mpegpipe "$out/original-1280x720.y4m"
else
    what="generated scene (scripts/lib/synthetic_scene.py)"
    /usr/bin/python3 scripts/lib/synthetic_scene.py demo --size 1280x720 -o "$out/scene-1280x720.png" >/dev/null
    ff -loop 1 -framerate 25 -i "$out/scene-1280x720.png" -vf format=yuv420p -frames:v 50 -c:v rawvideo \
       -f yuv4mpegpipe "$out/original-1280x720.y4m"
    rm -f "$out/scene-1280x720.png"
fi
ff -i "$out/original-1280x720.y4m" -vf scale=640:360:flags=bicubic -c:v rawvideo -f yuv4mpegpipe "$out/input-640x360.y4m"

timed() {  # label, then an ffmpeg command line (after "ffmpeg")
    local label=$1 start end; shift
    start=$(date +%s.%N); ff "$@"; end=$(date +%s.%N)
    python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); print('   %s: 50 frames in %.2f s = %.1f fps (640x360 -> 1280x720, %s cores)' % (sys.argv[3], t, 50/t, sys.argv[4]))" \
        "$start" "$end" "$label" "$jobs"
}
psnr_y() {  # PSNR of Y against the original, over the 50 frames
    "$ffmpeg" -hide_banner -nostdin -loglevel info -i "$1" -i "$out/original-1280x720.y4m" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 |
        sed -n 's/.*PSNR y:\([0-9.inf]*\).*/\1/p' | tail -n 1
}
model_name=$(sed -n 's/^x2  *//p' weights/DEFAULTS)
echo "== $what: ffmpeg -i input-640x360.y4m -vf espcn=scale=2 (default x2 model: $model_name)"
timed "decode + espcn + x264" -i "$out/input-640x360.y4m" -vf "espcn=scale=2" \
    -c:v libx264 -preset veryfast -crf 16 "$out/espcn-x2.mp4"
timed "decode + espcn (lossless y4m out)" -i "$out/input-640x360.y4m" -vf "espcn=scale=2" -f yuv4mpegpipe "$out/espcn-x2.y4m"
timed "decode + scale=flags=bicubic (lossless y4m out)" -i "$out/input-640x360.y4m" -vf "scale=1280:720:flags=bicubic" \
    -f yuv4mpegpipe "$out/bicubic-x2.y4m"
echo "   PSNR(Y) against the original: espcn $(psnr_y "$out/espcn-x2.y4m") dB, bicubic $(psnr_y "$out/bicubic-x2.y4m") dB"

# Side by side: bicubic · espcn · original, first frame, labelled with PSNR(Y),
# with an enlarged crop where espcn and bicubic differ most (matplotlib).
ff -i "$out/input-640x360.y4m" -i "$out/original-1280x720.y4m" -filter_complex \
   "[0:v]split[a][b];[a]scale=1280:720:flags=bicubic,format=rgb24[bic];[b]espcn=scale=2,format=rgb24[sr];[1:v]format=rgb24[orig]" \
   -map "[bic]" -frames:v 1 "$out/frame-bicubic.png" -map "[sr]" -frames:v 1 "$out/frame-espcn.png" \
   -map "[orig]" -frames:v 1 "$out/frame-original.png"
/usr/bin/python3 scripts/lib/side_by_side.py "$out/frame-bicubic.png" "$out/frame-espcn.png" \
    "$out/frame-original.png" -o "$picture" --espcn-label "espcn ($model_name)" >/dev/null
rm -f "$out/espcn-x2.y4m" "$out/bicubic-x2.y4m" "$out"/frame-{bicubic,espcn,original}.png
echo "== wrote $out/espcn-x2.mp4 and $picture (bicubic · espcn · original, zoomed crop)"
echo "== your own video: $ffmpeg -i my.mp4 -vf espcn=scale=2 out.mp4"
echo "   (or scripts/install.sh [--prefix DIR] to put ffmpeg with espcn on PATH)"
