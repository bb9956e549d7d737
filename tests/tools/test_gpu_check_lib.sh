#!/usr/bin/env bash
# scripts/gpu_check.sh's parts that need no GPU (label unit, ~10 s):
#  1. --plan lists every step with its cap, totals <= 300 s, names (a)-(e);
#  2. compute-sanitizer's verdicts are read per tool: a clean racecheck
#     ("RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)") is
#     clean, a leak fails memcheck, gVisor's "Device not supported" is a skip;
#     and no kernel of ours uses __shared__ (so racecheck, which checks only
#     shared memory, is not run: add it to step_sanitizers if one does);
#  3. what the device tool sends: the tracked and untracked-not-ignored tree
#     plus the carried folder, against the limit (not the folder alone), and
#     --prepare's check of it at 64 MiB;
#  4. --run with a stand-in nvidia-smi and a stand-in bundle whose tools all
#     fail: every step runs under its cap, the results file has a section per
#     question saying what happened, exit 1, within the budget.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
script=$root/scripts/gpu_check.sh
source "$root/scripts/lib/gpu_check_lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { passed=$((passed + 1)); }

# 1. The plan.
out=$("$script" --plan) || fail "--plan exited $?: $out"
echo "$out"
total=$(awk '$1 == "total" { print $2 }' <<<"$out")
[ -n "$total" ] && [ "$total" -le 300 ] || fail "--plan total '$total' is not <= 300"
for q in '(a)' '(b)' '(c)' '(d)' '(e)'; do grep -qF "  $q " <<<"$out" || fail "--plan does not list $q"; done
[ "$(grep -cE '^[0-9]+ ' <<<"$out")" -eq "${#GPU_CHECK_STEPS[@]}" ] || fail "--plan does not print every step"
sum=0; for l in "${GPU_CHECK_STEPS[@]}"; do IFS='|' read -r _ cap _ _ <<<"$l"; sum=$((sum + cap)); done
[ "$sum" -eq "$total" ] || fail "--plan total $total is not the caps' sum $sum"
ok

