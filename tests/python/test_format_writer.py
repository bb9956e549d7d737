"""The pure-Python model writer (weights/espcn_format.py) against the engine.

Writes small networks with seeded random weights through ModelWriter, runs
them with `espcn-cli --raw-in` on a seeded random 8-bit plane, and compares
every output sample with the same network computed here in double precision
straight from the definitions (FORMAT.md / PyTorch):

  conv2d           out[o][y][x] = b[o] + sum_i,ky,kx w[o][i][ky][kx] *
                                  in[i][y + ky - k//2][x + kx - k//2]   (zero padding)
  ConvTranspose2d  out[o][h*s - p + ky][w*s - p + kx] += in[i][h][w] * w[i][o][ky][kx]
  PReLU            x if x >= 0 else a[c] * x
  pixel shuffle    out[c][h*r + i][w*r + j] = in[c*r*r + i*r + j][h][w]   (CRD)
  encode           floor(clamp(y, 0, 1) * 255 + 0.5)

Tolerance: every sample within 1 code value and at least 95% identical. The
engine computes in float32 and we in double, so a value next to a rounding
boundary (k + 1/2)/255 may land on either side; anything more is a bug.

Also checks that broken files written by the same writer are refused with
exit status 1 and a message naming the problem.

Standard library and pytest. Usage: pytest test_format_writer.py --cli PATH/espcn-cli
"""
from __future__ import annotations

import math
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DEFAULT_WEIGHTS_DIR = HERE.parent.parent / "weights"

W, H = 9, 7  # LR plane size: odd, not square


class Failure(AssertionError):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise Failure(message)


# --- weights -------------------------------------------------------------------

def as_stored(values: list[float], dtype: str) -> list[float]:
    """The values the engine will read back: F16 rounds, F32 rounds to float."""
    code = {"F32": "f", "F16": "e"}[dtype]
    packed = struct.pack(f"<{len(values)}{code}", *values)
    return list(struct.unpack(f"<{len(values)}{code}", packed))


def random_values(rng: random.Random, n: int, scale: float, offset: float = 0.0) -> list[float]:
    return [offset + rng.uniform(-scale, scale) for _ in range(n)]


# --- the definitions, in double precision --------------------------------------------

def conv2d(x: list[list[list[float]]], w: list[float], b: list[float], cin: int, cout: int,
           k: int) -> list[list[list[float]]]:
    """'same' conv, zero padding; x is [cin][H][W], w is (cout, cin, k, k) flat."""
    h, wd = len(x[0]), len(x[0][0])
    half = k // 2
    out = []
    for o in range(cout):
        plane = []
        for y in range(h):
            row = []
            for xx in range(wd):
                acc = b[o]
                for i in range(cin):
                    xi = x[i]
                    base = (o * cin + i) * k * k
                    for ky in range(k):
                        sy = y + ky - half
                        if sy < 0 or sy >= h:
                            continue
                        src = xi[sy]
                        for kx in range(k):
                            sx = xx + kx - half
                            if 0 <= sx < wd:
                                acc += w[base + ky * k + kx] * src[sx]
                row.append(acc)
            plane.append(row)
        out.append(plane)
    return out


def conv_transpose2d(x: list[list[list[float]]], w: list[float], b: list[float], cin: int,
                     cout: int, k: int, stride: int, pad: int,
                     out_pad: int) -> list[list[list[float]]]:
    """PyTorch ConvTranspose2d; w is (cin, cout, k, k) flat."""
    h, wd = len(x[0]), len(x[0][0])
    ho = (h - 1) * stride - 2 * pad + k + out_pad
    wo = (wd - 1) * stride - 2 * pad + k + out_pad
    out = [[[b[o]] * wo for _ in range(ho)] for o in range(cout)]
    for i in range(cin):
        for yy in range(h):
            for xx in range(wd):
                v = x[i][yy][xx]
                for o in range(cout):
                    base = (i * cout + o) * k * k
                    for ky in range(k):
                        oy = yy * stride - pad + ky
                        if oy < 0 or oy >= ho:
                            continue
                        row = out[o][oy]
                        for kx in range(k):
                            ox = xx * stride - pad + kx
                            if 0 <= ox < wo:
                                row[ox] += v * w[base + ky * k + kx]
    return out


