# shellcheck shell=bash
# Sourced by scripts/*.sh: installs the Debian packages that building,
# testing and the demo need, only those missing, through the system's own apt
# configuration (never edited).
#
# The one list of what a minimal Debian 12 or 13 root (mmdebstrap
# --variant=apt) lacks; scripts/check_fresh_machine.sh proves it is complete.
# "PKG@SUITE" is wanted on that suite only (the codename in /etc/os-release).
ESPCN_APT_PACKAGES=(
    # engine, tools and tests (time: GNU time measures peak RSS in the tests)
    cmake ninja-build make gcc g++ pkg-config python3 python3-numpy python3-pytest
    libdnnl-dev nlohmann-json3-dev libgtest-dev libpng-dev time
    # tests/fuzz: clang with libFuzzer and the sanitizer runtimes
    # (libclang-rt-dev, which clang only recommends) and clang's OpenMP
    clang libclang-rt-dev libomp-dev
    # the cpu-fast backend's SIMD kernels (Google Highway: 1.0.3 on 12, 1.2 on 13)
    libhwy-dev
    # FFmpeg built from source with the filter (scripts/build_ffmpeg.sh)
    nasm libx264-dev zlib1g-dev patch xz-utils
    # scripts/install.sh: the installed ffmpeg finds libespcn next to itself
    patchelf
    # scripts/python_env.sh: the venv of the Ray tool and ONNX converters (PyPI)
    python3-venv
    # bench/plot_fps.py and the demo's side-by-side picture
    python3-matplotlib
    # weights/eval_compressed.py, weights/train/degrade.py and test_video_models
    # (images, JPEG); python3-matplotlib depends on it, named here all the same
    python3-pil
    # Debian 12's own ffmpeg 5.1: its `sr` filter is the speed peer and
    # test_native_export's oracle (FFmpeg 7 dropped the native DNN backend)
    ffmpeg@bookworm
)

# The Debian codename of this machine (bookworm, trixie, ...), or "unknown".
espcn_debian_codename() {
    local codename=''
    # shellcheck disable=SC1091
    [ -r /etc/os-release ] && codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    echo "${codename:-unknown}"
}

# espcn_wanted_packages: the list above, filtered for this suite (stdout, one a line).
espcn_wanted_packages() {
    local codename p
    codename=$(espcn_debian_codename)
    for p in "${ESPCN_APT_PACKAGES[@]}"; do
        case $p in
            *@*) [ "${p#*@}" = "$codename" ] && echo "${p%@*}" ;;
            *) echo "$p" ;;
        esac
    done
}

# espcn_install_deps: installs whatever of espcn_wanted_packages is missing.
espcn_install_deps() {
    local missing=() p
    while read -r p; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done < <(espcn_wanted_packages)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "espcn: installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

espcn_jobs() { nproc 2>/dev/null || echo 2; }
