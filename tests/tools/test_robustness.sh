#!/usr/bin/env bash
# Hostile inputs and the tools' lifecycle (issue #15), with peak memory
# measured by GNU time:
#   test_robustness.sh ESPCN_CLI ESPCN_MAKE_MODEL ESPCN_EVAL PYTHON
# - a 33 MB model whose one F16 tensor is named by 150 layers is refused in
#   well under 1 GB; a 100 MiB header is refused by its length; a 4 MiB
#   header of nested arrays by its depth; duplicate keys; a scale of 2^63
#   named as written (the files come from make_hostile_models.py, never
#   committed);
# - a directory or a FIFO as the model is refused at once (no hang);
# - /dev/zero as the input is refused after its first bytes;
# - the per-frame memory of a 1920x1080 x2 frame stays within
#   --memory-budget (whole-frame processing needs 805 MB);
# - an allocation that fails (address-space limit) names the bytes asked;
# - a missing output folder fails before any work; a write error names
#   errno's text and leaves no partial file;
# - espcn-eval names a bad image once;
# - Ctrl-C during a frame stops espcn-cli within a fraction of a second
#   (exit 130, nothing written).
# Figures are printed as "measured: ..." lines (README's reliability section).
set -u

if [ $# -ne 4 ]; then
    echo "usage: $0 ESPCN_CLI ESPCN_MAKE_MODEL ESPCN_EVAL PYTHON" >&2
    exit 2
fi
CLI=$1 MAKE=$2 EVAL=$3 PY=$4
HERE=$(cd "$(dirname "$0")" && pwd)
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "test_robustness: GNU time (/usr/bin/time, Debian package 'time') is missing" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/espcn_test_robustness.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

source "$HERE/../lib.sh"  # ok, fail, run, expect_in, finish

# timed EXPECTED_RC NAME CMD...: run under GNU time; its peak RSS (kB) in
# RSS_KB and wall time in SECONDS_TAKEN.
timed() {
    local expected=$1 name=$2
    shift 2
    run "$expected" "$name" "$TIME" -f '%M %e' -o "$WORK/$name.time" "$@"
    local rc=$?
    read -r RSS_KB SECONDS_TAKEN < <(tail -1 "$WORK/$name.time")
    if grep -q "^Command terminated by signal" "$WORK/$name.time"; then
        fail "$name: ended by a signal: $*"
        return 1
    fi
    return $rc
}

# expect_rss_below KB WHAT
expect_rss_below() {
    if [ "$RSS_KB" -lt "$1" ]; then ok; else fail "$2: peak RSS $RSS_KB kB, limit $1 kB"; fi
}

# --- hostile model files ----------------------------------------------------------
"$PY" "$HERE/make_hostile_models.py" "$WORK/models" || { fail "make_hostile_models.py failed"; exit 1; }
M=$WORK/models

timed 1 amplified "$CLI" -m "$M/amplified.safetensors" --info &&
    expect_in "$LAST_ERR" "over the limit of 67108864 \(256 MiB as fp32; a tensor named by several layers counts once per layer\)" \
        "the 150-layer amplifying model is refused"
expect_rss_below $((1024 * 1024)) "amplifying model"
echo "measured: 33 MB model, one tensor named by 150 layers: refused, peak RSS ${RSS_KB} kB, ${SECONDS_TAKEN} s"

timed 1 huge_header "$CLI" -m "$M/huge_header.safetensors" --info &&
    expect_in "$LAST_ERR" "header length 104857[0-9]+ is outside \[2, 4194304\]" "100 MiB header"
expect_rss_below $((300 * 1024)) "100 MiB header"
echo "measured: 100 MiB JSON header: refused by its length, peak RSS ${RSS_KB} kB"

timed 1 deep_header "$CLI" -m "$M/deep_header.safetensors" --info &&
    expect_in "$LAST_ERR" "header nests deeper than 16 levels" "4 MiB nested header"
expect_rss_below $((300 * 1024)) "4 MiB nested header"
echo "measured: 4 MiB header of nested arrays: refused by its depth, peak RSS ${RSS_KB} kB"

timed 1 duplicate_keys "$CLI" -m "$M/duplicate_keys.safetensors" --info &&
    expect_in "$LAST_ERR" "'espcn.network' has the key 'scale' twice in one object" "duplicate keys"
timed 1 scale_2p63 "$CLI" -m "$M/scale_2p63.safetensors" --info &&
    expect_in "$LAST_ERR" "'scale' = 9223372036854775808 is outside \[1, 8\]" "a scale of 2^63 as written"
timed 0 good_model "$CLI" -m "$M/good.safetensors" --info

# --- what a model path may name ------------------------------------------------------
timed 1 model_dir "$CLI" -m "$WORK" --info &&
    expect_in "$LAST_ERR" "model file '$WORK' is a directory, not a regular file" "a directory as the model"
mkfifo "$WORK/fifo"
timed 1 model_fifo timeout 20 "$CLI" -m "$WORK/fifo" --info &&
    expect_in "$LAST_ERR" "is a FIFO \(named pipe\), not a regular file" "a FIFO as the model"
echo "measured: FIFO as the model: refused in ${SECONDS_TAKEN} s"

# --- inputs -----------------------------------------------------------------------------
timed 0 make_x2 "$MAKE" --arch espcn --scale 2 -o "$WORK/espcn-x2.safetensors"
timed 1 dev_zero "$CLI" -m "$WORK/espcn-x2.safetensors" -i /dev/zero -o "$WORK/z.png" &&
    expect_in "$LAST_ERR" "/dev/zero: not a PNG or binary PNM \(P5/P6\) file" "/dev/zero as the input"
expect_rss_below $((100 * 1024)) "/dev/zero as the input"
echo "measured: /dev/zero as the input: refused in ${SECONDS_TAKEN} s, peak RSS ${RSS_KB} kB"
# A raw plane from a pipe is read to its end; more bytes than the plane holds
# (all of /dev/zero) are refused after one byte too many.
timed 1 raw_dev_zero "$CLI" -m "$WORK/espcn-x2.safetensors" --raw-in 16x8 -i /dev/zero -o "$WORK/z.y" &&
    expect_in "$LAST_ERR" "/dev/zero: larger than 128 bytes" "/dev/zero as a raw plane"
timed 0 raw_pipe bash -c "head -c 128 /dev/zero | '$CLI' -m '$WORK/espcn-x2.safetensors' --raw-in 16x8 -i /dev/stdin -o '$WORK/z.y'"
[ "$(wc -c <"$WORK/z.y" 2>/dev/null)" = 512 ] && ok || fail "a raw 16x8 plane through a pipe gave $(wc -c <"$WORK/z.y" 2>/dev/null) bytes, not 512"

# --- per-frame memory within the budget -------------------------------------------------
"$PY" - "$WORK/1080p.pgm" <<'EOF' || fail "cannot write the 1080p test image"
import sys
w, h = 1920, 1080
row = bytes((x * 7 + (x // 64) * 40) % 256 for x in range(w))
with open(sys.argv[1], "wb") as f:
    f.write(b"P5\n%d %d\n255\n" % (w, h))
    for y in range(h):
        f.write(row[y % 64:] + row[:y % 64])
EOF
# The tool holds the images (input 2 MB as file, 4 MB as samples; output 8 MB
# plane, 16 MB as samples, 8 MB encoded) around the engine's working memory;
# one pass over the whole frame would need 805 MB of activations. (With its
# Ctrl-C callback the tool's bands are also capped by work: ~64 rows here.)
timed 0 budget_32m "$CLI" -m "$WORK/espcn-x2.safetensors" -i "$WORK/1080p.pgm" -o "$WORK/hr32.pgm" \
    --backend onednn --memory-budget 32m --threads 2
expect_rss_below $((200 * 1024)) "1080p x2 with --memory-budget 32m (whole frame: 805 MB)"
echo "measured: 1920x1080 x2 espcn, --memory-budget 32m: peak RSS ${RSS_KB} kB, ${SECONDS_TAKEN} s"
timed 0 budget_default "$CLI" -m "$WORK/espcn-x2.safetensors" -i "$WORK/1080p.pgm" -o "$WORK/hrdef.pgm" \
    --backend onednn --threads 2
expect_rss_below $((700 * 1024)) "1080p x2 with the default budget (512 MiB)"
echo "measured: 1920x1080 x2 espcn, default budget: peak RSS ${RSS_KB} kB, ${SECONDS_TAKEN} s"
cmp -s "$WORK/hr32.pgm" "$WORK/hrdef.pgm" && ok || fail "bands of a 32 MB budget differ from the default's"
timed 1 budget_tiny "$CLI" -m "$WORK/espcn-x2.safetensors" -i "$WORK/1080p.pgm" -o "$WORK/tiny.pgm" \
    --backend onednn --memory-budget 64k &&
    expect_in "$LAST_ERR" "a 1920x1080 plane needs [0-9]+ bytes of working memory for its smallest band of rows \(9 rows.*over the memory budget of 65536 bytes" \
        "a budget too small for one band"

# An allocation that fails is reported as out of memory with the bytes asked
# for (not as "could not create a memory object"): a 16384x64 plane, whose
# band of 64 rows needs ~400 MB, under a 400 MB address-space limit.
"$PY" - "$WORK/wide.pgm" <<'EOF2' || fail "cannot write the wide test image"
import sys
w, h = 16384, 64
with open(sys.argv[1], "wb") as f:
    f.write(b"P5\n%d %d\n255\n" % (w, h) + bytes((x * 7) % 256 for x in range(w)) * h)
EOF2
timed 1 alloc_fails bash -c "ulimit -v 400000; exec '$CLI' -m '$WORK/espcn-x2.safetensors' -i '$WORK/wide.pgm' \
    -o '$WORK/wide_out.pgm' --backend onednn --threads 2 --memory-budget 4g" &&
    expect_in "$LAST_ERR" "out of memory: could not allocate [0-9]+ bytes for" \
        "a failed allocation names its size"

# --- outputs -----------------------------------------------------------------------------
timed 1 missing_dir "$CLI" -m "$WORK/espcn-x2.safetensors" -i "$WORK/does-not-exist.pgm" \
    -o "$WORK/no/such/dir/out.png" &&
    expect_in "$LAST_ERR" "$WORK/no/such/dir/out.png: cannot create: No such file or directory" \
        "the output folder is checked before the input is even read"
ln -s /dev/full "$WORK/full.pgm"
timed 1 disk_full "$CLI" -m "$WORK/espcn-x2.safetensors" -i "$WORK/1080p.pgm" -o "$WORK/full.pgm" &&
    expect_in "$LAST_ERR" "full.pgm: write error after 0 of [0-9]+ bytes: No space left on device" \
        "a write error names errno's text"
leftovers=$(find "$WORK" -name '*.espcn-*.tmp' | wc -l)
[ "$leftovers" -eq 0 ] && ok || fail "$leftovers temporary output files left behind"

# --- espcn-eval names a bad file once ------------------------------------------------------
mkdir -p "$WORK/ds"
printf 'P5\n40 40\n255\n' >"$WORK/ds/cut.pgm"
timed 1 eval_bad "$EVAL" -m "$WORK/espcn-x2.safetensors" "$WORK/ds" &&
    expect_in "$LAST_ERR" "^espcn-eval: $WORK/ds/cut.pgm: PNM: file is truncated" "espcn-eval's message"
count=$(grep -o "$WORK/ds/cut.pgm" "$LAST_ERR" | wc -l)
[ "$count" -eq 1 ] && ok || fail "espcn-eval names the file $count times: $(cat "$LAST_ERR")"

# --- Ctrl-C during a frame -------------------------------------------------------------------
# espcn x4 on 1920x1080: ~50 GMAC, seconds on 2 cores; SIGINT once the frame
# is running. The best of three tries is what is checked (the machine is shared).
timed 0 make_x4 "$MAKE" --arch espcn --scale 4 -o "$WORK/espcn-x4.safetensors"
best=""
for try in 1 2 3; do
    rm -f "$WORK/ctrlc.pgm"
    "$CLI" -v -m "$WORK/espcn-x4.safetensors" -i "$WORK/1080p.pgm" -o "$WORK/ctrlc.pgm" \
        --backend onednn --threads 2 >"$WORK/ctrlc.out" 2>"$WORK/ctrlc.err" &
    pid=$!
    for _ in $(seq 200); do grep -q '^read ' "$WORK/ctrlc.err" && break; sleep 0.05; done
    sleep 0.5  # into the network
    start=$(date +%s%N)
    kill -INT $pid
    wait $pid
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ $rc -ne 130 ]; then
        fail "Ctrl-C try $try: exit status $rc, expected 130"
        sed 's/^/    /' "$WORK/ctrlc.err" >&2
        continue
    fi
    ok
    expect_in "$WORK/ctrlc.err" "^espcn-cli: interrupted; .*ctrlc.pgm not written$" "Ctrl-C message"
    [ ! -e "$WORK/ctrlc.pgm" ] && ok || fail "Ctrl-C left $WORK/ctrlc.pgm"
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    echo "measured: Ctrl-C try $try: espcn-cli exited ${ms} ms after SIGINT"
done
leftovers=$(find "$WORK" -name '*.espcn-*.tmp' | wc -l)
[ "$leftovers" -eq 0 ] && ok || fail "Ctrl-C left $leftovers temporary files"
if [ -n "$best" ] && [ "$best" -le 500 ]; then ok; else
    fail "Ctrl-C: the best of three tries took ${best:-?} ms (limit 500 ms; target ~100 ms on an idle machine)"
fi
echo "measured: Ctrl-C, best of 3: ${best:-?} ms ($(uptime | sed 's/.*load/load/'))"

finish test_robustness
