"""Safe intake of residents' photos attached to reports.

A photo from a phone is hostile input twice over: it may be crafted to exhaust memory (a "decompression
bomb" whose header promises billions of pixels) or to exploit a decoder, and an honest one leaks the
reporter's home through its EXIF GPS tags. So we trust nothing the client says (the declared content type
is ignored for every decision), sniff the real type from the bytes, check the pixel count from the header
before decoding anything, and re-encode from raw pixels into a fresh image so that no metadata of any kind
(EXIF, GPS, XMP, ICC, comments, PNG text chunks) can survive.

Output is always baseline JPEG (quality 85, thumbnails 80). WebP would be ~25 % smaller, but JPEG is
what every consumer of these files handles (Open311 clients, e-mail notifications, municipal case systems,
PDF exports) and it encodes several times faster on a 2-core box. Photos are stored once and read rarely,
so the size saving does not pay for the compatibility risk.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import struct
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageCms, ImageOps

from geo.errors import PhotoDecompressionBomb, PhotoTooLarge, PhotoUnreadable, PhotoUnsupportedType

logger = logging.getLogger(__name__)

MIB: Final = 1024 * 1024
OUTPUT_CONTENT_TYPE: Final = "image/jpeg"
_JPEG_QUALITY: Final = 85
_THUMBNAIL_QUALITY: Final = 80
_BACKGROUND: Final = (255, 255, 255)

# HEIF major/compatible brands written by phones and cameras (AVIF's "avif"/"avis" deliberately excluded).
_HEIF_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})

# Decoders fed hostile bytes fail in many ways; each of these means "not a readable image", never a 500.
_DECODER_FAILURES: Final = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, struct.error)


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    """A cleaned photo ready for storage; ``sha256`` is of ``image`` so it can serve as the storage key."""

    image: bytes
    thumbnail: bytes
    content_type: str
    width: int
    height: int
    sha256: str


@functools.cache
def _heif_available() -> bool:
    """Register pillow-heif's opener on first use only: importing it costs ~50 ms and loads libheif."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _sniff(data: bytes) -> str | None:
    """The Pillow format name that the leading bytes prove, or None for anything we do not accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if len(data) >= 16 and data[4:8] == b"ftyp":
        box_size = int.from_bytes(data[:4], "big")
        end = min(max(box_size, 16), len(data), 256)
        brands = {data[8:12]} | {data[offset : offset + 4] for offset in range(16, end - 3, 4)}
        if brands & _HEIF_BRANDS and not brands & {b"avif", b"avis"}:
            return "HEIF"
    return None


def _flatten(image: Image.Image) -> Image.Image:
    """Composite transparency onto white: a report photo with a black see-through background misleads."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*_BACKGROUND, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Bring pixels into sRGB (or 8-bit grey) so they look right once the ICC profile is dropped."""
    if icc_profile and image.mode in {"RGB", "RGBA", "CMYK"}:
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            logger.debug("Ignoring an unusable ICC profile; converting naively")
        else:
            if converted is not None:
                image = converted

    if image.mode.startswith("I;16") or image.mode == "I":
        # Pillow's I;16 -> L conversion clips at 255 instead of scaling, which turns 16-bit greys white.
        # One band here, so getextrema() is (min, max); Pillow types it for the multi-band case too.
        wide = image.mode.startswith("I;16") or int(image.getextrema()[1]) > 255  # type: ignore[arg-type]
        maximum = 65535 if wide else 255
        return image.convert("I").point(lambda value: value * (255 / maximum)).convert("L")
    if image.mode in {"RGBA", "LA", "La", "PA", "RGBa"} or "transparency" in image.info:
        return _flatten(image)
    if image.mode in {"RGB", "L"}:
        return image
    # CMYK, YCbCr, LAB, HSV, RGBX, P without transparency, 1, F.
    return image.convert("L" if image.mode in {"1", "F"} else "RGB")


def _encode(image: Image.Image, quality: int) -> bytes:
    # A brand-new image holds pixels only: convert() and friends copy ``info``, and Pillow's savers
    # re-emit some of it (a JPEG comment survives a plain convert+save), so we never save the original.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    clean.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def process_photo(
    data: bytes,
    *,
    declared_content_type: str | None,
    max_bytes: int = 10 * MIB,
    max_pixels: int = 40_000_000,
    max_edge: int = 2048,
    thumb_edge: int = 320,
) -> ProcessedPhoto:
    """Validate an uploaded photo and return it re-encoded without metadata, plus a thumbnail.

    ``declared_content_type`` is only logged: mobile browsers send ``application/octet-stream`` or wrong
    types for HEIC, and an attacker sends whatever passes, so the bytes decide.
    """
    if len(data) > max_bytes:
        raise PhotoTooLarge(
            f"The photo is {len(data)} bytes; the limit is {max_bytes}.",
            max_bytes=max_bytes,
        )
    if not data:
        raise PhotoUnreadable("The photo is empty.")

    detected = _sniff(data)
    if detected == "HEIF" and not _heif_available():
        detected = None
    if detected is None:
        raise PhotoUnsupportedType(
            "Only JPEG, PNG, WebP and HEIC photos are accepted.",
            declared_content_type=declared_content_type,
        )
    if (
        declared_content_type
        and declared_content_type.split(";")[0].strip().lower() != f"image/{detected}".lower()
    ):
        logger.debug("Photo declared as %s is really %s", declared_content_type, detected)

    try:
        # Restricting ``formats`` keeps Pillow from trying every other plugin on bytes we already classified.
        image = Image.open(io.BytesIO(data), formats=[detected])
    except Image.DecompressionBombError as error:
        raise PhotoDecompressionBomb(str(error)) from error
    except _DECODER_FAILURES as error:  # includes UnidentifiedImageError (an OSError)
        raise PhotoUnreadable("The photo could not be read.") from error

    with image:
        # Only the header has been parsed so far: refuse huge canvases before any pixel is decoded.
        width, height = image.size
        if width <= 0 or height <= 0:
            raise PhotoUnreadable("The photo has no pixels.")
        if width * height > max_pixels:
            raise PhotoDecompressionBomb(
                f"The photo has {width}x{height} pixels; the limit is {max_pixels}.",
            )
        if image.format in {"JPEG", "MPO"}:
            # DCT scaling during decode: a 50 MP photo is decoded at 1/2 or 1/4 size, never full size.
            image.draft("RGB", (max_edge, max_edge))
        try:
            image.load()
        except Image.DecompressionBombError as error:
            raise PhotoDecompressionBomb(str(error)) from error
        except _DECODER_FAILURES as error:
            raise PhotoUnreadable("The photo is truncated or corrupt.") from error

        icc_profile = image.info.get("icc_profile")
        try:
            oriented = ImageOps.exif_transpose(image)
        except _DECODER_FAILURES:
            # Broken EXIF must not cost the resident their report; the pixels are fine, just unrotated.
            logger.debug("Unreadable EXIF orientation; keeping the photo as stored")
            oriented = image.copy()

    pixels = _to_srgb(oriented, icc_profile if isinstance(icc_profile, bytes) else None)
    pixels.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    preview = pixels.copy()
    preview.thumbnail((thumb_edge, thumb_edge), Image.Resampling.LANCZOS)

    encoded = _encode(pixels, _JPEG_QUALITY)
    return ProcessedPhoto(
        image=encoded,
        thumbnail=_encode(preview, _THUMBNAIL_QUALITY),
        content_type=OUTPUT_CONTENT_TYPE,
        width=pixels.width,
        height=pixels.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )
