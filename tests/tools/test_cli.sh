#!/usr/bin/env bash
# End-to-end checks of espcn-cli and espcn-make-model:
#   test_cli.sh ESPCN_CLI ESPCN_MAKE_MODEL
# Makes a model of each architecture, checks --info, upscales generated
# PPM/PGM images to PNG/PNM on the reference and oneDNN backends (checking the
# output size from the PNG header), and checks exit codes and messages of the
# failure paths. No command may end by a signal.
#
# ESPCN_EXPECT_ONEDNN=1 (set by CTest when the build has oneDNN) makes an
# unavailable oneDNN backend a failure instead of a skip.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 ESPCN_CLI ESPCN_MAKE_MODEL" >&2
    exit 2
fi
CLI=$1
MAKE=$2
for tool in "$CLI" "$MAKE"; do
    if [ ! -x "$tool" ]; then
        echo "test_cli: $tool is not an executable" >&2
        exit 1
    fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/espcn_test_cli.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

source "$(dirname "$0")/../lib.sh"  # ok, fail, run, expect_in, finish

# png_info FILE: prints "WIDTH HEIGHT BITDEPTH COLORTYPE" from the IHDR chunk.
png_info() {
    local sig ihdr
    sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
    ihdr=$(od -An -c -j12 -N4 "$1" | tr -d ' \n')
    if [ "$sig" != "89504e470d0a1a0a" ] || [ "$ihdr" != "IHDR" ]; then
        echo "not-a-png"
        return
    fi
    # Bytes 16..23: width and height, big-endian; 24: bit depth; 25: colour type.
    od -An -tu1 -j16 -N10 "$1" | awk '{
        printf "%d %d %d %d\n", (($1 * 256 + $2) * 256 + $3) * 256 + $4,
                                (($5 * 256 + $6) * 256 + $7) * 256 + $8, $9, $10 }'
}

# expect_png FILE W H DEPTH COLORTYPE WHAT
expect_png() {
    local got
    got=$(png_info "$1")
    if [ "$got" = "$2 $3 $4 $5" ]; then
        ok
    else
        fail "$6: PNG header says '$got', expected '$2 $3 $4 $5'"
    fi
}

# write_pnm FILE MAGIC W H CHANNELS: deterministic 8-bit content (gradients
# plus a checkerboard of hard edges).
write_pnm() {
    local file=$1 magic=$2 w=$3 h=$4 ch=$5 x y c v bytes=""
    printf '%s\n%d %d\n255\n' "$magic" "$w" "$h" >"$file"
    for ((y = 0; y < h; y++)); do
        for ((x = 0; x < w; x++)); do
            for ((c = 0; c < ch; c++)); do
                v=$(((x * 7 + y * 5 + c * 60) % 200))
                if (((x / 4 + y / 3) % 2)); then v=$((v + 55)); fi
                printf -v v '\\0%03o' "$v"
                bytes+=$v
            done
        done
    done
    printf '%b' "$bytes" >>"$file"
}

W=33
H=21
write_pnm "$WORK/in.ppm" P6 $W $H 3
write_pnm "$WORK/in.pgm" P5 $W $H 1
size=$(wc -c <"$WORK/in.ppm")
header_len=$(printf 'P6\n%d %d\n255\n' $W $H | wc -c)
if [ "$size" -ne $((header_len + W * H * 3)) ]; then
    fail "generated PPM is $size bytes, expected $((header_len + W * H * 3))"
fi

# --- help and usage ------------------------------------------------------------
run 0 help "$CLI" --help && expect_in "$LAST_OUT" '^usage: espcn-cli' "espcn-cli --help"
run 0 make_help "$MAKE" --help && expect_in "$LAST_OUT" '^usage: espcn-make-model' "espcn-make-model --help"
run 2 no_args "$CLI" && expect_in "$LAST_ERR" 'usage' "espcn-cli without arguments"

# --- models of each architecture --------------------------------------------------
for arch in espcn fsrcnn bicubic; do
    model=$WORK/$arch-x2.safetensors
    run 0 "make_$arch" "$MAKE" --arch $arch --scale 2 -o "$model" || continue
    expect_in "$LAST_OUT" "^wrote .*x2" "espcn-make-model --arch $arch"
    if [ ! -s "$model" ]; then
        fail "espcn-make-model --arch $arch wrote no file"
        continue
    fi
    run 0 "info_$arch" "$CLI" -m "$model" --info --backend reference || continue
    expect_in "$LAST_OUT" '^scale: +x2$' "--info of $arch names the scale"
    if [ $arch = fsrcnn ]; then
        expect_in "$LAST_OUT" '^upsampler: +deconv' "--info of $arch names the upsampler"
    else
        expect_in "$LAST_OUT" '^upsampler: +pixel_shuffle$' "--info of $arch names the upsampler"
    fi
    expect_in "$LAST_OUT" '^backend: +reference$' "--info of $arch names the backend"
    expect_in "$LAST_OUT" "^model: +$arch-x2" "--info of $arch names the model"
