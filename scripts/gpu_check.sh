#!/usr/bin/env bash
# The first GPU run, prepared here and run there in one go (issues #11, #21).
#
#   scripts/gpu_check.sh --prepare [--jobs N]
#   scripts/gpu_check.sh --plan
#   scripts/gpu_check.sh --run [--results DIR]
#
# --prepare (on a build machine, no GPU needed): builds everything the GPU run
#   needs into one git-ignored folder, build/gpu-check/, that needs nothing on
#   the GPU machine but its own libraries: libespcn without oneDNN
#   (-DESPCN_WITH_ONEDNN=OFF: the H200 image has no libdnnl) with the cuda
#   backend (sm_90 SASS + PTX), the gpu tests, espcn-cli, espcn-make-model,
#   espcn-bench, espcn-compare, and FFmpeg 7.1 with the filter and CUDA frames
#   (ffnvcodec, NVDEC), linked against that libespcn. Every shared library they
#   need beyond the assumed image (below) is collected into build/gpu-check/lib/
#   (libx264, libgomp, libpng, zlib, ...); every binary finds them through its
#   RUNPATH ($ORIGIN/../lib), so nothing is set in the environment. A chroot
#   that holds only the assumed image's libraries and the folder then loads
#   every binary (ld.so --list) and starts the tools, or --prepare fails.
#   Then it packs bin/ lib/ share/ into build/gpu-check/bundle.tar.xz (51 MiB
#   unpacked, ~8 MiB packed: each tool links the engine statically), which
#   --run unpacks into its temporary folder (tar -J, else python3's tarfile).
#   Last it measures what the device tool would send (the checkout's tracked
#   and untracked-not-ignored files plus the folder, carried) against the
#   tool's 64 MiB limit, prints it, and fails over it.
#   Assumed on the GPU machine: x86-64 Linux with glibc >= this machine's
#   (Debian 12: 2.36), libstdc++ and libgcc_s at least GCC 12's (GLIBCXX_3.4.30),
#   the NVIDIA driver (libcuda, nvidia-smi), cuDNN 9 (the nvidia-cudnn-cu13
#   wheel, found by libespcn in python3's site-packages), python3 with numpy
#   (torch for the PyTorch peer, onnxruntime + onnx for the CPU step's ONNX
#   Runtime row: each skipped, saying so, where absent), compute-sanitizer
#   (skipped, saying so, where absent or refused). The H100/H200 image (Python
#   3.12.3, i.e. Ubuntu 24.04: glibc 2.39, GCC 14's libstdc++) satisfies this;
#   --run checks it first. With the device tool: carry build/gpu-check.
#
# --plan: prints every step of --run with its time cap, the total (at most
#   300 s) and which of issue 21's questions (a)-(e) each step answers; exits
#   1 if the caps exceed the budget. Needs nothing built.
#
# --run (on the GPU machine, from the repository root): the steps --plan
#   lists, performance first, each with its own time cap and log, the whole
#   run within 300 s; without a GPU it exits 2 at once and writes nothing.
#   ESPCN_GPU_REQUIRED=1 is set: a gpu test that would skip fails instead.
#   Results: DIR (default out/gpu-check) gets gpu-check-results.txt (the GPU,
#   driver, CUDA runtime, cuDNN, the commands, and the answers to (a)-(e) and
#   the CPU step, each with its figures or "skipped: <reason>") and
#   logs.tar.gz (every step's full log and CSV): two files, so they come back
#   whole from the device tool's $OUT (--results "$OUT"). Exit status: 0 when
#   every step passed (a skipped sanitizer or peer is reported, not failed); 1
#   when any failed or timed out; 2 without a GPU or the prepared folder.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bundle=${ESPCN_GPU_CHECK_BUNDLE:-$root/build/gpu-check}  # tests point it at a stand-in
build=$root/build/gpu
prefix=$root/build/gpu-prefix
ffbuild=$root/build/ffmpeg-7.1-gpu
packed=bundle.tar.xz  # --prepare's bin/ lib/ share/, packed to fit the transfer
source "$root/scripts/lib/gpu_check_lib.sh"

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "gpu_check.sh: $*" >&2; exit 2; }

