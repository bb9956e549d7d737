#!/usr/bin/env bash
# Compiles filter/example/espcn_transcode.c against an FFmpeg build tree (its
# uninstalled pkg-config files) and an installed espcn, with -Werror.
#   build_example.sh FFMPEG_BUILD_DIR ESPCN_PREFIX SOURCE OUTPUT
set -euo pipefail
ffbuild=$1 prefix=$2 src=$3 out=$4
pc=$(dirname "$(find "$prefix" -name espcn.pc | head -n 1)")
export PKG_CONFIG_PATH=$ffbuild/doc/examples/pc-uninstalled:$pc
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -I "$ffbuild" "$src" -o "$out" \
    $(pkg-config --static --cflags --libs libavformat libavfilter libavcodec libswscale libavutil) \
    -Wl,-rpath,"$(pkg-config --variable=libdir espcn)"
