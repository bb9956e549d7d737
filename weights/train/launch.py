#!/usr/bin/env python3
"""Run a command (a training run) niced, in its own process group, and keep it paused while a
flag file exists: while another engineer's CPU timing runs (they create the flag for the
duration), the whole process tree (the trainer and its loader workers) gets SIGSTOP, and
SIGCONT once the flag is gone. Checked every --poll seconds.

    /usr/bin/python3 weights/train/launch.py -- /usr/bin/python3 weights/train/train.py --config C

Exits with the command's exit status. SIGINT/SIGTERM are passed on to the process group
(continued first, so it can act on them). Pauses and resumptions are logged on stderr with
the time, and the total paused time at the end.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

DEFAULT_FLAG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))), "timing.active")


def log(msg: str) -> None:
    print(f"[launch {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flag", default=os.environ.get("ESPCN_TIMING_FLAG", DEFAULT_FLAG),
                    help="pause while this file exists (default: %(default)s)")
    ap.add_argument("--nice", type=int, default=5, help="niceness added to the command (default 5)")
    ap.add_argument("--poll", type=float, default=2.0, help="seconds between checks (default 2)")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no command given")

    def child_setup() -> None:
        os.nice(a.nice)

    proc = subprocess.Popen(cmd, start_new_session=True, preexec_fn=child_setup)
    pgid = proc.pid  # its own session: the group id is its pid
    paused_since: float | None = None
    paused_total = 0.0

    def forward(signum, _frame) -> None:
        try:
            os.killpg(pgid, signal.SIGCONT)
            os.killpg(pgid, signum)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)

    log(f"started pid {proc.pid} (nice +{a.nice}); pausing while {a.flag} exists")
    while True:
        try:
            rc = proc.wait(timeout=a.poll)
            break
        except subprocess.TimeoutExpired:
            pass
        flagged = os.path.exists(a.flag)
        try:
            if flagged and paused_since is None:
                os.killpg(pgid, signal.SIGSTOP)
                paused_since = time.monotonic()
                log(f"{a.flag} exists: paused")
            elif not flagged and paused_since is not None:
                os.killpg(pgid, signal.SIGCONT)
                paused_total += time.monotonic() - paused_since
                log(f"{a.flag} gone: continued after {time.monotonic() - paused_since:.0f} s")
                paused_since = None
        except ProcessLookupError:
            pass
    if paused_since is not None:
        paused_total += time.monotonic() - paused_since
    log(f"exit status {rc}; paused {paused_total:.0f} s in all")
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main())
