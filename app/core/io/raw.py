"""RAW decode via rawpy/LibRaw: the Bayer mosaic normalised to RGGB and [0, 1], plus what develops it.

Normalisation: the visible area (LibRaw's margins removed) is offset by ``crop_offset = (dy, dx)`` so
its top-left 2x2 cell reads R G / G B, then trimmed to even height and width. Each of the four cell
positions gets its own black level: ``(raw - black) / (white - black)``, clipped to [0, 1].
``RawInfo.black_level`` is in RGGB *position* order (R, G1, G2, B) like ``app.core.isp.mosaic``'s
packed planes; ``camera_wb`` keeps LibRaw's (R, G, B, G2) order, normalised to G = 1.

Non-Bayer RAWs: a *linear DNG* (already demosaiced) and an *RGB scan* in a RAW container (Nikon
film-scanner NEF) hold no mosaic. ``raw_as="bayer"`` rejects them with :class:`NotBayerError`;
``raw_as="srgb"``/``"auto"`` opens them as developed sRGB images (see :mod:`app.core.io.develop`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import rawpy

from app.core.image import ColorSpace, Image, Metadata, RawInfo
from app.core.io import exif
from app.core.io.errors import DecodeError, ImageIOError, NotBayerError, UnsupportedFormatError, describe
from app.core.io.formats import read_bytes

_EXIF_NAMES = {"iso": "ISOSpeedRatings", "exposure_time": "ExposureTime", "f_number": "FNumber",
               "focal_length": "FocalLength"}  # fmt: skip
_CELL_OFFSET = {"RGGB": (0, 0), "GRBG": (0, 1), "GBRG": (1, 0), "BGGR": (1, 1)}


@contextlib.contextmanager
def libraw_errors(path: Path) -> Iterator[None]:
    """Turn LibRaw's errors inside the block into one-line :class:`ImageIOError` messages."""
    try:
        yield
    except rawpy.LibRawFileUnsupportedError:
        what = "GoPro GPR (VC-5 compressed DNG)" if path.suffix.lower() == ".gpr" else "this file"
        raise UnsupportedFormatError(
            path, f"{what} is not supported by LibRaw (unknown RAW variant, or a damaged header)"
        ) from None
    except rawpy.LibRawIOError as exc:
        raise DecodeError(path, f"truncated or unreadable RAW file (LibRaw: {_msg(exc)})") from None
    except (rawpy.LibRawDataError, rawpy.LibRawTooBigError) as exc:
        raise DecodeError(path, f"corrupt RAW data (LibRaw: {_msg(exc)})") from None
    except rawpy.LibRawError as exc:
        raise DecodeError(path, f"cannot decode RAW file (LibRaw: {_msg(exc)})") from None
    except MemoryError:
        raise DecodeError(path, "not enough memory to decode the RAW file") from None


@contextlib.contextmanager
def open_raw(path: Path, *, unpack: bool = True) -> Iterator[rawpy.RawPy]:
    """Open with LibRaw (``unpack=False``: header only; call :func:`unpack` later), errors as one line."""
    raw = rawpy.RawPy()
    try:
        with libraw_errors(path):
            raw.open_file(str(path))
            if unpack:
                raw.unpack()
        yield raw
    finally:
        raw.close()


def unpack(path: Path, raw: rawpy.RawPy) -> None:
    """Read the sensor data of a RAW opened with ``unpack=False``."""
    with libraw_errors(path):
        raw.unpack()


def _msg(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else exc
    return (arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)).strip()


def read_raw_tags(path: Path) -> dict[str, str]:
    """All EXIF tags exiv2 finds in the RAW file (its DNG/TIFF-EP/MakerNote groups included)."""
    tags, _, _ = exif.read_container(read_bytes(path))
    return tags


def noise_profile(tags: dict[str, str]) -> tuple[tuple[float, float], ...] | None:
    """DNG NoiseProfile (tag 51041) as ``((S, O), ...)``: one pair per colour plane, or one for all."""
    for key in ("Exif.Image.NoiseProfile", *sorted(k for k in tags if k.endswith(".NoiseProfile"))):
        if key in tags:
            try:
                vals = [float(v) for v in tags[key].split()]
            except ValueError:
                continue
            if vals and len(vals) % 2 == 0:
                return tuple((vals[i], vals[i + 1]) for i in range(0, len(vals), 2))
    return None


def non_bayer_reason(raw: rawpy.RawPy, tags: dict[str, str], path: Path) -> str | None:
    """Why this RAW holds no 2x2 RGB Bayer mosaic, or None when it does."""
    if raw.raw_type != rawpy.RawType.Flat:
        if "Exif.Image.DNGVersion" in tags or path.suffix.lower() == ".dng":
            return "linear DNG: already demosaiced, not a Bayer mosaic"
        if not has_colour_data(raw):
            return "RGB scan (film-scanner style) in a RAW container, not a camera Bayer mosaic"
        return f"{raw.raw_image.shape[-1]}-channel RAW data, not a Bayer mosaic"
    pattern = raw.raw_pattern
    if pattern is None or pattern.shape != (2, 2):
        shape = "x".join(map(str, pattern.shape)) if pattern is not None else "unknown"
        return f"{shape} colour filter array (e.g. Fujifilm X-Trans), not a 2x2 Bayer mosaic"
    desc = raw.color_desc.decode(errors="replace")
    if raw.num_colors != 3 or sorted(set(desc)) != ["B", "G", "R"]:
        return f"{desc} colour filter array, not an RGB Bayer mosaic"
    return None


def has_colour_data(raw: rawpy.RawPy) -> bool:
    """Whether LibRaw has a camera colour matrix (without one its development is meaningless)."""
    return bool(np.any(raw.rgb_xyz_matrix[:3]) or np.any(raw.color_matrix[:, :3]))


def cfa_layout(raw: rawpy.RawPy) -> tuple[str, tuple[int, int]]:
    """The CFA as read at the visible origin (e.g. "GRBG") and the (dy, dx) offset that makes it RGGB."""
    s = raw.sizes
    desc = raw.color_desc.decode()
    cfa = "".join(desc[raw.raw_color(s.top_margin + i, s.left_margin + j)] for i in (0, 1) for j in (0, 1))
    if cfa not in _CELL_OFFSET:
        raise UnsupportedFormatError(None, f"unexpected Bayer layout {cfa}")
    return cfa, _CELL_OFFSET[cfa]


def normalise_mosaic(mosaic: np.ndarray, offset: tuple[int, int], black: tuple[float, float, float, float],
                     white: float) -> np.ndarray:  # fmt: skip
    """Sensor values -> float32 RGGB mosaic in [0, 1], offset applied and trimmed to even size.

    Args:
        mosaic: ``(H, W)`` sensor values (the visible area).
        offset: (dy, dx) rows/columns dropped at the top/left so the first cell is R G / G B.
        black: black level of the four cell positions *after* the offset (R, G1, G2, B).
        white: white level (saturation) in sensor units.
    """
    dy, dx = offset
    h = (mosaic.shape[0] - dy) // 2 * 2
    w = (mosaic.shape[1] - dx) // 2 * 2
    src = mosaic[dy : dy + h, dx : dx + w]
    out = np.empty((h, w), np.float32)
    for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        plane = out[i::2, j::2]
        np.subtract(src[i::2, j::2], np.float32(black[k]), out=plane, dtype=np.float32)
        plane *= np.float32(1.0 / max(white - black[k], 1.0))
        np.clip(plane, 0.0, 1.0, out=plane)
    return out


def raw_metadata(
    path: Path, raw: rawpy.RawPy, tags: dict[str, str], *, libraw_fallback: bool = True
) -> Metadata:
    """Metadata of a RAW: EXIF via pyexiv2, plus LibRaw's own shooting data where the EXIF lacks it
    (``libraw_fallback``; rawpy unpacks the whole RAW to answer, so metadata-only reads skip it)."""
    f = exif.fields(tags)
    # Only where the EXIF lacks the tag: a tag saying 0 means unknown (LibRaw then reports defaults).
    missing = [
        n for n, tag in _EXIF_NAMES.items() if f[n] is None and not any(k.endswith("." + tag) for k in tags)
    ]
    if libraw_fallback and (missing or not f["datetime"] or not f["lens"]):
        other = raw.other  # rawpy unpacks the whole RAW for this (~0.5 s for 8 MP): only when needed
        shutter = other.shutter_speed if other.shutter_speed < 3600 else 0
        found = {"iso": other.iso_speed, "exposure_time": shutter, "f_number": other.aperture,
                 "focal_length": other.focal_length}  # fmt: skip
        for name in missing:
            if found[name] > 0:
                f[name] = float(found[name])
        if not f["datetime"] and other.timestamp.year > 1970:
            f["datetime"] = other.timestamp.strftime("%Y:%m:%d %H:%M:%S")
        f["lens"] = f["lens"] or raw.lens.model
    f["orientation"] = exif.libraw_flip_to_orientation(raw.sizes.flip)
    meta = Metadata(source_path=str(path), format=f"raw:{path.suffix.lstrip('.').upper()}", **f)
    # LibRaw's shooting data fills tags the EXIF lacks (e.g. ISO of TIFF-EP era cameras), so exports carry it.
    merged = exif.tags_from_fields(meta)
    merged.update(exif.photo_tags(tags))
    meta.exif = exif.tags_to_blob(merged)
    meta.bit_depth = 16  # decode_bayer() sets the sensor's; white_level would force an unpack here
    return meta


