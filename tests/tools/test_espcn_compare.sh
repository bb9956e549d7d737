#!/usr/bin/env bash
# espcn-compare (the first GPU run's question (a)) on the CPU, ~4 s:
#  - the reference against itself through the tool's parallel bands of rows:
#    0 codes, infinite PSNR, at 8 and 16 bits, for a residual network and a
#    converted deconvolution, in 3 bands: the bands are exact (the oracle of
#    the GPU run; with half the halo 3 rows differ);
#  - cpu-fast fp32 passes the 1-code bar, and the CSV has a row per run;
#  - --deadline 0 runs nothing, says so per row and exits 4; a missing model fails (1).
set -uo pipefail
compare=$1 weights=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
out=$("$compare" --models "$weights/lrnet-x2.safetensors,$weights/fsrcnn-x3.safetensors" --backend reference \
      --precisions fp32 --size 61x160 --bits 8,16 --threads 3 --csv "$tmp/ref.csv" 2>&1) ||
    { rc=$?; echo "$out"; fail "reference vs reference: exit $rc"; }
echo "$out"
[ "$(grep -c 'the reference in 3 bands of rows' <<<"$out")" -eq 2 ] || fail "the reference did not run in 3 bands"
[ "$(grep -c ' inf ' <<<"$out")" -eq 4 ] || fail "reference vs reference: not 4 rows of infinite PSNR"
awk -F, 'NR > 1 && ($5 != 0 || $4 != "ok") { bad = 1 } END { exit bad }' "$tmp/ref.csv" || fail "a reference row differs"
[ "$(wc -l <"$tmp/ref.csv")" -eq 5 ] || fail "the CSV has not 4 rows"
out=$("$compare" --models "$weights/lrnet-x3.safetensors" --backend cpu-fast --precisions fp32 --size 53x31 \
      --bits 10 --threads 2 2>&1) || { echo "$out"; fail "cpu-fast fp32 over 1 code"; }
echo "$out"
grep -q 'ok (fp32: <= 1 code)' <<<"$out" || fail "no fp32 verdict"
out=$("$compare" --models "$weights/lrnet-x2.safetensors" --backend reference --precisions fp32 --size 16x16 \
      --bits 8 --deadline 0 2>&1); rc=$?
[ $rc -eq 4 ] || fail "--deadline 0: exit $rc, expected 4"
grep -q 'not run: out of time' <<<"$out" || fail "--deadline 0: no 'not run' row"
out=$("$compare" --models "$tmp/missing.safetensors" --backend reference --size 8x8 --bits 8 2>&1); rc=$?
[ $rc -eq 1 ] || fail "a missing model: exit $rc, expected 1"
grep -q FAILED <<<"$out" || fail "a missing model: no FAILED row"
echo "test_espcn_compare: passed"
