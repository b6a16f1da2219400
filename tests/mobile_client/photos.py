"""Photos as a phone gives them to the browser: a large camera JPEG, an iPhone HEIC."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def camera_jpeg(width: int = 4000, height: int = 3000, seed: int = 7) -> bytes:
    """A 12-megapixel JPEG with texture (noise compresses badly, like a real street photo)."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, width, dtype=np.float32)[None, :, None].repeat(height, 0).repeat(3, 2)
    noise = rng.normal(0, 40, (height, width, 3)).astype(np.float32)
    pixels = np.clip(base * 0.6 + noise + 60, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def heic(width: int = 800, height: int = 600) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, format="HEIF")
    return buffer.getvalue()
