#!/usr/bin/env bash
# Opt-in check (not in scripts/test.sh or CI): the cpu-fast kernels compiled
# for aarch64 (Highway's NEON target) with Debian's cross toolchain and their
# unit tests run under qemu-user. The arm64 libraries (Highway, libpng, zlib,
# GoogleTest, nlohmann-json) are downloaded with a private apt state and
# unpacked, not installed, into a sysroot under build/; the system's apt
# configuration and dpkg architectures are not touched. Only correctness
# means anything here: qemu's timing says nothing about a real ARM CPU.
#   scripts/check_neon.sh [--build-dir DIR]
# Exit: 0 all passed, 1 a build or test failure, 3 packages could not be fetched.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=build/aarch64
while [ $# -gt 0 ]; do
    case $1 in
    --build-dir) build=$2; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "check_neon: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case $build in /*) ;; *) build=$root/$build ;; esac
suite=${ESPCN_NEON_SUITE:-bookworm}
sysroot=$build/arm64/root  # espcn_unpack_packages unpacks there
started=$(date +%s)
source scripts/lib/private_apt.sh

# --- 1. the cross toolchain and qemu, from the system's own apt ------------
need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || need+=(qemu-user)
command -v cmake >/dev/null || need+=(cmake)
command -v ninja >/dev/null || need+=(ninja-build)
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    apt-get install -y --no-install-recommends "${need[@]}" || {
        echo "check_neon: could not install ${need[*]}" >&2; exit 3; }
fi
qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)

# --- 2. the arm64 libraries, unpacked into a sysroot ------------------------
# Runtime + -dev packages the engine and its tests link (libgtest-dev ships
# static libraries; nlohmann-json3-dev is headers, Architecture: all).
packages=(libhwy-dev libhwy1 libpng-dev libpng16-16 zlib1g zlib1g-dev libgtest-dev nlohmann-json3-dev)
echo "== arm64 packages from $suite: ${packages[*]}"
unfetched() { echo "check_neon: the arm64 packages could not be fetched from $suite (exit 3)" >&2; exit 3; }
espcn_unpack_packages "$build/arm64" "$suite" arm64 "${packages[@]}" >/dev/null || unfetched
# The cross toolchain's C/C++/OpenMP runtime and loader, linked in where
# qemu-aarch64 -L and the arm64 loader look for them.
mkdir -p "$sysroot/lib/aarch64-linux-gnu"
for lib in /usr/aarch64-linux-gnu/lib/*.so*; do ln -sf "$lib" "$sysroot/lib/aarch64-linux-gnu/"; done
ln -sf /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 "$sysroot/lib/ld-linux-aarch64.so.1"
hwy_version=$(awk '/^#define HWY_MAJOR/{a=$3} /^#define HWY_MINOR/{b=$3} /^#define HWY_PATCH/{c=$3} END{print a "." b "." c}' \
    "$sysroot"/usr/include/hwy/{highway,base}.h)

# --- 3. cross-configure and build the tests that exercise cpu-fast --------
tests=(test_cpu_fast test_backends test_shuffle test_c_api test_plane_resample test_deconv_fixture)
echo "== configuring $build/cmake (aarch64-linux-gnu, Highway $hwy_version)"
nice -n 15 cmake -S . -B "$build/cmake" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-aarch64-linux-gnu.cmake" \
    -DESPCN_AARCH64_SYSROOT="$sysroot" -DCMAKE_BUILD_TYPE=Release -DESPCN_WERROR=ON \
    -DESPCN_WITH_ONEDNN=OFF -DESPCN_WITH_CUDA=OFF -DESPCN_BUILD_BENCH=OFF -DESPCN_BUILD_CLI=OFF \
    >"$build/configure.log" 2>&1 || { tail -n 30 "$build/configure.log"; echo "check_neon: configure failed" >&2; exit 1; }
echo "== building ${tests[*]} (nice -n 15 ninja -j1)"
nice -n 15 ninja -C "$build/cmake" -j1 "${tests[@]}" >"$build/build.log" 2>&1 ||
    { tail -n 40 "$build/build.log"; echo "check_neon: build failed (log: $build/build.log)" >&2; exit 1; }
built=$(date +%s)

# --- 4. run them under qemu-user ---------------------------------------------
# qemu's default CPU for linux-user (all it emulates, NEON included); the
# scalable SVE targets are not compiled (kernels/CMakeLists.txt).
summary=()
failed=0
for t in "${tests[@]}"; do
    log=$build/$t.log
    t0=$(date +%s)
    if (cd "$build/cmake/tests" && nice -n 15 "$qemu" -L "$sysroot" "./$t" --gtest_brief=1) >"$log" 2>&1; then
        result=PASS
    else
        result=FAIL; failed=$((failed + 1)); tail -n 30 "$log"
    fi
    counts=$(grep -E '^\[ *(PASSED|SKIPPED|FAILED) *\] [0-9]+ tests?[,.]' "$log" |
        sed -E 's/^\[ *([A-Z]+) *\] ([0-9]+) tests?.*/\2 \1/' | tr '\n' ' ' || true)
    summary+=("$(printf '%-22s %s  %s(%ss)' "$t" "$result" "$counts" $(($(date +%s) - t0)))")
done

# --- 5. summary ---------------------------------------------------------------
targets=$(grep -h '^cpu-fast target:' "$build/test_cpu_fast.log" 2>/dev/null | sed 's/^cpu-fast target: //' | paste -sd ';' - || true)
echo
echo "== check_neon summary ($(date -u +%F), $(aarch64-linux-gnu-g++ -dumpfullversion) cross, $($qemu --version | head -n 1), Highway $hwy_version from $suite)"
echo "   cpu-fast targets run: ${targets:-unknown (see $build/test_cpu_fast.log)}; SVE targets not compiled (kernels/CMakeLists.txt)"
for line in "${summary[@]}"; do echo "   $line"; done
echo "   build $((built - started))s, tests $(($(date +%s) - built))s (qemu: timing is meaningless)"
if [ "$failed" -gt 0 ]; then
    echo "check_neon: FAIL ($failed of ${#tests[@]} test binaries failed; logs in $build)"
    exit 1
fi
echo "check_neon: PASS"