done

# --- upscaling on each backend ----------------------------------------------------
backends="reference"
if "$CLI" -m "$WORK/espcn-x2.safetensors" --info --backend onednn >"$WORK/onednn.out" 2>&1; then
    backends="reference onednn"
    expect_in "$WORK/onednn.out" '^backend: +onednn$' "--info --backend onednn"
elif [ "${ESPCN_EXPECT_ONEDNN:-0}" = 1 ]; then
    fail "the build has oneDNN but --backend onednn fails:"
    sed 's/^/    /' "$WORK/onednn.out" >&2
else
    echo "note: oneDNN backend not available; upscaling on reference only"
fi
# cpu-fast runs everywhere (portable code where the CPU has no AVX2/AVX-512).
if run 0 info_cpu_fast "$CLI" -m "$WORK/espcn-x2.safetensors" --info --backend cpu-fast; then
    expect_in "$LAST_OUT" '^backend: +cpu-fast$' "--info --backend cpu-fast"
    backends="$backends cpu-fast"
fi
# bf16 runs on cpu-fast, also when asked of auto (no GPU kernels in bf16).
if run 0 info_bf16 "$CLI" -m "$WORK/espcn-x2.safetensors" --info --precision bf16; then
    expect_in "$LAST_OUT" '^backend: +cpu-fast$' "--info --precision bf16 (backend)"
    expect_in "$LAST_OUT" '^precision: +bf16$' "--info --precision bf16 (precision)"
fi

for backend in $backends; do
    for arch in espcn fsrcnn bicubic; do
        model=$WORK/$arch-x2.safetensors
        [ -s "$model" ] || continue
        out=$WORK/out-$arch-$backend.png
        if run 0 "up_${arch}_$backend" "$CLI" -m "$model" -i "$WORK/in.ppm" -o "$out" \
            --backend "$backend"; then
            expect_png "$out" $((2 * W)) $((2 * H)) 8 2 "RGB $arch on $backend"
            expect_in "$LAST_OUT" "^wrote .*: $((2 * W))x$((2 * H)) RGB, 8-bit$" \
                "espcn-cli reports what it wrote ($arch, $backend)"
            expect_in "$LAST_OUT" "^espcn_process_plane: ${W}x$H -> $((2 * W))x$((2 * H)), $backend" \
                "espcn-cli reports the backend it ran ($arch, $backend)"
        fi
    done
    # Gray in, 16-bit gray PNG out; gray in, PGM out.
    out=$WORK/gray-$backend.png
    if run 0 "gray_png_$backend" "$CLI" -m "$WORK/espcn-x2.safetensors" -i "$WORK/in.pgm" \
        -o "$out" --bits 16 --backend "$backend"; then
        expect_png "$out" $((2 * W)) $((2 * H)) 16 0 "gray 16-bit PNG on $backend"
    fi
    out=$WORK/gray-$backend.pgm
    if run 0 "gray_pgm_$backend" "$CLI" -m "$WORK/bicubic-x2.safetensors" -i "$WORK/in.pgm" \
        -o "$out" --backend "$backend"; then
        expect_in "$out" "^P5$" "PGM output magic ($backend)"
        expect_in "$out" "^$((2 * W)) $((2 * H))$" "PGM output size ($backend)"
    fi
done

# The bicubic model is computed exactly the same way on both CPU backends
# (test_imaging shows 0 differences): the files must be identical.
if [[ " $backends " == *" onednn "* ]]; then
    for f in out-bicubic-%s.png gray-%s.pgm; do
        # shellcheck disable=SC2059
        a=$WORK/$(printf "$f" reference) b=$WORK/$(printf "$f" onednn)
        if [ -s "$a" ] && [ -s "$b" ]; then
            if cmp -s "$a" "$b"; then ok; else fail "bicubic model: $a and $b differ"; fi
        fi
    done
fi

# An x3 model on a PGM, written as PNG: 99x63.
if run 0 make_bicubic_x3 "$MAKE" --arch bicubic --scale 3 -o "$WORK/bicubic-x3.safetensors"; then
    if run 0 up_x3 "$CLI" -m "$WORK/bicubic-x3.safetensors" -i "$WORK/in.pgm" \
        -o "$WORK/x3.png" --backend reference; then
        expect_png "$WORK/x3.png" $((3 * W)) $((3 * H)) 8 0 "gray x3"
    fi
fi

