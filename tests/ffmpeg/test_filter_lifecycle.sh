#!/usr/bin/env bash
# The stream's lifecycle in a patched ffmpeg (issue #15; CTest label ffmpeg):
#   test_filter_lifecycle.sh FFMPEG ESPCN_MAKE_MODEL
# 1. a per-frame size change inside the graph (scale=...:eval=frame) is
#    followed at the frame, with the same output as fixed-size graphs;
# 2. the model is read once: deleting it, or atomically replacing it with
#    another x2 model, while ffmpeg runs does not stop or change the stream
#    across the graph rebuild of a decoder resolution change;
# 3. model= naming a FIFO fails at once (no hang);
# 4. memory_budget: small bands give the same output; one too small for a
#    band fails with a message; a 7680x4320 x2 frame peaks under the default
#    budget's bound and under 3 GB RSS (GNU time).
set -uo pipefail
ffmpeg=$1 make_model=$2
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${ffpid:-}" ] && kill "$ffpid" 2>/dev/null' EXIT
source "$(dirname "$0")/../lib.sh"  # ok, fail, finish, ff, run_signal_aware

"$make_model" --arch espcn --scale 2 --seed 1 -o "$work/a.safetensors" >/dev/null
"$make_model" --arch espcn --scale 2 --seed 2 -o "$work/b.safetensors" >/dev/null

# framemd5 lines without the header: "stream, dts, pts, duration, size, hash".
frames() { grep -v '^#' "$1" | sed 's/ //g'; }