mode='' results='' jobs=''
while [ $# -gt 0 ]; do
    case $1 in
        --prepare) mode=prepare; shift ;;
        --plan) mode=plan; shift ;;
        --run) mode=run; shift ;;
        --results) [ $# -ge 2 ] || die "--results needs a directory"; results=$2; shift 2 ;;
        --results=*) results=${1#*=}; shift ;;
        --jobs) [ $# -ge 2 ] || die "--jobs needs a value"; jobs=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[ -n "$mode" ] || { usage >&2; die "say --prepare, --plan or --run"; }

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
    local targets=(espcn espcn-cli espcn-make-model espcn-eval espcn-bench espcn-compare espcn_staged_models
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
       "$prefix"/bin/espcn-cli "$prefix"/bin/espcn-make-model "$prefix"/bin/espcn-bench "$prefix"/bin/espcn-compare \
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
        echo "nvcc: $("$nvcc" --version | grep -m1 'release')"
        echo "cmake: -DESPCN_WITH_CUDA=ON -DESPCN_WITH_ONEDNN=OFF, CUDA architectures $(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:[A-Z]*=//p' "$build/CMakeCache.txt")"
        echo "ffmpeg: $("$bundle/bin/ffmpeg" -hide_banner -version | head -n 1)"
        echo "assumed on the GPU machine: glibc >= $(ldd --version | head -n 1 | awk '{print $NF}'), libstdc++ >= GCC 12, the NVIDIA driver, cuDNN 9, python3 with numpy (torch, onnxruntime + onnx, compute-sanitizer: used where present)"
        echo "size: $mib MiB"
        (cd "$bundle" && find . -type f -printf '%8s  %p\n' | sort -k2)
    } >"$bundle/MANIFEST.txt"
    # Packed: the tools each link the engine statically (7 MB each, mostly
    # cpu-fast's kernel tables), 51 MiB unpacked; xz makes it ~8 MiB, and
    # --run unpacks it into its temporary folder in under a second.
    echo "== packing $bundle/$packed (--run unpacks it)"
    tar -C "$bundle" -cf - bin lib share | xz -T1 -6 >"$bundle/$packed.tmp"
    rm -rf "$bundle/bin" "$bundle/lib" "$bundle/share"
    mv "$bundle/$packed.tmp" "$bundle/$packed"
    echo "packed: $packed, $(awk -v b="$(stat -c %s "$bundle/$packed")" 'BEGIN { printf "%.1f", b / 1048576 }') MiB" >>"$bundle/MANIFEST.txt"
    echo "== what the device tool would send (its limit: 64 MiB for the tree and the carried paths together)"
    local transfer fits=0
    transfer=$(bundle_transfer_check "$root") || fits=1
    echo "   $transfer"
    echo "$transfer" >>"$bundle/MANIFEST.txt"
    [ $fits -eq 0 ] || die "over the device tool's 64 MiB transfer limit: $transfer"
    echo "== ready: $bundle ($mib MiB unpacked, in $packed; $((SECONDS - t0)) s); on the GPU machine: scripts/gpu_check.sh --run"
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
    chroot "$jail" $ld /gpu-check/bin/ffmpeg -hide_banner -filters 2>/dev/null | grep -cw espcn >/dev/null || run_ok=0
    chroot "$jail" $ld /gpu-check/bin/test_cuda_kernels --gtest_list_tests >/dev/null 2>&1 || run_ok=0
    [ $run_ok -eq 1 ] || die "the tools do not start in the chroot (espcn-cli --info, ffmpeg -filters, test_cuda_kernels --gtest_list_tests)"
    echo "   every binary loads in a root with only glibc, libstdc++ and libgcc_s; espcn-cli, ffmpeg (lists espcn) and test_cuda_kernels start"
}


