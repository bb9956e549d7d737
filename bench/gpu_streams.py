#!/usr/bin/env python3
"""How many 1080p30 -> 2160p (x2) streams one GPU upscales in real time: N ffmpeg
processes started together, each `-vf espcn=scale=2` on its own copy of a 1080p
source, N raised until one of them falls below 30 fps; the answer is the largest N
at which every process held 30 fps (question (e) of scripts/gpu_check.sh --run).

  python3 bench/gpu_streams.py --ffmpeg build/gpu-check/bin/ffmpeg [--size 1920x1080]
        [--scale 2] [--fps 30] [--frames 150] [--warm 30] [--max-n 64] [--deadline 45]
        [--filter-args backend=cuda] [--csv FILE]

Each process reads a raw yuv420p file of 60 testsrc2 frames in a loop (-stream_loop:
a memcpy per frame, where generating testsrc2 would itself cap the rate; made once
by this script), runs the filter on host frames (what `ffmpeg -i in.mp4 -vf espcn`
does: upload, network, download inside the filter) and discards the output
(-f null). A process's fps is measured from its own progress reports (-progress,
every 0.25 s) over the window in which every process of the trial was running
past its first --warm frames (start-up, model load and cuDNN's search excluded)
and none had finished: fps = frames it completed in the window / the window's
length. A trial holds when every process's fps >= --fps.

The search: N = 1, 2, 4, ... while the trial holds (and N <= --max-n), then a
bisection between the last N that held and the first that did not. Trials stop
when --deadline seconds have passed; the answer is then "at least" the largest N
that held. Needs a GPU: without one the first trial fails and the answer is 0.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time


def window_fps(traces, warm):
    """traces: per process, a list of (time, frames) progress reports in time order.
    Returns (t0, t1, [fps per process]) over the window in which every process was
    past `warm` frames and none had made its last report; None when there is no
    such window (a process never got past warm, or the window is empty)."""
    starts, ends = [], []
    for tr in traces:
        past = [t for t, f in tr if f >= warm]
        if not past:
            return None
        starts.append(past[0])
        ends.append(tr[-1][0])
    t0, t1 = max(starts), min(ends)
    if t1 <= t0:
        return None

    def frames_at(tr, t):  # linear between reports
        prev = tr[0]
        for cur in tr:
            if cur[0] >= t:
                if cur[0] == prev[0]:
                    return cur[1]
                return prev[1] + (cur[1] - prev[1]) * (t - prev[0]) / (cur[0] - prev[0])
            prev = cur
        return tr[-1][1]

    return t0, t1, [(frames_at(tr, t1) - frames_at(tr, t0)) / (t1 - t0) for tr in traces]


def largest_n(trial, max_n, deadline, clock=time.monotonic):
    """trial(n) -> True when n streams hold. Doubling, then bisection. Returns
    (largest n that held, 0 if none; whether the search finished; [(n, held)])."""
    start = clock()
    history = []

    def run(n):
        held = trial(n)
        history.append((n, held))
        return held

    good, bad, n = 0, None, 1
    while n <= max_n:
        if clock() - start > deadline:
            return good, False, history
        if run(n):
            good = n
            n *= 2
        else:
            bad = n
            break
    if bad is None:  # held at every power of two up to max_n
        if good == max_n:
            return good, True, history
        if clock() - start > deadline:
            return good, False, history
        if run(max_n):
            return max_n, True, history
        bad = max_n
    while bad - good > 1:
        if clock() - start > deadline:
            return good, False, history
        mid = (good + bad) // 2
        if run(mid):
            good = mid
        else:
            bad = mid
    return good, True, history


def run_trial(ffmpeg, src, size, n, frames, filter_args, log):
    """n ffmpeg processes at once; their progress traces and exit statuses."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-stats_period", "0.25",
           "-progress", "pipe:1", "-f", "rawvideo", "-pixel_format", "yuv420p", "-video_size", size,
           "-framerate", "30", "-stream_loop", "-1", "-i", src, "-vf", f"espcn={filter_args}",
           "-frames:v", str(frames), "-f", "null", "-"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    traces = [[] for _ in procs]
    errors = [""] * n

    def read(i, p):
        frame = 0
        for line in p.stdout:
            line = line.strip()
            if line.startswith("frame="):
                try:
                    frame = int(line.split("=", 1)[1])
                except ValueError:
                    pass
            elif line.startswith("progress="):
                traces[i].append((time.monotonic(), frame))
        errors[i] = p.stderr.read()

    readers = [threading.Thread(target=read, args=(i, p)) for i, p in enumerate(procs)]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    codes = [p.wait() for p in procs]
    for i, (c, e) in enumerate(zip(codes, errors)):
        if c != 0:
            log(f"   process {i}: exit {c}: {e.strip()[-300:]}")
    return traces, codes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ffmpeg", required=True)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--warm", type=int, default=30)
    ap.add_argument("--max-n", type=int, default=64)
    ap.add_argument("--deadline", type=float, default=45.0)
    ap.add_argument("--filter-args", default="", help="more espcn options, e.g. backend=cuda:precision=fp16")
    ap.add_argument("--csv")
    a = ap.parse_args()

    def log(text):
        print(text, flush=True)

    filter_args = f"scale={a.scale}" + (f":{a.filter_args}" if a.filter_args else "")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src.yuv")
        subprocess.run([a.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                        f"testsrc2=size={a.size}:rate=30", "-frames:v", "60", "-pix_fmt", "yuv420p", "-f",
                        "rawvideo", src], check=True)
        log(f"# gpu_streams: {a.size} -> x{a.scale}, espcn={filter_args}, host frames, {a.frames} frames per "
            f"process (fps over the common window past frame {a.warm}), real time = {a.fps} fps")

        def trial(n):
            t = time.monotonic()
            traces, codes = run_trial(a.ffmpeg, src, a.size, n, a.frames, filter_args, log)
            w = None if any(codes) else window_fps(traces, a.warm)
            if w is None:
                log(f"  N={n:3d}: no measurement ({'a process failed' if any(codes) else 'no common window'}) "
                    f"({time.monotonic() - t:.1f} s)")
                rows.append((n, "", "", "", False))
                return False
            t0, t1, fps = w
            held = min(fps) >= a.fps
            log(f"  N={n:3d}: min {min(fps):7.1f} fps, mean {sum(fps) / n:7.1f}, total {sum(fps):8.1f} over "
                f"{t1 - t0:.2f} s: {'holds' if held else 'falls below'} ({time.monotonic() - t:.1f} s)")
            rows.append((n, f"{min(fps):.2f}", f"{sum(fps) / n:.2f}", f"{sum(fps):.2f}", held))
            return held

        best, finished, _ = largest_n(trial, a.max_n, a.deadline)
    verdict = (f"{best}" if finished else f"at least {best} (deadline of {a.deadline:.0f} s reached)")
    log(f"# gpu_streams: largest N holding {a.fps:g} fps: {verdict}")
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("n,min_fps,mean_fps,total_fps,holds\n")
            for r in rows:
                f.write(",".join(str(v) for v in r) + "\n")
    return 0 if best > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
