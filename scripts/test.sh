#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, runs
# every test; then builds the engine with ASan + UBSan and runs the unit tests
# again. Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
espcn_install_deps
jobs=$(espcn_jobs)

echo "== release build (-Werror)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DESPCN_WERROR=ON
cmake --build build/release -j "$jobs"
echo "== all tests"
ctest --test-dir build/release --output-on-failure -j "$jobs"

echo "== oneDNN 3.x API check (Debian 13 headers)"
rc=0; scripts/check_onednn3.sh || rc=$?
if [ $rc -eq 3 ]; then echo "   skipped: Debian 13's libdnnl-dev could not be fetched"; elif [ $rc -ne 0 ]; then exit $rc; fi

if [ "${1:-}" != "--no-sanitize" ]; then
    echo "== ASan + UBSan build of the engine, unit tests"
    cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESPCN_WERROR=ON \
        -DESPCN_SANITIZE=address,undefined -DESPCN_WITH_CUDA=OFF \
        -DESPCN_BUILD_BENCH=OFF -DESPCN_BUILD_CLI=OFF
    cmake --build build/sanitize -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir build/sanitize -L unit --output-on-failure -j "$jobs"
fi
echo "== scripts/test.sh: all passed"
