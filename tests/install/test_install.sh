#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a C
# consumer twice: with pkg-config flags and with find_package(espcn). The
# library must find its shipped models by itself (no ESPCN_MODEL_DIR) in the
# prefix, in the same prefix moved elsewhere, and in the build tree.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset ESPCN_MODEL_DIR
cmake --install "$build" --prefix "$work/prefix" >/dev/null
pc=$(find "$work/prefix" -name espcn.pc | head -n 1)
export PKG_CONFIG_PATH=${pc%/*}
libdir=$(pkg-config --variable=libdir espcn)
cc -std=c99 -Wall -Wextra -Werror "$src/consumer.c" -o "$work/consumer-pc" \
    $(pkg-config --cflags --libs espcn) -Wl,-rpath,"$libdir"
"$work/consumer-pc" "$work/prefix/share/espcn/models"
cmake -S "$src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer" "$work/prefix/share/espcn/models"
# Relocated: the same files under another prefix (the old rpath is gone).
mv "$work/prefix" "$work/moved"
LD_LIBRARY_PATH=$work/moved/${libdir#"$work/prefix/"} "$work/consumer-pc" "$work/moved/share/espcn/models"
# The build tree (lib/ and share/espcn/models/ side by side, as installed).
build_lib=$(dirname "$(find -H "$build" -maxdepth 3 -name 'libespcn.so' -not -path '*/CMakeFiles/*' | head -n 1)")
LD_LIBRARY_PATH=$build_lib "$work/consumer-pc" "$build/share/espcn/models"
echo "test_install: 4 passed, 0 failed"
