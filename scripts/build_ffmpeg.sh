#!/usr/bin/env bash
# Builds a lean FFmpeg with the espcn filter (issue #3) against libespcn.
#
#   scripts/build_ffmpeg.sh [--series 5.1|7.1|8.1|9.0] [--espcn-prefix DIR] [--jobs N] [--debug]
#                           [--cuda-frames auto|on|off] [--build-dir DIR] [--check-filter]
#
# --series        FFmpeg series (default 7.1; with FFMPEG_SOURCE_DIR set and no
#                 --series, the series of that tree). 5.1 = Debian 12, 7.1 = 13,
#                 8.1 = sid, 9.0 = forky; sources come from those suites.
# --espcn-prefix  an installed espcn (with lib*/pkgconfig/espcn.pc). Default:
#                 build build/release as scripts/test.sh does and install it
#                 into build/espcn-prefix.
# --jobs          parallel jobs (default: all cores).
# --debug         keep debug symbols (default: --disable-debug).
# --cuda-frames   build FFmpeg with ffnvcodec (CUDA frames: hwupload_cuda,
#                 -hwaccel cuda, nvenc; all loaded from the NVIDIA driver at run
#                 time). The headers are the suite's libffmpeg-nvenc-dev,
#                 fetched like the source. auto (default): if they can be fetched.
# --build-dir     where to configure and build (default build/ffmpeg-<series>);
#                 e.g. scripts/gpu_check.sh builds against its own libespcn there.
# --check-filter  configure, then compile only libavfilter/vf_espcn.o: checks
#                 the filter source against a series in a minute or two.
#
# Environment: FFMPEG_SOURCE_DIR (a local FFmpeg tree to use instead of the
# Debian source; copied, never modified), ESPCN_FILTER_DIR (where vf_espcn.c
# and espcn_compat.h come from, and espcn.texi if it has one; default filter/),
# ESPCN_FFMPEG_REFRESH=1 (ask the Debian suite again for its current FFmpeg
# version).
#
# Writes: build/ffmpeg-src/<series>/ (tarball and the patched tree),
# build/ffmpeg-<series>/ (out-of-tree build; ffmpeg and ffprobe). The patches
# are plumbing only; the filter's source and its documentation (espcn.texi,
# the one source of it, as doc/filters.texi's @section espcn) are put into the
# tree from filter/ on every run. Runs again
# incrementally: nothing is fetched, unpacked or configured again unless its
# inputs changed; an edited filter source only recompiles that file.
set -euo pipefail
caller_pwd=$PWD
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/deps.sh
source scripts/lib/ffmpeg_source.sh
source scripts/lib/ffnvcodec.sh

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "build_ffmpeg.sh: $*" >&2; exit 1; }
abspath() { case $1 in /*) echo "$1" ;; *) echo "$caller_pwd/$1" ;; esac; }

series='' espcn_prefix='' jobs='' debug=0 cuda_frames=auto build_dir='' check_filter=0
while [ $# -gt 0 ]; do
    case $1 in
        --series) [ $# -ge 2 ] || die "--series needs a value"; series=$2; shift 2 ;;
        --series=*) series=${1#*=}; shift ;;
        --espcn-prefix) [ $# -ge 2 ] || die "--espcn-prefix needs a value"; espcn_prefix=$(abspath "$2"); shift 2 ;;
        --espcn-prefix=*) espcn_prefix=$(abspath "${1#*=}"); shift ;;
        --jobs|-j) [ $# -ge 2 ] || die "--jobs needs a value"; jobs=$2; shift 2 ;;
        --jobs=*) jobs=${1#*=}; shift ;;
        --debug) debug=1; shift ;;
        --cuda-frames) [ $# -ge 2 ] || die "--cuda-frames needs a value"; cuda_frames=$2; shift 2 ;;
        --cuda-frames=*) cuda_frames=${1#*=}; shift ;;
        --build-dir) [ $# -ge 2 ] || die "--build-dir needs a value"; build_dir=$(abspath "$2"); shift 2 ;;
        --build-dir=*) build_dir=$(abspath "${1#*=}"); shift ;;
        --check-filter) check_filter=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[ -n "${FFMPEG_SOURCE_DIR:-}" ] && FFMPEG_SOURCE_DIR=$(abspath "$FFMPEG_SOURCE_DIR")
filter_dir=$(abspath "${ESPCN_FILTER_DIR:-$root/filter}")
if [ -z "$series" ]; then
    if [ -n "${FFMPEG_SOURCE_DIR:-}" ]; then
        series=$(espcn_ffmpeg_series_of_tree "$FFMPEG_SOURCE_DIR") || die "cannot tell the series of FFMPEG_SOURCE_DIR"
    else
        series=7.1
    fi
fi
espcn_ffmpeg_suite "$series" >/dev/null || exit 1
case $cuda_frames in auto|on|off) ;; *) die "--cuda-frames wants auto, on or off, not '$cuda_frames'" ;; esac
[ -z "$jobs" ] && jobs=$(espcn_jobs)
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive integer, not '$jobs'"

src_cache=$root/build/ffmpeg-src
tree=$src_cache/$series/tree
bdir=${build_dir:-$root/build/ffmpeg-$series}
patches=("$root"/patches/ffmpeg-"$series"/*.patch)
[ -f "${patches[0]}" ] || die "no patch in patches/ffmpeg-$series/"
for f in vf_espcn.c espcn_compat.h; do
    [ -f "$filter_dir/$f" ] || die "$filter_dir/$f not found: the filter source (issue #3)." \
        "Set ESPCN_FILTER_DIR to a directory holding vf_espcn.c and espcn_compat.h."
done

# --- timing and failure reporting ------------------------------------------
t_start=$EPOCHREALTIME
t_step=$t_start
step='start'
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
begin() { step=$1; t_step=$EPOCHREALTIME; echo "== $step"; }
done_step() { echo "   ${1:-done} ($(elapsed "$t_step"))"; }
on_exit() {
    local rc=$?
    [ $rc -eq 0 ] || echo "build_ffmpeg.sh: FAILED (exit $rc) during: $step; total $(elapsed "$t_start")" >&2
}
trap on_exit EXIT

mkdir -p "$src_cache" "$bdir"
# One build per series at a time.
exec 9>"$bdir.lock"
flock -n 9 || { echo "build_ffmpeg.sh: waiting for another build of FFmpeg $series"; flock 9; }

# --- 1. build dependencies ---------------------------------------------------
begin "build dependencies"
espcn_install_deps || die "could not install the Debian packages: $(espcn_wanted_packages | tr '\n' ' ')"
done_step

# --- 2. libespcn ----------------------------------------------------------------
if [ -z "$espcn_prefix" ]; then
    begin "libespcn: build/release, installed into build/espcn-prefix"
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DESPCN_WERROR=ON >/dev/null ||
        die "cmake configure of build/release failed"
    cmake --build build/release -j "$jobs" || die "building build/release failed"
    espcn_prefix=$root/build/espcn-prefix
    cmake --install build/release --prefix "$espcn_prefix" >/dev/null || die "cmake --install failed"
else
    begin "libespcn: $espcn_prefix"
fi
[ -d "$espcn_prefix" ] || die "--espcn-prefix $espcn_prefix does not exist"
espcn_pc=$(find "$espcn_prefix" -maxdepth 4 -path '*/pkgconfig/espcn.pc' 2>/dev/null | head -n 1)
[ -n "$espcn_pc" ] || die "no lib*/pkgconfig/espcn.pc under $espcn_prefix (is espcn installed there?)"
PKG_CONFIG_PATH=$(dirname "$espcn_pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
pkg-config --exists 'espcn >= 0.1' || die "$espcn_pc: pkg-config does not accept it as espcn >= 0.1"
espcn_libdir=$(realpath -m "$(pkg-config --variable=libdir espcn)")
ls "$espcn_libdir"/libespcn.so* >/dev/null 2>&1 || die "no libespcn.so in $espcn_libdir"
done_step "libespcn $(pkg-config --modversion espcn): $espcn_libdir"

# --- 3. FFmpeg source, patched -------------------------------------------------
begin "FFmpeg $series source"
espcn_ffmpeg_obtain "$series" "$src_cache" || die "could not obtain the FFmpeg $series source"
tree_key="$ESPCN_FFMPEG_SOURCE_ID | patches $(cat "${patches[@]}" | sha256sum | awk '{print $1}')"
if [ -f "$tree/configure" ] && [ "$(cat "$tree.stamp" 2>/dev/null)" = "$tree_key" ]; then
    done_step "unchanged: $tree"
else
    rm -f "$tree.stamp"
    espcn_ffmpeg_copy_pristine "$tree" || die "could not unpack the FFmpeg source into $tree"
    # Unpacked files keep their release mtimes, older than any object built
    # before: only an empty build directory cannot link stale objects.
    rm -rf "$bdir" && mkdir -p "$bdir"
    # --force, not --batch: --batch would silently reverse an already applied patch.
    for p in "${patches[@]}"; do
        if (cd "$tree" && patch -p1 --force --dry-run -s <"$p" >/dev/null); then
            (cd "$tree" && patch -p1 --force -s <"$p") || die "applying $p failed"
        elif (cd "$tree" && patch -p1 -R --force --dry-run -s <"$p" >/dev/null); then
            echo "   ${p#"$root"/} is already applied in this source; skipped"
        else
            (cd "$tree" && patch -p1 --force --dry-run <"$p") >&2 || true
            die "${p#"$root"/} does not apply to $ESPCN_FFMPEG_SOURCE_ID (above)"
        fi
    done
    echo "$tree_key" >"$tree.stamp"
    done_step "$tree (from $ESPCN_FFMPEG_SOURCE_ID)"
fi
# The filter source: copied only when it differs, so make rebuilds just it.
for f in vf_espcn.c espcn_compat.h; do
    cmp -s "$filter_dir/$f" "$tree/libavfilter/$f" || cp "$filter_dir/$f" "$tree/libavfilter/$f"
done
echo "   filter source: $filter_dir/{vf_espcn.c,espcn_compat.h}"
# Its documentation: espcn.texi (its @c header left out) as the section before
# @section estdif, replacing an earlier insertion; written only when it changes.
texi=$filter_dir/espcn.texi
[ -f "$texi" ] || texi=$root/filter/espcn.texi
awk -v texi="$texi" '
    /^@section espcn$/ { skip = 1; next }
    /^@section estdif$/ && !done {
        while ((getline line < texi) > 0) if (line !~ /^@c( |$)/) print line
        done = 1; skip = 0
    }
    skip { next }
    { print }
    END { if (!done) exit 3 }' "$tree/doc/filters.texi" >"$tree/doc/filters.texi.espcn" ||
    die "no @section estdif in $tree/doc/filters.texi to put the espcn section before"
if cmp -s "$tree/doc/filters.texi.espcn" "$tree/doc/filters.texi"; then
    rm -f "$tree/doc/filters.texi.espcn"
else
    mv "$tree/doc/filters.texi.espcn" "$tree/doc/filters.texi"
fi
echo "   filter documentation: ${texi#"$root"/} in doc/filters.texi"

# --- 4. NVIDIA's headers for CUDA frames ----------------------------------------
cuda_cfg=()
rm -f "$bdir/espcn-extra-pkgconfig-path"
if [ "$cuda_frames" != off ]; then
    begin "ffnvcodec headers (CUDA frames)"
    suite=$(espcn_ffmpeg_suite "$series")
    rc=0; nv_pc=$(espcn_ffnvcodec_fetch "$suite" "$src_cache/ffnvcodec-$suite") || rc=$?
    if [ $rc -eq 0 ]; then
        PKG_CONFIG_PATH=$nv_pc:$PKG_CONFIG_PATH
        # Programs built against this FFmpeg (pkg-config --static) need it too.
        echo "$nv_pc" >"$bdir/espcn-extra-pkgconfig-path"
        # shellcheck disable=SC2054
        cuda_cfg=(--enable-ffnvcodec --enable-cuda --enable-nvdec --enable-nvenc
                  --enable-hwaccel=h264_nvdec,hevc_nvdec --enable-encoder=h264_nvenc,hevc_nvenc
                  --enable-filter=hwupload_cuda,hwupload,hwdownload)
        done_step "ffnvcodec $(PKG_CONFIG_PATH=$nv_pc pkg-config --modversion ffnvcodec) from $suite"
    elif [ "$cuda_frames" = on ]; then
        die "--cuda-frames on: $suite's libffmpeg-nvenc-dev could not be fetched"
    else
        done_step "skipped: $suite's libffmpeg-nvenc-dev could not be fetched; no CUDA frames"
    fi
fi

# --- 5. configure (out of tree) --------------------------------------------------
# shellcheck disable=SC2054  # commas inside configure values
cfg=(
    --disable-everything --disable-doc --disable-ffplay
    --disable-autodetect --enable-pthreads --disable-network
    --enable-gpl --enable-libx264 --enable-libespcn --enable-zlib
    --enable-protocol=file,pipe
    # concat (demuxer) and segment (muxer): cluster/espcn_ray.py splits at
    # keyframes and joins the upscaled segments without re-encoding
    --enable-demuxer=mov,matroska,yuv4mpegpipe,rawvideo,image2,image2pipe,image_png_pipe,h264,hevc,concat
    --enable-decoder=h264,hevc,png,rawvideo,wrapped_avframe,aac,pcm_s16le
    --enable-parser=h264,hevc,png,aac
    --enable-muxer=mp4,mov,matroska,yuv4mpegpipe,rawvideo,image2,image2pipe,null,md5,framemd5,segment
    --enable-encoder=libx264,png,rawvideo,wrapped_avframe,aac,pcm_s16le
    --enable-filter=espcn,scale,format,psnr,ssim,split,crop,hstack,vstack,null,nullsrc,testsrc,testsrc2,color,fps,setpts,setsar,pad,showinfo,aresample,anull,sine
    --enable-indev=lavfi
    "--extra-ldflags=-Wl,-rpath,$espcn_libdir"
    "${cuda_cfg[@]}"
)
case $series in 5.1|7.1) cfg+=(--disable-postproc) ;; esac   # libpostproc is gone in 8.x
[ "$debug" -eq 1 ] || cfg+=(--disable-debug)
cfg_key=$(printf '%s\n' "tree: $tree_key" "espcn.pc: $(sha256sum <"$espcn_pc")" \
          "PKG_CONFIG_PATH: $PKG_CONFIG_PATH" "CC: ${CC:-}" "${cfg[@]}")
begin "configure FFmpeg $series in ${bdir#"$root"/}"
if [ -f "$bdir/ffbuild/config.mak" ] && [ "$(cat "$bdir/.espcn-configure" 2>/dev/null)" = "$cfg_key" ]; then
    done_step "unchanged"
else
    rm -f "$bdir/.espcn-configure"
    if ! (cd "$bdir" && "$tree/configure" "${cfg[@]}") >"$bdir/configure.out" 2>&1; then
        tail -n 20 "$bdir/configure.out" >&2
        [ -f "$bdir/ffbuild/config.log" ] && { echo "--- ffbuild/config.log (end)" >&2; tail -n 30 "$bdir/ffbuild/config.log" >&2; }
        die "configure failed; full output: $bdir/configure.out, $bdir/ffbuild/config.log"
    fi
    # configure silently drops a component whose dependencies are unmet, and
    # warns only when a whole --enable-X=list names nothing it knows: check
    # every requested component (espcn included) one by one.
    missing=()
    for opt in "${cfg[@]}"; do
        case $opt in --enable-*=*) ;; *) continue ;; esac
        kind=${opt#--enable-}
        kind=${kind%%=*}
        IFS=, read -ra names <<<"${opt#*=}"
        for n in "${names[@]}"; do
            grep -qx "CONFIG_${n^^}_${kind^^}=yes" "$bdir/ffbuild/config.mak" || missing+=("$kind $n")
        done
    done
    [ ${#missing[@]} -eq 0 ] || die "configure did not enable: $(printf '%s, ' "${missing[@]}")" \
        "an unknown name in FFmpeg $series or an unmet dependency (see $bdir/configure.out)"
    echo "$cfg_key" >"$bdir/.espcn-configure"
    done_step "ok (output: ${bdir#"$root"/}/configure.out)"
fi

# --- 6. build ---------------------------------------------------------------------
if [ $check_filter -eq 1 ]; then
    begin "compile libavfilter/vf_espcn.o (FFmpeg $series, --check-filter)"
    make -C "$bdir" libavfilter/vf_espcn.o || die "the filter does not compile against FFmpeg $series"
    cuda=no; grep -qx 'CONFIG_CUDA=yes' "$bdir/ffbuild/config.mak" && cuda=yes
    done_step "compiled (CONFIG_CUDA=$cuda)"
    step='done'
    echo "== FFmpeg $series: libavfilter/vf_espcn.o compiles (CUDA frames code: $cuda), total $(elapsed "$t_start")"
    exit 0
fi
begin "make -j$jobs (FFmpeg $series)"
make -C "$bdir" -j "$jobs" || die "make failed in $bdir"
done_step

"$bdir/ffmpeg" -hide_banner -filters 2>/dev/null | grep -cw espcn >/dev/null ||
    die "$bdir/ffmpeg was built but does not list the espcn filter"
step='done'
echo "== FFmpeg $series with the espcn filter (libespcn from $espcn_libdir), total $(elapsed "$t_start"):"
echo "   $bdir/ffmpeg"
echo "   $bdir/ffprobe"
