#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, runs
# every test; builds FFmpeg (series $ESPCN_FFMPEG_SERIES, default 7.1) with
# the espcn filter and runs the ffmpeg tests and the Ray cluster test (label
# cluster); then builds the engine with ASan + UBSan and runs the unit tests
# again; then builds the libFuzzer targets (clang) and runs each for
# $ESPCN_FUZZ_SECONDS (default 60) seconds under a 2 GB memory limit. The
# ONNX and cluster tests use build/venv-cluster (PyPI packages,
# scripts/python_env.sh).
# Usage: scripts/test.sh [--no-sanitize] [--no-ffmpeg] [--no-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
no_sanitize=0 no_ffmpeg=0 no_fuzz=0
for a in "$@"; do
    case $a in
        --no-sanitize) no_sanitize=1 ;;
        --no-ffmpeg) no_ffmpeg=1 ;;
        --no-fuzz) no_fuzz=1 ;;
        *) echo "usage: scripts/test.sh [--no-sanitize] [--no-ffmpeg] [--no-fuzz]" >&2; exit 2 ;;
    esac
done

t_start=$(date +%s)
# "== [elapsed] what": where the time goes, in CI's log too.
stage() { local s=$(($(date +%s) - t_start)); printf '== [%dm%02ds] %s\n' $((s / 60)) $((s % 60)) "$*"; }

source scripts/lib/deps.sh
espcn_install_deps
jobs=$(espcn_jobs)

# The commit-msg hook (scripts/hooks/commit-msg: warns, never refuses, above
# 72 characters), where this is a git checkout with no commit-msg hook and no
# core.hooksPath of its own: a wrapper that runs the file of the checkout
# being committed in (so it never goes stale). Nothing happens without git.
if hooks=$(git rev-parse --git-path hooks 2>/dev/null) && [ -z "$(git config core.hooksPath)" ] &&
        [ ! -e "$hooks/commit-msg" ] && mkdir -p "$hooks"; then
    printf '%s\n' '#!/bin/sh' \
        "# Installed by espcn's scripts/test.sh: the checkout's scripts/hooks/commit-msg." \
        'hook="$(git rev-parse --show-toplevel)/scripts/hooks/commit-msg"' \
        '[ -x "$hook" ] && exec "$hook" "$@"' 'exit 0' >"$hooks/commit-msg"
    chmod +x "$hooks/commit-msg"
    stage "commit-msg hook installed: $hooks/commit-msg runs scripts/hooks/commit-msg"
fi

stage "Python venv of the ONNX converters and the Ray tool (build/venv-cluster)"
cluster_python=$(scripts/python_env.sh | tail -n 1)

stage "release build (-Werror)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DESPCN_WERROR=ON \
    -DESPCN_CLUSTER_PYTHON="$cluster_python"
cmake --build build/release -j "$jobs"
stage "unit tests"
ctest --test-dir build/release --output-on-failure -j "$jobs" -LE 'ffmpeg|cluster|community'

if [ $no_ffmpeg -eq 0 ]; then
    series=${ESPCN_FFMPEG_SERIES:-7.1}
    stage "FFmpeg $series with the espcn filter"
    scripts/build_ffmpeg.sh --series "$series" --jobs "$jobs"
    cmake -S . -B build/release -DESPCN_FFMPEG_BUILD_DIR="$PWD/build/ffmpeg-$series" \
        -DESPCN_FFMPEG_ESPCN_PREFIX="$PWD/build/espcn-prefix" >/dev/null
    stage "ffmpeg tests"
    ctest --test-dir build/release --output-on-failure -L ffmpeg
    stage "cluster test (a two-node Ray cluster on this machine)"
    ctest --test-dir build/release --output-on-failure -L cluster
fi

stage "oneDNN 3.x API check (Debian 13 headers)"
rc=0; scripts/check_onednn3.sh || rc=$?
if [ $rc -eq 3 ]; then echo "   skipped: Debian 13's libdnnl-dev could not be fetched"; elif [ $rc -ne 0 ]; then exit $rc; fi

stage "Highway 1.2 check of the cpu-fast kernels (Debian 13 headers)"
rc=0; scripts/check_highway13.sh || rc=$?
if [ $rc -eq 3 ]; then echo "   skipped: Debian 13's libhwy-dev could not be fetched"; elif [ $rc -ne 0 ]; then exit $rc; fi

if [ $no_sanitize -eq 0 ]; then
    stage "ASan + UBSan build of the engine, unit tests"
    cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESPCN_WERROR=ON \
        -DESPCN_SANITIZE=address,undefined -DESPCN_WITH_CUDA=OFF \
        -DESPCN_BUILD_BENCH=OFF -DESPCN_BUILD_CLI=OFF
    cmake --build build/sanitize -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir build/sanitize -L unit --output-on-failure -j "$jobs"
fi
if [ $no_fuzz -eq 0 ]; then
    seconds=${ESPCN_FUZZ_SECONDS:-60}
    stage "libFuzzer targets (clang, ASan + UBSan): seeds, then ${seconds}s each"
    CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DESPCN_WERROR=ON -DESPCN_BUILD_FUZZERS=ON -DESPCN_SANITIZE=address,undefined \
        -DESPCN_WITH_CUDA=OFF -DESPCN_BUILD_TESTS=OFF -DESPCN_BUILD_BENCH=OFF -DESPCN_BUILD_CLI=OFF
    cmake --build build/fuzz -j "$jobs"
    ctest --test-dir build/fuzz -L fuzz --output-on-failure
    tests/fuzz/run_fuzzers.sh build/fuzz "$seconds"
fi
stage "scripts/test.sh: all passed"
