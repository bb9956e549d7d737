# Sourced by the ffmpeg tests.

# run_signal_aware CMD...: prints CMD's output (stdout and stderr), then
# "rc=N", where N < 0 means killed by signal -N. (bash alone cannot tell an
# exit status of 128+N from a death by signal N.)
run_signal_aware() {
    python3 -c 'import subprocess, sys
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
sys.stdout.write(p.stdout.decode(errors="replace")); print("rc=%d" % p.returncode)' "$@"
}
