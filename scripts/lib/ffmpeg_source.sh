# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2034
# Sourced: pristine FFmpeg sources for the series the espcn filter supports.
#
# Each series comes from one Debian suite's source package, fetched through a
# private apt state (scripts/lib/private_apt.sh: the system's apt
# configuration is never touched, no archive host is written here). Only the
# upstream .orig.tar.xz is used; it is checked against the hash in the suite's
# signed Sources index. FFMPEG_SOURCE_DIR, when set, names a local FFmpeg tree
# to use instead; it is copied, never modified.
#
#   espcn_ffmpeg_suite SERIES            -> the Debian suite (stdout)
#   espcn_ffmpeg_series_of_tree DIR      -> the series of an FFmpeg tree (stdout)
#   espcn_ffmpeg_obtain SERIES CACHE     -> sets ESPCN_FFMPEG_ORIGIN (a tarball or
#                                           a directory) and ESPCN_FFMPEG_SOURCE_ID
#   espcn_ffmpeg_copy_pristine DEST      -> a fresh pristine tree at DEST
#
# Cache layout: CACHE/apt-<suite>/ (apt state), CACHE/<series>/ffmpeg_*.orig.tar.xz
# and CACHE/<series>/source.id. Once a tarball is cached, no network is used
# unless ESPCN_FFMPEG_REFRESH=1 asks the suite again for its current version.

ESPCN_FFMPEG_ALL_SERIES="5.1 7.1 8.1 9.0"

espcn_ffmpeg_suite() {
    case ${1:-} in
        5.1) echo bookworm ;;
        7.1) echo trixie ;;
        8.1) echo sid ;;
        9.0) echo forky ;;
        *) echo "espcn: unknown FFmpeg series '${1:-}' (supported: $ESPCN_FFMPEG_ALL_SERIES)" >&2
           return 1 ;;
    esac
}

# The series of an FFmpeg source tree, from its libavfilter major version.
espcn_ffmpeg_series_of_tree() {
    local dir=$1 major
    if [ ! -f "$dir/configure" ] || [ ! -d "$dir/libavfilter" ]; then
        echo "espcn: $dir is not an FFmpeg source tree (no configure or libavfilter/)" >&2; return 1
    fi
    major=$(sed -n 's/^#define[[:space:]]*LIBAVFILTER_VERSION_MAJOR[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
            "$dir"/libavfilter/version*.h 2>/dev/null | head -n 1)
    case $major in
        8) echo 5.1 ;;
        10) echo 7.1 ;;
        11) echo 8.1 ;;
        12) echo 9.0 ;;
        '') echo "espcn: no LIBAVFILTER_VERSION_MAJOR in $dir/libavfilter/version*.h" >&2; return 1 ;;
        *) echo "espcn: $dir has libavfilter major $major; supported: 8 (5.1), 10 (7.1), 11 (8.1), 12 (9.0)" >&2
           return 1 ;;
    esac
}