# ---------------------------------------------------------------------------
# --run: the steps of GPU_CHECK_STEPS (scripts/lib/gpu_check_lib.sh), each a
# function step_<name> run in a fresh bash under its own timeout, its output
# in logs/NN-<name>.log, its answer for the results file in answers/<name>.txt.
# A step's exit status: 0 passed, 3 skipped (the reason in its answer), else
# failed.
t_run=$SECONDS
work=''
failures=0
declare -a summary=()

remaining() { echo $((GPU_CHECK_BUDGET_S - (SECONDS - t_run))); }

step() {  # NUMBER NAME CAP QUESTION WHAT
    local n=$1 name=$2 limit=$3 q=$4 what=$5 log status t0 rc left
    log=$work/logs/$(printf '%02d' "$n")-$name.log
    left=$(remaining)
    [ "$limit" -gt $((left - 3)) ] && limit=$((left - 3))
    if [ "$limit" -lt 3 ]; then
        summary+=("$(printf '%-11s %-8s %5s  %s' "$name" 'NOT RUN' - "the ${GPU_CHECK_BUDGET_S} s budget is spent")")
        echo "not run: the ${GPU_CHECK_BUDGET_S} s budget was spent before this step" >"$work/answers/$name.txt"
        failures=$((failures + 1))
        return
    fi
    echo "== $name ($q): $what (cap ${limit} s)"
    { echo "# $what"; echo "# $(date '+%Y-%m-%d %H:%M:%S %Z'), cap ${limit} s"; } >"$log"
    t0=$SECONDS
    STEP_CAP=$limit timeout -k 5 "$limit" bash -c 'step_'"$name" >>"$log" 2>&1 </dev/null
    rc=$?
    case $rc in
        0) status=passed ;;
        3) status=skipped ;;
        124|137) status=TIMEOUT ;;
        *) status=FAILED ;;
    esac
    case $status in passed|skipped) ;; *) failures=$((failures + 1)) ;; esac
    if [ $status = TIMEOUT ]; then
        { echo "TIMEOUT: stopped at its cap of ${limit} s; what it had printed, last lines:"
          tail -n 12 "$log" | sed 's/^/    /'; } >>"$work/answers/$name.txt"
    elif [ $status = FAILED ] && [ ! -s "$work/answers/$name.txt" ]; then
        { echo "FAILED (exit $rc); last lines of its log:"; tail -n 12 "$log" | sed 's/^/    /'; } >"$work/answers/$name.txt"
    fi
    summary+=("$(printf '%-11s %-8s %4ss  (%s)' "$name" "$status" $((SECONDS - t0)) "$q")")
    echo "   $status ($((SECONDS - t0)) s)"
}

# answer TEXT...: a line of this step's section of the results file.
answer() { printf '%s\n' "$*" >>"$work/answers/$STEP_NAME.txt"; }

# A GoogleTest binary that must pass with nothing skipped.
gtest_no_skip() {
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    echo "$out"
    [ $rc -eq 0 ] || return 1
    if grep -q '^\[  SKIPPED \]' <<<"$out"; then echo "gpu_check: a test skipped (above)"; return 1; fi
    grep -q '^\[  PASSED  \]' <<<"$out" || { echo "gpu_check: no test passed"; return 1; }
}

