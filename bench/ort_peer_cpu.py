#!/usr/bin/env python3
"""ONNX Runtime's CPU provider on a shipped model, where bench/cpu_peers.py cannot run:
the GPU machine has no network (cpu_peers.py builds its own venv from PyPI) and no
OpenVINO, but its image lists onnxruntime and onnx. The same graphs and the same
timed call as cpu_peers.py's ONNX Runtime rows ("matched" setting: fp32, sequential,
all graph optimisations; weights/onnx_export.py, both residual forms, the faster
one kept; bench/cpu_peers_runtimes.py OrtPeer, run_with_iobinding on preallocated
arrays), without its interleaved rounds, load gate or output checks: one median of
short batches per row. A context figure for scripts/gpu_check.sh's CPU step, not
a replacement for cpu_peers.py on a quiet machine.

  python3 bench/ort_peer_cpu.py --models lrnet-x2 --sizes 640x360,1920x1080 --threads 2 [--min-time 1.0]

Exit status 3 (and a line saying why) when onnxruntime or onnx does not import.
"""
import argparse
import os
import statistics
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "weights"))
sys.path.insert(0, os.path.join(ROOT, "bench"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="lrnet-x2")
    ap.add_argument("--sizes", default="640x360,1920x1080")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=1.0)
    a = ap.parse_args()
    try:
        import numpy as np
        import onnx  # noqa: F401  (to_onnx needs it)
        import onnxruntime
    except ImportError as e:
        print(f"ort_peer_cpu: skipped: {e}")
        return 3
    from cpu_peers_runtimes import OrtPeer
    from espcn_format import read_model, residual_of
    from onnx_export import to_onnx

    print(f"# ort_peer_cpu: onnxruntime {onnxruntime.__version__}, CPUExecutionProvider, {a.threads} threads, "
          "matched setting (fp32); median of batches over >= "
          f"{a.min_time} s per row")
    for name in a.models.split(","):
        path = name if os.path.exists(name) else os.path.join(ROOT, "weights", name + ".safetensors")
        network, tensors = read_model(path)
        r = int(network["scale"])
        forms = ["hr", "lr"] if residual_of(network) else ["hr"]
        for size in a.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            x = np.random.default_rng(1).random((1, 1, h, w), dtype=np.float32)
            best = None
            for form in forms:
                model = to_onnx(network, tensors, input_size=(w, h), batch_size=1, residual_form=form)
                peer = OrtPeer(model.SerializeToString(), a.threads, "matched", x, (1, 1, h * r, w * r))
                peer.run()
                peer.run()
                times, total = [], 0.0
                while total < a.min_time or len(times) < 3:
                    t0 = time.perf_counter()
                    peer.run()
                    dt = time.perf_counter() - t0
                    times.append(dt)
                    total += dt
                sec = statistics.median(times)
                print(f"  {os.path.basename(path):24s} {size:>9s}  residual form {form}: {1 / sec:8.2f} fps "
                      f"({sec * 1e3:.1f} ms, {len(times)} runs)", flush=True)
                best = sec if best is None else min(best, sec)
            print(f"  {os.path.basename(path):24s} {size:>9s}  onnxruntime best: {1 / best:.2f} fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
