"""Development of a *reduced* (binned) or cropped RAW mosaic, matched to LibRaw's development of the file.

LibRaw can only develop the full sensor (:func:`app.core.io.develop.develop` writes the mosaic back into
its buffer), so the preview's reduced mosaic and the 1:1 detail crop are developed here instead, with
LibRaw's colour measured on the file itself: :func:`fit_colour` develops the unmodified RAW once at half
size and fits the 3x3 matrix that takes white-balanced, highlight-clipped camera RGB to LibRaw's linear
output (that absorbs the camera matrix, the white-balance normalisation and LibRaw's auto brightness,
all linear). :func:`develop_reduced` then does what LibRaw does: white balance, clip, matrix, clip, the
sRGB curve, the file's orientation, with Malvar-He-Cutler demosaicking instead of AHD. A preview's
mosaic is reduced to ``oversample`` (1.5) times the preview size and averaged down after development:
demosaicking at exactly the preview size aliases (measured on the 30D CR2 at 900 px: 34.3 dB against the
export scaled down; 37.8 dB oversampled). The preview-equals-export
test (``tests/core/workflow``) measures how close this comes on every real RAW we have.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from app.core.color import linear_to_srgb, pack_rggb, srgb_to_linear
from app.core.image import ColorSpace, Image
from app.core.io.exif import orient
from app.core.io.raw import open_raw, postprocess

#: RawInfo.extra key holding the fitted colour of a reduced or cropped mosaic.
COLOUR_KEY = "reduced_colour"


def _unorient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Undo :func:`orient` for LibRaw's orientations (1, 3, 6, 8)."""
    return {3: lambda x: x[::-1, ::-1], 6: lambda x: np.rot90(x, 1), 8: lambda x: np.rot90(x, -1)}.get(
        orientation, lambda x: x)(a)


def _wb(image: Image) -> np.ndarray:
    """LibRaw's white-balance multipliers for R, G, B, normalised so the smallest is 1 (highlight clip mode)."""
    wb = np.asarray(image.raw.camera_wb[:3], np.float64)
    if not np.all(wb > 0):
        wb = np.ones(3)
    return (wb / wb.min()).astype(np.float32)


def _camera_rgb(packed: np.ndarray) -> np.ndarray:
    """``(h, w, 4)`` R, G1, G2, B planes -> ``(h, w, 3)`` camera RGB (greens averaged)."""
    return np.stack([packed[..., 0], 0.5 * (packed[..., 1] + packed[..., 2]), packed[..., 3]], axis=-1)


def fit_colour(image: Image, developed: Image | None = None) -> dict:
    """LibRaw's colour development of ``image``'s RAW file, as ``{"matrix", "wb", "orientation"}``.

    Args:
        image: the full-resolution BAYER image as loaded (its file must still exist).
        developed: LibRaw's full-size development of it, when the caller has one (the GUI does, for
            display). Fitting on it, rather than on a half-size development, also catches LibRaw's auto
            brightness at full size, which differs slightly (the 766-px Kodak: 2.5 %).
    """
    orientation = image.meta.orientation if image.meta else 1
    h2, w2 = image.height // 2, image.width // 2
    if developed is not None:
        dy, dx = image.raw.crop_offset
        full = _unorient(developed.data, orientation)[dy:dy + image.height, dx:dx + image.width]
        half = cv2.resize(np.ascontiguousarray(full), (w2, h2), interpolation=cv2.INTER_AREA)
    else:
        with open_raw(Path(image.raw.path)) as raw:
            half = _unorient(postprocess(raw, half_size=True), orientation)
    lin = srgb_to_linear(np.ascontiguousarray(half))
    wb = _wb(image)
    cam = np.minimum(_camera_rgb(pack_rggb(image.data)) * wb, 1.0)
    h, w = min(lin.shape[0], cam.shape[0]), min(lin.shape[1], cam.shape[1])
    lin, cam = lin[:h, :w], cam[:h, :w]
    # Fit on 8x8 block means (robust to the half-cell offset between LibRaw's and our cells); blocks
    # that touch a clipped value are not linear and are left out.
    ok = ((lin.max(-1) < 0.98) & (cam.max(-1) < 0.98) & (lin.max(-1) > 0.002)).astype(np.float32)
    size = (max(1, w // 8), max(1, h // 8))
    small = [cv2.resize(np.ascontiguousarray(a), size, interpolation=cv2.INTER_AREA) for a in (lin, cam, ok)]
    keep = small[2] > 0.999
    if keep.sum() < 12:  # almost all clipped: use every block rather than nothing
        keep = np.ones_like(keep, bool)
    y, x = small[0][keep].astype(np.float64), small[1][keep].astype(np.float64)
    matrix, *_ = np.linalg.lstsq(x, y, rcond=None)
    return {"matrix": matrix.T.astype(np.float32), "wb": wb, "orientation": orientation}


def with_colour(image: Image, data: np.ndarray, colour: dict, **extra: object) -> Image:
    """A BAYER image holding the reduced/cropped mosaic ``data`` that :func:`develop_reduced` can develop."""
    raw = dataclasses.replace(image.raw, extra={**image.raw.extra, COLOUR_KEY: colour,
                                                "mosaic_size": data.shape[:2], **extra})
    return dataclasses.replace(image, data=data, raw=raw)


def develop_reduced(image: Image) -> Image:
    """Develop a mosaic made by :func:`with_colour` the way LibRaw develops the whole file.

    Returns:
        ``ColorSpace.SRGB`` float32, oriented, of the mosaic's size divided by ``raw.extra["oversample"]``.
    """
    from app.core.isp.mosaic import demosaic_np  # torch: only where a RAW preview is developed

    colour = image.raw.extra[COLOUR_KEY]
    cam = demosaic_np(image.data, "malvar")
    np.minimum(cam * colour["wb"], 1.0, out=cam)
    lin = cv2.transform(cam, colour["matrix"])
    np.clip(lin, 0.0, 1.0, out=lin)
    over = float(image.raw.extra.get("oversample", 1.0))
    if over > 1.0:  # demosaicking a reduced mosaic aliases; rendering it larger and averaging down does not
        h, w = lin.shape[:2]
        lin = cv2.resize(lin, (max(1, round(w / over)), max(1, round(h / over))), interpolation=cv2.INTER_AREA)
    out = np.ascontiguousarray(orient(linear_to_srgb(lin, out=lin), colour["orientation"]))
    meta = dataclasses.replace(image.meta, extra=dict(image.meta.extra))
    meta.bit_depth = 16
    return Image(out, ColorSpace.SRGB, meta, image.raw)
