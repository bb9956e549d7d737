#!/usr/bin/env bash
# Installs libespcn, its tools and shipped models, and the patched ffmpeg and
# ffprobe, so that `ffmpeg -i in.mp4 -vf espcn=scale=2 out.mp4` works from PATH
# in a new shell (no ESPCN_MODEL_DIR needed: libespcn finds its models
# relative to itself, and ffmpeg finds libespcn relative to itself).
#
#   scripts/install.sh [--prefix DIR] [--series 5.1|7.1|8.1|9.0]
#
# --prefix  where to install (default /usr/local): DIR/bin/{ffmpeg,ffprobe,
#           espcn-cli,...}, DIR/lib/libespcn.so*, DIR/include/espcn/,
#           DIR/share/espcn/models/. The installed tree can be moved as a whole.
# --series  the FFmpeg series to build (default 7.1; ESPCN_FFMPEG_SERIES too).
# Builds what is missing first (scripts/build_ffmpeg.sh: build/release and
# build/ffmpeg-<series>); installs missing Debian packages like the other scripts.
set -euo pipefail
caller_pwd=$PWD
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "install.sh: $*" >&2; exit 1; }
prefix=/usr/local series=${ESPCN_FFMPEG_SERIES:-7.1}
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a value"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --series) [ $# -ge 2 ] || die "--series needs a value"; series=$2; shift 2 ;;
        --series=*) series=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
case $prefix in /*) ;; *) prefix=$caller_pwd/$prefix ;; esac

espcn_install_deps
scripts/build_ffmpeg.sh --series "$series"
bdir=build/ffmpeg-$series

mkdir -p "$prefix/bin" || die "cannot create $prefix/bin"
cmake --install build/release --prefix "$prefix" >/dev/null || die "cmake --install build/release failed"
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' build/release/CMakeCache.txt)
[ -n "$libdir" ] && ls "$prefix/$libdir"/libespcn.so.* >/dev/null 2>&1 || die "no libespcn.so in $prefix/${libdir:-lib}"
for tool in ffmpeg ffprobe; do
    install -m 755 "$bdir/$tool" "$prefix/bin/$tool.new"
    # The build links libespcn by an absolute rpath into the build tree;
    # the installed binary looks next to itself instead.
    patchelf --set-rpath "\$ORIGIN/../$libdir" "$prefix/bin/$tool.new"
    mv -f "$prefix/bin/$tool.new" "$prefix/bin/$tool"
done

# Proof, in a clean environment: the installed ffmpeg loads the installed
# libespcn, which finds the default x2 model by itself.
check=$(env -u ESPCN_MODEL_DIR -u LD_LIBRARY_PATH "$prefix/bin/ffmpeg" -hide_banner -nostdin -loglevel error \
        -f lavfi -i color=s=32x18:d=0.04 -vf espcn=scale=2 -f framemd5 - 2>&1) ||
    die "the installed ffmpeg could not run espcn: $check"
lib=$(env -u LD_LIBRARY_PATH ldd "$prefix/bin/ffmpeg" | awk '/libespcn/{print $3}')
echo "== installed into $prefix"
echo "   $prefix/bin/ffmpeg (FFmpeg $series, espcn filter; libespcn: $lib)"
echo "   models: $prefix/share/espcn/models (default-x2/x3/x4 and every shipped model)"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "   add it to PATH: export PATH=$prefix/bin:\$PATH" ;; esac
echo "   try: ffmpeg -i in.mp4 -vf espcn=scale=2 out.mp4"
