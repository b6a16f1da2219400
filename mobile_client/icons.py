"""Draw the app's icons with Pillow: ``python -m mobile_client.icons`` (the PNGs are committed).

A white loop with an arrow around a map pin on the theme colour. The maskable icon keeps the drawing
inside the central 80 % circle that every launcher mask leaves visible.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

THEME = (11, 85, 99)  # #0b5563, also the manifest's theme_color
WHITE = (255, 255, 255)
HERE = Path(__file__).resolve().parent / "icons"


def draw(size: int, *, maskable: bool) -> Image.Image:
    scale = 4  # draw large, then downsample: smooth edges without an anti-aliasing library
    big = size * scale
    image = Image.new("RGB", (big, big), THEME)
    pen = ImageDraw.Draw(image)
    content = big * (0.62 if maskable else 0.8)
    centre = big / 2
    radius = content / 2
    width = max(int(content * 0.09), 1)
    box = (centre - radius, centre - radius, centre + radius, centre + radius)
    pen.arc(box, start=-60, end=250, fill=WHITE, width=width)
    # The arrow head at the arc's end (250 degrees), pointing along the circle.
    angle = math.radians(250)
    tip_x, tip_y = (
        centre + (radius - width / 2) * math.cos(angle),
        centre + (radius - width / 2) * math.sin(angle),
    )
    head = width * 1.6
    tangent = angle + math.pi / 2
    pen.polygon(
        [
            (tip_x + head * math.cos(tangent), tip_y + head * math.sin(tangent)),
            (tip_x + head * 0.9 * math.cos(angle), tip_y + head * 0.9 * math.sin(angle)),
            (tip_x - head * 0.9 * math.cos(angle), tip_y - head * 0.9 * math.sin(angle)),
        ],
        fill=WHITE,
    )
    # The map pin: a circle with a point below it, and a hole.
    pin_r = content * 0.17
    pin_cy = centre - pin_r * 0.35
    pen.ellipse((centre - pin_r, pin_cy - pin_r, centre + pin_r, pin_cy + pin_r), fill=WHITE)
    pen.polygon(
        [
            (centre - pin_r * 0.8, pin_cy + pin_r * 0.55),
            (centre + pin_r * 0.8, pin_cy + pin_r * 0.55),
            (centre, pin_cy + pin_r * 2.2),
        ],
        fill=WHITE,
    )
    hole = pin_r * 0.42
    pen.ellipse((centre - hole, pin_cy - hole, centre + hole, pin_cy + hole), fill=THEME)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, size, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
        ("apple-touch-icon.png", 180, True),
        ("favicon-32.png", 32, False),
    ):
        draw(size, maskable=maskable).save(HERE / name, optimize=True)


if __name__ == "__main__":
    main()
