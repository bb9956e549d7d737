#!/usr/bin/env bash
# Runs README's quick start on a fresh Debian machine: a minimal root made
# with mmdebstrap (--variant=apt plus git, ca-certificates and sudo, as a new
# user's machine has them), this repository cloned into it with ../shared
# beside it (as CI has it), then scripts/test.sh (and scripts/demo.sh) inside
# it with chroot. Whatever this machine has installed cannot hide a missing
# install step there.
#
#   scripts/check_fresh_machine.sh [--suite bookworm|trixie] [--with-cuda] [--demo]
#                                  [--test-args "ARGS"] [--keep] [--workdir DIR]
#
# --suite      Debian suite of the root (default bookworm).
# --with-cuda  bind this machine's CUDA toolkit (the target of /usr/local/cuda)
#              read-only into the root, set up as NVIDIA's install guide has a
#              user do it (PATH, the loader's path): the CUDA build and the
#              compilation of the gpu tests are then part of the run.
# --demo       also run scripts/demo.sh after scripts/test.sh.
# --test-args  arguments of scripts/test.sh, e.g. "--no-sanitize --no-fuzz".
# --keep       leave the root in place afterwards (unmounted) for inspection.
# --workdir    where the root is made (default /var/tmp; needs ~6 GB).
#
# The archive is the one this machine's own apt sources name (nothing is
# written to its apt configuration). What is tested is the committed HEAD of
# this checkout (a clone): uncommitted changes are not part of the run.
# Logs: build/fresh-machine/<suite>[-cuda]/{test,demo}.log. One summary line
# per run at the end.
# Exit status: 0 all passed, 1 a run failed, 2 usage, 3 no root could be made
# (not root, mmdebstrap missing and not installable, archive unreachable).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
source scripts/lib/private_apt.sh

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
suite=bookworm with_cuda=0 demo=0 keep=0 workdir=/var/tmp test_args=''
while [ $# -gt 0 ]; do
    case $1 in
        --suite) [ $# -ge 2 ] || { usage >&2; exit 2; }; suite=$2; shift 2 ;;
        --suite=*) suite=${1#*=}; shift ;;
        --with-cuda) with_cuda=1; shift ;;
        --demo) demo=1; shift ;;
        --test-args) [ $# -ge 2 ] || { usage >&2; exit 2; }; test_args=$2; shift 2 ;;
        --test-args=*) test_args=${1#*=}; shift ;;
        --keep) keep=1; shift ;;
        --workdir) [ $# -ge 2 ] || { usage >&2; exit 2; }; workdir=$2; shift 2 ;;
        --workdir=*) workdir=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; echo "check_fresh_machine.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case $suite in bookworm|trixie) ;; *) echo "check_fresh_machine.sh: --suite bookworm or trixie, not '$suite'" >&2; exit 2 ;; esac
case $test_args in *[!a-z\ -]*) echo "check_fresh_machine.sh: --test-args: options only, not '$test_args'" >&2; exit 2 ;; esac

label=$suite$([ $with_cuda -eq 1 ] && echo "+cuda" || true)
logs=$repo/build/fresh-machine/$suite$([ $with_cuda -eq 1 ] && echo "-cuda" || true)
say() { echo "fresh-machine[$label]: $*"; }
cannot() { say "CANNOT MAKE A ROOT: $*" >&2; exit 3; }

[ "$(id -u)" -eq 0 ] || cannot "needs root (mmdebstrap and chroot); run it as root or with sudo"
if ! command -v mmdebstrap >/dev/null; then
    say "installing mmdebstrap on this machine"
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null ||
        cannot "mmdebstrap is not installed and apt-get could not install it"
fi
archive=$(espcn_debian_archive_uri) || cannot "no Debian archive in this machine's apt sources"
cuda_dir=''
if [ $with_cuda -eq 1 ]; then
    cuda_dir=$(realpath /usr/local/cuda 2>/dev/null || true)
    [ -n "$cuda_dir" ] && [ -x "$cuda_dir/bin/nvcc" ] ||
        { say "--with-cuda: no CUDA toolkit at /usr/local/cuda (no bin/nvcc)" >&2; exit 1; }
fi
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
    say "note: uncommitted changes are not tested (the root gets a clone of HEAD $(git rev-parse --short HEAD))"

mkdir -p "$workdir" "$logs"
root=$(mktemp -d "$workdir/espcn-fresh-$suite.XXXXXX")
root=$(realpath "$root")

