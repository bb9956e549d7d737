#!/usr/bin/env python3
"""espcn-ray: segment-parallel super-resolution of videos with `ffmpeg -vf espcn` on Ray.

  build/venv-cluster/bin/python cluster/espcn_ray.py IN.mp4 [MORE | FOLDER | 'GLOB'] -o OUTDIR \
      [--scale 2] [--model M] [--backend auto|cpu|cuda] [--precision auto|fp32|fp16] \
      [--encoder-args '-c:v libx264 -crf 16'] [--address HOST:PORT] [--ffmpeg PATH] ...

Needs ray (PyPI; scripts/python_env.sh makes build/venv-cluster with it) and an
ffmpeg with the espcn filter on every node. --help lists every option;
README.md ("Many machines: Ray") explains clusters and segment sizing.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from espcn_cluster.driver import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