# espcn_ffmpeg__hash_ok FILE TYPE:HEX -> 0 if FILE has that hash (SHA256, SHA512, ...).
espcn_ffmpeg__hash_ok() {
    local file=$1 type=${2%%:*} want=${2#*:} tool got
    tool=$(echo "$type" | tr '[:upper:]' '[:lower:]')sum
    command -v "$tool" >/dev/null || { echo "espcn: no $tool to check $file" >&2; return 1; }
    [ -f "$file" ] || return 1
    got=$("$tool" "$file" | awk '{print $1}')
    [ "$got" = "$want" ]
}

# The newest version among those on stdin (Debian ordering, epochs included).
espcn_ffmpeg__newest() {
    local best='' v
    while read -r v; do
        [ -z "$best" ] && { best=$v; continue; }
        dpkg --compare-versions "$v" gt "$best" && best=$v
    done
    echo "$best"
}

# espcn_ffmpeg__fetch SERIES CACHE: the suite's .orig.tar.xz into CACHE/SERIES/.
espcn_ffmpeg__fetch() {
    local series=$1 cache=$2 suite dir versions version upstream orig line uri hash id
    suite=$(espcn_ffmpeg_suite "$series") || return 1
    mkdir -p "$cache/$series"
    cache=$(cd "$cache" && pwd)   # apt takes relative Dir:: paths from /
    dir=$cache/$series

    # Already fetched and intact: no network.
    if [ -z "${ESPCN_FFMPEG_REFRESH:-}" ] && [ -f "$dir/source.id" ]; then
        read -r _ _ version orig hash <"$dir/source.id" || true
        if [ -n "${hash:-}" ] && espcn_ffmpeg__hash_ok "$dir/$orig" "$hash"; then
            ESPCN_FFMPEG_ORIGIN=$dir/$orig
            ESPCN_FFMPEG_SOURCE_ID="debian $suite $version $orig $hash"
            return 0
        fi
    fi

    echo "espcn: looking up $suite's ffmpeg source package"
    source "$(dirname "${BASH_SOURCE[0]}")/private_apt.sh"
    espcn_private_apt_init "$cache/apt-$suite" "$suite" || {
        echo "espcn: cannot read $suite's package lists through the private apt state" \
             "($cache/apt-$suite); set FFMPEG_SOURCE_DIR to a local FFmpeg $series tree instead" >&2
        return 1; }
    [ "$(id -u)" -eq 0 ] && ESPCN_APT_OPTS+=(-o APT::Sandbox::User=root)

    # A suite's Sources can list several versions (sid did: 7.1, 8.1 and 9.0):
    # the newest one of this series ([epoch:]SERIES.z-revision).
    versions=$(apt-cache "${ESPCN_APT_OPTS[@]}" showsrc --only-source ffmpeg 2>/dev/null |
               awk '/^Version:/{print $2}')
    version=$(echo "$versions" | awk -v s="$series" '{ u = $0; sub(/^[0-9]+:/, "", u); if (index(u, s ".") == 1) print }' |
              espcn_ffmpeg__newest)
    [ -n "$version" ] || {
        echo "espcn: $suite has no ffmpeg $series.x source package (it has: $(echo "$versions" | tr '\n' ' '))" >&2
        return 1; }
    upstream=${version#*:}
    upstream=${upstream%-*}
    orig=ffmpeg_$upstream.orig.tar.xz

    # URI and hash of the upstream tarball, from the signed Sources index
    # (asked from an empty directory: apt lists only files not already there).
    mkdir -p "$cache/apt-$suite/empty"
    line=$( (cd "$cache/apt-$suite/empty" &&
             apt-get "${ESPCN_APT_OPTS[@]}" -qq --print-uris source "ffmpeg=$version" 2>/dev/null) |
            awk -v f="$orig" '$2 == f' | head -n 1)
    [ -n "$line" ] || { echo "espcn: $suite's ffmpeg $version lists no $orig" >&2; return 1; }
    hash=$(echo "$line" | awk '{print $4}')
    uri=$(echo "$line" | awk '{print $1}' | tr -d "'")

    if ! espcn_ffmpeg__hash_ok "$dir/$orig" "$hash"; then
        echo "espcn: downloading ffmpeg $version ($orig) from $suite"
        # apt-get fetches every file of the source package; only the .orig is
        # needed, so a failure on the others (.dsc, .debian.tar.xz: seen on
        # forky) is reported and ignored.
        (cd "$dir" && apt-get "${ESPCN_APT_OPTS[@]}" -q source --download-only "ffmpeg=$version") ||
            echo "espcn: apt-get source reported errors (above); only $orig is needed, checking it"
        espcn_ffmpeg__hash_ok "$dir/$orig" "$hash" || {
            echo "espcn: could not fetch $orig with the expected $hash ($uri)" >&2; return 1; }
    fi
    id="debian $suite $version $orig $hash"
    echo "$id" >"$dir/source.id"
    ESPCN_FFMPEG_ORIGIN=$dir/$orig
    ESPCN_FFMPEG_SOURCE_ID=$id
}

# espcn_ffmpeg_obtain SERIES CACHE: makes the pristine source of SERIES
# available (downloading it if needed) and sets ESPCN_FFMPEG_ORIGIN and
# ESPCN_FFMPEG_SOURCE_ID (changes whenever the source does). With
# FFMPEG_SOURCE_DIR set, that tree is the origin and must be of SERIES.
espcn_ffmpeg_obtain() {
    local series=$1 cache=$2 dir have fp
    espcn_ffmpeg_suite "$series" >/dev/null || return 1
    if [ -n "${FFMPEG_SOURCE_DIR:-}" ]; then
        dir=$(cd "$FFMPEG_SOURCE_DIR" 2>/dev/null && pwd) || {
            echo "espcn: FFMPEG_SOURCE_DIR=$FFMPEG_SOURCE_DIR is not a directory" >&2; return 1; }
        have=$(espcn_ffmpeg_series_of_tree "$dir") || return 1
        [ "$have" = "$series" ] || {
            echo "espcn: FFMPEG_SOURCE_DIR=$dir is FFmpeg $have, not $series" >&2; return 1; }
        if [ -e "$dir/ffbuild/config.mak" ] || [ -e "$dir/config.h" ]; then
            echo "espcn: FFMPEG_SOURCE_DIR=$dir has been configured in place (ffbuild/config.mak or" \
                 "config.h), which rules out out-of-tree builds; run 'make distclean' there" >&2
            return 1
        fi
        # Identity: every file's path, size and mtime (cheap, and changes with any edit).
        fp=$(cd "$dir" && find . -path ./.git -prune -o -type f -printf '%P %s %T@\n' |
             LC_ALL=C sort | sha256sum | awk '{print $1}')
        ESPCN_FFMPEG_ORIGIN=$dir
        ESPCN_FFMPEG_SOURCE_ID="dir $dir $fp"
        return 0
    fi
    espcn_ffmpeg__fetch "$series" "$cache"
}

# espcn_ffmpeg_copy_pristine DEST: replaces DEST with a pristine copy of
# ESPCN_FFMPEG_ORIGIN (from espcn_ffmpeg_obtain); the top of the tree is DEST.
espcn_ffmpeg_copy_pristine() {
    local dest=$1 tmp
    [ -n "${ESPCN_FFMPEG_ORIGIN:-}" ] || { echo "espcn: espcn_ffmpeg_obtain first" >&2; return 1; }
    tmp=$dest.tmp.$$
    rm -rf "$tmp" && mkdir -p "$tmp"
    if [ -d "$ESPCN_FFMPEG_ORIGIN" ]; then
        tar -C "$ESPCN_FFMPEG_ORIGIN" --exclude=./.git -cf - . | tar -C "$tmp" -xf - || {
            rm -rf "$tmp"; echo "espcn: copying $ESPCN_FFMPEG_ORIGIN failed" >&2; return 1; }
    else
        # The upstream tarball has one top directory (ffmpeg-X.Y.Z/).
        tar -C "$tmp" --strip-components=1 -xJf "$ESPCN_FFMPEG_ORIGIN" || {
            rm -rf "$tmp"; echo "espcn: unpacking $ESPCN_FFMPEG_ORIGIN failed" >&2; return 1; }
    fi
    [ -f "$tmp/configure" ] || { rm -rf "$tmp"; echo "espcn: no configure in $ESPCN_FFMPEG_ORIGIN" >&2; return 1; }
    rm -rf "$dest" && mv "$tmp" "$dest"
}