# --- cleanup: every exit path --------------------------------------------------
# Nothing is deleted through a live mount: processes still inside the root are
# stopped, every mount below it is unmounted (deepest first), the absence of
# any is checked, and only then rm --one-file-system runs.
mounts_below() { awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo; }
cleanup() {
    local rc=$? pid m i
    trap - EXIT INT TERM
    for pid in /proc/[0-9]*; do
        [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] && kill -TERM "${pid#/proc/}" 2>/dev/null
    done
    sleep 1
    for pid in /proc/[0-9]*; do
        [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] && kill -KILL "${pid#/proc/}" 2>/dev/null
    done
    for i in 1 2 3; do
        mounts_below | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
        [ -z "$(mounts_below)" ] && break
        sleep 1
    done
    if [ -n "$(mounts_below)" ]; then
        say "NOT deleting $root: still mounted: $(mounts_below | tr '\n' ' ')" >&2
        [ $rc -eq 0 ] && rc=1
    elif [ $keep -eq 1 ]; then
        say "kept (unmounted): $root"
    else
        rm -rf --one-file-system "$root" || say "could not delete all of $root" >&2
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# --- 1. the root ----------------------------------------------------------------
t0=$(date +%s)
say "making a minimal $suite root in $root (archive from this machine's apt sources)"
if ! mmdebstrap --quiet --variant=apt --include=git,ca-certificates,sudo "$suite" "$root" "$archive" \
        >"$logs/mmdebstrap.log" 2>&1; then
    tail -n 15 "$logs/mmdebstrap.log" >&2
    cannot "mmdebstrap $suite failed (log: $logs/mmdebstrap.log); is the archive reachable?"
fi
t_root=$(elapsed "$t0")

# What a running machine has: /proc, /sys, /dev, name resolution.
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# This site's own CA certificates (e.g. those of a TLS-intercepting egress
# proxy, without which PyPI is unreachable here): network configuration of
# this machine, like resolv.conf, not something a user's machine lacks.
site_cas=(/usr/local/share/ca-certificates/*.crt)
if [ -f "${site_cas[0]}" ]; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp -L "${site_cas[@]}" "$root/usr/local/share/ca-certificates/"
    chroot "$root" /usr/sbin/update-ca-certificates >/dev/null 2>&1 ||
        say "warning: update-ca-certificates failed in the root" >&2
fi

# The checkout, and ../shared beside it (read-only), as CI has them.
mkdir -p "$root/work"
git clone -q --no-hardlinks "$repo" "$root/work/espcn"
if [ -d "$repo/../shared" ]; then
    mkdir -p "$root/work/shared"
    mount --bind "$(realpath "$repo/../shared")" "$root/work/shared"
    mount -o remount,bind,ro "$root/work/shared"
fi

path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [ -n "$cuda_dir" ]; then
    # Read-only, at the same path; then the installation guide's
    # post-install steps: /usr/local/cuda, PATH, the loader's path.
    mkdir -p "$root$cuda_dir"
    mount --bind "$cuda_dir" "$root$cuda_dir"
    mount -o remount,bind,ro "$root$cuda_dir"
    [ "$cuda_dir" = /usr/local/cuda ] || ln -sfn "$cuda_dir" "$root/usr/local/cuda"
    libdirs=()
    for d in lib64 lib targets/x86_64-linux/lib; do [ -d "$cuda_dir/$d" ] && libdirs+=("$cuda_dir/$d"); done
    printf '%s\n' "${libdirs[@]}" >"$root/etc/ld.so.conf.d/zz-cuda.conf"
    chroot "$root" /sbin/ldconfig
    path=/usr/local/cuda/bin:$path
fi

in_root() {  # a login-like clean environment inside the root
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 PATH="$path" \
        /bin/bash -c "cd /work/espcn && $1"
}

# --- 2. the quick start -----------------------------------------------------------
summary=() failed=0
run_step() {  # name, command inside the root
    local name=$1 cmd=$2 t rc=0
    t=$(date +%s)
    say "running $cmd (log: ${logs#"$repo"/}/$name.log)"
    # The log in full to the file; its "== [elapsed] stage" lines also here,
    # so a run cut off by CI's time limit still shows where the time went.
    in_root "$cmd" 2>&1 | tee "$logs/$name.log" | { grep --line-buffered '^== \[' || true; } |
        sed -u "s/^/fresh-machine[$label]: /"
    rc=${PIPESTATUS[0]}
    if [ $rc -eq 0 ]; then
        summary+=("$cmd PASS $(elapsed "$t")")
    else
        summary+=("$cmd FAIL (exit $rc) $(elapsed "$t")")
        failed=1
        tail -n 40 "$logs/$name.log" >&2
    fi
    return $rc
}
os=$(. "$root/etc/os-release" && echo "$PRETTY_NAME")
run_step test "scripts/test.sh${test_args:+ $test_args}" || true
[ $demo -eq 1 ] && { run_step demo scripts/demo.sh || true; }
joined=$(printf '%s; ' "${summary[@]}")
echo "fresh-machine: $os, $([ -n "$cuda_dir" ] && echo "CUDA toolkit $(basename "$cuda_dir") bound in" || echo "no CUDA"): root made in $t_root; ${joined%; }; total $(elapsed "$t0")"
exit $failed
