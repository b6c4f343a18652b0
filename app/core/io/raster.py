"""Raster decode (JPEG, PNG 8/16, TIFF 8/16, WebP, BMP) to float32 sRGB, orientation applied once.

Who does what: OpenCV decodes pixels (fast, 16-bit aware, reduced-size JPEG decode for previews) with
EXIF orientation *ignored*, so we apply it exactly once ourselves; tifffile decodes TIFFs it can (OpenCV's
TIFF decoder rotates by the Orientation tag on its own); Pillow reads headers and decodes CMYK;
pyexiv2 reads EXIF/ICC/XMP. Integer pixels are converted to float in row chunks (with ICC conversion
and alpha compositing on the way) so a 100-MP photo needs only its uint8 copy plus the float result.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image as PILImage
from PIL import ImageCms

from app.core.image import ColorSpace, Image, Metadata
from app.core.io import budget, exif, icc
from app.core.io.containers import jpeg_is_complete, png_is_complete
from app.core.io.errors import DecodeError, UnsupportedFormatError, describe
from app.core.io.formats import MAX_PIXELS
from app.core.io.jpeg_tables import jpeg_tables_from_file

# Pillow refuses images above 2 * MAX_IMAGE_PIXELS (179 MP by default) while opening the header; our own
# guard (MAX_PIXELS, with a precise message) is the one that counts, so Pillow's must sit above it.
if PILImage.MAX_IMAGE_PIXELS is not None and PILImage.MAX_IMAGE_PIXELS < MAX_PIXELS:
    PILImage.MAX_IMAGE_PIXELS = MAX_PIXELS

#: Decoded bytes per pixel by Pillow mode (unknown modes, e.g. a TIFF only tifffile reads: 16-bit RGB).
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4, "I;16": 2, "I;16B": 2,
               "I;16L": 2, "I": 4, "F": 4}  # fmt: skip
CHUNK_PIXELS = 1 << 21  # rows per conversion step ~ 2 MP: small temporaries, still vectorised
_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
_REDUCED_GREY = {
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8
}  # fmt: skip


@dataclass
class Decoded:
    """Integer (or float) pixels straight from a decoder, before conversion to float sRGB."""

    pixels: np.ndarray  # (H, W) grey or (H, W, 3) RGB; may be a strided view
    maxval: float  # 255, 65535 or 1.0 (float data)
    alpha: np.ndarray | None = None  # (H, W), same scale as pixels
    icc: bytes | None = None
    notes: list[str] = field(default_factory=list)


def header(path: Path, data: bytes, kind: str) -> tuple[int, int, str]:
    """``(width, height, Pillow mode)`` without decoding pixels; enforces :data:`MAX_PIXELS`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as im:
                w, h, mode = im.width, im.height, im.mode
    except PILImage.DecompressionBombError:
        limit = MAX_PIXELS / 1e6
        raise DecodeError(
            path, f"image too large: over {2 * limit:.0f} megapixels (the limit is {limit:.0f})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any header failure is a corrupt file to the user
        if kind != "tiff":
            raise DecodeError(path, f"corrupt {kind.upper()} header ({describe(exc)})") from None
        try:
            with tifffile.TiffFile(io.BytesIO(data)) as tf:
                page = tf.pages[0]
                h, w, mode = int(page.imagelength), int(page.imagewidth), "?"
        except Exception as exc2:  # noqa: BLE001
            raise DecodeError(path, f"corrupt TIFF file ({describe(exc2)})") from None
    if w < 1 or h < 1:
        raise DecodeError(path, f"invalid image size {w}x{h}")
    if w * h > MAX_PIXELS:
        raise DecodeError(
            path,
            f"image too large: {w}x{h} = {w * h / 1e6:.0f} megapixels (the limit is {MAX_PIXELS / 1e6:.0f})",
        )
    return w, h, mode


def check_complete(path: Path, data: bytes, kind: str) -> None:
    if kind == "jpeg" and not jpeg_is_complete(data):
        raise DecodeError(path, "truncated JPEG file (no end-of-image marker); refusing a partial image")
    if kind == "png" and not png_is_complete(data):
        raise DecodeError(path, "truncated PNG file (no IEND chunk); refusing a partial image")


def _split_channels(arr: np.ndarray, bgr: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Decoder array -> (grey or RGB view, alpha or None)."""
    if arr.ndim == 2:
        return arr, None
    c = arr.shape[2]
    if c == 1:
        return arr[:, :, 0], None
    if c == 2:
        return arr[:, :, 0], arr[:, :, 1]
    rgb = arr[:, :, 2::-1] if bgr else arr[:, :, :3]
    return rgb, (arr[:, :, 3] if c >= 4 else None)


def _maxval(arr: np.ndarray) -> float:
    if arr.dtype == np.uint8:
        return 255.0
    if arr.dtype == np.uint16:
        return 65535.0
    if arr.dtype.kind == "f":
        return 1.0
    raise UnsupportedFormatError(None, f"{arr.dtype} samples are not supported")


def _decode_tifffile(data: bytes) -> np.ndarray | None:
    """TIFF pixels with no orientation applied, or None when tifffile cannot (codec, photometric)."""
    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tf:
            page = tf.pages[0]
            if page.photometric not in (tifffile.PHOTOMETRIC.RGB, tifffile.PHOTOMETRIC.MINISBLACK):
                return None
            arr = page.asarray()
            axes = page.axes
    except Exception:  # noqa: BLE001 - e.g. LZW without imagecodecs: OpenCV's libtiff reads it
        return None
    if axes.startswith("S"):  # planar configuration
        arr = np.moveaxis(arr, 0, -1)
    if arr.dtype not in (np.uint8, np.uint16, np.float32) or arr.ndim not in (2, 3):
        return None
    return arr


def _decode_cmyk(path: Path, data: bytes, profile: bytes | None, notes: list[str]) -> np.ndarray:
    try:
        with PILImage.open(io.BytesIO(data)) as im:
            im.load()
            if profile:
                try:
                    src = ImageCms.ImageCmsProfile(io.BytesIO(profile))
                    dst = ImageCms.ImageCmsProfile(io.BytesIO(icc.srgb_profile()))
                    rgb = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
                    notes.append(f"CMYK converted to sRGB with its ICC profile ({icc.description(profile)})")
                    return np.asarray(rgb)
                except Exception as exc:  # noqa: BLE001 - fall through to the naive conversion
                    notes.append(f"CMYK ICC profile unusable ({describe(exc)})")
            notes.append("CMYK without a usable ICC profile: converted with the naive formula")
            return np.asarray(im.convert("RGB"))
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(path, f"corrupt CMYK image data ({describe(exc)})") from None


def decode_pixels(path: Path, data: bytes, kind: str, mode: str, orientation: int, profile: bytes | None,
                  reduce: int = 1) -> Decoded:  # fmt: skip
    """Decode to integer pixels, upright, in RGB order (``reduce`` > 1: JPEG DCT-domain downscale)."""
    notes: list[str] = []
    oriented = False
    if mode == "CMYK":
        arr, bgr, profile = _decode_cmyk(path, data, profile, notes), False, None
    else:
        arr = _decode_tifffile(data) if kind == "tiff" else None
        bgr = arr is None
        if arr is None:
            buf = np.frombuffer(data, np.uint8)
            flags = cv2.IMREAD_UNCHANGED
            if reduce > 1 and kind == "jpeg":  # grey stays grey so a grey ICC profile still applies
                flags = (_REDUCED_GREY if mode == "L" else _REDUCED)[reduce] | cv2.IMREAD_IGNORE_ORIENTATION
            try:
                arr = cv2.imdecode(buf, flags)
            except cv2.error as exc:
                raise DecodeError(path, f"corrupt {kind.upper()} data ({str(exc).strip()})") from None
            if arr is None:
                raise DecodeError(path, f"corrupt or truncated {kind.upper()} data (decoder failed)")
            oriented = kind == "tiff"  # libtiff's RGBA path in OpenCV applies the Orientation tag itself
    rgb, alpha = _split_channels(arr, bgr)
    if kind == "bmp":  # 32-bit BMPs mostly carry an unused (all-zero) fourth channel, not transparency
        alpha = None
    if not oriented and orientation != 1:
        rgb = exif.orient(rgb, orientation)
        alpha = None if alpha is None else exif.orient(alpha, orientation)
    return Decoded(rgb, _maxval(arr), alpha, profile, notes)


def _resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(np.ascontiguousarray(a), size, interpolation=cv2.INTER_AREA)


def shrink(dec: Decoded, max_side: int) -> Decoded:
    """Downscale integer pixels (and alpha) so the longer side is at most ``max_side``."""
    h, w = dec.pixels.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return dec
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    alpha = None if dec.alpha is None else _resize(dec.alpha, size)
    return Decoded(_resize(dec.pixels, size), dec.maxval, alpha, dec.icc, dec.notes)


def to_float_srgb(dec: Decoded, notes: list[str]) -> np.ndarray:
    """Row-chunked conversion to float32 ``(H, W, 3)`` sRGB: ICC -> sRGB, grey -> RGB, alpha on white."""
    px = dec.pixels
    h, w = px.shape[:2]
    grey = px.ndim == 2
    convert = icc.converter_for(dec.icc, 1 if grey else 3, notes)
    out = np.empty((h, w, 3), np.float32)
    rows = max(1, CHUNK_PIXELS // w)
    top = np.float32(dec.maxval)
    floats = px.dtype.kind == "f"
    bad = 0
    for r0 in range(0, h, rows):
        chunk = px[r0 : r0 + rows]
        dst = out[r0 : r0 + rows]
        if floats:  # float TIFFs can hold NaN/inf: they would turn every later op's result black
            finite = np.isfinite(chunk)
            if not finite.all():
                bad += int(finite.size - np.count_nonzero(finite))
                chunk = np.nan_to_num(chunk, nan=0.0, posinf=1.0, neginf=0.0)
        if convert is not None:
            dst[...] = convert(chunk[..., None] if grey else chunk, dec.maxval)
        else:  # a true division, so 8-bit value v becomes exactly float32(v / 255)
            np.divide(chunk[..., None] if grey else chunk, top, out=dst, casting="unsafe")
        if dec.alpha is not None:
            a = dec.alpha[r0 : r0 + rows, :, None] / top
            dst *= a
            dst += 1 - a
    if bad == px.size:
        raise DecodeError(None, "no usable pixels: every sample is NaN or infinite")
    if bad:
        notes.append(f"{bad} NaN or infinite samples replaced (NaN and -inf by 0, +inf by 1)")
    if dec.alpha is not None:
        if dec.alpha.min() < dec.maxval:
            notes.append("transparent areas composited on white")
        else:
            notes.append("opaque alpha channel dropped")
    return out


def decode_raster(path: Path, data: bytes, kind: str, *, max_side: int | None = None) -> Image:
    """Full (or, with ``max_side``, preview-sized) decode of a raster file to an sRGB :class:`Image`."""
    w, h, mode = header(path, data, kind)
    check_complete(path, data, kind)
    reduce = 1
    if max_side and kind == "jpeg":
        while reduce < 8 and max(w, h) / (reduce * 2) >= max_side:
            reduce *= 2
    # Before any pixel is decoded: a preview needs the decoder's samples only (at the reduced size).
    budget.check_fits(path, -(-w // reduce), -(-h // reduce), _MODE_BYTES.get(mode, 6), working_copy=not max_side)
    tags, profile, xmp = exif.read_container(data)
    meta = make_metadata(path, kind, tags, profile, xmp)
    dec = decode_pixels(path, data, kind, mode, meta.orientation, profile, reduce)
    meta.bit_depth = 16 if dec.maxval == 65535 else 32 if dec.maxval == 1.0 else 8
    if max_side:
        dec = shrink(dec, max_side)
        meta.extra["preview"] = True
    notes = dec.notes
    pixels = to_float_srgb(dec, notes)
    del dec
    if mode == "CMYK":
        meta.extra["cmyk"] = True
    if kind == "jpeg":  # what the file stored (quantisation, subsampling): dejpeg's quality and projection
        tables = jpeg_tables_from_file(io.BytesIO(data))
        if tables is not None:
            meta.extra["jpeg_tables"] = tables.to_meta()
    meta.extra["full_size"] = (h, w) if meta.orientation < 5 else (w, h)
    if notes:
        meta.extra.setdefault("notes", []).extend(notes)
    return Image(pixels, ColorSpace.SRGB, meta)


def make_metadata(
    path: Path, kind: str, tags: dict[str, str], profile: bytes | None, xmp: bytes | None
) -> Metadata:
    """:class:`Metadata` for a raster source; EXIF kept as a cleaned block (Orientation as in the file)."""
    meta = Metadata(source_path=str(path), format=kind, icc_profile=profile, xmp=xmp, **exif.fields(tags))
    meta.exif = exif.tags_to_blob(exif.photo_tags(tags)) if tags else None
    return meta