# 2. Sanitizer verdicts.
verdict() {  # tool text expected_status expected_word
    printf '%b\n' "$2" >"$tmp/log"
    local v rc
    v=$(sanitizer_verdict "$1" "$tmp/log"); rc=$?
    [ $rc -eq "$3" ] || fail "sanitizer_verdict $1: status $rc, expected $3 ($v) for: $2"
    grep -q "^$4" <<<"$v" || fail "sanitizer_verdict $1: '$v' does not start with $4"
}
verdict racecheck "========= COMPUTE-SANITIZER\n[  PASSED  ] 6 tests.\n========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)" 0 clean
verdict racecheck "========= RACECHECK SUMMARY: 2 hazards displayed (2 errors, 0 warnings)" 1 FAILED
verdict memcheck "========= LEAK SUMMARY: 0 bytes leaked in 0 allocations\n========= ERROR SUMMARY: 0 errors" 0 clean
verdict memcheck "========= Leaked 1024 bytes at 0x7f00\n========= LEAK SUMMARY: 1024 bytes leaked in 1 allocations\n========= ERROR SUMMARY: 1 error" 1 FAILED
verdict memcheck "========= LEAK SUMMARY: 64 bytes leaked in 1 allocations\n========= ERROR SUMMARY: 0 errors" 1 FAILED
verdict initcheck "========= ERROR SUMMARY: 3 errors" 1 FAILED
verdict initcheck "========= ERROR SUMMARY: 0 errors" 0 clean
verdict memcheck "[  PASSED  ] 1 test." 1 FAILED
verdict memcheck "========= COMPUTE-SANITIZER\n========= Error: Device not supported\n========= Error: Target application returned an error" 3 skipped
shared=$(grep -l '__shared__' "$root"/kernels/cuda/*.cu "$root"/kernels/cuda/*.cuh 2>/dev/null)
[ -z "$shared" ] || fail "$shared use __shared__: racecheck would check something now; add it to step_sanitizers"
ok

# 3. The transfer: the tree counts, not only the carried folder.
repo=$tmp/repo
mkdir -p "$repo/build/gpu-check"
git -C "$repo" init -q
printf 'build/\nignored.bin\n' >"$repo/.gitignore"
head -c 3000 /dev/zero >"$repo/tracked.bin"
head -c 500 /dev/zero >"$repo/untracked.txt"
head -c 9000 /dev/zero >"$repo/ignored.bin"
head -c 2000 /dev/zero >"$repo/build/gpu-check/lib.so"
git -C "$repo" add .gitignore tracked.bin
tree=$(transfer_bytes "$repo")
[ "$tree" -eq $((3000 + 500 + $(stat -c %s "$repo/.gitignore"))) ] || fail "transfer_bytes: tree $tree"
[ "$(transfer_bytes "$repo" build/gpu-check)" -eq $((tree + 2000)) ] || fail "transfer_bytes with the carried folder"
transfer_check "$repo" 6000 build/gpu-check >/dev/null || fail "transfer_check: $((tree + 2000)) bytes refused under 6000"
msg=$(transfer_check "$repo" 5000 build/gpu-check) && fail "transfer_check: the tree + folder ($((tree + 2000)) bytes) passed a 5000-byte limit (the folder alone is 2000)"
grep -q 'tracked + untracked-not-ignored tree' <<<"$msg" || fail "transfer_check does not say what it counted: $msg"
# --prepare's own check (bundle_transfer_check), at the tool's 64 MiB: a 30 MiB
# folder (under the 60 MiB it was once held to alone) beside a 40 MiB tree is
# refused; beside a 20 MiB tree it fits. Sparse files: sizes, not disk.
[ "$GPU_TRANSFER_LIMIT" -eq $((64 * 1048576)) ] || fail "GPU_TRANSFER_LIMIT is $GPU_TRANSFER_LIMIT, not 64 MiB"
truncate -s 30M "$repo/build/gpu-check/bundle.tar.xz"
truncate -s 20M "$repo/untracked-big.bin"
msg=$(bundle_transfer_check "$repo") || fail "bundle_transfer_check: 50 MiB refused: $msg"
truncate -s 40M "$repo/untracked-big.bin"
msg=$(bundle_transfer_check "$repo") && fail "bundle_transfer_check: a 40 MiB tree + a 30 MiB folder passed: $msg"
grep -q 'of the 64.0 MiB limit' <<<"$msg" || fail "bundle_transfer_check does not name the 64 MiB limit: $msg"
ok

# 4. A run with stand-ins: every step runs, fails or skips quickly, and says so.
mkdir -p "$tmp/bin" "$tmp/bundle/bin" "$tmp/bundle/lib" "$tmp/results"
printf '#!/bin/sh\ncase "$1" in -L) echo "GPU 0: Stand-in GPU (UUID: GPU-0)";; --query-gpu=*) echo "Stand-in GPU, 0.0, 1 MiB, 9.0, 0";; *) echo "stand-in nvidia-smi";; esac\n' >"$tmp/bin/nvidia-smi"
for t in ffmpeg ffprobe espcn-cli espcn-make-model espcn-bench espcn-compare test_cudnn_loader test_cuda_kernels test_cuda_backend; do
    printf '#!/bin/sh\necho "stand-in %s: no GPU here" >&2\nexit 1\n' "$t" >"$tmp/bundle/bin/$t"
done
chmod +x "$tmp/bin/nvidia-smi" "$tmp/bundle/bin/"*
printf 'commit: stand-in\nsize: 0 MiB\nnvcc: none\ntransfer: stand-in\n' >"$tmp/bundle/MANIFEST.txt"
# Packed as --prepare leaves it (bundle.tar.xz): --run must unpack it.
mkdir -p "$tmp/bundle/share/espcn"
tar -C "$tmp/bundle" -cJf "$tmp/bundle/bundle.tar.xz" bin lib share && rm -rf "$tmp/bundle/bin" "$tmp/bundle/lib" "$tmp/bundle/share"
start=$SECONDS
out=$(cd "$root" && PATH="$tmp/bin:$PATH" ESPCN_GPU_CHECK_BUNDLE="$tmp/bundle" "$script" --run --results "$tmp/results" 2>&1)
rc=$?
took=$((SECONDS - start))
echo "$out" | tail -n 40
[ $rc -eq 1 ] || fail "--run with stand-ins: exit $rc, expected 1"
grep -q 'unpacked bundle.tar.xz' <<<"$out" || fail "--run did not unpack the packed bundle"
# Read whole, then searched: `tar | grep -q` under pipefail fails whenever grep
# exits at its match before tar has written everything (SIGPIPE).
logs=$(tar -xzOf "$tmp/results/logs.tar.gz")
grep -q 'stand-in espcn-bench: no GPU here' <<<"$logs" ||
    fail "the steps did not run the unpacked bundle's tools"
[ $took -le 120 ] || fail "--run with stand-ins took $took s"
res=$tmp/results/gpu-check-results.txt
[ -s "$res" ] || fail "no results file"
[ -s "$tmp/results/logs.tar.gz" ] || fail "no logs.tar.gz"
for h in '## (a)' '## (b)' '## (c) device-resident' '## (c) the PyTorch peer' '## (d)' '## (e)' "## espcn's CPU path"; do
    grep -qF "$h" "$res" || fail "the results file has no section '$h'"
done
for name in env device_fps pytorch streams ffmpeg cpu tests accuracy sanitizers; do
    grep -qE "^#   $name +(passed|skipped|FAILED|TIMEOUT|NOT RUN)" "$res" || fail "the results file has no status for $name"
done
grep -q 'OpenVINO: not measured' "$res" || fail "the CPU step does not say why OpenVINO is not measured"
ok
echo "test_gpu_check_lib: $passed passed, 0 failed"
