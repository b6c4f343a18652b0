"""EXIF as data: read it from any container with pyexiv2, clean it for export, orient pixels by it.

One representation travels with an image: ``Metadata.exif``, the TIFF-structured EXIF block (what a JPEG
APP1 segment carries after ``Exif\\0\\0``). pyexiv2 converts between that block and a ``{key: text}``
dict by round-tripping it through a tiny in-memory JPEG, so every container (JPEG, PNG, TIFF, RAW)
goes through the same code. Strings are handled as Latin-1 so arbitrary bytes survive unchanged.

MakerNotes are dropped: their internal offsets break when the block is rewritten at another position.
"""

from __future__ import annotations

import functools
import logging
import re
from fractions import Fraction

import cv2
import numpy as np
import pyexiv2

from app.core.io.containers import EXIF_HEADER, jpeg_exif, jpeg_insert

log = logging.getLogger("photorestore")
_ENC = "iso-8859-1"  # byte-transparent: what we read is written back unchanged
pyexiv2.set_log_level(4)  # exiv2 otherwise prints warnings for odd files; errors still raise

# IFD0 tags that describe the photo (everything else in IFD0 describes the container's pixel layout).
_KEEP_IMAGE = {
    "Make", "Model", "Software", "DateTime", "Artist", "Copyright", "ImageDescription", "XResolution",
    "YResolution", "ResolutionUnit", "Orientation", "HostComputer",
}  # fmt: skip
# TIFF-EP cameras (and DNGs) put shooting data in IFD0; EXIF readers look for it in the Photo IFD.
_TIFF_EP_TO_PHOTO = (
    "ExposureTime", "FNumber", "FocalLength", "ISOSpeedRatings", "DateTimeOriginal", "ExposureBiasValue",
    "Flash", "MeteringMode", "ExposureProgram", "SubjectDistance",
)  # fmt: skip
_DROP = {"Exif.Photo.MakerNote", "Exif.Photo.InteroperabilityTag", "Exif.Image.ExifTag", "Exif.Image.GPSTag"}


@functools.lru_cache(maxsize=1)
def _blank_jpeg() -> bytes:
    ok, buf = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    assert ok
    return buf.tobytes()


def blob_to_tags(blob: bytes | None) -> dict[str, str]:
    """EXIF block -> ``{"Exif.Image.Make": "Canon", ...}`` (empty dict when unreadable)."""
    if not blob:
        return {}
    jpeg = jpeg_insert(_blank_jpeg(), [(0xE1, EXIF_HEADER + blob)])
    try:
        with pyexiv2.ImageData(jpeg) as im:
            return im.read_exif(encoding=_ENC)
    except Exception as exc:  # noqa: BLE001 - damaged EXIF must not stop a decode
        log.info("unreadable EXIF block: %s", exc)
        return {}


def tags_to_blob(tags: dict[str, str]) -> bytes | None:
    """``{key: text}`` -> EXIF block (None when nothing could be written)."""
    if not tags:
        return None
    with pyexiv2.ImageData(_blank_jpeg()) as im:
        try:
            im.modify_exif(tags, encoding=_ENC)
        except Exception:  # noqa: BLE001 - one bad value: write the others one by one
            for key, value in tags.items():
                try:
                    im.modify_exif({key: value}, encoding=_ENC)
                except Exception:  # noqa: BLE001
                    log.info("EXIF tag %s not writable, dropped", key)
        return jpeg_exif(im.get_bytes())


def read_container(data: bytes) -> tuple[dict[str, str], bytes | None, bytes | None]:
    """EXIF tags, ICC profile and XMP packet of an image file held in memory (any format exiv2 reads)."""
    try:
        with pyexiv2.ImageData(data) as im:
            tags = im.read_exif(encoding=_ENC)
            icc = im.read_icc() or None
            xmp = im.read_raw_xmp(encoding=_ENC) or None
    except Exception as exc:  # noqa: BLE001 - metadata is optional; pixels decide success
        log.info("metadata not readable: %s", exc)
        return {}, None, None
    return tags, icc, (xmp.encode(_ENC) if xmp else None)


def photo_tags(tags: dict[str, str]) -> dict[str, str]:
    """Keep what describes the photograph; drop pixel-layout, thumbnail, DNG and MakerNote tags."""
    out: dict[str, str] = {}
    for key, value in tags.items():
        parts = key.split(".")
        if len(parts) != 3 or key in _DROP:
            continue
        group, name = parts[1], parts[2]
        if (group == "Image" and name in _KEEP_IMAGE) or group in ("Photo", "GPSInfo", "Iop"):
            out[key] = value
    for name in _TIFF_EP_TO_PHOTO:
        src = tags.get(f"Exif.Image.{name}")
        if src and f"Exif.Photo.{name}" not in out:
            out[f"Exif.Photo.{name}"] = src
    if "Exif.Image.Model" not in out and tags.get("Exif.Image.UniqueCameraModel"):
        out["Exif.Image.Model"] = tags["Exif.Image.UniqueCameraModel"]
    return out


