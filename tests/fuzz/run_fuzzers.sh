#!/usr/bin/env bash
# Runs each libFuzzer target of tests/fuzz for a fixed time with a memory
# limit: a crash, a sanitizer report, an input over the memory limit (RSS or
# one allocation) or one slower than the timeout fails the run, and the
# input that did it is kept under BUILD_DIR/fuzz/artifacts/.
# Usage: tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]
#   BUILD_DIR: a build configured with -DESPCN_BUILD_FUZZERS=ON (clang)
#   ESPCN_FUZZ_RSS_MB (default 2048), ESPCN_FUZZ_CORPUS_DIR (default: a
#   temporary copy of the committed seeds, discarded afterwards)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2; exit 2; }
build=$(cd "$1" && pwd) seconds=$2
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_model_loader fuzz_backends fuzz_image_readers)
rss_mb=${ESPCN_FUZZ_RSS_MB:-2048}

dict_for() {
    case $1 in
        fuzz_model_loader) echo "-dict=$here/model.dict" ;;
        fuzz_image_readers) echo "-dict=$here/image.dict" ;;
        *) echo "" ;;
    esac
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz/artifacts"
status=0
for t in "${targets[@]}"; do
    bin=$build/fuzz/$t
    [ -x "$bin" ] || { echo "run_fuzzers: $bin is missing (build the fuzz targets)" >&2; exit 1; }
    corpus=${ESPCN_FUZZ_CORPUS_DIR:-$work}/$t
    mkdir -p "$corpus"
    echo "== $t: ${seconds}s, -rss_limit_mb=$rss_mb"
    # One process, one job: the machine is shared. The committed seeds are
    # read, never written; new inputs go to $corpus.
    # shellcheck disable=SC2046
    if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
         UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
         "$bin" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" \
             -timeout=30 -print_final_stats=1 -artifact_prefix="$build/fuzz/artifacts/$t-" \
             $(dict_for "$t") "$corpus" "$here/corpus/$t" >"$work/$t.log" 2>&1; then
        status=1
        echo "!! $t FAILED; the log's end:"
        tail -40 "$work/$t.log"
    else
        grep -E "^stat::|Done [0-9]+ runs" "$work/$t.log" || true
    fi
done
exit $status
