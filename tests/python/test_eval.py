"""espcn-eval against an independent computation of the SR protocol.

Generates a tiny dataset (RGB and gray images whose sizes are not multiples of
the scale), runs espcn-eval with --save and --csv, and recomputes here, with
numpy and weights/matlab_imresize.py, what the protocol says:

  Y      round(16 + (65.481 R + 128.553 G + 24.966 B) / 255)   (gray: itself)
  HR     Y cropped to a multiple of r
  LR     MATLAB imresize(HR, 1/r, 'bicubic') on uint8   -> must equal the saved LR exactly
  bic.   MATLAB imresize(LR, r, 'bicubic')              -> must equal the saved bicubic exactly
  PSNR   10 log10(255^2 / MSE) after shaving r pixels   -> CSV within 1e-3 dB
  SSIM   Wang et al.'s ssim_index (11x11 Gaussian 1.5, valid) -> CSV within 1e-5

The SR plane is the engine's (whatever the model): what is checked is the
scoring. Also: --sr-dir scores external images (the bicubic planes handed back
as external output score exactly as bicubic; RGB files are reduced to Y), --lr-dir takes
given LR planes (the saved LR and bicubic are those planes' and the scores follow them), and
bad input (an LR plane of the wrong size among them) fails with exit status 1 or 2, never a
signal.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def write_pnm(path: str, img: np.ndarray) -> None:
    magic = b"P5" if img.ndim == 2 else b"P6"
    h, w = img.shape[:2]
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n255\n" % (w, h) + img.astype(np.uint8).tobytes())


def read_pgm(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval (no comments in our files)
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    assert fields[0] == b"P5" and fields[3] == b"255", fields
    w, h = int(fields[1]), int(fields[2])
    return np.frombuffer(data[pos:pos + w * h], np.uint8).reshape(h, w)


def dataset(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Patterns, gradients, noise and blocky 'text', sizes not multiples of 2, 3 or 4."""
    h, w = 53, 61
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    zone = 127.5 + 127.5 * np.cos((x ** 2 + y ** 2) * np.pi / 140)
    grad = np.stack([x / w * 255, y / h * 255, (x + y) / (w + h) * 255], -1)
    noise = rng.integers(0, 256, (h, w, 3))
    text = np.full((h - 6, w + 4), 230.0)
    for k in range(8):  # vertical and horizontal strokes of glyph-sized blocks
        text[8 + (k % 2) * 18: 22 + (k % 2) * 18, 4 + 7 * k: 6 + 7 * k] = 20
        text[8 + (k % 2) * 18: 10 + (k % 2) * 18, 4 + 7 * k: 9 + 7 * k] = 20
    rgb_zone = np.stack([zone, zone[::-1], 255 - zone], -1)
    return {"zone.ppm": np.clip(np.round(rgb_zone), 0, 255),
            "gradient.ppm": np.clip(np.round(grad), 0, 255),
            "noise.ppm": noise,
            "text.pgm": text}


def luma(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img.astype(np.uint8)
    rgb = img.astype(np.float64)
    v = 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255
    return np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray, s: int) -> float:
    d = a[s:-s, s:-s].astype(np.float64) - b[s:-s, s:-s].astype(np.float64)
    mse = np.mean(d * d)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, s: int) -> float:
    """ssim_index.m: window = fspecial('gaussian', 11, 1.5); filter2(..., 'valid')."""
    x = a[s:-s, s:-s].astype(np.float64)
    y = b[s:-s, s:-s].astype(np.float64)
    t = np.arange(11) - 5.0
    g = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * 1.5 ** 2))
    g /= g.sum()

    def filt(im):
        hh, ww = im.shape[0] - 10, im.shape[1] - 10
        out = np.zeros((hh, ww))
        for i in range(11):
            for j in range(11):
                out += g[i, j] * im[i:i + hh, j:j + ww]
        return out

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = filt(x), filt(y)
    sxx, syy, sxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(m.mean())


def run(cmd: list[str], expect: int | None = 0) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode < 0:
        pytest.fail(f"{' '.join(cmd)} died of signal {-p.returncode}\n{p.stderr}")
    if expect is not None and p.returncode != expect:
        pytest.fail(f"{' '.join(cmd)} exited {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}")
    return p


class Tools:
    def __init__(self, option):
        self.eval, self.make_model = option("--eval"), option("--make-model")
        self.weights_dir = option("--weights-dir")  # for matlab_imresize.py


def test_eval_scores_as_the_protocol_says(option):
    a = Tools(option)
    sys.path.insert(0, a.weights_dir)
    from matlab_imresize import downscale, upscale

    checks = 0
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "Gen")
        os.makedirs(data)
        images = dataset(rng)
        for name, img in images.items():
            write_pnm(os.path.join(data, name), img)
        for r in (2, 3, 4):
            model = os.path.join(tmp, f"m{r}.safetensors")
            run([a.make_model, "--arch", "espcn", "--scale", str(r), "--seed", str(r), "-o", model])
            save, table = os.path.join(tmp, f"save{r}"), os.path.join(tmp, f"t{r}.csv")
            run([a.eval, "-m", model, "--threads", "1", "--save", save, "--csv", table, data])
            with open(table) as f:
                rows = {row["image"]: row for row in csv.DictReader(f)}
            sums = np.zeros(4)
            for name, img in sorted(images.items()):
                stem = os.path.splitext(name)[0]
                hr = luma(img)
                hr = hr[: hr.shape[0] - hr.shape[0] % r, : hr.shape[1] - hr.shape[1] % r]
                lr = downscale(hr, r)
                bic = upscale(lr, r)
                d = os.path.join(save, "Gen")
                assert np.array_equal(read_pgm(os.path.join(d, stem + "_hr.pgm")), hr), (r, name, "HR")
                assert np.array_equal(read_pgm(os.path.join(d, stem + "_lr.pgm")), lr), (r, name, "LR")
                assert np.array_equal(read_pgm(os.path.join(d, stem + "_bicubic.pgm")), bic), (r, name, "bicubic")
                sr = read_pgm(os.path.join(d, stem + "_sr.pgm"))
                want = [psnr(sr, hr, r), ssim(sr, hr, r), psnr(bic, hr, r), ssim(bic, hr, r)]
                row = rows[name]
                got = [float(row[k]) for k in ("psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y")]
                for g, w, tol in zip(got, want, (1e-3, 1e-5, 1e-3, 1e-5)):
                    assert abs(g - w) <= tol, (r, name, got, want)
                assert int(row["hr_width"]) == hr.shape[1] and int(row["hr_height"]) == hr.shape[0]
                sums += want
                checks += 1
            mean = [float(rows["mean"][k]) for k in ("psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y")]
            assert np.allclose(mean, sums / len(images), atol=1e-3), (mean, sums / len(images))

            # --lr-dir: the LR planes given (here the protocol's LR with noise, as a codec's
            # output would differ from it) are what the model and bicubic start from
            given = os.path.join(tmp, f"lr{r}", "Gen")
            os.makedirs(given)
            for name in images:
                stem = os.path.splitext(name)[0]
                lr = read_pgm(os.path.join(save, "Gen", stem + "_lr.pgm")).astype(np.float64)
                lr = np.clip(lr + rng.integers(-6, 7, lr.shape), 0, 255)
                write_pnm(os.path.join(given, stem + ".pgm"), lr)
            save2, t4 = os.path.join(tmp, f"save{r}lr"), os.path.join(tmp, f"lr{r}.csv")
            run([a.eval, "-m", model, "--threads", "1", "--lr-dir", os.path.dirname(given), "--save", save2,
                 "--csv", t4, data])
            with open(t4) as f:
                rows = {row["image"]: row for row in csv.DictReader(f)}
            for name, img in sorted(images.items()):
                stem = os.path.splitext(name)[0]
                hr = luma(img)
                hr = hr[: hr.shape[0] - hr.shape[0] % r, : hr.shape[1] - hr.shape[1] % r]
                lr = read_pgm(os.path.join(given, stem + ".pgm"))
                d = os.path.join(save2, "Gen")
                assert np.array_equal(read_pgm(os.path.join(d, stem + "_lr.pgm")), lr), (r, name, "given LR")
                bic = upscale(lr, r)
                assert np.array_equal(read_pgm(os.path.join(d, stem + "_bicubic.pgm")), bic), (r, name, "bicubic")
                sr = read_pgm(os.path.join(d, stem + "_sr.pgm"))
                assert abs(float(rows[name]["psnr_y"]) - psnr(sr, hr, r)) <= 1e-3, (r, name)
                assert abs(float(rows[name]["bicubic_psnr_y"]) - psnr(bic, hr, r)) <= 1e-3, (r, name)
            checks += 1

            # external images: the bicubic planes as gray, or as RGB (R = G = B = v gives
            # Y = round(16 + 219 v / 255), so write the inverse where it exists: use gray)
            ext = os.path.join(tmp, f"ext{r}", "Gen")
            os.makedirs(ext)
            for name in images:
                stem = os.path.splitext(name)[0]
                bic = read_pgm(os.path.join(save, "Gen", stem + "_bicubic.pgm"))
                write_pnm(os.path.join(ext, stem + ".pgm"), bic)
            t2 = os.path.join(tmp, f"ext{r}.csv")
            run([a.eval, "-s", str(r), "--sr-dir", os.path.dirname(ext), "--csv", t2, data])
            with open(t2) as f:
                for row in csv.DictReader(f):
                    assert row["method"] == "external"
                    assert row["psnr_y"] == row["bicubic_psnr_y"] and row["ssim_y"] == row["bicubic_ssim_y"], row
            checks += 1

        # an RGB external image is reduced to its Y
        ext = os.path.join(tmp, "rgb", "Gen")
        os.makedirs(ext)
        for name, img in images.items():
            stem = os.path.splitext(name)[0]
            hr = luma(img)
            hr = hr[: hr.shape[0] // 2 * 2, : hr.shape[1] // 2 * 2]
            rgb = np.repeat(hr[..., None], 3, -1).astype(np.float64)
            write_pnm(os.path.join(ext, stem + ".ppm"), rgb)  # Y of gray RGB v: round(16 + 219 v/255)
        t3 = os.path.join(tmp, "rgb.csv")
        run([a.eval, "-s", "2", "--sr-dir", os.path.dirname(ext), "--csv", t3, data])
        with open(t3) as f:
            for row in csv.DictReader(f):
                if row["image"] == "mean":
                    continue
                img = images[row["image"]]
                hr = luma(img)
                hr = hr[: hr.shape[0] // 2 * 2, : hr.shape[1] // 2 * 2]
                y_ext = np.clip(np.floor(16 + (65.481 + 128.553 + 24.966) * hr.astype(np.float64) / 255 + 0.5), 0, 255)
                assert abs(float(row["psnr_y"]) - psnr(y_ext, hr, 2)) <= 1e-3, row
        checks += 1

        # failures: a clear message and exit 1 (runtime) or 2 (usage), never a signal
        bad = [
            ([a.eval, data], 2),                                   # no model, no scale
            ([a.eval, "-m", os.path.join(tmp, "m2.safetensors"), "--bogus", data], 2),
            ([a.eval, "-m", os.path.join(tmp, "m2.safetensors"), os.path.join(tmp, "none")], 1),
            ([a.eval, "-m", os.path.join(tmp, "missing.safetensors"), data], 1),
            ([a.eval, "-m", os.path.join(tmp, "m2.safetensors"), "-s", "3", data], 1),
            ([a.eval, "-s", "3", "--sr-dir", os.path.join(tmp, "ext2"), data], 1),  # sizes differ
            ([a.eval, "-s", "2", "--sr-dir", os.path.join(tmp, "nowhere"), data], 1),
            ([a.eval, "-m", os.path.join(tmp, "m3.safetensors"), "--lr-dir", os.path.join(tmp, "lr2"), data], 1),
            ([a.eval, "-m", os.path.join(tmp, "m2.safetensors"), "--lr-dir", os.path.join(tmp, "nowhere"), data], 1),
            ([a.eval, "-s", "2", "--sr-dir", os.path.join(tmp, "ext2"), "--lr-dir", os.path.join(tmp, "lr2"), data], 2),
        ]
        for cmd, code in bad:
            p = run(cmd, expect=code)
            assert "espcn-eval: " in p.stderr, p.stderr
            checks += 1
    print(f"test_eval: {checks} checks passed")
