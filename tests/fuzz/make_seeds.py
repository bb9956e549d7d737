#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/ (committed; rerun to regenerate).

Standard library only (weights/espcn_format.py for the models). Everything is
small on purpose: libFuzzer mutates these, it does not need large inputs.
"""
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights"))
from espcn_format import ModelWriter, Tensor  # noqa: E402


def values(rng, n):
    return [round(rng.uniform(-1, 1), 3) for _ in range(n)]


def models():
    rng = random.Random(15)
    out = {}
    m = ModelWriter("tiny-x2", 2)
    m.conv("c0", Tensor((4, 1, 3, 3), values(rng, 36)), Tensor((4,), values(rng, 4)))
    m.pixel_shuffle("crd")
    out["tiny_x2_crd.safetensors"] = m.to_bytes()

    m = ModelWriter("tanh-prelu-x3", 3, value_range=(-1.0, 1.0))
    m.conv("c0", Tensor((3, 1, 5, 5), values(rng, 75)), None)
    m.activation("tanh")
    m.conv("c1", Tensor((9, 3, 3, 3), values(rng, 243)), Tensor((9,), values(rng, 9)))
    m.pixel_shuffle("dcr")
    m.prelu("p", Tensor((1,), [0.25]))
    out["tanh_prelu_x3_dcr.safetensors"] = m.to_bytes()

    m = ModelWriter("deconv-x2-f16", 2)
    m.conv("c0", Tensor((2, 1, 3, 3), values(rng, 18), "F16"), Tensor((2,), values(rng, 2), "F16"))
    m.prelu("p0", Tensor((2,), [0.1, 0.2], "F16"))
    m.deconv("d", Tensor((2, 1, 5, 5), values(rng, 50), "F16"), Tensor((1,), [0.5], "F16"),
             stride=2, padding=2, output_padding=1)
    out["deconv_x2_f16.safetensors"] = m.to_bytes()

    m = ModelWriter("sigmoid-x4", 4)
    m.conv("c0", Tensor((2, 1, 1, 1), values(rng, 2)), Tensor((2,), values(rng, 2)))
    m.activation("relu")
    m.conv("c1", Tensor((16, 2, 3, 3), values(rng, 288)), Tensor((16,), values(rng, 16)))
    m.pixel_shuffle("crd")
    m.activation("sigmoid")
    out["sigmoid_x4.safetensors"] = m.to_bytes()
    return out


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, depth, color, rows, interlace=0, extra=b""):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra +
            png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def images():
    out = {}
    out["gray8_4x3.png"] = png(4, 3, 8, 0, [bytes([10, 80, 160, 250])] * 3)
    out["rgb16_3x2.png"] = png(3, 2, 16, 2, [bytes(range(18)), bytes(range(18, 36))])
    plte = png_chunk(b"PLTE", bytes([0, 0, 0, 255, 0, 0])) + png_chunk(b"tRNS", bytes([128]))
    out["palette1_8x2.png"] = png(8, 2, 1, 3, [b"\xa5", b"\x5a"], extra=plte)
    out["gray_alpha8_2x2.png"] = png(2, 2, 8, 4, [bytes([1, 2, 3, 4])] * 2)
    # Adam7: the encoder here writes the passes by hand for a 1x1 image only.
    out["interlaced_gray8_1x1.png"] = png(1, 1, 8, 0, [b"\x7f"], interlace=1)
    out["p5_8bit.pgm"] = b"P5\n# comment\n3 2\n255\n" + bytes([0, 1, 2, 250, 251, 255])
    out["p5_16bit.pgm"] = b"P5 2 1 65535\n" + bytes([0xff, 0x00, 0x12, 0x34])
    out["p6_maxval1000.ppm"] = b"P6\n1 2\n1000\n" + struct.pack(">6H", 0, 100, 500, 999, 1000, 7)
    return out


def backend_inputs():
    rng = random.Random(151)
    return {f"seed{k}.bin": bytes(rng.randrange(256) for _ in range(32 << (k % 5)))
            for k in range(8)}


def main():
    for target, files in (("fuzz_model_loader", models()), ("fuzz_image_readers", images()),
                          ("fuzz_backends", backend_inputs())):
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print(f"{d}: {len(files)} files, {sum(len(v) for v in files.values())} bytes")


if __name__ == "__main__":
    main()
