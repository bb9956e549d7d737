# shellcheck shell=bash
# Sourced by the shell tests (tests/tools/*.sh, tests/ffmpeg/*.sh): the one
# copy of their helpers. A test counts checks with ok / fail, runs commands
# with run (or run_signal_aware), and ends with `finish NAME`, whose status is
# the test's.

passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $*" >&2
}

# finish NAME: "NAME: N passed, M failed"; status 0 only if nothing failed.
finish() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# run EXPECTED_RC NAME CMD...: runs CMD with stdout/stderr in $WORK/NAME.out
# and $WORK/NAME.err (LAST_OUT, LAST_ERR); checks the exit status and that no
# signal ended it (an exit status of 128 or more is taken as one).
run() {
    local expected=$1 name=$2
    shift 2
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    LAST_OUT=$WORK/$name.out
    LAST_ERR=$WORK/$name.err
    if [ "$rc" -ge 128 ]; then
        fail "$name: killed by signal $((rc - 128)) (exit status $rc): $*"
        sed 's/^/    /' "$LAST_ERR" >&2
        return 1
    fi
    if [ "$rc" -ne "$expected" ]; then
        fail "$name: exit status $rc, expected $expected: $*"
        sed 's/^/    stdout: /' "$LAST_OUT" >&2
        sed 's/^/    stderr: /' "$LAST_ERR" >&2
        return 1
    fi
    ok
    return 0
}

# expect_in FILE PATTERN WHAT: an extended regex must match a line of FILE.
expect_in() {
    if grep -Eq -- "$2" "$1"; then
        ok
    else
        fail "$3: no line matching /$2/ in:"
        sed 's/^/    /' "$1" >&2
    fi
}

# run_signal_aware CMD...: prints CMD's output (stdout and stderr), then
# "rc=N", where N < 0 means killed by signal -N. (bash alone cannot tell an
# exit status of 128+N from a death by signal N.)
run_signal_aware() {
    python3 -c 'import subprocess, sys
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
sys.stdout.write(p.stdout.decode(errors="replace")); print("rc=%d" % p.returncode)' "$@"
}

# ff ARGS...: $ffmpeg, quiet, never waiting for stdin.
ff() { "$ffmpeg" -hide_banner -nostdin -y -loglevel error "$@"; }
