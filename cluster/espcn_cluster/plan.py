"""Cutting a video into segments at keyframes.

A segment starts at a keyframe, so it decodes on its own and the split is a
stream copy. Cuts are as close to TARGET frames apart as the keyframes allow:
the next cut is the first keyframe at least TARGET frames after the last one.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    index: int
    first: int   # index of its first frame (packet, decode order) in the source
    frames: int


def plan_segments(keyframes: list[int], frames: int, target: int) -> list[Segment]:
    if frames <= 0:
        raise ValueError("a video without frames has no segments")
    if target < 1:
        raise ValueError(f"segment length {target} frames; must be >= 1")
    cuts = [0]
    for k in keyframes:
        if 0 < k < frames and k - cuts[-1] >= target:
            cuts.append(k)
    bounds = cuts + [frames]
    return [Segment(i, bounds[i], bounds[i + 1] - bounds[i]) for i in range(len(cuts))]
