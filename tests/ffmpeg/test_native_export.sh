#!/usr/bin/env bash
# weights/export_ffmpeg_native.py against FFmpeg's own `sr` filter (native DNN
# backend, FFmpeg <= 6.1; Debian 12's /usr/bin/ffmpeg is 5.1).
#   test_native_export.sh [ESPCN_CLI] [ESPCN_MAKE_MODEL]
# (defaults: build/release/bin/espcn-cli and espcn-make-model of this checkout;
#  the ffmpeg used is $NATIVE_FFMPEG, default /usr/bin/ffmpeg)
#
# For each model: export it, run `sr=dnn_backend=native` on a gray testsrc2
# frame, run `espcn-cli --backend reference` on the same frame, and compare the
# 8-bit outputs sample by sample, separately in the interior (HR pixels whose
# receptive field does not reach the zero padding) and in the border band.
# Both compute the same network in floating point (FFmpeg in float32 with its
# own summation order and lrintf rounding, our reference in double with round
# half up), so a sample next to a rounding boundary may differ by one code
# value: the bar is max |diff| <= 1 everywhere and < 0.5% of samples differing.
# Anything larger is an exporter bug (kernel order, padding, shuffle order...).
#
# Skips (exit 0, "0 passed, 0 failed, 1 skipped") when that ffmpeg has no sr filter.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cli=${1:-$root/build/release/bin/espcn-cli}
make_model=${2:-$root/build/release/bin/espcn-make-model}
ffmpeg=${NATIVE_FFMPEG:-/usr/bin/ffmpeg}
exporter=$root/weights/export_ffmpeg_native.py

skip() { echo "test_native_export: SKIP: $*"; echo "test_native_export: 0 passed, 0 failed, 1 skipped"; exit 0; }
[ -x "$ffmpeg" ] || skip "$ffmpeg not found (Debian 12: apt-get install ffmpeg)"
grep -qE '^ *[.A-Z|]+ +sr +' <<<"$("$ffmpeg" -hide_banner -filters 2>/dev/null || true)" ||
    skip "$ffmpeg has no sr filter (the native DNN backend exists in FFmpeg 4.2 to 6.1 only)"
grep -qE '^ +native +0 ' <<<"$("$ffmpeg" -hide_banner -h filter=sr 2>/dev/null || true)" ||
    skip "$ffmpeg's sr filter has no native DNN backend (removed in FFmpeg 7.0)"
for tool in "$cli" "$make_model"; do
    [ -x "$tool" ] || { echo "test_native_export: $tool not built" >&2; echo "test_native_export: 0 passed, 1 failed"; exit 1; }
done
command -v python3 >/dev/null || skip "no python3"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../lib.sh"  # ok, fail, finish, ff, run_signal_aware
echo "test_native_export: $("$ffmpeg" -hide_banner -version | head -n 1)"

# Models from espcn-make-model (untrained ESPCN and FSRCNN, exact bicubic) ...
"$make_model" --arch espcn --scale 2 -o "$work/espcn-x2.safetensors" >/dev/null
"$make_model" --arch espcn --scale 3 -o "$work/espcn-x3.safetensors" >/dev/null
"$make_model" --arch espcn --scale 4 --order dcr --f16 -o "$work/espcn-x4-dcr-f16.safetensors" >/dev/null
"$make_model" --arch fsrcnn --scale 2 -o "$work/fsrcnn-x2.safetensors" >/dev/null
"$make_model" --arch bicubic --scale 3 -o "$work/bicubic-x3.safetensors" >/dev/null
# ... and from weights/espcn_format.py: what make-model does not write (per-channel
# PReLU, relu, sigmoid after the shuffle, identity, a range other than [0, 1],
# a bias-free conv, a deconv with a per-channel PReLU before it), plus two that
# must be refused.
PYTHONPATH="$root/weights" python3 - "$work" <<'EOF' || fail "writing the Python test models"
import random, sys
from espcn_format import ModelWriter, Tensor
work = sys.argv[1]
rng = random.Random(7)
def t(shape, scale, offset=0.0, dtype="F32"):
    n = 1
    for d in shape: n *= d
    return Tensor(shape, [offset + rng.uniform(-scale, scale) for _ in range(n)], dtype)

m = ModelWriter("mixed-x2", 2, value_range=(-1.0, 1.0))
m.conv("c1", t([8, 1, 3, 3], 0.6), t([8], 0.1)); m.prelu("p1", t([8], 0.3, 0.2))
m.conv("c2", t([6, 8, 5, 5], 0.15), None); m.activation("relu")
m.conv("c3", t([5, 6, 1, 1], 0.5), t([5], 0.1)); m.activation("identity")
m.conv("c4", t([4, 5, 3, 3], 0.3), t([4], 0.1)); m.pixel_shuffle("crd"); m.activation("sigmoid")
m.save(f"{work}/mixed-x2.safetensors")

