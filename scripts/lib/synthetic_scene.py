#!/usr/bin/env python3
"""Generated pictures for the README's figures: no third-party pixels.

    synthetic_scene.py demo  -o FILE.png [--size 1280x720]
    synthetic_scene.py anime -o FILE.png [--size 128x96]

demo:  a 2x2 mosaic of 16:9 panels: text at decreasing sizes; a Siemens star and
       thin sine curves; a flat-colour landscape (house, fence, trees, clouds);
       line fans, checkerboards, bricks and gradients. scripts/demo.sh uses it as
       the native-resolution original (the ground truth of its PSNR figures).
anime: a flat-colour drawing in the style of anime (cel shading, dark outlines,
       large eyes with highlights) on a sky, for Real-ESRGAN's animevideov3
       (scripts/community_picture.sh), which was trained on such content.

Everything is drawn at 4x (demo) or 8x (anime) the output size and reduced
with a box filter, so edges are anti-aliased as a camera or a renderer would
make them (a picture with aliased edges would be a ground truth no upscaler can
reach). Deterministic: fixed seeds, fonts from matplotlib's own data (DejaVu).
Needs numpy and Pillow (Debian: python3-matplotlib brings both).
"""
from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def font(size: float, bold: bool = False, serif: bool = False) -> ImageFont.FreeTypeFont:
    import matplotlib.font_manager as fm
    family = "DejaVu Serif" if serif else "DejaVu Sans"
    path = fm.findfont(fm.FontProperties(family=family, weight="bold" if bold else "normal"))
    return ImageFont.truetype(path, max(1, round(size)))


