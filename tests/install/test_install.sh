#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a C
# consumer twice: with pkg-config flags and with find_package(espcn).
# Usage: test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
pc_dir=$(dirname "$(find "$work/prefix" -name espcn.pc | head -n 1)")
export PKG_CONFIG_PATH=$pc_dir
cc -std=c99 -Wall -Wextra -Werror "$src/consumer.c" -o "$work/consumer-pc" \
    $(pkg-config --cflags --libs espcn) -Wl,-rpath,"$(pkg-config --variable=libdir espcn)"
"$work/consumer-pc"
cmake -S "$src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer"
echo "test_install: 2 passed, 0 failed"
