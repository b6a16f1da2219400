"""Photo intake against real image bytes built in memory: privacy, orientation, limits and hostile input."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms

from core.errors import DomainError, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from geo import photos
from geo.photos import ProcessedPhoto, process_photo

GPS_IFD = ExifTags.IFD.GPSInfo
ORIENTATION = ExifTags.Base.Orientation


def _encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A non-uniform picture, so that a rotation is visible in the pixels and not only in the size."""
    image = Image.new("RGB", size, (20, 120, 200))
    image.paste((230, 30, 30), (0, 0, size[0] // 4, size[1] // 4))  # red block in the top-left corner
    return image.convert(mode)


def _jpeg_with_gps_and_orientation(size: tuple[int, int] = (400, 300)) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # stored landscape, displayed rotated 90° clockwise
    exif[ExifTags.Base.Make] = "Fairphone"
    exif[GPS_IFD] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 22.0, 12.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (4.0, 53.0, 40.2),
    }
    return _encode(
        _gradient(size),
        "JPEG",
        exif=exif,
        comment=b"home of the reporter",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>',
    )


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_claiming(width: int, height: int) -> bytes:
    """A few dozen bytes whose IHDR promises ``width`` x ``height`` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_segments(data: bytes) -> list[int]:
    """The marker bytes of a JPEG's header segments (up to start-of-scan), to prove no APPn metadata."""
    markers, position = [], 2
    while position < len(data):
        assert data[position] == 0xFF, "malformed JPEG segment"
        marker = data[position + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    return markers


def _assert_clean_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "comment", "icc_profile", "photoshop", "adobe"} & set(image.info)
    # APP0 (JFIF) is fine; APP1 (EXIF/XMP), APP2 (ICC/MPF), APP13 (IPTC) and COM must be absent.
    segments = _jpeg_segments(data)
    assert not {0xE1, 0xE2, 0xED, 0xFE} & set(segments), [hex(marker) for marker in segments]
    return image


def _code(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.code


# --- privacy and orientation ----------------------------------------------------------------------


def test_gps_and_all_metadata_are_removed() -> None:
    data = _jpeg_with_gps_and_orientation()
    # The fixture really carries what we claim to strip; otherwise the assertions below prove nothing.
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(GPS_IFD)[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert {"xmp", "comment"} <= set(source.info)

    photo = process_photo(data, declared_content_type="image/jpeg")

    for output in (photo.image, photo.thumbnail):
        _assert_clean_jpeg(output)
        for secret in (b"Fairphone", b"secret-xmp", b"home of the reporter", b"Exif"):
            assert secret not in output


def test_exif_orientation_is_applied_to_the_pixels() -> None:
    photo = process_photo(_jpeg_with_gps_and_orientation((400, 300)), declared_content_type="image/jpeg")

    assert (photo.width, photo.height) == (300, 400)
    image = _assert_clean_jpeg(photo.image).convert("RGB")
    assert image.size == (300, 400)
    # Orientation 6 turns the stored top-left corner into the displayed top-right corner.
    red, green, blue = image.getpixel((image.width - 10, 10))  # type: ignore[misc]  # Pillow: float | tuple | None; RGB gives 3
    assert red > 180 and blue < 90
    red, green, blue = image.getpixel((10, 10))  # type: ignore[misc]  # Pillow: float | tuple | None; RGB gives 3
    assert blue > 150 and red < 90


def test_result_describes_the_stored_image() -> None:
    photo = process_photo(_encode(_gradient((640, 480)), "PNG"), declared_content_type="image/png")

    assert isinstance(photo, ProcessedPhoto)
    assert photo.content_type == "image/jpeg"
    assert photo.sha256 == hashlib.sha256(photo.image).hexdigest()
    assert Image.open(io.BytesIO(photo.image)).size == (photo.width, photo.height) == (640, 480)


# --- sizes ----------------------------------------------------------------------------------------


def test_large_photo_is_downscaled_and_thumbnailed() -> None:
    data = _encode(_gradient((3000, 1500)), "JPEG", quality=70)

    photo = process_photo(data, declared_content_type="image/jpeg", max_edge=1024, thumb_edge=320)

    assert (photo.width, photo.height) == (1024, 512)
    assert Image.open(io.BytesIO(photo.image)).size == (1024, 512)
    assert Image.open(io.BytesIO(photo.thumbnail)).size == (320, 160)


def test_small_photo_is_not_upscaled() -> None:
    photo = process_photo(_encode(_gradient((200, 100)), "PNG"), declared_content_type=None)

    assert (photo.width, photo.height) == (200, 100)
    assert Image.open(io.BytesIO(photo.thumbnail)).size == (200, 100)


# --- formats and modes ----------------------------------------------------------------------------


def test_png_alpha_is_flattened_on_white() -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # fully transparent black
    image.paste((255, 0, 0, 255), (0, 0, 50, 100))  # opaque red left half
    data = _encode(image, "PNG")

    photo = process_photo(data, declared_content_type="image/png")

    result = Image.open(io.BytesIO(photo.image))
    assert result.mode == "RGB"
    assert all(channel > 240 for channel in result.getpixel((80, 50)))
    red, green, blue = result.getpixel((20, 50))  # type: ignore[misc]  # Pillow: float | tuple | None; RGB gives 3
    assert red > 230 and green < 30 and blue < 30


def test_palette_png_with_transparency_is_flattened() -> None:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    image.paste(1, (0, 0, 20, 40))
    data = _encode(image, "PNG", transparency=0)

    result = Image.open(io.BytesIO(process_photo(data, declared_content_type=None).image))

    assert result.mode == "RGB"
    assert all(channel > 240 for channel in result.getpixel((30, 20)))


def test_sixteen_bit_grey_png_keeps_its_tones() -> None:
    image = Image.new("I;16", (32, 32), 32768)  # mid-grey in 16 bits
    photo = process_photo(_encode(image, "PNG"), declared_content_type="image/png")

    value = Image.open(io.BytesIO(photo.image)).convert("L").getpixel((16, 16))
    assert 118 <= value <= 138  # type: ignore[operator]  # clipped conversion would give 255


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = _encode(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG")

    result = Image.open(io.BytesIO(process_photo(data, declared_content_type="image/jpeg").image))

    assert result.mode == "RGB"
    red, green, blue = result.getpixel((32, 32))  # type: ignore[misc]  # Pillow: float | tuple | None; RGB gives 3
    assert red > 200 and green < 60 and blue < 60


def test_icc_profile_is_applied_then_dropped() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(Image.new("RGB", (64, 64), (10, 160, 40)), "JPEG", icc_profile=profile, quality=95)
    assert Image.open(io.BytesIO(data)).info["icc_profile"] == profile

    result = _assert_clean_jpeg(process_photo(data, declared_content_type="image/jpeg").image)

    red, green, blue = result.getpixel((32, 32))  # type: ignore[misc]  # Pillow: float | tuple | None; RGB gives 3
    assert abs(red - 10) < 12 and abs(green - 160) < 12 and abs(blue - 40) < 12


def test_webp_is_accepted_even_when_declared_wrongly() -> None:
    data = _encode(_gradient((120, 80)), "WEBP", quality=90)

    photo = process_photo(data, declared_content_type="image/jpeg")

    assert (photo.width, photo.height) == (120, 80)
    _assert_clean_jpeg(photo.image)


def test_heic_is_accepted_when_pillow_heif_is_available() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    data = _encode(_gradient((160, 96)), "HEIF", quality=90)
    assert data[4:12] == b"ftypheic"

    photo = process_photo(data, declared_content_type="application/octet-stream")

    assert (photo.width, photo.height) == (160, 96)
    _assert_clean_jpeg(photo.image)


def test_heic_is_refused_without_pillow_heif(monkeypatch: pytest.MonkeyPatch) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    data = _encode(_gradient((64, 64)), "HEIF")
    monkeypatch.setattr(photos, "_heif_available", lambda: False)

    with pytest.raises(UnsupportedMediaType) as error:
        process_photo(data, declared_content_type="image/heic")
    assert _code(error) == "photo-unsupported-type"


# --- refusals -------------------------------------------------------------------------------------


def test_text_renamed_to_jpg_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaType) as error:
        process_photo(b"Dear municipality,\nthe lamp post is broken.\n", declared_content_type="image/jpeg")
    assert _code(error) == "photo-unsupported-type"
    assert error.value.status == 415


def test_real_image_of_a_refused_type_is_unsupported() -> None:
    data = _encode(_gradient((20, 20)), "GIF")
    with pytest.raises(UnsupportedMediaType) as error:
        process_photo(data, declared_content_type="image/png")
    assert _code(error) == "photo-unsupported-type"


def test_truncated_jpeg_is_unreadable() -> None:
    data = _encode(_gradient((800, 600)), "JPEG")
    with pytest.raises(InvalidInput) as error:
        process_photo(data[: len(data) // 3], declared_content_type="image/jpeg")
    assert _code(error) == "photo-unreadable"
    assert error.value.status == 422


def test_header_only_jpeg_is_unreadable() -> None:
    with pytest.raises(InvalidInput) as error:
        process_photo(b"\xff\xd8\xff\xe0" + b"\x00" * 20, declared_content_type="image/jpeg")
    assert _code(error) == "photo-unreadable"


def test_empty_upload_is_unreadable() -> None:
    with pytest.raises(InvalidInput) as error:
        process_photo(b"", declared_content_type="image/jpeg")
    assert _code(error) == "photo-unreadable"


def test_png_claiming_ten_billion_pixels_is_a_decompression_bomb() -> None:
    data = _png_claiming(100_000, 100_000)
    assert len(data) < 100

    with pytest.raises(InvalidInput) as error:
        process_photo(data, declared_content_type="image/png")
    assert _code(error) == "photo-decompression-bomb"


def test_pixel_limit_is_checked_before_decoding() -> None:
    # 48 MP: under Pillow's own bomb threshold (89 MP), over ours. The IDAT holds almost nothing, so if the
    # pixels were decoded first this would surface as "unreadable", not as a bomb.
    data = _png_claiming(8000, 6000)

    with pytest.raises(InvalidInput) as error:
        process_photo(data, declared_content_type="image/png")
    assert _code(error) == "photo-decompression-bomb"

    with pytest.raises(InvalidInput) as error:
        process_photo(data, declared_content_type="image/png", max_pixels=50_000_000)
    assert _code(error) == "photo-unreadable"


def test_oversized_payload_is_refused_before_parsing() -> None:
    data = _encode(_gradient((64, 64)), "PNG")
    with pytest.raises(PayloadTooLarge) as error:
        process_photo(data, declared_content_type="image/png", max_bytes=len(data) - 1)
    assert _code(error) == "photo-too-large"
    assert error.value.status == 413

    too_big = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge):
        process_photo(too_big, declared_content_type="image/jpeg")
    # Exactly at the limit is accepted (the limit is inclusive).
    assert process_photo(data, declared_content_type="image/png", max_bytes=len(data)).width == 64