def relu(x):
    return [[[max(v, 0.0) for v in row] for row in plane] for plane in x]


def prelu(x, slopes):
    return [[[v if v >= 0.0 else slopes[c] * v for v in row] for row in plane]
            for c, plane in enumerate(x)]


def pixel_shuffle_crd(x, r: int):
    cin, h, wd = len(x), len(x[0]), len(x[0][0])
    c_out = cin // (r * r)
    out = [[[0.0] * (wd * r) for _ in range(h * r)] for _ in range(c_out)]
    for c in range(c_out):
        for yy in range(h):
            for xx in range(wd):
                for i in range(r):
                    for j in range(r):
                        out[c][yy * r + i][xx * r + j] = x[c * r * r + i * r + j][yy][xx]
    return out


def encode8(v: float) -> int:
    t = min(max(v, 0.0), 1.0)
    return int(math.floor(t * 255.0 + 0.5))


# --- the networks ---------------------------------------------------------------------

def shuffle_network(mw_cls, dtype: str, seed: int):
    """conv 3x3 1->4 + relu, conv 3x3 4->r*r, pixel_shuffle crd, r = 2."""
    from espcn_format import Tensor
    r = 2
    rng = random.Random(seed)
    w1 = as_stored(random_values(rng, 4 * 1 * 9, 0.6), dtype)
    b1 = as_stored(random_values(rng, 4, 0.1, 0.1), dtype)
    w2 = as_stored(random_values(rng, r * r * 4 * 9, 0.25), dtype)
    b2 = as_stored(random_values(rng, r * r, 0.1, 0.35), dtype)
    mw = mw_cls(name=f"py-shuffle-{dtype.lower()}", scale=r)
    mw.conv("conv1", Tensor([4, 1, 3, 3], w1, dtype), Tensor([4], b1, dtype))
    mw.activation("relu")
    mw.conv("conv2", Tensor([r * r, 4, 3, 3], w2, dtype), Tensor([r * r], b2, dtype))
    mw.pixel_shuffle("crd")

    def forward(x):
        y = relu(conv2d(x, w1, b1, 1, 4, 3))
        y = conv2d(y, w2, b2, 4, r * r, 3)
        return pixel_shuffle_crd(y, r)

    return mw, r, forward