# --- 1. size change inside the graph ------------------------------------------------
# The issue's graph: scale switches from 64x48 to 80x40 at a frame (which one
# is scale's business: its n counts from its own start), espcn follows.
src=(-f lavfi -i testsrc2=size=96x64:rate=10:duration=0.6)
sc="scale=w='if(lt(n,3),64,80)':h='if(lt(n,3),48,40)':eval=frame"
m="model=$work/a.safetensors"
ff "${src[@]}" -vf "$sc" -f framemd5 "$work/scaled.md5"
small=$(frames "$work/scaled.md5" | cut -d, -f5 | grep -c '^4608$')  # 64x48 yuv420p
if ff "${src[@]}" -vf "$sc,espcn=$m" -f framemd5 "$work/ingraph.md5"; then
    ok
    sizes=$(frames "$work/ingraph.md5" | cut -d, -f5 | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')
    # yuv420p: 128x96 -> 18432 bytes, 160x80 -> 19200
    [ "$small" -ge 1 ] && [ "$small" -le 5 ] && [ "$sizes" = "${small}x18432 $((6 - small))x19200 " ] &&
        ok || fail "in-graph size change: frame sizes [$sizes] ($small frames of 64x48 from scale)"
    ff "${src[@]}" -vf "scale=64:48,espcn=$m" -f framemd5 "$work/fixed1.md5"
    ff "${src[@]}" -vf "scale=80:40,espcn=$m" -f framemd5 "$work/fixed2.md5"
    want=$( (frames "$work/fixed1.md5" | head -n "$small"; frames "$work/fixed2.md5" | tail -n $((6 - small))) | cut -d, -f5,6)
    got=$(frames "$work/ingraph.md5" | cut -d, -f5,6)
    [ "$got" = "$want" ] && ok || fail "in-graph size change: output differs from fixed-size graphs"
else
    fail "in-graph size change ($sc,espcn) failed"
fi

# --- 2. the model is read once --------------------------------------------------------
# PNG frames through a FIFO: 12 at 64x48 (over the 4 kB image2pipe reads in
# one go, so ffmpeg starts), then, once a frame is through and the model file
# was deleted or replaced, 3 at 80x40, which makes ffmpeg rebuild the graph.
ff -f lavfi -i testsrc2=size=64x48:rate=10:duration=1.2 -f image2 "$work/a%02d.png"
ff -f lavfi -i testsrc2=size=80x40:rate=10:duration=0.3 -f image2 "$work/b%d.png"
# The same frames through the same options without touching the model: what
# the stream must look like (ffmpeg rebuilds the graph at the size change and,
# as its encoder keeps its first size, scales the later frames back to it).
# The same with the second model shows that a switch of networks would show.
run_pipeline() {  # MODEL OUTPUT [INPUT]
    "$ffmpeg" -hide_banner -nostdin -y -loglevel error -probesize 32 -analyzeduration 0 -threads 1 \
        -f image2pipe -c:v png -i "${3:-pipe:0}" -vf "espcn=model=$1" -f framemd5 "$2"
}
cat "$work"/a??.png "$work"/b1.png "$work"/b2.png "$work"/b3.png | run_pipeline "$work/a.safetensors" "$work/keep_ref.md5"
cat "$work"/a??.png "$work"/b1.png "$work"/b2.png "$work"/b3.png | run_pipeline "$work/b.safetensors" "$work/switch_ref.md5"
[ "$(frames "$work/keep_ref.md5" | tail -3)" != "$(frames "$work/switch_ref.md5" | tail -3)" ] && ok ||
    fail "the two models give the same frames: the test could not see a switch"
for change in delete replace; do
    cp "$work/a.safetensors" "$work/live.safetensors"
    rm -f "$work/pipe" "$work/go" "$work/live.md5" && mkfifo "$work/pipe"
    : >"$work/live.log"  # empty until this run writes it
    (cat "$work"/a??.png; while [ ! -e "$work/go" ]; do sleep 0.05; done
     cat "$work"/b1.png "$work"/b2.png "$work"/b3.png) >"$work/pipe" &
    writer=$!
    "$ffmpeg" -hide_banner -nostdin -y -loglevel verbose -probesize 32 -analyzeduration 0 -threads 1 \
        -f image2pipe -c:v png -i "$work/pipe" \
        -vf "espcn=model=$work/live.safetensors,showinfo" -f framemd5 "$work/live.md5" \
        2>"$work/live.log" &
    ffpid=$!
    for _ in $(seq 1200); do grep -q 'Parsed_showinfo.*n: *0 ' "$work/live.log" && break; sleep 0.05; done
    grep -q 'Parsed_showinfo.*n: *0 ' "$work/live.log" && ok || fail "$change: ffmpeg processed no frame of the first size"
    if [ $change = delete ]; then
        rm -f "$work/live.safetensors"
    else
        cp "$work/b.safetensors" "$work/live.new" && mv -f "$work/live.new" "$work/live.safetensors"
    fi
    touch "$work/go"
    wait $writer
    wait $ffpid
    rc=$?
    ffpid=
    if [ $rc -eq 0 ]; then ok; else fail "$change the model mid-stream: ffmpeg exit $rc: $(tail -3 "$work/live.log")"; fi
    n=$(frames "$work/live.md5" | wc -l)
    [ "$n" = 15 ] && ok || fail "$change the model mid-stream: $n frames out, expected 15"
    [ "$(frames "$work/live.md5" | cut -d, -f5,6)" = "$(frames "$work/keep_ref.md5" | cut -d, -f5,6)" ] && ok ||
        fail "$change the model mid-stream: the frames are not the first model's"
    grep -q "was deleted or changed since this process read it; keeping the network read then" "$work/live.log" &&
        ok || fail "$change: no warning that the file changed"
done

# --- 3. a FIFO as the model ----------------------------------------------------------------
rm -f "$work/fifo" && mkfifo "$work/fifo"
out=$(run_signal_aware timeout 20 "$ffmpeg" -hide_banner -f lavfi -i testsrc2=size=32x32:duration=0.1 \
      -vf "espcn=model=$work/fifo" -f null -)
rc=$(tail -n 1 <<<"$out" | sed 's/^rc=//')
if [ "$rc" -gt 0 ] && [ "$rc" -ne 124 ] && grep -q "is a FIFO (named pipe), not a regular file" <<<"$out"; then ok
else fail "model=FIFO: rc=$rc: $(tail -n 3 <<<"$out")"; fi

# --- 4. memory budget ------------------------------------------------------------------------
src=(-f lavfi -i testsrc2=size=321x241:rate=10:duration=0.2)
ff "${src[@]}" -vf "espcn=$m" -f framemd5 "$work/budget_default.md5"
ff "${src[@]}" -vf "espcn=$m:memory_budget=2Mi" -f framemd5 "$work/budget_small.md5"
[ -s "$work/budget_small.md5" ] && [ "$(frames "$work/budget_small.md5")" = "$(frames "$work/budget_default.md5")" ] &&
    ok || fail "memory_budget=2Mi: output differs from the default budget's"
out=$(run_signal_aware "$ffmpeg" -hide_banner "${src[@]}" -vf "espcn=$m:memory_budget=64Ki" -f null -)
rc=$(tail -n 1 <<<"$out" | sed 's/^rc=//')
# (row-tile backends name their smallest band; cpu-fast, which streams rows
# itself, its narrowest strips)
if [ "$rc" -gt 0 ] && grep -Eq "plane needs [0-9]+ bytes of working memory (for its smallest band of rows \(9 rows: |in the cpu-fast backend's narrowest work items).* over the memory budget of 65536 bytes" <<<"$out"
then ok; else fail "memory_budget=64Ki: rc=$rc: $(tail -n 3 <<<"$out")"; fi

# One 8K frame x2 (the default model's architecture), default budget: the
# engine holds at most 512 MiB, the frames ~250 MB (8K in, 16K out, yuv420p).
if /usr/bin/time -f '%M %e' -o "$work/8k.time" "$ffmpeg" -hide_banner -nostdin -loglevel error \
       -f lavfi -i color=s=7680x4320:d=1:r=1 -vf "espcn=scale=2:$m" -f null -; then
    read -r rss secs <"$work/8k.time"
    echo "measured: ffmpeg color=s=7680x4320 (1 frame) -vf espcn=scale=2: peak RSS ${rss} kB, ${secs} s"
    [ "$rss" -lt $((3 * 1024 * 1024)) ] && ok || fail "8K x2: peak RSS $rss kB, over 3 GB"
    # 512 MiB of engine memory + frames + code: well under 1.2 GB.
    [ "$rss" -lt $((1200 * 1024)) ] && ok || fail "8K x2: peak RSS $rss kB, over the budget's bound of 1.2 GB"
else
    fail "8K x2 failed"
fi

finish test_filter_lifecycle
