#!/usr/bin/env bash
# The first GPU run, prepared here and run there in one go (issue #11).
#
#   scripts/gpu_check.sh --prepare [--jobs N]
#   scripts/gpu_check.sh --run [--results DIR] [--no-sanitizer]
#
# --prepare (on a build machine, no GPU needed): builds everything the GPU run
#   needs into one git-ignored folder, build/gpu-check/ (< 60 MiB), that needs
#   nothing on the GPU machine but its own libraries: libespcn without oneDNN
#   (-DESPCN_WITH_ONEDNN=OFF: the H200 image has no libdnnl) with the cuda
#   backend (sm_90 SASS + PTX), the gpu tests, espcn-cli, espcn-make-model,
#   espcn-bench, and FFmpeg 7.1 with the filter and CUDA frames (ffnvcodec),
#   linked against that libespcn. Every shared library they need beyond the
#   assumed image (below) is collected into build/gpu-check/lib/ (libx264,
#   libgomp, libpng, zlib, ...); every binary finds them through its RUNPATH
#   ($ORIGIN/../lib), so nothing is set in the environment. A chroot that holds
#   only the assumed image's libraries and the folder then loads every binary
#   (ld.so --list) and starts the tools, or --prepare fails.
#   Assumed on the GPU machine: x86-64 Linux with glibc >= this machine's
#   (Debian 12: 2.36), libstdc++ and libgcc_s at least GCC 12's (GLIBCXX_3.4.30),
#   the NVIDIA driver (libcuda, nvidia-smi), cuDNN 9 (the nvidia-cudnn-cu13
#   wheel, found by libespcn in python3's site-packages), python3 with torch
#   and numpy, compute-sanitizer. The H200 image (Python 3.12.3, i.e. Ubuntu
#   24.04: glibc 2.39, GCC 14's libstdc++) satisfies this; --run checks it
#   first. With the device tool, name build/gpu-check in `carry`.
#
# --run (on the GPU machine, from the repository root): in order, each step
#   with its own timeout and log, the whole run within 8 minutes:
#     gpu          GPU and driver (nvidia-smi); without a GPU: exit 2 at once
#     bundle       every binary of build/gpu-check loads here (ldd)
#     cudnn        where cuDNN is (loader path, python wheels) and what libespcn picks
#     loader       test_cudnn_loader
#     kernels      test_cuda_kernels
#     backend      test_cuda_backend, cuDNN algorithms benchmarked (autotuned)
#     heuristic    test_cuda_backend with ESPCN_CUDNN_SEARCH=heuristic
#     memcheck     compute-sanitizer --tool memcheck on test_cuda_kernels
#     racecheck    compute-sanitizer --tool racecheck on test_cuda_kernels
#     frame4k      a 3840x2160 frame x2 in fp32 and fp16, each layer's cuDNN
#                  algorithm and math type printed; fp16 vs fp32 agreement
#     ffmpeg       section 7 of tests/ffmpeg/test_filter.sh (CUDA frames)
#     bench        espcn-bench --cuda, 640x360..1920x1080 x {2,3,4}
#     peer         bench/pytorch_peer.py (the PyTorch peer, TF32 off)
#     e2e          bench/ffmpeg_gpu_e2e.sh (host vs CUDA frames through ffmpeg)
#   ESPCN_GPU_REQUIRED=1 is set for all of them: a gpu test that would skip
#   fails instead. Exit status: 0 only if every step passed; 1 if any failed or
#   skipped (compute-sanitizer missing or refused by the machine counts as
#   skipped, unless --no-sanitizer leaves those two steps out, which the
#   summary says); 2 without a GPU or without the prepared folder.
#   Results: DIR (default out/gpu-check) gets summary.txt and logs.tar.gz (one
#   log per step, the environment, espcn-bench's and the peer's CSV): two files,
#   so they come back whole from the device tool's $OUT (--results "$OUT").
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bundle=$root/build/gpu-check
build=$root/build/gpu
prefix=$root/build/gpu-prefix
ffbuild=$root/build/ffmpeg-7.1-gpu
limit_mib=60

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "gpu_check.sh: $*" >&2; exit 2; }

mode='' results='' jobs='' sanitizer=1
while [ $# -gt 0 ]; do
    case $1 in
        --prepare) mode=prepare; shift ;;
        --run) mode=run; shift ;;
        --results) [ $# -ge 2 ] || die "--results needs a directory"; results=$2; shift 2 ;;
        --results=*) results=${1#*=}; shift ;;
        --jobs) [ $# -ge 2 ] || die "--jobs needs a value"; jobs=$2; shift 2 ;;
        --no-sanitizer) sanitizer=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[ -n "$mode" ] || { usage >&2; die "say --prepare or --run"; }

