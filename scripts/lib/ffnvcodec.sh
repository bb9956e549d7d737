# shellcheck shell=bash
# Sourced: NVIDIA's FFmpeg headers (nv-codec-headers, Debian's
# libffmpeg-nvenc-dev) for the Debian suite of an FFmpeg series, fetched with a
# private apt state and unpacked, not installed: FFmpeg built against them
# has CUDA frames (hwcontext_cuda, hwupload_cuda, nvdec, nvenc), all loaded
# from the NVIDIA driver at run time, so the build still runs without one.
#
#   espcn_ffnvcodec_fetch SUITE DIR  -> unpacks into DIR once; prints the
#                                       directory holding ffnvcodec.pc
# Exit status 3 when the package cannot be fetched (no archive reachable).

espcn_ffnvcodec_fetch() {
    local suite=$1 dir=$2 pc
    if [ ! -f "$dir/pkgconfig/ffnvcodec.pc" ]; then
        rm -rf "$dir" && mkdir -p "$dir/pkg"
        dir=$(cd "$dir" && pwd)
        source "$(dirname "${BASH_SOURCE[0]}")/private_apt.sh"
        espcn_private_apt_init "$dir/apt" "$suite" >/dev/null 2>&1 || return 3
        [ "$(id -u)" -eq 0 ] && ESPCN_APT_OPTS+=(-o APT::Sandbox::User=root)
        (cd "$dir/pkg" && apt-get "${ESPCN_APT_OPTS[@]}" -qq download libffmpeg-nvenc-dev) >/dev/null 2>&1 || return 3
        dpkg-deb -x "$dir"/pkg/libffmpeg-nvenc-dev_*.deb "$dir/root" || return 1
        pc=$(find "$dir/root" -name ffnvcodec.pc | head -n 1)
        [ -n "$pc" ] || { echo "espcn: $suite's libffmpeg-nvenc-dev has no ffnvcodec.pc" >&2; return 1; }
        mkdir -p "$dir/pkgconfig"
        # The unpacked headers, not /usr: point the prefix at them.
        sed "s|^prefix=.*|prefix=$dir/root/usr|" "$pc" >"$dir/pkgconfig/ffnvcodec.pc"
    fi
    (cd "$dir/pkgconfig" && pwd)
}