step_env() {
    STEP_NAME=env
    local smi cudnn cs torch_v rt kernel bad=0 f
    smi=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,pci.bus_id --format=csv,noheader) || return 1
    nvidia-smi
    kernel=$(uname -r)
    case $kernel in 4.4.0*) rt="gVisor (kernel $kernel: compute-sanitizer refuses the device there)" ;;
                    *-fc-*) rt="Firecracker (kernel $kernel)" ;;
                    *) rt="kernel $kernel" ;; esac
    answer "GPU:      $smi"
    answer "driver/CUDA (nvidia-smi): $(nvidia-smi | grep -o 'Driver Version: [0-9.]*.*CUDA Version: [0-9.]*' | tr -s ' ')"
    answer "CUDA runtime: linked statically into libespcn, $(sed -n 's/^nvcc: //p' "$bundle/MANIFEST.txt")"
    # What libespcn loads (cudnn_api()).
    cudnn=$("$bundle/bin/test_cudnn_loader" --gtest_filter='CudnnLoader.TheProcessWideTableIsLoadedOnce' 2>&1 | grep -m1 '^cudnn_api(): ')
    answer "cuDNN:    ${cudnn:-not found by libespcn (see the env log)}"
    cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -n 1)
    answer "compute-sanitizer: ${cs:-not found}${cs:+ ($("$cs" --version 2>/dev/null | tail -n 1))}"
    torch_v=$(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version(), "GPU visible:", torch.cuda.is_available())' 2>&1 | tail -n 1)
    answer "python3:  $(command -v python3) $(python3 --version 2>&1); torch: $torch_v"
    answer "runtime:  $rt; $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(ldd --version | head -n 1)"
    answer "CPU:      $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) logical CPUs; $(grep -o -w -E 'avx512f|avx512_bf16|amx_tile|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
    answer "bundle:   $(sed -n 's/^commit: //p' "$bundle/MANIFEST.txt"), $(sed -n 's/^size: //p' "$bundle/MANIFEST.txt"); $(grep '^transfer:' "$bundle/MANIFEST.txt")"
    for f in $(elf_files "$bundle"); do
        if ldd "$f" 2>&1 | grep -q "not found"; then echo "$f:"; ldd "$f" | grep "not found"; bad=1; fi
    done
    [ $bad -eq 0 ] || { answer "FAILED: binaries of the bundle miss libraries here (env log)"; return 1; }
    [ -n "$cudnn" ] || return 1
}

step_device_fps() {
    STEP_NAME=device_fps
    local m rc=0 models_x234=(lrnet-x2 lrnet-x3 lrnet-x4)
    for m in "${models_x234[@]}"; do
        echo "# espcn-bench --cuda --model weights/$m.safetensors --sizes 1920x1080 --min-time 0.2"
        "$bundle/bin/espcn-bench" --cuda --model "weights/$m.safetensors" --sizes 1920x1080 --min-time 0.2 \
            --csv "$work/logs/espcn-bench-$m.csv" || rc=1
    done
    answer "command: espcn-bench --cuda --model weights/<m>.safetensors --sizes 1920x1080 --min-time 0.2 (no memory budget: one pass)"
    answer "$(grep -h -m1 '^# gpu ' "$work/logs/"*.log 2>/dev/null | head -n 1)"
    answer "$(grep -h -m1 '^# measured ceilings' "$work/logs/"*device_fps.log | head -n 1)"
    answer "$(printf '%-10s %-5s %10s %9s %9s %10s %10s %8s' model prec 'dev luma' 'dev 420' convs 'host sync' 'host pipe' 'of roof')"
    for m in "${models_x234[@]}"; do
        [ -f "$work/logs/espcn-bench-$m.csv" ] || { answer "$m: no CSV (failed; see its log)"; continue; }
        while IFS=, read -r name w h r prec luma f420 conv hsync hpipe gflop mb roof ofroof; do
            answer "$(printf '%-10s %-5s %10s %9s %9s %10s %10s %8s' "$m" "$prec" "$luma" "$f420" "$conv" "$hsync" "$hpipe" "$ofroof")"
        done < <(tail -n +2 "$work/logs/espcn-bench-$m.csv")
    done
    return $rc
}