# --- failures: exit status 1 and a message -------------------------------------------
model=$WORK/espcn-x2.safetensors
expect_failure() {  # NAME PATTERN CMD...
    local name=$1 pattern=$2
    shift 2
    if run 1 "$name" "$@"; then
        expect_in "$LAST_ERR" "^espcn-cli: .*$pattern" "$name message"
    fi
}

expect_failure missing_model 'No such file' \
    "$CLI" -m "$WORK/no-such-model.safetensors" -i "$WORK/in.ppm" -o "$WORK/x.png"
printf 'this is not a safetensors file, just some text\n' >"$WORK/garbage.safetensors"
expect_failure garbage_model 'header length' \
    "$CLI" -m "$WORK/garbage.safetensors" -i "$WORK/in.ppm" -o "$WORK/x.png"
head -c 40 "$model" >"$WORK/cut-header.safetensors"
expect_failure cut_model_header 'past the end of the file' \
    "$CLI" -m "$WORK/cut-header.safetensors" --info
head -c 5000 "$model" >"$WORK/cut-data.safetensors"
expect_failure cut_model_data 'truncated' \
    "$CLI" -m "$WORK/cut-data.safetensors" --info
head -c $((header_len + 100)) "$WORK/in.ppm" >"$WORK/truncated.ppm"
expect_failure truncated_ppm 'truncated' \
    "$CLI" -m "$model" -i "$WORK/truncated.ppm" -o "$WORK/x.png" --backend reference
if [ -s "$WORK/out-espcn-reference.png" ]; then
    head -c 100 "$WORK/out-espcn-reference.png" >"$WORK/truncated.png"
    expect_failure truncated_png 'PNG.*truncated' \
        "$CLI" -m "$model" -i "$WORK/truncated.png" -o "$WORK/x.png" --backend reference
fi
expect_failure missing_input 'cannot open' \
    "$CLI" -m "$model" -i "$WORK/no-such-input.ppm" -o "$WORK/x.png"
expect_failure garbage_input 'not a PNG or binary PNM' \
    "$CLI" -m "$model" -i "$WORK/garbage.safetensors" -o "$WORK/x.png"
# Without a usable GPU (driver, device, cuDNN) --backend cuda fails with the
# reason; where one exists it runs, and is tested by the gpu tests instead.
if "$CLI" -m "$model" --info --backend cuda >/dev/null 2>&1; then
    echo "   (a usable GPU is present: --backend cuda is not expected to fail here)"
else
    expect_failure cuda_backend 'the cuda backend cannot start: ' \
        "$CLI" -m "$model" -i "$WORK/in.ppm" -o "$WORK/x.png" --backend cuda
fi
expect_failure fp16_on_cpu 'fp16 needs the cuda backend' \
    "$CLI" -m "$model" -i "$WORK/in.ppm" -o "$WORK/x.png" --backend reference --precision fp16
expect_failure bf16_on_onednn 'bf16 needs the cpu-fast backend' \
    "$CLI" -m "$model" -i "$WORK/in.ppm" -o "$WORK/x.png" --backend onednn --precision bf16
expect_failure gray_to_ppm '\.ppm' \
    "$CLI" -m "$model" -i "$WORK/in.pgm" -o "$WORK/x.ppm"
if [ -e "$WORK/x.png" ] || [ -e "$WORK/x.ppm" ]; then
    fail "a failed run left an output file behind"
else
    ok
fi

# --- usage errors: exit status 2 --------------------------------------------------------
if run 2 unknown_option "$CLI" -m "$model" --no-such-option; then
    expect_in "$LAST_ERR" "unknown option '--no-such-option'" "unknown option message"
fi
if run 2 bad_precision "$CLI" -m "$model" --info --precision fp8; then
    expect_in "$LAST_ERR" "is not auto, fp32, fp16 or bf16" "--precision fp8 message"
fi
if run 2 bad_backend "$CLI" -m "$model" --info --backend gpu; then
    expect_in "$LAST_ERR" "--backend: 'gpu'" "bad backend message"
fi
if run 2 no_output "$CLI" -m "$model" -i "$WORK/in.ppm"; then
    expect_in "$LAST_ERR" 'no output' "missing -o message"
fi
if run 2 make_unknown "$MAKE" --arch espcn --scale 2 -o "$WORK/m.safetensors" --bogus; then
    expect_in "$LAST_ERR" "unknown option '--bogus'" "espcn-make-model unknown option message"
fi
if run 2 make_bad_scale "$MAKE" --arch espcn --scale 9 -o "$WORK/m.safetensors"; then
    expect_in "$LAST_ERR" "--scale: '9'" "espcn-make-model bad scale message"
fi
run 2 make_bad_arch "$MAKE" --arch vdsr --scale 2 -o "$WORK/m.safetensors"

finish test_cli
