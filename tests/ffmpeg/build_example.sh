#!/usr/bin/env bash
# Compiles filter/example/espcn_transcode.c against an FFmpeg build tree (its
# uninstalled pkg-config files) and an installed espcn, with -Werror.
#   build_example.sh FFMPEG_BUILD_DIR ESPCN_PREFIX SOURCE OUTPUT
set -euo pipefail
ffbuild=$1 prefix=$2 src=$3 out=$4
pc=$(dirname "$(find "$prefix" -name espcn.pc | head -n 1)")
export PKG_CONFIG_PATH=$ffbuild/doc/examples/pc-uninstalled:$pc
# Where scripts/build_ffmpeg.sh found what FFmpeg was configured with (ffnvcodec).
if [ -f "$ffbuild/espcn-extra-pkgconfig-path" ]; then
    PKG_CONFIG_PATH=$PKG_CONFIG_PATH:$(cat "$ffbuild/espcn-extra-pkgconfig-path")
fi
flags=$(pkg-config --static --cflags --libs libavformat libavfilter libavcodec libswscale libavutil)
# The uninstalled .pc files name the headers relative to the build tree (src/).
cd "$ffbuild"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -I "$ffbuild" "$src" -o "$out" $flags \
    -Wl,-rpath,"$(pkg-config --variable=libdir espcn)"