step_pytorch() {
    STEP_NAME=pytorch
    local why m rc=0 models_x234=(lrnet-x2 lrnet-x3 lrnet-x4)
    why=$(python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "torch sees no CUDA device")' 2>&1 | tail -n 1)
    if [ -n "$why" ]; then answer "skipped: no usable PyTorch here: $why"; return 3; fi
    for m in "${models_x234[@]}"; do
        python3 bench/pytorch_peer.py --model "weights/$m.safetensors" --sizes 1920x1080 --variants graph \
            --min-time 0.5 --csv "$work/logs/pytorch-peer.csv" || rc=1
    done
    answer "command: python3 bench/pytorch_peer.py --model weights/<m>.safetensors --sizes 1920x1080 --variants graph --min-time 0.5"
    answer "$(grep -h -m1 '^# pytorch_peer' "$work/logs/"*pytorch.log | sed 's/ | model .*//')"
    return $rc
}

step_streams() {
    STEP_NAME=streams
    local out rc
    out=$(python3 bench/gpu_streams.py --ffmpeg "$bundle/bin/ffmpeg" --size 1920x1080 --scale 2 --fps 30 \
          --frames 120 --warm 30 --max-n 64 --deadline $((STEP_CAP - 12)) --csv "$work/logs/streams.csv" 2>&1)
    rc=$?
    echo "$out"
    answer "command: python3 bench/gpu_streams.py --ffmpeg build/gpu-check/bin/ffmpeg --size 1920x1080 --scale 2 --fps 30 --frames 120 --warm 30 --max-n 64 --deadline $((STEP_CAP - 12))"
    answer "$(grep -E '^  N=|^# gpu_streams: largest' <<<"$out")"
    [ $rc -eq 0 ] || answer "FAILED (exit $rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
    return $rc
}

step_ffmpeg() {
    STEP_NAME=ffmpeg
    local out rc
    out=$(bench/ffmpeg_gpu_e2e.sh --ffmpeg "$bundle/bin/ffmpeg" --size 1920x1080 --scale 2 --frames 300 \
          --check-frames 5 2>&1)
    rc=$?
    echo "$out"
    answer "command: bench/ffmpeg_gpu_e2e.sh --ffmpeg build/gpu-check/bin/ffmpeg --size 1920x1080 --scale 2 --frames 300 --check-frames 5"
    answer "$(grep -vE '^# (ffmpeg_gpu_e2e|gpu:)' <<<"$out")"
    return $rc
}

# One espcn-cli timing: label, env assignments..., -- cli args...
cpu_row() {
    local label=$1 line
    shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    line=$(env "${envs[@]}" "$bundle/bin/espcn-cli" "$@" -v 2>&1 | grep -m1 'espcn_process_plane:')
    answer "$(printf '%-44s %s' "$label" "${line:-failed}")"
}

