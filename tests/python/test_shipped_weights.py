"""The shipped weights: present, intact, what MODELS.md says, and better than bicubic.

1. weights/MODELS.md's checksum block (sha256sum format) lists every shipped model; each
   file exists and its sha256 matches; no .safetensors in weights/ is left out.
2. Each loads in the engine (`espcn-cli --info`), with the name of its file, the scale in
   its name (x<r>) and the right upsampler (FSRCNN files: a deconvolution).
3. The PyTorch deconvolution fixture (tests/data/deconv_fixture/fixture.json) was made from
   these very files (same sha256), so test_deconv_fixture checks what ships.
4. weights/eval/<model>.csv exists for every model (the committed espcn-eval results that
   MODELS.md's table is made from).
5. With the SR test sets present (../shared/data/sr, or $ESPCN_SR_DATA), espcn-eval on Set5 and Set14
   reproduces every committed weights/eval/<model>.csv: bicubic exactly (it is double
   precision), the model within 0.01 dB / 1e-4 SSIM (float32 convolutions round differently
   on other CPUs and backends; on the machine that wrote the files they are equal); skipped,
   with a message, without the data.
6. Quality on generated content, through the engine with espcn-eval (the SR protocol: Y,
   MATLAB bicubic LR, r pixels shaved): antialiased text, shapes on gradients, rotated
   stripes, smooth texture -- none of it training data. Every model's mean PSNR gain over
   bicubic must reach MARGIN_DB[arch][r].
7. weights/DEFAULTS names one default per scale (installed as default-x<r>.safetensors): the
   best model of that scale by Set5 mean PSNR-Y among those that beat bicubic on every
   generated image; a default that loses to bicubic on any of them fails.
8. weights/DEFAULTS also names one model per scale for compressed video ("video-x<r>",
   installed as default-video-x<r>.safetensors, which `espcn=content=video` loads): a shipped
   "<arch>-x<r>-video" model of that scale (issue #23; its compressed-input checks are
   test_video_models.py's).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import numpy as np
import pytest

# Stated margins (dB of mean PSNR-Y gain over bicubic on the generated set below), set
# below what the shipped models measure (MODELS.md, "Generated content") so that a
# retrained model of the same quality passes and a broken or untrained one does not.
MARGIN_DB = {"espcn": {2: 2.0, 3: 1.5, 4: 1.0}, "fsrcnn": {2: 2.0, 3: 1.5, 4: 1.0},
             "lrnet": {2: 2.0, 3: 1.5, 4: 1.0}}

GLYPHS = {  # 5 x 7 bitmaps
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "S": ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
    "P": ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
    "C": ["01111", "10000", "10000", "10000", "10000", "10000", "01111"],
    "N": ["10001", "11001", "10101", "10011", "10001", "10001", "10001"],
    "x": ["00000", "00000", "10001", "01010", "00100", "01010", "10001"],
    "2": ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
    "4": ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
}


def area_down(img: np.ndarray, k: int) -> np.ndarray:
    h, w = img.shape[0] // k * k, img.shape[1] // k * k
    return img[:h, :w].reshape(h // k, k, w // k, k, *img.shape[2:]).mean(axis=(1, 3))


def text_image(h: int, w: int, dot: int, ss: int = 4) -> np.ndarray:
    """Dark antialiased text on light paper: glyphs drawn at ss x, area-averaged."""
    big = np.full((h * ss, w * ss), 235.0)
    text = "ESPCN x2 x4 SPEC " * 8
    gx, gy, step = 2 * ss, 2 * ss, 6 * dot * ss
    for ch in text:
        if ch != " ":
            for row, bits in enumerate(GLYPHS[ch]):
                for col, b in enumerate(bits):
                    if b == "1":
                        y0, x0 = gy + row * dot * ss, gx + col * dot * ss
                        big[y0:y0 + dot * ss, x0:x0 + dot * ss] = 25.0
        gx += step
        if gx + step > w * ss:
            gx, gy = 2 * ss, gy + 9 * dot * ss
            if gy + 8 * dot * ss > h * ss:
                break
    return area_down(big, ss)


def shapes_image(h: int, w: int, rng: np.random.Generator, ss: int = 4) -> np.ndarray:
    """Antialiased discs and rectangles, each a flat colour, over a two-way RGB gradient."""
    y, x = np.mgrid[0:h * ss, 0:w * ss].astype(np.float64) / ss
    img = np.stack([60 + 150 * x / w, 40 + 170 * y / h, 200 - 120 * x / w], -1)
    for _ in range(14):
        col = rng.integers(0, 256, 3).astype(np.float64)
        cx, cy, s = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(4, 22)
        if rng.random() < 0.5:
            mask = (x - cx) ** 2 + (y - cy) ** 2 < s * s
        else:
            mask = (np.abs(x - cx) < s) & (np.abs(y - cy) < s * 0.6)
        img[mask] = col
    return area_down(img, ss)


def stripes_image(h: int, w: int, ss: int = 4) -> np.ndarray:
    """Rotated bars, period 12 px at the top to 24 px at the bottom: still resolved in an x4
    LR image (3-6 px), so there are edges to restore rather than aliasing to guess at."""
    y, x = np.mgrid[0:h * ss, 0:w * ss].astype(np.float64) / ss
    u = x * np.cos(0.5) + y * np.sin(0.5)
    period = 12 + 12 * (y / h)
    img = np.where((u % period) < period / 2, 200.0, 50.0)
    return area_down(img, ss)


def texture_image(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random texture: noise low-passed by repeated 3x3 box blurs, stretched."""
    t = rng.normal(size=(h + 16, w + 16))
    for _ in range(4):
        t = sum(np.roll(np.roll(t, dy, 0), dx, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9
    t = t[8:-8, 8:-8]
    return 128 + 100 * (t - t.mean()) / (3 * t.std())


def write_pnm(path: str, img: np.ndarray) -> None:
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    magic = b"P5" if img.ndim == 2 else b"P6"
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n255\n" % (img.shape[1], img.shape[0]) + img.tobytes())


def make_dataset(folder: str) -> list[str]:
    rng = np.random.default_rng(2016)
    images = {
        "text_small.pgm": text_image(144, 216, dot=2),
        "text_large.pgm": text_image(144, 216, dot=4),
        "shapes.ppm": shapes_image(168, 204, rng),
        "stripes.pgm": stripes_image(156, 192),
        "texture.pgm": texture_image(144, 180, rng),
    }
    os.makedirs(folder)
    for name, img in images.items():
        write_pnm(os.path.join(folder, name), img)
    return sorted(images)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def checksum_block(models_md: str) -> dict[str, str]:
    """The ```sha256 fenced block of MODELS.md: '<hex>  <file>' per line."""
    text = open(models_md).read()
    m = re.search(r"```sha256\n(.*?)```", text, re.S)
    if not m:
        pytest.fail(f"{models_md} has no ```sha256 block")
    out = {}
    for line in m.group(1).strip().splitlines():
        digest, name = line.split()
        out[name] = digest
    return out


def parse_stem(stem: str) -> tuple[str, str, str]:
    """<arch>-x<r>[-<kind>] (kind: "video", models for compressed input) -> (arch, r, kind)."""
    m = re.match(r"^([a-z0-9]+)-x(\d+)(?:-(video))?$", stem)
    assert m, f"{stem}: not <arch>-x<r>[-video]"
    return m.group(1), m.group(2), m.group(3) or ""


@pytest.fixture(scope="module")
def tools(option):
    class Tools:
        cli, eval = option("--cli"), option("--eval")
        weights_dir, fixture = option("--weights-dir"), option("--fixture")
    return Tools


@pytest.fixture(scope="module")
def listed(tools):
    """{file: sha256} of MODELS.md's checksum block."""
    return checksum_block(os.path.join(tools.weights_dir, "MODELS.md"))


@pytest.fixture(scope="module")
def set5(tools, listed):
    """{file: Set5 mean PSNR-Y} from the committed weights/eval/<model>.csv (4)."""
    eval_dir = os.path.join(tools.weights_dir, "eval")
    out = {}
    for name in listed:
        path = os.path.join(eval_dir, name[: -len(".safetensors")] + ".csv")
        assert os.path.exists(path), f"no espcn-eval results {path} for {name}"
        rows = list(csv.DictReader(open(path)))
        means = {row["dataset"]: float(row["psnr_y"]) for row in rows if row["image"] == "mean"}
        assert set(means) == {"Set5", "Set14"}, (path, means)
        out[name] = means["Set5"]
    return out


def test_models_md_lists_every_model_intact_and_loadable(tools, listed):
    """1, 2 and 3 above."""
    a = tools
    present = sorted(f for f in os.listdir(a.weights_dir) if f.endswith(".safetensors"))
    assert sorted(listed) == present, f"MODELS.md lists {sorted(listed)}, weights/ has {present}"
    for arch in ("espcn", "fsrcnn"):
        for r in (2, 3, 4):
            assert f"{arch}-x{r}.safetensors" in listed, f"{arch}-x{r} is not shipped"
    for name, digest in sorted(listed.items()):
        path = os.path.join(a.weights_dir, name)
        assert sha256(path) == digest, f"{name}: sha256 {sha256(path)} != MODELS.md {digest}"
        info = subprocess.run([a.cli, "--info", "-m", path], capture_output=True, text=True)
        assert info.returncode == 0, info.stderr
        fields = dict(re.findall(r"^([a-zA-Z ]+):\s+(.*)$", info.stdout, re.M))
        stem = name[: -len(".safetensors")]
        arch, r, _ = parse_stem(stem)
        assert fields["model"] == stem, (name, fields)
        assert fields["scale"] == f"x{r}", (name, fields)
        assert fields["upsampler"].startswith("deconv" if arch == "fsrcnn" else "pixel_shuffle"), fields
    with open(a.fixture) as f:
        fixture = json.load(f)
    for name, m in fixture["models"].items():
        assert listed.get(name) == m["sha256"], \
            f"the deconv fixture was made from another {name}: run weights/train/make_deconv_fixture.py"


def test_eval_results_reproduce_on_set5_and_set14(tools, listed, set5, tmp_path):
    """5 above; skipped without the data."""
    a = tools
    data_root = os.environ.get("ESPCN_SR_DATA") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(a.weights_dir))), "shared", "data", "sr")
    if not all(os.path.isdir(os.path.join(data_root, s)) for s in ("Set5", "Set14")):
        pytest.skip(f"reproducing weights/eval/*.csv needs Set5 and Set14 under {data_root}")
    eval_dir = os.path.join(a.weights_dir, "eval")
    for name in sorted(listed):
        stem = name[: -len(".safetensors")]
        out = str(tmp_path / (stem + ".csv"))
        p = subprocess.run([a.eval, "-m", os.path.join(a.weights_dir, name), "--threads", "2", "--csv", out,
                            os.path.join(data_root, "Set5"), os.path.join(data_root, "Set14")],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        got = list(csv.DictReader(open(out)))
        want = list(csv.DictReader(open(os.path.join(eval_dir, stem + ".csv"))))
        assert [(g["dataset"], g["image"]) for g in got] == [(w["dataset"], w["image"]) for w in want]
        for g, w in zip(got, want):
            for key, tol in (("psnr_y", 0.01), ("ssim_y", 1e-4), ("bicubic_psnr_y", 0.0001),
                             ("bicubic_ssim_y", 1e-6)):
                assert abs(float(g[key]) - float(w[key])) <= tol, \
                    f"{stem} {g['dataset']}/{g['image']} {key}: {g[key]}, weights/eval says {w[key]}"


def test_models_beat_bicubic_and_defaults_are_the_best(tools, listed, set5, tmp_path):
    """6 and 7 above."""
    a = tools
    data = str(tmp_path / "Generated")
    names = make_dataset(data)
    never_worse = {}
    for name in sorted(listed):
        stem = name[: -len(".safetensors")]
        arch, r, _ = parse_stem(stem)
        r = int(r)
        table = str(tmp_path / (stem + ".csv"))
        p = subprocess.run([a.eval, "-m", os.path.join(a.weights_dir, name), "--threads", "2",
                            "--csv", table, data], capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        rows = {row["image"]: row for row in csv.DictReader(open(table))}
        assert sorted(k for k in rows if k != "mean") == names
        gain = float(rows["mean"]["psnr_y"]) - float(rows["mean"]["bicubic_psnr_y"])
        per = {k: float(v["psnr_y"]) - float(v["bicubic_psnr_y"]) for k, v in rows.items() if k != "mean"}
        print(f"{stem}: mean gain {gain:+.3f} dB over bicubic (margin {MARGIN_DB[arch][r]:.1f}); "
              + ", ".join(f"{k} {v:+.2f}" for k, v in sorted(per.items())))
        assert gain >= MARGIN_DB[arch][r], f"{stem}: gain {gain:.3f} dB < {MARGIN_DB[arch][r]} dB"
        never_worse[name] = min(per.values()) > 0.0
    # The defaults: one per scale, each the best of its scale by Set5 PSNR among the models
    # that beat bicubic on every generated image (what a user gets without choosing must not
    # lose to bicubic anywhere we looked).
    defaults = {}
    for line in open(os.path.join(a.weights_dir, "DEFAULTS")):
        if re.match(r"^x\d+ ", line):
            scale, name = line.split()
            assert scale not in defaults, f"DEFAULTS: {scale} twice"
            defaults[scale] = name
    assert sorted(defaults) == ["x2", "x3", "x4"], defaults
    for scale, name in defaults.items():
        assert name in listed and name.endswith(f"-{scale}.safetensors"), (scale, name)
        assert never_worse[name], f"default {name} is worse than bicubic on a generated image"
        eligible = [n for n in listed if n.endswith(f"-{scale}.safetensors") and never_worse[n]]
        best = max(eligible, key=lambda n: set5[n])
        assert best == name, f"DEFAULTS {scale} is {name} ({set5[name]:.3f} dB) but {best} measures {set5[best]:.3f}"
    for name in sorted(listed):
        if not never_worse[name]:
            print(f"note: {name} loses to bicubic on a generated image (documented in MODELS.md); not a default")


def test_defaults_name_a_video_model_per_scale(tools, listed):
    """8 above."""
    video = {}
    for line in open(os.path.join(tools.weights_dir, "DEFAULTS")):
        if re.match(r"^video-x\d+ ", line):
            key, name = line.split()
            scale = key[len("video-"):]
            assert scale not in video, f"DEFAULTS: {key} twice"
            video[scale] = name
    assert sorted(video) == ["x2", "x3", "x4"], video
    for scale, name in video.items():
        assert name in listed and name.endswith(f"-{scale}-video.safetensors"), ("video-" + scale, name)
