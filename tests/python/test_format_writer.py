#!/usr/bin/env python3
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

Standard library only. Usage: test_format_writer.py --cli PATH/espcn-cli
"""
from __future__ import annotations

import argparse
import math
import random
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_WEIGHTS_DIR = HERE.parent.parent / "weights"

W, H = 9, 7  # LR plane size: odd, not square


class Failure(Exception):
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", required=True, help="path to espcn-cli")
    ap.add_argument("--weights-dir", default=str(DEFAULT_WEIGHTS_DIR),
                    help="directory holding espcn_format.py")
    args = ap.parse_args()
    sys.path.insert(0, args.weights_dir)
    from espcn_format import ModelWriter, Tensor  # noqa: E402

    passed, failed = 0, 0

    def case(name, fn):
        nonlocal passed, failed
        try:
            detail = fn()
            passed += 1
            print(f"ok   {name}" + (f": {detail}" if detail else ""))
        except Failure as e:
            failed += 1
            print(f"FAIL {name}: {e}", file=sys.stderr)
        except Exception as e:  # a bug in the writer or in this test
            failed += 1
            print(f"FAIL {name}: unexpected {type(e).__name__}: {e}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="espcn_test_format_writer.") as tmp:
        work = Path(tmp)
        rng = random.Random(2024)
        plane = bytes(rng.randrange(256) for _ in range(W * H))
        x = [[[plane[yy * W + xx] / 255.0 for xx in range(W)] for yy in range(H)]]

        # The reference backend is the one required; oneDNN is compared too
        # when this build and machine have it.
        backends = None
        builders = [("shuffle", shuffle_network, 11), ("deconv", deconv_network, 23),
                    ("residual", residual_network, 31)]
        for label, builder, seed in builders:
            for dtype in ("F32", "F16"):
                mw, r, forward = builder(ModelWriter, dtype, seed)
                model = work / f"{label}-{dtype}.safetensors"
                mw.save(str(model))
                if backends is None:
                    p = run_cli(args.cli, ["-m", str(model), "--info", "--backend", "onednn"])
                    backends = ["reference", "onednn"] if p.returncode == 0 else ["reference"]
                    if p.returncode != 0:
                        print(f"note: oneDNN backend unavailable: {p.stderr.strip()}")
                want = [encode8(v) for row in forward(x)[0] for v in row]
                for backend in backends:
                    name = f"{label} {dtype} {backend}"

                    def run_case(model=model, r=r, backend=backend, want=want):
                        got = upscale_raw(args.cli, model, plane, r, backend, work)
                        return compare(got, want, r)
                    case(name, run_case)

        # The --info summary of a writer-made deconv model.
        def deconv_info():
            mw, _, _ = deconv_network(ModelWriter, "F32", 23)
            model = work / "info.safetensors"
            mw.save(str(model))
            p = run_cli(args.cli, ["-m", str(model), "--info", "--backend", "reference"])
            check(p.returncode == 0, f"--info failed: {p.stderr}")
            for needle in ("py-deconv-f32", "x2", "deconv"):
                check(needle in p.stdout, f"--info output lacks {needle!r}:\n{p.stdout}")
        case("deconv --info", deconv_info)

        # A conv declaring in = 1 whose weight tensor is (4, 2, 3, 3).
        def bad_conv_shape():
            mw = ModelWriter(name="broken", scale=2)
            mw.conv("conv1", Tensor([4, 2, 3, 3], [0.0] * 72), Tensor([4], [0.0] * 4))
            mw.layers[-1]["in"] = 1  # the chain is fine, the tensor is not
            mw.conv("conv2", Tensor([4, 4, 3, 3], [0.0] * 144), None)
            mw.pixel_shuffle()
            model = work / "bad-conv.safetensors"
            mw.save(str(model))
            expect_refused(args.cli, model, ["conv1.weight", "(4, 2, 3, 3)", "(4, 1, 3, 3)"])
        case("conv tensor shape mismatch refused", bad_conv_shape)

        # A deconv whose K - 2p + op is not r.
        def bad_deconv_geometry():
            mw = ModelWriter(name="broken-deconv", scale=2)
            mw.conv("conv1", Tensor([3, 1, 3, 3], [0.1] * 27), Tensor([3], [0.0] * 3))
            mw.deconv("deconv", Tensor([3, 1, 5, 5], [0.1] * 75), None, stride=2, padding=2,
                      output_padding=0)
            model = work / "bad-deconv.safetensors"
            mw.save(str(model))
            expect_refused(args.cli, model, ["layer 1", "deconv"])
        case("deconv with K - 2p + op != r refused", bad_deconv_geometry)

        # The writer itself refuses a tensor whose values do not fill its shape.
        def writer_checks_value_count():
            mw = ModelWriter(name="short", scale=2)
            mw.conv("conv1", Tensor([4, 1, 3, 3], [0.0] * 35), None)
            try:
                mw.to_bytes()
            except ValueError as e:
                check("(4, 1, 3, 3)" in str(e), f"message does not name the shape: {e}")
                return None
            raise Failure("to_bytes() accepted 35 values for a (4, 1, 3, 3) tensor")
        case("writer rejects a short tensor", writer_checks_value_count)

    print(f"test_format_writer: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