def residual_network(mw_cls, dtype: str, seed: int):
    """shuffle_network with the global residual (FORMAT.md "residual": "nearest"): the input,
    upsampled by pixel replication, is added to the output before it is rounded."""
    mw, r, forward = shuffle_network(mw_cls, dtype, seed)
    mw.name = f"py-residual-{dtype.lower()}"
    mw.residual = "nearest"

    def forward_residual(x):
        y = forward(x)
        return [[[v + x[0][yy // r][xx // r] for xx, v in enumerate(row)] for yy, row in enumerate(y[0])]]

    return mw, r, forward_residual


def deconv_network(mw_cls, dtype: str, seed: int):
    """conv 3x3 1->3 + PReLU (per channel), deconv 3->1 K5 s2 p2 op1."""
    from espcn_format import Tensor
    r, k, pad, out_pad = 2, 5, 2, 1
    check(k - 2 * pad + out_pad == r,
          f"deconv K - 2p + op = {k - 2 * pad + out_pad}, must equal r = {r}")
    rng = random.Random(seed)
    w1 = as_stored(random_values(rng, 3 * 1 * 9, 0.8), dtype)
    b1 = as_stored(random_values(rng, 3, 0.2, -0.1), dtype)
    slopes = as_stored([0.1, 0.35, -0.2], dtype)  # distinct, one negative
    wd = as_stored(random_values(rng, 3 * 1 * k * k, 0.3), dtype)
    bd = as_stored([0.45], dtype)
    mw = mw_cls(name=f"py-deconv-{dtype.lower()}", scale=r)
    mw.conv("conv1", Tensor([3, 1, 3, 3], w1, dtype), Tensor([3], b1, dtype))
    mw.prelu("prelu1", Tensor([3], slopes, dtype))
    mw.deconv("deconv", Tensor([3, 1, k, k], wd, dtype), Tensor([1], bd, dtype), stride=r,
              padding=pad, output_padding=out_pad)

    def forward(x):
        y = prelu(conv2d(x, w1, b1, 1, 3, 3), slopes)
        return conv_transpose2d(y, wd, bd, 3, 1, k, r, pad, out_pad)

    return mw, r, forward


# --- running the engine ------------------------------------------------------------------

def run_cli(cli: str, args: list[str]) -> subprocess.CompletedProcess:
    p = subprocess.run([cli, *args], capture_output=True, text=True, timeout=60)
    check(p.returncode >= 0, f"espcn-cli killed by signal {-p.returncode}: {args}\n{p.stderr}")
    return p


def upscale_raw(cli: str, model: Path, plane: bytes, r: int, backend: str,
                work: Path) -> list[int]:
    src, dst = work / "in.raw", work / "out.raw"
    src.write_bytes(plane)
    if dst.exists():
        dst.unlink()
    p = run_cli(cli, ["-m", str(model), "-i", str(src), "-o", str(dst), "--raw-in", f"{W}x{H}",
                      "--backend", backend])
    check(p.returncode == 0, f"espcn-cli failed (exit {p.returncode}) on {model.name} "
                             f"({backend}):\n{p.stderr}")
    out = dst.read_bytes()
    check(len(out) == W * r * H * r, f"{model.name}: output has {len(out)} bytes, expected "
                                     f"{W * r * H * r}")
    return list(out)


def compare(got: list[int], want: list[int], r: int) -> str:
    worst, worst_at, identical, interior = 0, None, 0, 0
    for k, (g, e) in enumerate(zip(got, want)):
        d = abs(g - e)
        identical += d == 0
        interior += 0 < e < 255
        if d > worst:
            worst, worst_at = d, k
    n = len(want)
    if worst > 1:
        x, y = worst_at % (W * r), worst_at // (W * r)
        raise Failure(f"HR ({x}, {y}) is {got[worst_at]}, the definition gives "
                      f"{want[worst_at]} (difference {worst}; tolerance 1)")
    check(identical * 100 >= 95 * n, f"only {identical} of {n} samples identical "
                                     f"(at least 95% required)")
    # Guard against a test that compares clamped constants: most outputs must
    # be strictly inside the range.
    check(interior * 2 >= n, f"only {interior} of {n} expected samples are unclamped; "
                             f"the weights do not exercise the network")
    return f"{identical}/{n} identical, max diff {worst}"


# --- broken files ------------------------------------------------------------------------

def expect_refused(cli: str, model: Path, needles: list[str]) -> None:
    p = run_cli(cli, ["-m", str(model), "--info", "--backend", "reference"])
    check(p.returncode == 1, f"{model.name}: exit status {p.returncode}, expected 1\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    for needle in needles:
        check(needle in p.stderr, f"{model.name}: message does not contain {needle!r}: "
                                  f"{p.stderr.strip()}")


# --- the tests ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli(option):
    return option("--cli")


@pytest.fixture(scope="module")
def writer(option):
    """weights/espcn_format.py (ModelWriter, Tensor)."""
    sys.path.insert(0, option("--weights-dir", required=False) or str(DEFAULT_WEIGHTS_DIR))
    import espcn_format
    return espcn_format


@pytest.fixture(scope="module")
def plane():
    """A seeded random 8-bit W x H plane, and the same as network input values."""
    rng = random.Random(2024)
    data = bytes(rng.randrange(256) for _ in range(W * H))
    return data, [[[data[yy * W + xx] / 255.0 for xx in range(W)] for yy in range(H)]]


@pytest.fixture(scope="module")
def backends(cli, writer, tmp_path_factory):
    """The reference backend is required; oneDNN is compared too when this build has it."""
    mw, _, _ = shuffle_network(writer.ModelWriter, "F32", 1)
    model = tmp_path_factory.mktemp("probe") / "probe.safetensors"
    mw.save(str(model))
    p = run_cli(cli, ["-m", str(model), "--info", "--backend", "onednn"])
    return {"reference": None, "onednn": None if p.returncode == 0 else p.stderr.strip()}


BUILDERS = {"shuffle": (shuffle_network, 11), "deconv": (deconv_network, 23),
            "residual": (residual_network, 31)}


@pytest.mark.parametrize("backend", ["reference", "onednn"])
@pytest.mark.parametrize("dtype", ["F32", "F16"])
@pytest.mark.parametrize("label", list(BUILDERS))
def test_engine_matches_the_definition(cli, writer, plane, backends, tmp_path, label, dtype, backend):
    if backends[backend] is not None:
        pytest.skip(f"the {backend} backend is unavailable: {backends[backend]}")
    builder, seed = BUILDERS[label]
    mw, r, forward = builder(writer.ModelWriter, dtype, seed)
    model = tmp_path / f"{label}-{dtype}.safetensors"
    mw.save(str(model))
    data, x = plane
    want = [encode8(v) for row in forward(x)[0] for v in row]
    print(compare(upscale_raw(cli, model, data, r, backend, tmp_path), want, r))


def test_deconv_info(cli, writer, tmp_path):
    """The --info summary of a writer-made deconv model."""
    mw, _, _ = deconv_network(writer.ModelWriter, "F32", 23)
    model = tmp_path / "info.safetensors"
    mw.save(str(model))
    p = run_cli(cli, ["-m", str(model), "--info", "--backend", "reference"])
    check(p.returncode == 0, f"--info failed: {p.stderr}")
    for needle in ("py-deconv-f32", "x2", "deconv"):
        check(needle in p.stdout, f"--info output lacks {needle!r}:\n{p.stdout}")


def test_conv_tensor_shape_mismatch_refused(cli, writer, tmp_path):
    """A conv declaring in = 1 whose weight tensor is (4, 2, 3, 3)."""
    Tensor = writer.Tensor
    mw = writer.ModelWriter(name="broken", scale=2)
    mw.conv("conv1", Tensor([4, 2, 3, 3], [0.0] * 72), Tensor([4], [0.0] * 4))
    mw.layers[-1]["in"] = 1  # the chain is fine, the tensor is not
    mw.conv("conv2", Tensor([4, 4, 3, 3], [0.0] * 144), None)
    mw.pixel_shuffle()
    model = tmp_path / "bad-conv.safetensors"
    mw.save(str(model))
    expect_refused(cli, model, ["conv1.weight", "(4, 2, 3, 3)", "(4, 1, 3, 3)"])


def test_deconv_geometry_refused(cli, writer, tmp_path):
    """A deconv whose K - 2p + op is not r."""
    Tensor = writer.Tensor
    mw = writer.ModelWriter(name="broken-deconv", scale=2)
    mw.conv("conv1", Tensor([3, 1, 3, 3], [0.1] * 27), Tensor([3], [0.0] * 3))
    mw.deconv("deconv", Tensor([3, 1, 5, 5], [0.1] * 75), None, stride=2, padding=2,
              output_padding=0)
    model = tmp_path / "bad-deconv.safetensors"
    mw.save(str(model))
    expect_refused(cli, model, ["layer 1", "deconv"])


def test_writer_rejects_a_short_tensor(writer):
    """The writer itself refuses a tensor whose values do not fill its shape."""
    mw = writer.ModelWriter(name="short", scale=2)
    mw.conv("conv1", writer.Tensor([4, 1, 3, 3], [0.0] * 35), None)
    with pytest.raises(ValueError) as e:
        mw.to_bytes()
    check("(4, 1, 3, 3)" in str(e.value), f"message does not name the shape: {e.value}")
