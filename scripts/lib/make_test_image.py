#!/usr/bin/env python3
"""Writes a synthetic RGB test picture as binary PPM (P6): gradients, rings,
a checkerboard, thin lines and seeded noise, so the demo and tests never need
third-party images. Usage: make_test_image.py OUT.ppm [WIDTH HEIGHT [SEED]]"""
import math
import random
import sys


def pixel(x, y, w, h, rng):
    u, v = x / (w - 1), y / (h - 1)
    if v < 0.25:  # smooth colour gradients
        return (255 * u, 255 * (1 - u), 128 + 100 * math.sin(6.28 * v * 4))
    if v < 0.5:   # concentric rings: every frequency up to Nyquist
        d = math.hypot(x - w / 4, y - 3 * h / 8)
        g = 127.5 + 127.5 * math.cos(d * d / (w * 0.9))
        if x > w / 2:  # checkerboard of 3-pixel squares
            g = 230 if ((x // 3) + (y // 3)) % 2 else 25
        return (g, g, g)
    if v < 0.75:  # thin dark strokes on light ground, like text
        stroke = (x % 11 in (0, 1) and (y // 4) % 3 != 0) or (y % 9 == 0 and (x // 7) % 2 == 0)
        return (20, 20, 60) if stroke else (240, 235, 220)
    n = rng.gauss(0, 25)  # textured noise over a ramp
    return (100 + 100 * u + n, 90 + n, 160 - 80 * u + n)


def main():
    out = sys.argv[1]
    w = int(sys.argv[2]) if len(sys.argv) > 2 else 320
    h = int(sys.argv[3]) if len(sys.argv) > 3 else 180
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    data = bytearray()
    for y in range(h):
        for x in range(w):
            data += bytes(max(0, min(255, int(round(c)))) for c in pixel(x, y, w, h, rng))
    with open(out, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h) + bytes(data))


if __name__ == "__main__":
    main()
