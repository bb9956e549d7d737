#!/usr/bin/env bash
# scripts/gpu_check.sh --run on a machine without a GPU exits 2 at once and
# says so (it must never pass, or run anything, there). Skipped (77) where a
# GPU is present: there --run is the real check.
set -uo pipefail
script=$1
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "test_gpu_check_no_gpu: a GPU is present; not checked"
    exit 77
fi
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
start=$SECONDS
out=$("$script" --run --results "$results" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 2 ] || { echo "FAIL: exit status $rc, expected 2"; exit 1; }
grep -q 'no GPU here' <<<"$out" || { echo "FAIL: the message does not say there is no GPU"; exit 1; }
[ $((SECONDS - start)) -le 5 ] || { echo "FAIL: took $((SECONDS - start)) s, expected an immediate exit"; exit 1; }
[ -z "$(ls -A "$results")" ] || { echo "FAIL: wrote results without a GPU: $(ls "$results")"; exit 1; }
echo "test_gpu_check_no_gpu: 1 passed, 0 failed"