step_cpu() {
    STEP_NAME=cpu
    local d=$work/cpu m size w h p isa n reps
    mkdir -p "$d"
    # Any content: the CPU path's time does not depend on it.
    head -c $((1920 * 1080)) /dev/urandom >"$d/1920x1080.y"
    head -c $((640 * 360)) /dev/urandom >"$d/640x360.y"
    local isas=()
    grep -qw avx512f /proc/cpuinfo && isas+=(avx512)
    grep -qw avx2 /proc/cpuinfo && isas+=(avx2)
    answer "espcn-cli -m weights/<m>.safetensors --backend cpu-fast --threads 2 --precision <p> --raw-in WxH --repeat N -v: mean of N frames after one warm-up"
    answer "planner: the plan measured first (ESPCN_TUNE_CACHE, 12 frames), then the timed run reads it; forced: ESPCN_CPU_TUNE=0 ESPCN_CPU_ISA=<isa>"
    for m in lrnet-x2 lrnet-x3 lrnet-x4; do
        for size in 640x360 1920x1080; do
            [ $m = lrnet-x2 ] || [ $size = 1920x1080 ] || continue
            [ $size = 640x360 ] && reps=20 || reps=4
            for p in fp32 bf16; do
                [ $m = lrnet-x2 ] || [ $p = fp32 ] || continue
                local args=(-m "weights/$m.safetensors" --backend cpu-fast --threads 2 --precision $p
                            --raw-in "$size" -i "$d/$size.y" -o "$d/out.y")
                env ESPCN_TUNE_CACHE="$d/tune.cache" "$bundle/bin/espcn-cli" "${args[@]}" --repeat 12 >/dev/null 2>&1
                cpu_row "$m $size $p planner" ESPCN_TUNE_CACHE="$d/tune.cache" -- "${args[@]}" --repeat $reps
                if [ $m = lrnet-x2 ]; then
                    for isa in "${isas[@]}"; do
                        cpu_row "$m $size $p ESPCN_CPU_ISA=$isa" ESPCN_CPU_TUNE=0 ESPCN_CPU_ISA=$isa -- "${args[@]}" --repeat $reps
                    done
                fi
            done
        done
    done
    # Peers: OpenVINO is not in the image and nothing can be installed there
    # (no network; the 64 MiB transfer); ONNX Runtime where the image has it.
    answer "peers: OpenVINO: not measured (not in the GPU image; no network there, and the 64 MiB transfer limit rules out carrying it)."
    local ort rc
    ort=$(python3 bench/ort_peer_cpu.py --models lrnet-x2 --sizes 640x360,1920x1080 --threads 2 --min-time 1.0 2>&1)
    rc=$?
    echo "$ort"
    if [ $rc -eq 0 ]; then
        answer "ONNX Runtime (python3 bench/ort_peer_cpu.py --models lrnet-x2 --sizes 640x360,1920x1080 --threads 2; not bench/cpu_peers.py's interleaved rounds):"
        answer "$(grep 'best' <<<"$ort")"
    else
        answer "ONNX Runtime: not measured: $(tail -n 1 <<<"$ort")"
    fi
}

step_tests() {
    STEP_NAME=tests
    local t rc=0 out
    for t in test_cudnn_loader test_cuda_kernels test_cuda_backend; do
        out=$(gtest_no_skip "$bundle/bin/$t" 2>&1)
        local r=$?
        echo "$out"
        if [ $r -eq 0 ]; then
            answer "$t: $(grep '^\[  PASSED  \]' <<<"$out" | tail -n 1 | tr -s ' ')"
        else
            answer "$t: FAILED: $(grep -E '^\[  (FAILED|SKIPPED) \]' <<<"$out" | sort -u | head -n 8 | tr '\n' ' ')$(tail -n 1 <<<"$out")"
        fi
        [ $r -eq 0 ] || rc=1
    done
    # CUDA frames in FFmpeg (section 7 of the filter test), if time is left.
    out=$(ESPCN_FILTER_TEST_SECTIONS=7 bash tests/ffmpeg/test_filter.sh "$bundle/bin/ffmpeg" "$bundle/bin/ffprobe" \
          "$bundle/bin/espcn-cli" "$bundle/bin/espcn-make-model" 2>&1)
    local r=$?
    echo "$out"
    answer "tests/ffmpeg/test_filter.sh section 7 (CUDA frames): $(tail -n 1 <<<"$out")"
    [ $r -eq 0 ] || rc=1
    return $rc
}

step_accuracy() {
    STEP_NAME=accuracy
    local models rc out m
    # The defaults first (they answer the most), then the other shipped models.
    models=$(for m in lrnet-x2 lrnet-x3 lrnet-x4 espcn-x2 espcn-x3 espcn-x4 fsrcnn-x2 fsrcnn-x3 fsrcnn-x4; do
                 [ -f "weights/$m.safetensors" ] && printf 'weights/%s.safetensors,' "$m"; done)
    out=$("$bundle/bin/espcn-compare" --models "${models%,}" --backend cuda --precisions fp32,fp16 \
          --size 1920x1080 --bits 8,10,16 --deadline $((STEP_CAP - 20)) --csv "$work/logs/accuracy.csv" 2>&1)
    rc=$?
    echo "$out"
    answer "command: espcn-compare --models <every weights/*-x[234].safetensors> --backend cuda --precisions fp32,fp16 --size 1920x1080 --bits 8,10,16 --deadline $((STEP_CAP - 20))"
    answer "$out"
    [ $rc -eq 4 ] && answer "partial: models left out by the deadline are marked 'not run'"
    [ $rc -eq 0 ] || [ $rc -eq 4 ]
}

