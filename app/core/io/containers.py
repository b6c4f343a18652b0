"""Byte-level JPEG and PNG container helpers: find, check and insert metadata segments/chunks.

OpenCV encodes pixels fast and with little memory but writes no metadata; these helpers splice EXIF,
ICC and XMP into its output, and check that a JPEG/PNG is complete before we trust a decode of it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
ICC_HEADER = b"ICC_PROFILE\x00"
_MAX_SEGMENT = 65533  # payload bytes in one JPEG marker segment (length field counts itself)


def jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """Yield ``(marker, payload_start, payload_end)`` for the header segments up to and including SOS."""
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        yield marker, i + 4, min(i + 2 + length, n)
        if marker == 0xDA:
            return
        i += 2 + length


def jpeg_exif(data: bytes) -> bytes | None:
    """The EXIF block (TIFF structure, without the ``Exif\\0\\0`` header) of a JPEG, or None."""
    for marker, a, b in jpeg_segments(data):
        if marker == 0xE1 and data[a : a + 6] == EXIF_HEADER:
            return data[a + 6 : b]
    return None


def jpeg_is_complete(data: bytes) -> bool:
    """True when the first scan is followed by an end-of-image marker (i.e. the file is not truncated).

    Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so an ``FFD9`` after
    the first SOS is the primary image's EOI (embedded thumbnails live in APP segments before it).
    """
    sos = None
    for marker, a, _ in jpeg_segments(data):
        if marker == 0xDA:
            sos = a
    return sos is not None and data.find(b"\xff\xd9", sos) != -1


def jpeg_insert(jpeg: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """Insert ``(marker, payload)`` segments after SOI (after a JFIF APP0 when there is one).

    Existing EXIF/XMP/ICC segments are dropped so the new ones are the only ones.
    """
    new = []
    for marker, payload in segments:
        if len(payload) > _MAX_SEGMENT:
            raise ValueError(f"JPEG segment too large ({len(payload)} bytes)")
        new.append(b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload)
    out = [jpeg[:2]]
    inserted = False
    pos = 2
    for marker, a, b in jpeg_segments(jpeg):
        if marker == 0xDA:
            break
        head = jpeg[a : a + 29]
        if not inserted and not (marker == 0xE0 and head.startswith(b"JFIF\x00")):
            out.extend(new)
            inserted = True
        is_meta = (marker == 0xE1 and (head.startswith(EXIF_HEADER) or head.startswith(XMP_HEADER))) or (
            marker == 0xE2 and head.startswith(ICC_HEADER)
        )
        if not is_meta:
            out.append(jpeg[a - 4 : b])
        pos = b
    if not inserted:
        out.extend(new)
    out.append(jpeg[pos:])
    return b"".join(out)


def jpeg_icc_segments(profile: bytes) -> list[tuple[int, bytes]]:
    """APP2 ``ICC_PROFILE`` segments carrying ``profile`` (split when it exceeds one segment)."""
    room = _MAX_SEGMENT - len(ICC_HEADER) - 2
    chunks = [profile[i : i + room] for i in range(0, len(profile), room)] or [b""]
    return [(0xE2, ICC_HEADER + bytes([k + 1, len(chunks)]) + c) for k, c in enumerate(chunks)]


def png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(type, data_start, data_end)`` for each chunk of a PNG."""
    i = 8
    n = len(data)
    while i + 8 <= n:
        length, ctype = struct.unpack(">I4s", data[i : i + 8])
        yield ctype, i + 8, i + 8 + length
        i += 12 + length


def png_is_complete(data: bytes) -> bool:
    """True when the chunk chain reaches IEND inside the file (not truncated)."""
    last = None
    end = 0
    for ctype, _, b in png_chunks(data):
        last, end = ctype, b
    return last == b"IEND" and end + 4 <= len(data)


def png_chunk(ctype: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(ctype + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", crc)


def png_insert(png: bytes, chunks: list[bytes]) -> bytes:
    """Insert ready-made chunks right after IHDR (iCCP and eXIf must precede IDAT)."""
    for ctype, _, b in png_chunks(png):
        if ctype == b"IHDR":
            return png[: b + 4] + b"".join(chunks) + png[b + 4 :]
    raise ValueError("PNG without IHDR")


def png_iccp(profile: bytes, name: bytes = b"sRGB") -> bytes:
    return png_chunk(b"iCCP", name + b"\x00\x00" + zlib.compress(profile))


def png_xmp(xmp: bytes) -> bytes:
    return png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp)
