"""Public decode entry points: :func:`load_image`, :func:`load_preview`, :func:`read_metadata`.

Every failure a user can cause with a bad file surfaces as an :class:`ImageIOError` subclass with a
one-line message naming the file; an unexpected decoder exception is wrapped the same way (with the
original chained for logs) rather than escaping as a traceback.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import rawpy

from app.core.image import ColorSpace, Image, Metadata
from app.core.io import budget, exif, raster, raw
from app.core.io.develop import postprocess
from app.core.io.errors import DecodeError, ImageIOError, describe
from app.core.io.formats import check_path, detect, read_bytes
from app.core.io.quiet import quiet_native_stderr

PathLike = str | os.PathLike[str]
T = TypeVar("T")
RAW_AS = ("bayer", "srgb", "auto")


class _BadArgument(ValueError):
    """A caller's mistake (not the file's): raised as is."""


def _guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn anything but an :class:`ImageIOError` raised while decoding into a one-line DecodeError."""

    @functools.wraps(fn)
    def wrapper(path: PathLike, *args, **kwargs) -> T:  # noqa: ANN002, ANN003
        path = os.fspath(path)  # a wrong argument type is a TypeError for the caller, not a bad file
        try:
            with quiet_native_stderr():
                return fn(path, *args, **kwargs)
        except _BadArgument:
            raise
        except ImageIOError as exc:
            if exc.path is None:
                raise type(exc)(path, exc.reason) from None
            raise
        except MemoryError:
            raise DecodeError(path, "not enough memory to decode this image") from None
        except (rawpy.LibRawError, rawpy.LibRawFatalError) as exc:  # e.g. after open: thumbnail, metadata
            raise DecodeError(path, f"truncated or corrupt RAW data (LibRaw: {describe(exc)})") from None
        except RecursionError:
            raise DecodeError(path, "corrupt file (structures nested too deeply)") from None
        except Exception as exc:  # noqa: BLE001 - bad input must never escape as a traceback
            raise DecodeError(path, f"cannot decode ({type(exc).__name__}: {describe(exc)})") from exc

    return wrapper


@_guarded
def load_image(path: PathLike, *, raw_as: str = "bayer") -> Image:
    """Decode an image file for processing.

    Args:
        path: JPEG, PNG (8/16-bit), TIFF (8/16-bit), WebP, BMP, or any RAW LibRaw reads.
        raw_as: for RAW files: ``"bayer"`` returns the normalised RGGB mosaic (``ColorSpace.BAYER``;
            non-Bayer RAWs raise :class:`NotBayerError`); ``"srgb"`` returns it developed;
            ``"auto"`` returns the mosaic when there is one and a developed image otherwise.

    Returns:
        Rasters: ``ColorSpace.SRGB`` float32 ``(H, W, 3)`` in [0, 1], embedded ICC converted to sRGB
        (the original profile kept in ``meta.icc_profile``), EXIF orientation applied, alpha composited
        on white, ``meta.bit_depth`` 8 or 16. RAW mosaics keep the sensor's orientation (a mosaic cannot
        be rotated without changing its CFA): ``meta.orientation`` is applied by :func:`develop`.
        Notes about conversions made on the way are in ``meta.extra["notes"]``.

    Raises:
        DecodeError: missing/empty/truncated/corrupt file, folder, too many pixels.
        UnsupportedFormatError: a format or RAW variant we cannot read (NotBayerError: no mosaic).
        ValueError: unknown ``raw_as``.
    """
    if raw_as not in RAW_AS:
        raise _BadArgument(f"raw_as must be one of {RAW_AS}, not {raw_as!r}")
    p = check_path(path)
    kind = detect(p)
    if kind == "raw":
        return _load_raw(p, raw_as)
    return raster.decode_raster(p, read_bytes(p), kind)


def _load_raw(path: Path, raw_as: str) -> Image:
    tags = raw.read_raw_tags(path)
    with raw.open_raw(path, unpack=False) as rp:
        # Sensor samples (2 B) + LibRaw's 4-channel working image (8 B) + float mosaic (4 B) + float RGB.
        s = rp.sizes
        budget.check_fits(path, s.raw_width, s.raw_height, 2 + 8 + 4)
        raw.unpack(path, rp)
        reason = raw.non_bayer_reason(rp, tags, path)
        if raw_as == "bayer" or (raw_as == "auto" and reason is None):
            return raw.decode_bayer(path, rp, tags)
        info = None
        notes = [f"{reason}: opened as a developed image"] if reason else []
        bit_depth, engine = 16, "LibRaw"
        if reason is None:
            info = raw.decode_bayer(path, rp, tags).raw
            data = postprocess(rp)
        elif rp.raw_type != rawpy.RawType.Flat and not raw.has_colour_data(rp):
            data, bit_depth = _rendered_scan(path, rp, notes)
            engine = "rendered scan"
        else:
            data = postprocess(rp)
        meta = raw.raw_metadata(path, rp, tags)
    meta.bit_depth = bit_depth
    meta.extra["developed"] = {"engine": engine}
    meta.extra["full_size"] = data.shape[:2]
    if notes:
        meta.extra["notes"] = notes
    return Image(data, ColorSpace.SRGB, meta, info)


