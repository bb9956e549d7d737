# Sourced by scripts/*.sh: installs the Debian packages the build needs, only
# those missing, through the system's own apt configuration (never edited).
ESPCN_APT_PACKAGES=(cmake ninja-build g++ pkg-config python3 python3-numpy
                    libdnnl-dev nlohmann-json3-dev libgtest-dev libpng-dev)

# espcn_install_deps [PACKAGE...]: the given packages, or the build's list.
espcn_install_deps() {
    local missing=() wanted=("$@")
    [ ${#wanted[@]} -eq 0 ] && wanted=("${ESPCN_APT_PACKAGES[@]}")
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "espcn: installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

espcn_jobs() { nproc 2>/dev/null || echo 2; }