def value_noise(w: int, h: int, cells: int, octaves: int, seed: int) -> np.ndarray:
    """Smooth fractal noise in [0, 1], (h, w)."""
    rng = np.random.default_rng(seed)
    acc, norm, amp = np.zeros((h, w), np.float32), 0.0, 1.0
    for o in range(octaves):
        c = cells * 2 ** o
        grid = rng.random((max(2, c * h // w), c), dtype=np.float32)
        up = Image.fromarray(grid, mode="F").resize((w, h), Image.BICUBIC)
        acc += amp * np.asarray(up)
        norm += amp
        amp *= 0.5
    acc /= norm
    return (acc - acc.min()) / max(1e-6, float(acc.max() - acc.min()))


def vgradient(w: int, h: int, top, bottom) -> Image.Image:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    rows = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return Image.fromarray(np.repeat(rows, w, axis=1).round().astype(np.uint8), "RGB")


def bezier(p0, p1, p2, p3, n: int = 48):
    out = []
    for i in range(n + 1):
        t = i / n
        a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
        out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


# ---------------------------------------------------------------- demo scene

def demo_scene(w: int, h: int) -> Image.Image:
    ss = 4
    W, H = w * ss, h * ss
    img = Image.new("RGB", (W, H), (255, 255, 255))
    pw, ph = W // 2, H // 2
    u = pw / 640  # one unit = one pixel of a 640x360 panel at the output size
    for (px, py), panel in zip(((0, 0), (pw, 0), (0, ph), (pw, ph)), (_text, _star, _landscape, _patterns)):
        tile = Image.new("RGB", (pw, ph), (255, 255, 255))
        panel(tile, u)
        img.paste(tile, (px, py))
    return img.resize((w, h), Image.BOX)


def _text(img: Image.Image, u: float) -> None:
    w, h = img.size
    img.paste(vgradient(w, h, (250, 246, 235), (236, 230, 214)))
    d = ImageDraw.Draw(img)
    d.text((24 * u, 14 * u), "espcn", font=font(46 * u, bold=True), fill=(150, 30, 40))
    d.text((190 * u, 34 * u), "real-time super-resolution in FFmpeg", font=font(20 * u, serif=True), fill=(40, 40, 60))
    d.line([(24 * u, 74 * u), (616 * u, 74 * u)], fill=(150, 30, 40), width=round(2 * u))
    y = 86 * u
    for size, colour in ((18, (20, 20, 30)), (15, (30, 60, 120)), (13, (20, 20, 30)), (11, (90, 40, 20)),
                         (10, (20, 20, 30)), (9, (20, 90, 50)), (8, (20, 20, 30))):
        f = font(size * u, serif=size % 2 == 0)
        for line in ("The quick brown fox jumps over the lazy dog. 0123456789",
                     "Pack my box with five dozen liquor jugs! (x2, x3, x4)"):
            d.text((24 * u, y), line, font=f, fill=colour)
            y += size * 1.35 * u
        y += 3 * u
    # a small table: thin rules, digits
    x0, y0 = 466 * u, 196 * u
    f = font(10 * u)
    for r in range(9):
        d.line([(x0, y0 + r * 16 * u), (x0 + 146 * u, y0 + r * 16 * u)], fill=(60, 60, 70), width=max(1, round(u)))
        if r < 8:
            for c, v in enumerate((r + 1, (r + 1) ** 2, 2 ** (r + 1))):
                d.text((x0 + (6 + 48 * c) * u, y0 + (r * 16 + 2) * u), str(v), font=f, fill=(30, 30, 40))
    for c in range(4):
        d.line([(x0 + 48 * c * u + (2 * u if c == 3 else 0), y0), (x0 + 48 * c * u + (2 * u if c == 3 else 0), y0 + 128 * u)],
               fill=(60, 60, 70), width=max(1, round(u)))


def _star(img: Image.Image, u: float) -> None:
    w, h = img.size
    img.paste(vgradient(w, h, (24, 28, 44), (44, 52, 80)))
    d = ImageDraw.Draw(img)
    cx, cy, r = 180 * u, 180 * u, 160 * u
    n = 48
    for i in range(n):
        a0, a1 = 2 * math.pi * i / n, 2 * math.pi * (i + 0.5) / n
        colour = (245, 245, 245) if i % 2 else (255, 196, 60)
        d.polygon([(cx, cy), (cx + r * math.cos(a0), cy + r * math.sin(a0)),
                   (cx + r * math.cos(a1), cy + r * math.sin(a1))], fill=colour)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(200, 210, 230), width=round(2 * u))
    # sine curves, thin to thick, rising in frequency
    colours = ((255, 90, 90), (90, 220, 120), (90, 170, 255), (255, 220, 90), (230, 120, 255), (120, 240, 240))
    for k, colour in enumerate(colours):
        y0, freq, width = (40 + 56 * k) * u, 2 + 1.5 * k, max(1, round((1 + k % 3) * u))
        pts = [(x, y0 + 14 * u * math.sin(freq * 2 * math.pi * (x / u - 370) / 250)) for x in np.arange(370 * u, 620 * u, u / 2)]
        d.line(pts, fill=colour, width=width, joint="curve")
    d.text((380 * u, 332 * u), "48 spokes, 6 sines", font=font(12 * u), fill=(200, 210, 230))


def _landscape(img: Image.Image, u: float) -> None:
    w, h = img.size
    sky = np.asarray(vgradient(w, h, (92, 150, 225), (205, 228, 245))).astype(np.float32)
    clouds = value_noise(w, h, 4, 5, seed=7)[..., None]
    cover = np.clip((clouds - 0.55) * 4.0, 0, 1) * np.linspace(1, 0.2, h)[:, None, None]
    img.paste(Image.fromarray((sky * (1 - cover) + 250 * cover).round().astype(np.uint8), "RGB"))
    d = ImageDraw.Draw(img)
    d.ellipse([520 * u, 30 * u, 580 * u, 90 * u], fill=(255, 236, 150))
    d.polygon([(0, 230 * u), (110 * u, 120 * u), (190 * u, 190 * u), (300 * u, 95 * u), (450 * u, 220 * u),
               (540 * u, 150 * u), (640 * u, 210 * u), (640 * u, 360 * u), (0, 360 * u)], fill=(110, 125, 160))
    d.polygon([(278 * u, 113 * u), (300 * u, 95 * u), (322 * u, 113 * u), (310 * u, 118 * u), (300 * u, 110 * u),
               (290 * u, 119 * u)], fill=(245, 248, 252))
    d.rectangle([0, 240 * u, 640 * u, 360 * u], fill=(96, 160, 70))
    grass = value_noise(w, int(120 * u), 16, 4, seed=3)
    g = np.asarray(img).astype(np.float32)
    g[int(240 * u):int(240 * u) + grass.shape[0]] *= (0.85 + 0.3 * grass)[..., None]
    img.paste(Image.fromarray(np.clip(g, 0, 255).round().astype(np.uint8), "RGB"))
    d = ImageDraw.Draw(img)
    d.polygon([(300 * u, 360 * u), (345 * u, 240 * u), (365 * u, 240 * u), (440 * u, 360 * u)], fill=(150, 140, 130))
    for k in range(6):  # dashes shrinking with distance
        t0, t1 = k / 6, (k + 0.45) / 6
        y0, y1 = 360 * u - t0 * 120 * u, 360 * u - t1 * 120 * u
        d.line([(370 * u - t0 * 15 * u, y0), (370 * u - t1 * 15 * u, y1)], fill=(250, 250, 240), width=max(1, round((3 - 2 * t0) * u)))
    # house: walls, roof with tile rows, windows with muntins, door
    ink = (40, 30, 30)
    lw = max(1, round(1.5 * u))
    d.rectangle([90 * u, 190 * u, 250 * u, 300 * u], fill=(236, 220, 190), outline=ink, width=lw)
    d.polygon([(75 * u, 195 * u), (170 * u, 130 * u), (265 * u, 195 * u)], fill=(180, 70, 50), outline=ink)
    for k in range(1, 6):
        y = 130 * u + k * 11 * u
        half = (y - 130 * u) * 95 / 65
        d.line([(170 * u - half, y), (170 * u + half, y)], fill=(120, 40, 30), width=max(1, round(u)))
    for x in (110, 190):
        d.rectangle([x * u, 215 * u, (x + 40) * u, 255 * u], fill=(150, 200, 235), outline=ink, width=lw)
        d.line([((x + 20) * u, 215 * u), ((x + 20) * u, 255 * u)], fill=ink, width=max(1, round(u)))
        d.line([(x * u, 235 * u), ((x + 40) * u, 235 * u)], fill=ink, width=max(1, round(u)))
    d.rectangle([158 * u, 250 * u, 182 * u, 300 * u], fill=(120, 70, 40), outline=ink, width=lw)
    # fence: thin pickets
    for k in range(26):
        x = 262 * u + k * 9 * u
        d.line([(x, 268 * u), (x, 300 * u)], fill=(250, 250, 245), width=max(1, round(2 * u)))
    d.line([(258 * u, 276 * u), (500 * u, 276 * u)], fill=(250, 250, 245), width=max(1, round(2 * u)))
    d.line([(258 * u, 292 * u), (500 * u, 292 * u)], fill=(250, 250, 245), width=max(1, round(2 * u)))
    # trees
    for x, y, r in ((540, 250, 42), (600, 270, 34), (30, 262, 30)):
        d.rectangle([(x - 5) * u, y * u, (x + 5) * u, (y + 58) * u], fill=(100, 70, 40))
        d.ellipse([(x - r) * u, (y - r) * u, (x + r) * u, (y + r * 0.8) * u], fill=(50, 120, 55), outline=(30, 70, 35), width=lw)
        d.ellipse([(x - r * 0.5) * u, (y - r * 0.8) * u, (x + r * 0.1) * u, (y - r * 0.2) * u], fill=(80, 160, 80))


def _patterns(img: Image.Image, u: float) -> None:
    w, h = img.size
    img.paste((240, 240, 236), (0, 0, w, h))
    d = ImageDraw.Draw(img)
    # fans of lines, 1, 2 and 3 pixels wide
    for k, width in enumerate((1, 2, 3)):
        ox, oy = (20 + 110 * k) * u, 170 * u
        for i in range(13):
            a = -math.pi / 2 * i / 12
            d.line([(ox, oy), (ox + 100 * u * math.cos(a), oy + 150 * u * math.sin(a))], fill=(20, 20, 30), width=max(1, round(width * u)))
    # checkerboards of 8, 4, 3 and 2 pixel squares
    for k, s in enumerate((8, 4, 3, 2)):
        x0, y0 = (350 + 70 * k) * u, 20 * u
        for j in range(int(60 / s)):
            for i in range(int(60 / s)):
                if (i + j) % 2 == 0:
                    d.rectangle([x0 + i * s * u, y0 + j * s * u, x0 + (i + 1) * s * u - 1, y0 + (j + 1) * s * u - 1], fill=(20, 20, 30))
    # bricks
    bx0, by0 = 350 * u, 95 * u
    d.rectangle([bx0, by0, 630 * u, 175 * u], fill=(215, 205, 190))
    for row in range(8):
        off = 0 if row % 2 == 0 else 14
        for col in range(-1, 11):
            x = 350 + off + col * 28
            x0, x1 = max(350, x + 1), min(630, x + 27)
            if x1 > x0:
                d.rectangle([x0 * u, by0 + (row * 10 + 1) * u, x1 * u, by0 + (row * 10 + 9) * u],
                            fill=(170 + 12 * ((row * 7 + col * 3) % 4), 70 + 8 * (col % 3), 50))
    # gradients: hue ramp, grey ramp, a two-colour ramp, and concentric rings
    ramp = np.linspace(0, 1, int(610 * u), dtype=np.float32)
    hue = np.stack([np.clip(np.abs(ramp * 6 - 3) - 1, 0, 1), np.clip(2 - np.abs(ramp * 6 - 2), 0, 1),
                    np.clip(2 - np.abs(ramp * 6 - 4), 0, 1)], -1)
    for k, row in enumerate((hue, np.repeat(ramp[:, None], 3, 1),
                             (1 - ramp[:, None]) * np.array([0.1, 0.2, 0.6]) + ramp[:, None] * np.array([1.0, 0.8, 0.2]))):
        band = np.repeat((row * 255).round().astype(np.uint8)[None], int(22 * u), 0)
        img.paste(Image.fromarray(band, "RGB"), (int(15 * u), int((200 + 28 * k) * u)))
    d = ImageDraw.Draw(img)
    d.text((15 * u, 288 * u), "gradients · lines 1-3 px · checkers 8/4/3/2 px", font=font(12 * u), fill=(40, 40, 50))
    cx, cy = 560 * u, 310 * u
    for r in range(44, 0, -4):
        d.ellipse([cx - r * u, cy - r * 0.9 * u, cx + r * u, cy + r * 0.9 * u], fill=(20, 20, 30) if r % 8 == 4 else (240, 240, 236))


# ---------------------------------------------------------------- anime scene

def anime_scene(w: int, h: int) -> Image.Image:
    ss = 8
    W, H = w * ss, h * ss
    s = W / 400  # drawn on a 400 x 300 grid
    P = lambda pts: [(x * s, y * s) for x, y in pts]  # noqa: E731
    img = vgradient(W, H, (120, 175, 240), (225, 238, 252))
    d = ImageDraw.Draw(img)
    ink = (60, 30, 40)
    lw = round(3 * s)
    # clouds, cel-shaded
    for cx, cy, r in ((40, 60, 26), (72, 52, 32), (105, 66, 22), (330, 40, 20), (362, 34, 28), (390, 48, 18)):
        d.ellipse(P([(cx - r, cy - r + 6), (cx + r, cy + r + 6)]), fill=(185, 210, 240))
        d.ellipse(P([(cx - r, cy - r), (cx + r, cy + r)]), fill=(255, 255, 255))
    hair, hair_shade, hair_light = (80, 62, 150), (58, 42, 115), (140, 125, 215)
    skin, skin_shade = (255, 226, 208), (240, 190, 175)
    # back hair: long, past the shoulders
    back = P([(95, 120), (80, 220), (62, 300), (338, 300), (320, 220), (305, 120)])
    d.polygon(back, fill=hair)
    d.line(back + [back[0]], fill=ink, width=lw, joint="curve")
    d.ellipse(P([(88, 18), (312, 250)]), fill=ink)
    d.ellipse(P([(91, 21), (309, 247)]), fill=hair)
    for x in (110, 130, 270, 290):  # strands
        d.line(P(bezier((x, 150), (x - 8, 200), (x + 6, 250), (x - 10, 298), 24)), fill=hair_shade, width=round(2 * s))
    # neck and a sailor collar
    d.rectangle(P([(178, 225), (222, 280)]), fill=skin_shade, outline=ink, width=lw)
    shirt = P([(70, 300), (120, 265), (178, 262), (200, 290), (222, 262), (280, 265), (330, 300)])
    d.polygon(shirt, fill=(248, 248, 252))
    d.line(shirt, fill=ink, width=lw, joint="curve")
    for side in (-1, 1):
        collar = P([(200 + side * 22, 262), (200 + side * 90, 270), (200 + side * 120, 300), (200 + side * 10, 300)])
        d.polygon(collar, fill=(40, 60, 130))
        d.line(collar, fill=ink, width=lw)
        d.line(P([(200 + side * 28, 270), (200 + side * 92, 277)]), fill=(250, 250, 250), width=round(2 * s))
    d.polygon(P([(200, 288), (182, 280), (178, 298), (222, 298), (218, 280)]), fill=(220, 40, 60), outline=ink)
    # face: outline under, fill over, so the ellipse and the jaw join as one shape
    jaw = [(108, 140), (122, 195), (160, 232), (200, 248), (240, 232), (278, 195), (292, 140)]
    d.ellipse(P([(104 - 3, 38 - 3), (296 + 3, 226 + 3)]), fill=ink)
    d.line(P(jaw), fill=ink, width=round(7 * s), joint="curve")
    d.ellipse(P([(104, 38), (296, 226)]), fill=skin)
    d.polygon(P(jaw), fill=skin)
    # shadow the bangs cast on the forehead
    d.polygon(P([(106, 140), (110, 100), (290, 100), (294, 140), (280, 128), (262, 146), (242, 124), (222, 142),
                 (200, 118), (180, 142), (158, 124), (138, 146), (120, 128)]), fill=skin_shade)
    # bangs
    bangs = [(100, 150), (98, 90), (125, 45), (170, 22), (230, 22), (275, 45), (302, 90), (300, 150), (286, 112),
             (272, 132), (262, 92), (244, 124), (226, 84), (214, 118), (200, 76), (186, 118), (174, 84), (156, 124),
             (138, 92), (128, 132), (114, 112)]
    d.polygon(P(bangs), fill=hair)
    d.line(P(bangs + [bangs[0]]), fill=ink, width=lw, joint="curve")
    d.line(P(bezier((130, 55), (160, 35), (240, 35), (270, 55), 32)), fill=hair_light, width=round(7 * s))
    for a, b in (((150, 50), (140, 95)), ((200, 40), (200, 70)), ((250, 50), (262, 90))):
        d.line(P([a, b]), fill=hair_shade, width=round(2 * s))
    # eyes: lash line, iris with a vertical gradient, pupil, two highlights
    for ex, flip in ((155, -1), (245, 1)):
        ey = 168
        d.ellipse(P([(ex - 22, ey - 20), (ex + 22, ey + 24)]), fill=(255, 255, 255))
        box = [int((ex - 15) * s), int((ey - 20) * s), int((ex + 15) * s), int((ey + 23) * s)]
        grad = vgradient(box[2] - box[0], box[3] - box[1], (50, 30, 110), (150, 120, 235))
        mask = Image.new("L", grad.size, 0)
        ImageDraw.Draw(mask).ellipse([0, 0, grad.size[0] - 1, grad.size[1] - 1], fill=255)
        img.paste(grad, box[:2], mask)
        d.ellipse(P([(ex - 7, ey - 8), (ex + 7, ey + 8)]), fill=(30, 15, 50))
        d.ellipse(P([(ex - 11, ey - 14), (ex - 1, ey - 4)]), fill=(255, 255, 255))
        d.ellipse(P([(ex + 5, ey + 8), (ex + 10, ey + 13)]), fill=(255, 255, 255))
        lash = bezier((ex - 26 * flip, ey - 6), (ex - 14 * flip, ey - 26), (ex + 16 * flip, ey - 28), (ex + 30 * flip, ey - 12), 32)
        d.line(P(lash), fill=(35, 20, 30), width=round(6 * s), joint="curve")
        d.line(P([(ex + 28 * flip, ey - 14), (ex + 36 * flip, ey - 20)]), fill=(35, 20, 30), width=round(3 * s))
        d.line(P(bezier((ex - 14, ey + 26), (ex - 5, ey + 28), (ex + 5, ey + 28), (ex + 14, ey + 26), 16)), fill=ink, width=round(2 * s))
        d.line(P(bezier((ex - 20 * flip, ey - 40), (ex - 8 * flip, ey - 46), (ex + 10 * flip, ey - 46), (ex + 22 * flip, ey - 40), 16)),
               fill=hair_shade, width=round(2.5 * s))
    # blush (translucent), nose, mouth
    over = Image.new("RGBA", img.size, (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    for bx in (135, 265):
        od.ellipse(P([(bx - 20, 196), (bx + 20, 212)]), fill=(255, 120, 140, 90))
        for k in range(3):
            od.line(P([(bx - 10 + 8 * k, 208), (bx - 5 + 8 * k, 200)]), fill=(230, 90, 110, 200), width=round(1.5 * s))
    img = Image.alpha_composite(img.convert("RGBA"), over).convert("RGB")
    d = ImageDraw.Draw(img)
    d.line(P([(201, 198), (198, 204)]), fill=(200, 140, 130), width=round(2 * s))
    mouth = bezier((186, 220), (192, 232), (208, 232), (214, 220), 16)
    d.polygon(P(mouth), fill=(200, 70, 80))
    d.line(P(mouth + [mouth[0]]), fill=ink, width=round(2 * s), joint="curve")
    return img.resize((w, h), Image.BOX)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scene", choices=("demo", "anime"))
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--size", help="WxH (demo: 1280x720, anime: 128x96)")
    a = ap.parse_args(argv)
    size = a.size or ("1280x720" if a.scene == "demo" else "128x96")
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        print(f"synthetic_scene: --size '{size}' is not WxH", file=sys.stderr)
        return 2
    if w < 16 or h < 16 or w > 8192 or h > 8192:
        print(f"synthetic_scene: --size {w}x{h} outside 16..8192", file=sys.stderr)
        return 2
    (demo_scene if a.scene == "demo" else anime_scene)(w, h).save(a.output)
    print(f"wrote {a.output}: {a.scene} {w}x{h}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