def decode_bayer(path: Path, raw: rawpy.RawPy, tags: dict[str, str]) -> Image:
    """The normalised RGGB mosaic of an unpacked Bayer RAW (see the module docstring)."""
    reason = non_bayer_reason(raw, tags, path)
    if reason:
        raise NotBayerError(path, f"{reason}; it can only be opened as a developed image")
    try:
        cfa, (dy, dx) = cfa_layout(raw)
    except ImageIOError as exc:
        raise UnsupportedFormatError(path, exc.reason) from None
    s = raw.sizes
    desc = raw.color_desc.decode()
    blpc = raw.black_level_per_channel
    # Black level per cell position after the offset, looked up through the CFA colour index.
    black = tuple(float(blpc[raw.raw_color(s.top_margin + dy + i, s.left_margin + dx + j)])
                  for i in (0, 1) for j in (0, 1))  # fmt: skip
    white = float(raw.white_level)
    mosaic = normalise_mosaic(raw.raw_image_visible, (dy, dx), black, white)  # type: ignore[arg-type]
    if mosaic.shape[0] < 2 or mosaic.shape[1] < 2:
        raise DecodeError(path, "RAW image too small")
    wb = [float(v) for v in raw.camera_whitebalance]
    g = wb[1] if wb[1] > 0 else 1.0
    wb = [v / g for v in wb]
    if wb[3] <= 0:
        wb[3] = wb[1]
    rgb_xyz = np.array(raw.rgb_xyz_matrix[:3], np.float32)
    cmatrix = np.array(raw.color_matrix, np.float32)
    matrix, kind = (rgb_xyz, "xyz_to_camera") if rgb_xyz.any() else (cmatrix, "camera_to_srgb")
    info = RawInfo(
        path=str(path.resolve()),
        cfa_pattern=cfa,
        crop_offset=(dy, dx),
        black_level=black,  # type: ignore[arg-type]
        white_level=white,
        camera_wb=tuple(wb),  # type: ignore[arg-type]
        color_matrix=matrix if matrix.any() else None,
        noise_profile=noise_profile(tags),
        sensor_size=tuple(raw.raw_image.shape[:2]),  # type: ignore[arg-type]
        extra={
            "color_matrix_kind": kind if matrix.any() else None,
            "rgb_xyz_matrix": rgb_xyz,
            "libraw_color_matrix": cmatrix,
            "daylight_wb": tuple(float(v) for v in raw.daylight_whitebalance),
            "color_desc": desc,
            "visible_origin": (s.top_margin, s.left_margin),
            "visible_size": (s.height, s.width),
            "mosaic_size": mosaic.shape,
            "flip": int(s.flip),
            "default_crop": (s.crop_top_margin, s.crop_left_margin, s.crop_height, s.crop_width),
        },
    )
    meta = raw_metadata(path, raw, tags)
    meta.bit_depth = max(8, math.ceil(math.log2(white + 1))) if white > 0 else 16
    meta.extra["full_size"] = (s.height, s.width) if meta.orientation < 5 else (s.width, s.height)
    return Image(mosaic[:, :, None], ColorSpace.BAYER, meta, info)


# -- LibRaw development settings (used by io.develop and io.develop_reduced) ------------------------

DEVELOP_SETTINGS = {
    "demosaic_algorithm": rawpy.DemosaicAlgorithm.AHD,
    "use_camera_wb": True,
    "output_color": rawpy.ColorSpace.sRGB,
    "gamma": (2.4, 12.92),
    "output_bps": 16,
    "highlight_mode": rawpy.HighlightMode.Clip,
}
CHUNK_ROWS = 512


def postprocess(raw: rawpy.RawPy, *, half_size: bool = False, auto_bright: bool = True) -> np.ndarray:
    """LibRaw development of what is in ``raw``'s buffer -> float32 ``(H, W, 3)`` sRGB in [0, 1]."""
    try:
        rgb16 = raw.postprocess(**DEVELOP_SETTINGS, half_size=half_size, no_auto_bright=not auto_bright)
    except rawpy.LibRawError as exc:
        raise ImageIOError(None, f"LibRaw could not develop the image ({describe(exc)})") from None
    out = np.empty(rgb16.shape, np.float32)
    for r0 in range(0, rgb16.shape[0], CHUNK_ROWS):
        np.multiply(rgb16[r0 : r0 + CHUNK_ROWS], np.float32(1 / 65535), out=out[r0 : r0 + CHUNK_ROWS])
    return out
