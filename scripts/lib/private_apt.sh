# Sourced: a private apt state for fetching packages or sources of another
# Debian suite (e.g. trixie on a bookworm machine) without touching the
# system's apt configuration. The archive URI is taken from the system's own
# apt sources; none is written into this repository.

# The first non-security Debian archive URI the system's sources name.
espcn_debian_archive_uri() {
    local uri
    uri=$( (grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}';
            grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                sed -E 's/\[[^]]*\]//' | awk '{print $2}') | grep -v -- '-security' | grep -i debian | head -n 1)
    [ -n "$uri" ] || { echo "espcn: no Debian archive in the system's apt sources" >&2; return 1; }
    echo "$uri"
}

# espcn_private_apt_init DIR SUITE [ARCH]: sets ESPCN_APT_OPTS (an array) for apt-get
# calls; with ARCH (e.g. arm64) the lists and downloads are of that architecture only.
espcn_private_apt_init() {
    local dir=$1 suite=$2 arch=${3:-} uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    uri=$(espcn_debian_archive_uri) || return 1
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/etc/preferences.d"
    cat >"$dir/sources.list" <<LIST
deb [signed-by=$keyring] $uri $suite main
deb-src [signed-by=$keyring] $uri $suite main
LIST
    ESPCN_APT_OPTS=(-o "Dir::State::Lists=$dir/lists" -o "Dir::Etc::SourceList=$dir/sources.list"
                    -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Cache=$dir/cache"
                    -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$dir/etc/preferences.d"
                    -o "Debug::NoLocking=1" -o "APT::Get::List-Cleanup=0")
    [ -n "$arch" ] && ESPCN_APT_OPTS+=(-o "APT::Architecture=$arch" -o "APT::Architectures=$arch")
    apt-get "${ESPCN_APT_OPTS[@]}" -qq update
}

# espcn_unpack_packages WORK SUITE ARCH PACKAGE...: downloads SUITE's packages (of ARCH,
# or the host's when ARCH is empty) with a private apt state under WORK and unpacks them,
# not installed, into WORK/root (headers of a -dev package, a cross sysroot). Returns 3
# when the archive cannot be reached or a package fetched, so a check script can tell
# "no archive" from "does not compile" (scripts/test.sh reports the first as skipped).
espcn_unpack_packages() {
    local work=$1 suite=$2 arch=$3 deb
    shift 3
    rm -rf "$work" && mkdir -p "$work/pkg" || return 3
    espcn_private_apt_init "$work/apt" "$suite" "$arch" || return 3
    [ "$(id -u)" -eq 0 ] && ESPCN_APT_OPTS+=(-o APT::Sandbox::User=root)
    (cd "$work/pkg" && apt-get "${ESPCN_APT_OPTS[@]}" -qq download "$@") || return 3
    for deb in "$work"/pkg/*.deb; do dpkg-deb -x "$deb" "$work/root" || return 3; done
}
