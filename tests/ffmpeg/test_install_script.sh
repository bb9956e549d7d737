#!/usr/bin/env bash
# scripts/install.sh as a user runs it: install into a temporary prefix, move
# the prefix elsewhere, then in a new, clean shell environment (PATH with the
# prefix's bin first, no ESPCN_MODEL_DIR, no LD_LIBRARY_PATH) run
#   ffmpeg -i clip.mp4 -vf espcn=scale=2 out.mp4
# and check what comes out (ffprobe from the same prefix).
#   test_install_script.sh REPO_ROOT SERIES
set -uo pipefail
root=$1 series=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$root/scripts/install.sh" --prefix "$work/p" --series "$series" >"$work/install.log" 2>&1 ||
    { tail -n 20 "$work/install.log"; fail "scripts/install.sh --prefix $work/p"; }
mv "$work/p" "$work/moved" || fail "could not move the prefix"
clean() { env -i HOME="$work" PATH="$work/moved/bin:/usr/bin:/bin" bash -c "cd '$work' && $1"; }

clean "ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 12 -pix_fmt yuv420p -c:v libx264 clip.mp4" ||
    fail "making clip.mp4 with the installed ffmpeg"
out=$(clean "ffmpeg -hide_banner -loglevel error -i clip.mp4 -vf espcn=scale=2 out.mp4 2>&1") || fail "ffmpeg -i clip.mp4 -vf espcn=scale=2 out.mp4: $out"
dims=$(clean "ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=width,height,nb_read_frames -of csv=p=0 out.mp4")
[ "$dims" = "192,128,12" ] || fail "out.mp4 is '$dims', expected 192,128,12 (width,height,frames)"
which=$(clean "command -v ffmpeg")
[ "$which" = "$work/moved/bin/ffmpeg" ] || fail "PATH found $which, not the installed ffmpeg"
lib=$(env -i PATH=/usr/bin:/bin ldd "$work/moved/bin/ffmpeg" | awk '/libespcn/{print $3}')
case $lib in "$work"/moved/*) ;; *) fail "the installed ffmpeg loads libespcn from '$lib', not from its prefix" ;; esac
echo "test_install_script: installed, moved, and ffmpeg -vf espcn=scale=2 from PATH made $dims (libespcn: $lib)"