# The libraries assumed present on the GPU machine (glibc's, the C++ runtime);
# everything else a binary needs travels in build/gpu-check/lib.
image_libs='^(linux-vdso\.so\.1|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$'

elf_files() { find "$1" -type f -exec sh -c 'head -c 4 "$1" | grep -q "ELF"' _ {} \; -print | sort; }

# ---------------------------------------------------------------------------
prepare() {
    set -e
    source scripts/lib/deps.sh
    espcn_install_deps
    [ -n "$jobs" ] || jobs=$(espcn_jobs)
    local nvcc
    nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    [ -x "$nvcc" ] || die "--prepare needs the CUDA toolkit (nvcc; looked on PATH and in /usr/local/cuda/bin)"
    local t0=$SECONDS

    mkdir -p "$root/build"
    echo "== libespcn with the cuda backend, without oneDNN ($build)"
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DESPCN_WERROR=ON \
        -DESPCN_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" -DESPCN_WITH_ONEDNN=OFF >"$root/build/gpu-configure.log" ||
        { tail -n 20 "$root/build/gpu-configure.log" >&2; die "cmake configure failed"; }
    grep -q '^ESPCN_WITH_ONEDNN:BOOL=OFF' "$build/CMakeCache.txt" || die "oneDNN is not off in $build"
    grep -q 'espcn: cuda backend ON' "$root/build/gpu-configure.log" ||
        die "the cuda backend is not part of $build (no nvcc or no cudnn.h?): see build/gpu-configure.log"
    local targets=(espcn espcn-cli espcn-make-model espcn-eval espcn-bench espcn_staged_models
                   test_cudnn_loader test_cuda_kernels test_cuda_backend)
    nice -n 10 cmake --build "$build" -j "$jobs" --target "${targets[@]}"
    rm -rf "$prefix"
    cmake --install "$build" --prefix "$prefix" >/dev/null

    echo "== FFmpeg 7.1 with the filter and CUDA frames, linked against it ($ffbuild)"
    scripts/build_ffmpeg.sh --series 7.1 --espcn-prefix "$prefix" --build-dir "$ffbuild" \
        --cuda-frames on --jobs "$jobs"

    echo "== $bundle"
    rm -rf "$bundle"
    mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/share/espcn"
    cp "$build"/tests/test_cudnn_loader "$build"/tests/test_cuda_kernels "$build"/tests/test_cuda_backend \
       "$prefix"/bin/espcn-cli "$prefix"/bin/espcn-make-model "$prefix"/bin/espcn-bench \
       "$ffbuild"/ffmpeg "$ffbuild"/ffprobe "$bundle/bin/"
    local so
    so=$(readelf -d "$prefix"/lib*/libespcn.so | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    cp -L "$prefix"/lib*/"$so" "$bundle/lib/$so"
    cp -r "$prefix"/share/espcn/models "$bundle/share/espcn/"
    # Every library the binaries need beyond the assumed image, by soname.
    local f lib name path
    for f in $(elf_files "$bundle/bin") "$bundle/lib/$so"; do
        while read -r name path; do
            [[ $name =~ $image_libs ]] && continue
            [ -e "$bundle/lib/$name" ] && continue
            [ -f "$path" ] || die "$f needs $name, which is not found here"
            cp -L "$path" "$bundle/lib/$name"
        done < <(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
    done
    strip --strip-unneeded "$bundle"/bin/* "$bundle"/lib/* 2>/dev/null || true
    for f in "$bundle"/bin/*; do patchelf --set-rpath '$ORIGIN/../lib' "$f"; done
    for f in "$bundle"/lib/*; do patchelf --set-rpath '$ORIGIN' "$f"; done

    echo "== the folder on a machine with only the assumed image's libraries"
    check_in_chroot
    local bytes mib
    bytes=$(du -sb "$bundle" | cut -f1)
    mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
    {
        echo "# build/gpu-check: made by scripts/gpu_check.sh --prepare"
        echo "date: $(date '+%Y-%m-%d %H:%M:%S %Z')"
        echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
        echo "built on: $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -n 1), $(g++ --version | head -n 1), $("$nvcc" --version | tail -n 1)"
        echo "cmake: -DESPCN_WITH_CUDA=ON -DESPCN_WITH_ONEDNN=OFF, CUDA architectures $(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:[A-Z]*=//p' "$build/CMakeCache.txt")"
        echo "ffmpeg: $("$bundle/bin/ffmpeg" -hide_banner -version | head -n 1)"
        echo "assumed on the GPU machine: glibc >= $(ldd --version | head -n 1 | awk '{print $NF}'), libstdc++ >= GCC 12, the NVIDIA driver, cuDNN 9, python3 with torch + numpy, compute-sanitizer"
        echo "size: $mib MiB"
        (cd "$bundle" && find . -type f -printf '%8s  %p\n' | sort -k2)
    } >"$bundle/MANIFEST.txt"
    [ "$bytes" -lt $((limit_mib * 1048576)) ] || die "$bundle is $mib MiB, over the $limit_mib MiB limit"
    echo "== ready: $bundle ($mib MiB, $((SECONDS - t0)) s); on the GPU machine: scripts/gpu_check.sh --run"
}

# A root holding only the assumed image's libraries (taken from this
# machine) and the folder: every ELF must load there and the tools start.
check_in_chroot() {
    local f missing=0
    # Without chroot (not root): every NEEDED must at least be in lib/ or assumed.
    for f in $(elf_files "$bundle"); do
        while read -r name; do
            [[ $name =~ $image_libs ]] && continue
            [ -e "$bundle/lib/$name" ] || { echo "   $f needs $name: not in lib/, not assumed" >&2; missing=1; }
        done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    done
    [ $missing -eq 0 ] || die "libraries missing from $bundle/lib (above)"
    if [ "$(id -u)" -ne 0 ]; then
        echo "   not root: no chroot check; every NEEDED is in lib/ or assumed (readelf)"
        return 0
    fi
    jail=$(mktemp -d)  # global: the EXIT trap removes it
    trap 'rm -rf "$jail"' EXIT
    mkdir -p "$jail/lib64" "$jail/lib/x86_64-linux-gnu" "$jail/tmp"
    cp -L /lib64/ld-linux-x86-64.so.2 "$jail/lib64/"
    local n
    for n in libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libstdc++.so.6 libgcc_s.so.1; do
        cp -L "$(ldconfig -p | awk -v n="$n" '$1 == n && /x86-64/ { print $NF; exit }')" "$jail/lib/x86_64-linux-gnu/$n"
    done
    cp -a "$bundle" "$jail/gpu-check"
    cp "$bundle/share/espcn/models/default-x2.safetensors" "$jail/tmp/m.safetensors"
    local out
    for f in $(cd "$jail" && elf_files gpu-check); do
        out=$(chroot "$jail" /lib64/ld-linux-x86-64.so.2 --list "/$f" 2>&1) ||
            { echo "$out" >&2; die "/$f does not load with only the image's libraries"; }
        if grep -q "not found" <<<"$out"; then echo "$out" >&2; die "/$f: a library is missing"; fi
    done
    # Started through the dynamic loader: the jail has no /proc, from which a
    # directly executed program's $ORIGIN would come.
    local run_ok=1 ld=/lib64/ld-linux-x86-64.so.2
    chroot "$jail" $ld /gpu-check/bin/espcn-cli -m /tmp/m.safetensors --info --backend auto >/dev/null 2>&1 || run_ok=0
    chroot "$jail" $ld /gpu-check/bin/ffmpeg -hide_banner -filters 2>/dev/null | grep -qw espcn || run_ok=0
    chroot "$jail" $ld /gpu-check/bin/test_cuda_kernels --gtest_list_tests >/dev/null 2>&1 || run_ok=0
    [ $run_ok -eq 1 ] || die "the tools do not start in the chroot (espcn-cli --info, ffmpeg -filters, test_cuda_kernels --gtest_list_tests)"
    echo "   every binary loads in a root with only glibc, libstdc++ and libgcc_s; espcn-cli, ffmpeg (lists espcn) and test_cuda_kernels start"
}

# ---------------------------------------------------------------------------
# --run: steps, timeouts, logs.
budget_s=470          # the whole run, start to summary (the issue: <= 8 minutes)
t_run=$SECONDS
work=''
declare -a summary=()
failures=0

remaining() { echo $((budget_s - (SECONDS - t_run))); }

# step NAME TIMEOUT_S DESCRIPTION -- COMMAND...: runs COMMAND with its own
# timeout (capped by what is left of the budget), output in logs/NN-NAME.log;
# the command's exit status 0 = passed, 3 = skipped, else failed.
n_step=0
step() {
    local name=$1 limit=$2 what=$3
    shift 4
    n_step=$((n_step + 1))
    local log
    log=$work/logs/$(printf '%02d' $n_step)-$name.log
    local left t0 rc status
    left=$(remaining)
    [ "$limit" -gt "$left" ] && limit=$left
    if [ "$limit" -lt 5 ]; then
        summary+=("$(printf '%-10s %-8s %5s  %s' "$name" FAILED - "not run: the 8-minute budget is spent")")
        failures=$((failures + 1))
        echo "== $name: not run, out of time" | tee "$log"
        return
    fi
    echo "== $name: $what (timeout ${limit}s)"
    t0=$SECONDS
    { echo "# $what"; echo "# $(date '+%Y-%m-%d %H:%M:%S %Z'), timeout ${limit}s"; } >"$log"
    # A fresh bash runs the step (functions and variables exported below), so
    # timeout can stop it and everything it started.
    timeout -k 10 "$limit" bash -c '"$@"' step "$@" >>"$log" 2>&1 </dev/null
    rc=$?
    case $rc in
        0) status=passed ;;
        3) status=SKIPPED ;;
        124|137) status=TIMEOUT ;;
        *) status=FAILED ;;
    esac
    [ $status = passed ] || failures=$((failures + 1))
    summary+=("$(printf '%-10s %-8s %4ss  %s' "$name" "$status" $((SECONDS - t0)) "$(tail -n 1 "$log" | cut -c1-110)")")
    echo "   $status ($((SECONDS - t0)) s): $(tail -n 1 "$log" | cut -c1-150)"
    [ $status = passed ] || { echo "   --- last lines of $log:"; tail -n 15 "$log" | sed 's/^/   | /'; }
}

# A GoogleTest binary that must pass with nothing skipped.
gtest_no_skip() {  # binary args...: fails on a failure, or on any skipped test
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    echo "$out"
    [ $rc -eq 0 ] || return 1
    if grep -q '^\[  SKIPPED \]' <<<"$out"; then echo "gpu_check: a test skipped (above)"; return 1; fi
    grep -q '^\[  PASSED  \]' <<<"$out" || { echo "gpu_check: no test passed"; return 1; }
    echo "gpu_check: $(grep '^\[  PASSED  \]' <<<"$out" | tail -n 1 | tr -s ' ')"
}

step_gpu() {
    nvidia-smi || return 1
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader
}

step_bundle() {
    local f bad=0 out
    for f in $(elf_files "$bundle"); do
        out=$(ldd "$f" 2>&1)
        if grep -q "not found" <<<"$out"; then echo "$f:"; grep "not found" <<<"$out"; bad=1; fi
    done
    cat "$bundle/MANIFEST.txt"
    [ $bad -eq 0 ] || { echo "gpu_check: libraries missing on this machine (above)"; return 1; }
    echo "gpu_check: every binary of the folder loads here"
}

step_cudnn() {
    echo "# the dynamic loader's cache:"
    ldconfig -p | grep -E 'libcudnn\.so\.9|libcublasLt\.so\.13|libnvrtc\.so\.13' || echo "   (no libcudnn.so.9 in the cache)"
    echo "# python3's nvidia wheels (cuDNN dlopens cublasLt and nvrtc for some engines):"
    python3 - <<'EOF' || true
import glob, os, site, sys
dirs = site.getsitepackages() + [site.getusersitepackages()]
for d in dirs:
    for p in sorted(glob.glob(os.path.join(d, "nvidia", "*", "lib", "lib*.so*"))):
        if any(k in p for k in ("cudnn.so", "cublasLt", "nvrtc.so")):
            print("  ", p)
print("   python:", sys.executable)
EOF
    echo "# what libespcn picks (cudnn_api()):"
    local out
    out=$(gtest_no_skip "$bundle/bin/test_cudnn_loader" --gtest_filter='CudnnLoader.TheProcessWideTableIsLoadedOnce')
    local rc=$?
    echo "$out"
    [ $rc -eq 0 ] || return 1
    grep '^cudnn_api(): cuDNN' <<<"$out" || { echo "gpu_check: libespcn found no cuDNN"; return 1; }
}

step_heuristic() {
    export ESPCN_CUDNN_SEARCH=heuristic
    gtest_no_skip "$bundle/bin/test_cuda_backend"
}

step_frame4k() {
    local d=$work/frame4k model=$root/weights/espcn-x2.safetensors p
    mkdir -p "$d"
    "$bundle/bin/ffmpeg" -hide_banner -loglevel error -f lavfi -i testsrc2=size=3840x2160 -frames:v 1 \
        -pix_fmt gray -f rawvideo "$d/in.y" || return 1
    for p in fp32 fp16; do
        echo "# $p: espcn-cli -v --backend cuda --precision $p --raw-in 3840x2160 (x2 -> 7680x4320)"
        "$bundle/bin/espcn-cli" -m "$model" --backend cuda --precision $p --raw-in 3840x2160 \
            -i "$d/in.y" -o "$d/out-$p.y" --repeat 3 -v >"$d/$p.log" 2>&1 || { cat "$d/$p.log"; return 1; }
        grep -E 'cuda: device|cuda: layer|ms|fps' "$d/$p.log"
        if ! grep -q 'cuda: layer .*: algorithm' "$d/$p.log"; then echo "no algorithm lines logged"; return 1; fi
        if [ $p = fp32 ] && grep 'cuda: layer' "$d/$p.log" | grep -v 'math FMA_MATH' | grep -q .; then
            echo "gpu_check: an fp32 layer runs in another math type than FMA_MATH (TF32?)"; return 1
        fi
    done
    python3 - "$d/out-fp32.y" "$d/out-fp16.y" <<'EOF'
import sys
import numpy as np
a = np.fromfile(sys.argv[1], np.uint8).astype(np.int16)
b = np.fromfile(sys.argv[2], np.uint8).astype(np.int16)
assert a.size == b.size == 7680 * 4320, (a.size, b.size)
d = np.abs(a - b)
within = float((d <= 1).mean())
print(f"gpu_check: 4K x2 fp16 vs fp32: max |diff| {int(d.max())} codes, {within * 100:.3f}% within 1 code")
sys.exit(0 if within >= 0.999 else 1)
EOF
}

step_sanitizer() {  # tool
    local cs
    cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null | head -n 1)
    if [ -z "$cs" ]; then echo "gpu_check: compute-sanitizer not found on this machine"; return 3; fi
    local out rc
    out=$("$cs" --tool "$1" --error-exitcode 99 "$bundle/bin/test_cuda_kernels" --gtest_filter='CudaKernels.*' 2>&1)
    rc=$?
    echo "$out"
    if grep -qiE 'Device not supported|unable to (initialize|attach)|Target application terminated before first instrumented' <<<"$out"; then
        echo "gpu_check: compute-sanitizer cannot run on this machine (above)"; return 3
    fi
    [ $rc -eq 0 ] || return 1
    grep -q 'ERROR SUMMARY: 0 errors' <<<"$out" || { echo "gpu_check: no clean ERROR SUMMARY"; return 1; }
    grep -q '^\[  SKIPPED \]' <<<"$out" && { echo "gpu_check: a test skipped"; return 1; }
    echo "gpu_check: $1: $(grep 'ERROR SUMMARY' <<<"$out" | tail -n 1)"
}

step_ffmpeg() {
    local out
    out=$(ESPCN_FILTER_TEST_SECTIONS=7 bash tests/ffmpeg/test_filter.sh "$bundle/bin/ffmpeg" "$bundle/bin/ffprobe" \
          "$bundle/bin/espcn-cli" "$bundle/bin/espcn-make-model" 2>&1)
    local rc=$?
    echo "$out"
    [ $rc -eq 0 ] || return 1
    grep -q 'not checked' <<<"$out" && return 1
    grep -q '^test_filter: [1-9][0-9]* passed, 0 failed' <<<"$out"
}

step_bench() {
    "$bundle/bin/espcn-bench" --cuda --sizes 640x360,960x540,1280x720,1920x1080 --scales 2,3,4 \
        --min-time 0.2 --csv "$work/logs/espcn-bench-cuda.csv"
}

step_peer() {
    python3 bench/pytorch_peer.py --model weights/espcn-x2.safetensors --sizes 640x360,1920x1080 \
        --min-time 0.5 --csv "$work/logs/pytorch-peer.csv"
}

step_e2e() {
    bench/ffmpeg_gpu_e2e.sh --ffmpeg "$bundle/bin/ffmpeg" --size 1920x1080 --frames 300 --cpu-frames 0
}

run() {
    # 1. A GPU, or stop here.
    if ! command -v nvidia-smi >/dev/null 2>&1; then
        echo "gpu_check.sh --run: no GPU here: nvidia-smi not found (no NVIDIA driver); nothing was run" >&2
        exit 2
    fi
    if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
        echo "gpu_check.sh --run: no GPU here: nvidia-smi lists none ($(nvidia-smi -L 2>&1 | head -n 1)); nothing was run" >&2
        exit 2
    fi
    [ -f "$bundle/MANIFEST.txt" ] ||
        die "no prepared folder at $bundle: run scripts/gpu_check.sh --prepare first (and carry build/gpu-check)"
    results=${results:-$root/out/gpu-check}
    mkdir -p "$results" || die "cannot create $results"
    results=$(cd "$results" && pwd)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/logs"
    export ESPCN_GPU_REQUIRED=1 PYTHONUNBUFFERED=1
    export bundle root work image_libs
    export -f elf_files gtest_no_skip step_gpu step_bundle step_cudnn step_heuristic step_sanitizer \
        step_frame4k step_ffmpeg step_bench step_peer step_e2e
    # ffmpeg_gpu_e2e.sh and the ffmpeg test find models through weights/; the
    # bundle's libespcn finds its own (share/espcn/models next to lib/).
    {
        echo "# scripts/gpu_check.sh --run, $(date '+%Y-%m-%d %H:%M:%S %Z')"
        echo "host: $(uname -a)"
        echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
        echo "glibc: $(ldd --version | head -n 1)"
        echo "python3: $(command -v python3) $(python3 --version 2>&1)"
        echo "nvcc: $(command -v nvcc && nvcc --version | tail -n 1)"
        echo "compute-sanitizer: $(command -v compute-sanitizer || echo 'not on PATH')"
        echo "repository: $(git rev-parse HEAD 2>/dev/null || echo 'no git')"
        echo "--- the prepared folder"
        cat "$bundle/MANIFEST.txt"
    } >"$work/logs/00-environment.log"

    step gpu 20 "GPU and driver" -- step_gpu
    step bundle 30 "the prepared binaries load here" -- step_bundle
    step cudnn 30 "cuDNN located" -- step_cudnn
    step loader 60 "test_cudnn_loader" -- gtest_no_skip "$bundle/bin/test_cudnn_loader"
    step kernels 90 "test_cuda_kernels" -- gtest_no_skip "$bundle/bin/test_cuda_kernels"
    step backend 150 "test_cuda_backend (autotuned)" -- gtest_no_skip "$bundle/bin/test_cuda_backend"
    step heuristic 120 "test_cuda_backend (ESPCN_CUDNN_SEARCH=heuristic)" -- step_heuristic
    if [ $sanitizer -eq 1 ]; then
        step memcheck 120 "compute-sanitizer memcheck, test_cuda_kernels" -- step_sanitizer memcheck
        step racecheck 120 "compute-sanitizer racecheck, test_cuda_kernels" -- step_sanitizer racecheck
    else
        summary+=("$(printf '%-10s %-8s %5s  %s' memcheck 'left out' - "--no-sanitizer")")
        summary+=("$(printf '%-10s %-8s %5s  %s' racecheck 'left out' - "--no-sanitizer")")
    fi
    step frame4k 90 "3840x2160 x2 in fp32 and fp16, algorithms and math types" -- step_frame4k
    step ffmpeg 150 "tests/ffmpeg/test_filter.sh section 7 (CUDA frames)" -- step_ffmpeg
    step bench 150 "espcn-bench --cuda" -- step_bench
    step peer 120 "bench/pytorch_peer.py" -- step_peer
    step e2e 120 "bench/ffmpeg_gpu_e2e.sh" -- step_e2e

    local verdict="all $n_step steps passed"
    [ $failures -eq 0 ] || verdict="$failures of $n_step steps did not pass"
    {
        echo "# scripts/gpu_check.sh --run, $(date '+%Y-%m-%d %H:%M:%S %Z'), $((SECONDS - t_run)) s"
        echo "# $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
        printf '%s\n' "${summary[@]}"
        echo "gpu_check: $verdict"
    } | tee "$results/summary.txt"
    cp "$results/summary.txt" "$work/logs/"
    tar -C "$work" -czf "$results/logs.tar.gz" logs
    echo "gpu_check: results in $results (summary.txt, logs.tar.gz)"
    [ $failures -eq 0 ]
}

case $mode in
    prepare) prepare ;;
    run) run ;;
esac