def _rendered_scan(path: Path, rp: rawpy.RawPy, notes: list[str]) -> tuple[np.ndarray, int]:
    """An RGB scan in a RAW container, as float sRGB plus its bit depth.

    Scans are already rendered (display-referred); LibRaw's levels for them are wrong (an 8-bit white
    level for samples it expanded to 16 bits), so its development blows them out. Take the samples as
    they are and apply the file's ICC profile instead.
    """
    rgb = rp.raw_image[:, :, :3]
    maxval = 65535 if int(rgb.max()) > rp.white_level else max(int(rp.white_level), 1)
    bit_depth = 8 if maxval == 65535 and not np.any(rgb % 257) else 16
    _, profile, _ = exif.read_container(read_bytes(path))
    orientation = exif.libraw_flip_to_orientation(rp.sizes.flip)
    dec = raster.Decoded(exif.orient(rgb, orientation), maxval, None, profile, notes)
    notes.append("RGB scan taken as rendered (display-referred) data")
    return raster.to_float_srgb(dec, notes), bit_depth


@_guarded
def load_preview(path: PathLike, max_side: int = 1600) -> Image:
    """A fast, downscaled sRGB look at ``path`` (longer side at most ``max_side``).

    RAW: the embedded preview JPEG/bitmap when it is large enough, else LibRaw's half-size development.
    JPEG: DCT-domain reduced decode. Others: full decode, then an area downscale of the integer pixels.
    ``meta.extra["preview"]`` is True and ``meta.extra["full_size"]`` the full image's (H, W).
    """
    if int(max_side) < 1:
        raise _BadArgument(f"max_side must be at least 1, got {max_side}")
    p = check_path(path)
    kind = detect(p)
    if kind != "raw":
        return raster.decode_raster(p, read_bytes(p), kind, max_side=max_side)
    tags = raw.read_raw_tags(p)
    with raw.open_raw(p, unpack=False) as rp:
        meta = raw.raw_metadata(p, rp, tags)
        s = rp.sizes
        full = (s.height, s.width) if meta.orientation < 5 else (s.width, s.height)
        data = _thumbnail(rp, meta.orientation, max_side, max(full))
    source = "embedded preview"
    if data is None:  # a fresh LibRaw handle: after a failed thumbnail call it refuses to unpack
        with raw.open_raw(p) as rp:
            if raw.non_bayer_reason(rp, tags, p) and not raw.has_colour_data(rp):
                data = _rendered_scan(p, rp, [])[0]
            else:
                data = postprocess(rp, half_size=True)
        source = "half-size development"
    if max(data.shape[:2]) > max_side:
        scale = max_side / max(data.shape[:2])
        size = (max(1, round(data.shape[1] * scale)), max(1, round(data.shape[0] * scale)))
        data = cv2.resize(data, size, interpolation=cv2.INTER_AREA)
    meta.extra.update(preview=True, preview_source=source, full_size=full)
    return Image(data, ColorSpace.SRGB, meta)


def _thumbnail(rp: rawpy.RawPy, orientation: int, max_side: int, full_side: int) -> np.ndarray | None:
    """The embedded preview as float sRGB, or None when missing or too small to stand in for the image."""
    try:
        thumb = rp.extract_thumb()
    except (rawpy.LibRawError, rawpy.LibRawFatalError):
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        buf = np.frombuffer(thumb.data, np.uint8)
        arr = cv2.imdecode(buf, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        arr = None if arr is None else arr[:, :, ::-1]
    else:
        arr = np.asarray(thumb.data)
        arr = arr if arr.ndim == 3 and arr.shape[2] == 3 else None
    if arr is None or max(arr.shape[:2]) < min(max_side, full_side) // 2:
        return None
    dec = raster.shrink(raster.Decoded(exif.orient(arr, orientation), 255.0), max_side)
    return raster.to_float_srgb(dec, [])


@_guarded
def read_metadata(path: PathLike) -> Metadata:
    """Metadata of ``path`` without decoding its pixels (``meta.extra["full_size"]`` = upright (H, W)).

    For RAW files only the EXIF is read: shooting data LibRaw alone knows (e.g. the ISO of some old
    cameras) needs the full decode and appears in :func:`load_image`'s metadata.
    """
    p = check_path(path)
    kind = detect(p)
    if kind == "raw":
        tags = raw.read_raw_tags(p)
        with raw.open_raw(p, unpack=False) as rp:
            meta = raw.raw_metadata(p, rp, tags, libraw_fallback=False)
            s = rp.sizes
            meta.extra["full_size"] = (s.height, s.width) if meta.orientation < 5 else (s.width, s.height)
            meta.extra["noise_profile"] = raw.noise_profile(tags)
        return meta
    data = read_bytes(p)
    w, h, _ = raster.header(p, data, kind)
    tags, profile, xmp = exif.read_container(data)
    meta = raster.make_metadata(p, kind, tags, profile, xmp)
    meta.extra["full_size"] = (h, w) if meta.orientation < 5 else (w, h)
    return meta