# sanitize TOOL LABEL COMMAND...: one compute-sanitizer run, its verdict as an answer line.
sanitize() {
    local tool=$1 label=$2 cs log verdict rc
    shift 2
    cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -n 1)
    if [ -z "$cs" ]; then answer "$tool $label: skipped: compute-sanitizer not found"; return 3; fi
    log=$work/logs/sanitizer-$tool-$label.log
    local extra=()
    [ "$tool" = memcheck ] && extra=(--leak-check full)
    "$cs" --tool "$tool" "${extra[@]}" --error-exitcode 99 "$@" >"$log" 2>&1
    rc=$?
    tail -n 20 "$log"
    verdict=$(sanitizer_verdict "$tool" "$log")
    local v=$?
    [ $v -eq 0 ] && [ $rc -ne 0 ] && verdict="FAILED: exit $rc (the program failed under the tool)" && v=1
    answer "$tool, $label: $verdict"
    return $v
}

step_sanitizers() {
    STEP_NAME=sanitizers
    export ESPCN_CUDNN_SEARCH=heuristic  # cuDNN's benchmark under the tool would take minutes
    local filter='CudaBackend.FrameQueueEqualsTheSynchronousCallsAcrossSizeChanges:CudaBackend.DeviceFramesOnTheCallersStreamEqualHostFrames:CudaBackend.WholeNetworkFp16*'
    local rc=0 r
    answer "ESPCN_CUDNN_SEARCH=heuristic; test_cuda_backend --gtest_filter=$filter"
    sanitize memcheck test_cuda_backend "$bundle/bin/test_cuda_backend" --gtest_filter="$filter"
    r=$?
    [ $r -eq 3 ] && return 3  # refused by this machine: the rest would be too
    [ $r -eq 0 ] || rc=1
    sanitize initcheck test_cuda_backend "$bundle/bin/test_cuda_backend" --gtest_filter="$filter" || rc=1
    sanitize memcheck ffmpeg_cuda_frames "$bundle/bin/ffmpeg" -hide_banner -nostdin -loglevel error \
        -init_hw_device cuda=gpu -filter_hw_device gpu -f lavfi -i testsrc2=size=320x180:rate=10 -frames:v 4 \
        -vf "format=nv12,hwupload_cuda,espcn=scale=2,hwdownload,format=nv12" -f null - || rc=1
    return $rc
}

write_results() {
    local file=$1 line name cap q what
    {
        echo "# scripts/gpu_check.sh --run: the first GPU run's answers (issue 21)"
        echo "# $(date '+%Y-%m-%d %H:%M:%S %Z'), $((SECONDS - t_run)) s of the ${GPU_CHECK_BUDGET_S} s budget; repository $(git rev-parse HEAD 2>/dev/null || echo 'no git')"
        echo "# steps (performance first; status, time, question):"
        printf '#   %s\n' "${summary[@]}"
        for line in "${GPU_CHECK_STEPS[@]}"; do
            IFS='|' read -r name cap q what <<<"$line"
            echo
            case $q in
                a) echo "## (a) accuracy: every shipped model, cuda fp32 and fp16 vs the reference backend, 1920x1080 luma, 8/10/16 bits" ;;
                b) echo "## (b) compute-sanitizer" ;;
                c) [ "$name" = device_fps ] && echo "## (c) device-resident fps at 1920x1080 (espcn)" || echo "## (c) the PyTorch peer, same networks (fp16 channels_last CUDA graph)" ;;
                d) echo "## (d) ffmpeg -vf espcn end to end, 1080p x2" ;;
                e) echo "## (e) concurrent 1080p30 -> 2160p streams" ;;
                cpu) echo "## espcn's CPU path on this host (issue 19)" ;;
                *) echo "## $name: $what" ;;
            esac
            if [ -s "$work/answers/$name.txt" ]; then cat "$work/answers/$name.txt"; else echo "(no answer: see logs.tar.gz)"; fi
        done
        # (c) side by side: espcn fp16 dev luma against PyTorch's graph, per model.
        if [ -f "$work/logs/pytorch-peer.csv" ]; then
            echo
            echo "## (c) side by side (fps at 1920x1080 input; espcn: device luma plane in and out, PyTorch: fp16 tensor in and out)"
            python3 - "$work/logs" <<'PYEOF'