m = ModelWriter("deconv-x3", 3)
m.conv("c1", t([6, 1, 3, 3], 0.6), t([6], 0.1)); m.prelu("p1", t([6], 0.3, 0.1))
m.deconv("d", t([6, 1, 7, 7], 0.15, 0.05, "F16"), t([1], 0.05), stride=3, padding=2, output_padding=0)
m.prelu("p2", Tensor([1], [0.5]))
m.save(f"{work}/deconv-x3.safetensors")

m = ModelWriter("scale1", 1)
m.conv("c1", t([1, 1, 3, 3], 0.3), None); m.pixel_shuffle()
m.save(f"{work}/bad-scale1.safetensors")
m = ModelWriter("ends-rgb", 2)
m.conv("c1", t([12, 1, 3, 3], 0.3), None); m.pixel_shuffle()
m.save(f"{work}/bad-3ch.safetensors")
EOF

# compare SR CLI W H R RADIUS NAME: prints the numbers, returns 1 on failure
compare() {
    python3 - "$@" <<'EOF'
import sys
a, b, w, h, r, radius, name = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7]), sys.argv[7]
A, B = open(a, "rb").read(), open(b, "rb").read()
W, H = w * r, h * r
if len(A) != W * H or len(B) != W * H:
    print(f"  {name}: sizes {len(A)} / {len(B)} bytes, expected {W * H}"); sys.exit(1)
band = radius * r  # HR pixels whose LR receptive field reaches the padding
inner, border = [0, 0, 0], [0, 0, 0]  # max, count differing, count
for y in range(H):
    row = y * W
    for x in range(W):
        d = abs(A[row + x] - B[row + x])
        s = inner if band <= y < H - band and band <= x < W - band else border
        s[0] = max(s[0], d); s[1] += d != 0; s[2] += 1
frac = (inner[1] + border[1]) / (W * H)
print(f"  {name}: {w}x{h} -> {W}x{H}: interior max|diff| {inner[0]} ({inner[1]}/{inner[2]} differ), "
      f"border ({band} px) max|diff| {border[0]} ({border[1]}/{border[2]} differ); output spread "
      f"{min(B)}..{max(B)}")
sys.exit(0 if max(inner[0], border[0]) <= 1 and frac < 0.005 else 1)
EOF
}

# check MODEL W H [PIXFMT]: the native sr output equals the engine's on one frame
check() {
    local model=$1 w=$2 h=$3 fmt=${4:-gray} name r radius
    name=$(basename "$model" .safetensors)
    r=$("$cli" -m "$model" --info 2>/dev/null | sed -n 's/^scale: *x\([0-9]*\)/\1/p')
    radius=$("$cli" -m "$model" --info 2>/dev/null | sed -n 's/^receptive radius: *\([0-9]*\).*/\1/p')
    if ! python3 "$exporter" -q "$model" "$work/$name.model"; then fail "$name: export failed"; return; fi
    ff -f lavfi -i "testsrc2=size=${w}x${h}:rate=1" -vf "format=$fmt" -frames:v 1 -f rawvideo "$work/in.raw"
    head -c $((w * h)) "$work/in.raw" >"$work/in.y"
    if ! ff -f rawvideo -pixel_format "$fmt" -video_size "${w}x${h}" -i "$work/in.raw" \
            -vf "sr=dnn_backend=native:model=$work/$name.model" -f rawvideo "$work/sr.raw"; then
        fail "$name: ffmpeg sr refused the exported model"; return
    fi
    head -c $((w * h * r * r)) "$work/sr.raw" >"$work/sr.y"
    if ! "$cli" -m "$model" --backend reference --raw-in "${w}x${h}" -i "$work/in.y" -o "$work/cli.y" >/dev/null; then
        fail "$name: espcn-cli failed"; return
    fi
    if compare "$work/sr.y" "$work/cli.y" "$w" "$h" "$r" "$radius" "$name ($fmt)"; then ok
    else fail "$name ($fmt): sr native output differs from the engine beyond rounding"; fi
}

check "$work/espcn-x2.safetensors" 128 96
check "$work/espcn-x2.safetensors" 128 96 yuv420p   # the path the bench takes
check "$work/espcn-x3.safetensors" 62 38
check "$work/espcn-x4-dcr-f16.safetensors" 46 30
check "$work/fsrcnn-x2.safetensors" 96 64
check "$work/bicubic-x3.safetensors" 64 48
check "$work/mixed-x2.safetensors" 54 40
check "$work/deconv-x3.safetensors" 42 26

# Refusals: a clear message and exit status 1, no file.
expect_refusal() {  # model, message fragment
    local out rc
    out=$(python3 "$exporter" "$1" "$work/refused.model" 2>&1); rc=$?
    if [ $rc -eq 1 ] && grep -q -- "$2" <<<"$out" && [ ! -e "$work/refused.model" ]; then ok
    else fail "$(basename "$1"): expected a refusal mentioning '$2', got rc=$rc: $out"; fi
}
expect_refusal "$work/bad-scale1.safetensors" "SRCNN"
expect_refusal "$work/bad-3ch.safetensors" "only luma"
printf 'not a model' >"$work/garbage.safetensors"
expect_refusal "$work/garbage.safetensors" "header length"

finish test_native_export
