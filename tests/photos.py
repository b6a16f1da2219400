"""Real images for tests, made with Pillow, with the metadata a phone camera writes."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def phone_jpeg(width: int = 64, height: int = 48) -> bytes:
    """A JPEG carrying an EXIF GPS position (Dam square), the way a phone camera writes it."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 22.0, 23.16), 3: "E", 4: (4.0, 53.0, 33.72)})
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()