import csv, glob, os, sys
d = sys.argv[1]
peer = {row["model"].replace(".safetensors", ""): float(row["fps"]) for row in csv.DictReader(open(os.path.join(d, "pytorch-peer.csv")))}
print(f"{'model':10s} {'espcn fp32':>11s} {'espcn fp16':>11s} {'PyTorch fp16 graph':>19s} {'espcn fp16 / PyTorch':>21s}")
for m in ("lrnet-x2", "lrnet-x3", "lrnet-x4"):
    ours = {}
    p = os.path.join(d, f"espcn-bench-{m}.csv")
    if os.path.exists(p):
        ours = {row["precision"]: float(row["dev_luma_fps"]) for row in csv.DictReader(open(p))}
    pt = peer.get(m)
    ratio = f"{ours['fp16'] / pt:.2f}x" if pt and "fp16" in ours else "-"
    print(f"{m:10s} {ours.get('fp32', float('nan')):11.1f} {ours.get('fp16', float('nan')):11.1f} "
          f"{pt if pt else float('nan'):19.1f} {ratio:>21s}")
PYEOF
        fi
        echo
        echo "## the run: $([ $failures -eq 0 ] && echo "every step passed" || echo "$failures step(s) did not pass")"
    } >"$file"
}

run() {
    # 1. A GPU, or stop here (nothing written).
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
    mkdir -p "$work/logs" "$work/answers"
    if [ ! -d "$bundle/bin" ]; then  # as --prepare leaves it: packed
        [ -f "$bundle/$packed" ] || die "$bundle has neither bin/ nor $packed: run scripts/gpu_check.sh --prepare again"
        mkdir "$work/bundle"
        tar -C "$work/bundle" -xJf "$bundle/$packed" 2>/dev/null ||
            python3 -c 'import sys, tarfile; t = tarfile.open(sys.argv[1]); t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "data_filter") else {}))' \
                "$bundle/$packed" "$work/bundle" ||
            die "cannot unpack $bundle/$packed (neither tar -J nor python3's tarfile)"
        cp "$bundle/MANIFEST.txt" "$work/bundle/"
        bundle=$work/bundle
        echo "gpu_check: unpacked $packed into $bundle"
    fi
    export ESPCN_GPU_REQUIRED=1 PYTHONUNBUFFERED=1
    export bundle root work image_libs
    export -f elf_files gtest_no_skip answer cpu_row sanitize sanitizer_verdict \
        step_env step_device_fps step_pytorch step_streams step_ffmpeg step_cpu step_tests step_accuracy step_sanitizers
    local line name cap q what i=0
    for line in "${GPU_CHECK_STEPS[@]}"; do
        IFS='|' read -r name cap q what <<<"$line"
        i=$((i + 1))
        step "$i" "$name" "$cap" "$q" "$what"
    done
    write_results "$results/gpu-check-results.txt"
    cp "$results/gpu-check-results.txt" "$work/logs/"
    tar -C "$work" -czf "$results/logs.tar.gz" logs answers
    cat "$results/gpu-check-results.txt"
    echo "gpu_check: $((SECONDS - t_run)) s; results in $results (gpu-check-results.txt, logs.tar.gz)"
    [ $failures -eq 0 ]
}

case $mode in
    prepare) prepare ;;
    plan) gpu_check_plan ;;
    run) run ;;
esac