def export_tags(blob: bytes | None, width: int, height: int, software: str) -> dict[str, str]:
    """Tags to write into an output: photo tags, Orientation 1 (pixels are upright), new dimensions."""
    tags = photo_tags(blob_to_tags(blob))
    tags["Exif.Image.Orientation"] = "1"
    tags["Exif.Image.Software"] = software
    tags["Exif.Photo.PixelXDimension"] = str(width)
    tags["Exif.Photo.PixelYDimension"] = str(height)
    return tags


def reset_xmp_orientation(xmp: bytes) -> bytes:
    """Set ``tiff:Orientation`` in an XMP packet to 1, else viewers would rotate upright pixels again."""
    xmp = re.sub(rb'(tiff:Orientation\s*=\s*")\d(")', rb"\g<1>1\g<2>", xmp)
    return re.sub(rb"(<tiff:Orientation>)\d(</tiff:Orientation>)", rb"\g<1>1\g<2>", xmp)


def _text(value: str | None) -> str:
    if not value:
        return ""
    return value.encode(_ENC, "replace").decode("utf-8", "replace").strip().strip("\x00").strip()


def _number(value: str | None) -> float | None:
    """'1/400' or '640' or '56/10 0/0' -> float; zero and garbage -> None."""
    words = value.split() if value else []
    if not words:  # absent, or a tag with count 0 (exiv2 gives "")
        return None
    try:
        f = float(Fraction(words[0]))
    except (ValueError, ZeroDivisionError):
        return None
    return f if f > 0 else None


def _first(tags: dict[str, str], *keys: str) -> str:
    for key in keys:
        if _text(tags.get(key)):
            return tags[key]
    return ""


def fields(tags: dict[str, str]) -> dict[str, object]:
    """The :class:`~app.core.image.Metadata` fields found in EXIF tags."""
    lens = _first(tags, "Exif.Photo.LensModel", *[k for k in tags if k.endswith(".LensModel")])
    try:  # a tag with count 0 reads as "": no orientation, not an undecodable file
        orientation = int((tags.get("Exif.Image.Orientation", "1").split() or ["1"])[0])
    except ValueError:
        orientation = 1
    return {
        "camera_make": _text(tags.get("Exif.Image.Make")),
        "camera_model": _text(_first(tags, "Exif.Image.Model", "Exif.Image.UniqueCameraModel")),
        "lens": _text(lens),
        "iso": _number(_first(tags, "Exif.Photo.ISOSpeedRatings", "Exif.Image.ISOSpeedRatings")),
        "exposure_time": _number(_first(tags, "Exif.Photo.ExposureTime", "Exif.Image.ExposureTime")),
        "f_number": _number(_first(tags, "Exif.Photo.FNumber", "Exif.Image.FNumber")),
        "focal_length": _number(_first(tags, "Exif.Photo.FocalLength", "Exif.Image.FocalLength")),
        "datetime": _text(_first(tags, "Exif.Photo.DateTimeOriginal", "Exif.Image.DateTimeOriginal",
                                 "Exif.Image.DateTime")),
        "orientation": orientation if 1 <= orientation <= 8 else 1,
    }  # fmt: skip


def orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to ``(H, W, ...)`` pixels so they display upright (returns a view)."""
    if orientation == 2:
        return a[:, ::-1]
    if orientation == 3:
        return a[::-1, ::-1]
    if orientation == 4:
        return a[::-1]
    if orientation == 5:
        return a.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(a, -1)
    if orientation == 7:
        return a[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(a, 1)
    return a


def unorient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Undo :func:`orient`: upright pixels back to the file's stored layout (returns a view).

    Every orientation is its own inverse except the two quarter turns (6 and 8), which undo each other.
    """
    return orient(a, {6: 8, 8: 6}.get(int(orientation), int(orientation)))


def libraw_flip_to_orientation(flip: int) -> int:
    """LibRaw's ``sizes.flip`` (dcraw convention) -> EXIF orientation."""
    return {0: 1, 3: 3, 5: 8, 6: 6}.get(int(flip), 1)


def tags_from_fields(meta: object) -> dict[str, str]:
    """Minimal EXIF tags rebuilt from :class:`~app.core.image.Metadata` fields (no EXIF block at hand)."""
    out: dict[str, str] = {}

    def rational(v: float | None) -> str | None:
        if not v:
            return None
        f = Fraction(v).limit_denominator(100000)
        return f"{f.numerator}/{f.denominator}"

    simple = {
        "Exif.Image.Make": getattr(meta, "camera_make", ""),
        "Exif.Image.Model": getattr(meta, "camera_model", ""),
        "Exif.Photo.LensModel": getattr(meta, "lens", ""),
        "Exif.Photo.DateTimeOriginal": getattr(meta, "datetime", ""),
        "Exif.Photo.ISOSpeedRatings": str(int(meta.iso)) if getattr(meta, "iso", None) else "",
        "Exif.Photo.ExposureTime": rational(getattr(meta, "exposure_time", None)),
        "Exif.Photo.FNumber": rational(getattr(meta, "f_number", None)),
        "Exif.Photo.FocalLength": rational(getattr(meta, "focal_length", None)),
    }
    for key, value in simple.items():
        if value:
            out[key] = value
    return out
