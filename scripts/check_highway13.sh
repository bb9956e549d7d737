#!/usr/bin/env bash
# Compiles the cpu-fast kernels against Debian 13's Highway (libhwy-dev 1.2,
# fetched with a private apt state and unpacked, not installed) with the
# target set kernels/CMakeLists.txt gives that version, so the code written on
# Debian 12's Highway 1.0.3 keeps building on 13. Compile check only (no link:
# the 1.2 library is not installed here).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/private_apt.sh
suite=${ESPCN_HIGHWAY_SUITE:-trixie}
work=${TMPDIR:-/tmp}/espcn-highway-$suite
espcn_unpack_packages "$work" "$suite" "" libhwy-dev || exit 3
inc="$work/root/usr/include"
version=$(awk '/^#define HWY_MAJOR/{a=$3} /^#define HWY_MINOR/{b=$3} END{print a "." b}' "$inc/hwy/base.h")
echo "== Highway $version headers from $suite's libhwy-dev"
# The same disabled targets as kernels/CMakeLists.txt for Highway >= 1.1.
disabled="HWY_SSSE3|HWY_AVX3_DL|HWY_SVE|HWY_SVE2|HWY_SVE_256|HWY_SVE2_128|HWY_RVV|HWY_AVX3_ZEN4|HWY_AVX3_SPR"
for src in kernels/cpu/fast/fast_kernels.cpp kernels/cpu/fast/fast_kernels_blocking.cpp kernels/cpu/fast/fast_backend.cpp \
           kernels/cpu/fast/fast_tuner.cpp kernels/cpu/fast/fast_weights.cpp; do
    g++ -std=c++20 -c -o /dev/null -O1 -fopenmp -Wall -Wextra -Wpedantic -Wshadow -Werror \
        "-DHWY_DISABLED_TARGETS=($disabled)" -isystem "$inc" -Ikernels/include -Ikernels "$src"
    echo "   $src: ok"
done
