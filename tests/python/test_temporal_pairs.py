"""weights/train/temporal.py: the frame pairs of the temporal loss show the same scene pixels.

    pytest test_temporal_pairs.py

Before coding, frames k and k+1 of a clip panned by whole LR pixels must be equal on the crops
shared_crops() returns (the bicubic downscale of a window differs from the scene's only within
~2 LR pixels of the window's border, inside the margin), and their HR box must be the HR of
those crops: otherwise the temporal term would penalise real motion, not codec change.
Needs numpy and Pillow only (no ffmpeg, no torch).
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "weights", "train"))
sys.path.insert(0, os.path.join(REPO, "weights"))

temporal = pytest.importorskip("temporal")
from matlab_imresize import downscale  # noqa: E402


def scene(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([128 + 60 * np.sin(xx / 7.0 + c) * np.cos(yy / 5.0 - c) for c in range(3)], -1)
    return np.clip(rgb + rng.normal(0, 12, rgb.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("r", [2, 3, 4])
@pytest.mark.parametrize("move", [(ky, kx) for ky in (-1, 0, 1) for kx in (-1, 0, 1) if (ky, kx) != (0, 0)])
def test_shared_crops_hold_the_same_scene(r, move):
    rgb = scene(36 * r, 44 * r)
    frames, corners = temporal.panned_clip(rgb, r, *move, frames=3)
    hr_y = temporal.degrade.ycbcr(rgb)[0]
    for k in range(2):
        a, b, (y0, x0, h, w) = temporal.shared_crops(frames[k].y, frames[k + 1].y, *move, margin=4)
        assert a.shape == b.shape == (h, w) and h > 10 and w > 10
        assert np.array_equal(a, b), f"x{r} move {move}: frames {k}/{k + 1} differ on the shared crop"
        cy, cx = corners[k]
        box = hr_y[cy + y0 * r: cy + (y0 + h) * r, cx + x0 * r: cx + (x0 + w) * r]
        # the crop is the LR of its HR box, up to the downscale's border (checked inside it)
        lr_of_box = downscale(box, r)
        assert np.array_equal(lr_of_box[3:-3, 3:-3], a[3:-3, 3:-3])


def test_a_move_of_nothing_is_not_drawn():
    specs = temporal.draw_pair_specs("img.png", 3, temporal.DEFAULTS, seed=0)
    assert len(specs) == temporal.DEFAULTS["pairs"]
    for s in specs:
        assert tuple(s["move"]) != (0, 0)
        assert 0 <= s["keep"] <= temporal.DEFAULTS["frames"] - 2
        assert temporal.DEFAULTS["crf"][0] <= s["crf"] <= temporal.DEFAULTS["crf"][1]


def test_flicker_of_a_static_clip_is_zero_and_bicubic_ratio_is_one():
    rng = np.random.default_rng(1)
    wide = rng.integers(0, 256, (30, 60), dtype=np.uint8)
    clip = np.stack([wide[:, k: k + 40] for k in range(4)])  # panned one pixel right per frame
    from matlab_imresize import upscale
    outs = [upscale(f, 2) for f in clip]
    # eval_compressed's measure: bicubic of a pure pan only differs near the window's border
    assert temporal.pan_mad(outs, 2) == pytest.approx(0.0, abs=1e-12)
    ratios = temporal.flicker_ratios(lambda f: upscale(f, 2), [{"crf0": clip + (np.arange(4)[:, None, None] % 2).astype(np.uint8)}], 2)
    assert ratios["crf0"] == pytest.approx(1.0)


def test_the_sampler_cuts_both_frames_at_the_same_place():
    import sr_data
    rng = np.random.default_rng(3)
    lr = rng.integers(0, 200, (40, 50), dtype=np.uint8)
    hr = rng.integers(0, 256, (80, 100), dtype=np.uint8)
    plain = sr_data.PatchSampler([sr_data.Pair("p", hr, lr)], 2, 16, seed=9)
    paired = sr_data.PatchSampler([sr_data.Pair("p", hr, lr, lr + 7)], 2, 16, seed=9)
    a, h = plain.batch(32, 5)
    a2, b2, h2 = paired.batch(32, 5)  # the same draws: a second frame changes nothing else
    assert np.array_equal(a, a2) and np.array_equal(h, h2)
    assert np.allclose(b2 * 255, a2 * 255 + 7, atol=1e-3)
