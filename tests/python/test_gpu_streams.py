"""bench/gpu_streams.py's arithmetic, without a GPU or ffmpeg (label unit, < 1 s): the
search for the largest N of streams that hold real time (doubling, then bisection,
bounded by a deadline) and the per-process fps over the common window of progress
reports (start-up excluded, no process finished)."""
import importlib.util
import os

import pytest

spec = importlib.util.spec_from_file_location(
    "gpu_streams", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "gpu_streams.py"))
gpu_streams = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_streams)


@pytest.mark.parametrize("capacity,max_n,want", [(400, 64, 13), (29, 64, 0), (30, 64, 1), (3000, 64, 64),
                                                 (3000, 50, 50), (1400, 50, 46), (61, 8, 2)])
def test_largest_n_finds_the_last_n_holding_30_fps(capacity, max_n, want):
    # A GPU that shares `capacity` fps among N streams.
    best, finished, history = gpu_streams.largest_n(lambda n: capacity / n >= 30, max_n, deadline=1e9)
    assert (best, finished) == (want, True), history
    assert len(history) <= 2 * max_n.bit_length() + 1, history
    assert all(held == (capacity / n >= 30) for n, held in history)


def test_the_deadline_stops_the_search_and_says_so():
    t = [0.0]

    def clock():
        return t[0]

    def trial(n):
        t[0] += 10.0  # each trial takes 10 s
        return 400 / n >= 30

    best, finished, history = gpu_streams.largest_n(trial, 64, deadline=25.0, clock=clock)
    assert not finished
    assert best == 4 and [n for n, _ in history] == [1, 2, 4]


def test_window_fps_excludes_start_up_and_the_tail():
    # Process 0 starts at once at 60 fps; process 1 spends 2 s starting, then 30 fps.
    a = [(0.1 * i, int(6 * i)) for i in range(0, 80)]               # 60 fps, ends at 7.9 s
    b = [(2.0 + 0.1 * i, int(3 * i)) for i in range(0, 100)]        # 30 fps from 2 s, ends at 11.9 s
    t0, t1, fps = gpu_streams.window_fps([a, b], warm=30)
    assert t0 == pytest.approx(2.0 + 1.0)   # b passes frame 30 at 3.0 s
    assert t1 == pytest.approx(7.9)         # a's last report
    assert fps[0] == pytest.approx(60, rel=0.03)
    assert fps[1] == pytest.approx(30, rel=0.03)


def test_window_fps_without_a_common_window():
    a = [(0.0, 0), (1.0, 100)]
    b = [(2.0, 0), (3.0, 10)]                # never past warm=30
    assert gpu_streams.window_fps([a, b], warm=30) is None
    c = [(5.0, 40), (6.0, 80)]               # starts after a ended
    assert gpu_streams.window_fps([a, c], warm=30) is None
