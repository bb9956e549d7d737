#!/usr/bin/env bash
# Installs what is missing, builds the tools, upscales a picture and prints fps.
#
# Until trained weights land (weights/MODELS.md), two stand-in models are used,
# and said so: "bicubic-x2", an exact bicubic upscaler written as one LR conv +
# periodic shuffle (a real picture, through the real engine), and the paper's
# ESPCN architecture with untrained random weights (a real speed figure; its
# picture is meaningless, so it is not written).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
espcn_install_deps
jobs=$(espcn_jobs)
build=build/release
out=out/demo
mkdir -p "$out"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target espcn-cli espcn-make-model
cli=$build/kernels/cli/espcn-cli
make_model=$build/kernels/cli/espcn-make-model

# The picture: a Set14 image when the shared data is beside the checkout
# (used in place, never copied into the repo), else a synthetic one.
shared_img=../shared/data/sr/Set14/comic.png
if [ -f "$shared_img" ]; then input=$shared_img; else
    python3 scripts/lib/make_test_image.py "$out/input.ppm" 480 270
    input=$out/input.ppm
fi

"$make_model" --arch bicubic --scale 2 -o "$out/bicubic-x2.safetensors" >/dev/null
"$make_model" --arch espcn --scale 2 --seed 1 -o "$out/espcn-x2-untrained.safetensors" >/dev/null

echo "== upscaling $input x2 with the bicubic-as-ESPCN model (oneDNN backend)"
"$cli" -m "$out/bicubic-x2.safetensors" -i "$input" -o "$out/upscaled-x2.png" --repeat 5

echo "== ESPCN x2 (paper architecture, untrained weights: speed only), 1280x720 -> 2560x1440 luma"
head -c $((1280 * 720)) /dev/urandom >"$out/frame-1280x720.y"
"$cli" -m "$out/espcn-x2-untrained.safetensors" --raw-in 1280x720 -i "$out/frame-1280x720.y" \
    -o "$out/frame-2560x1440.y" --repeat 5
echo "== wrote $out/upscaled-x2.png"
