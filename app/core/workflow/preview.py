"""What the interactive preview and the 1:1 detail view render from: the same domain as the export.

A RAW's preview source is a *reduced mosaic*: each CFA plane binned (area-averaged) to the preview
scale, so the result is still an RGGB mosaic and the RAW ops (RAW denoise) run on it exactly as the
export runs them on the full mosaic; the development after them is LibRaw's colour measured on the file
(:mod:`app.core.io.develop_reduced`). A 1:1 detail is a crop of the full mosaic developed the same way.
Other images are area-downscaled sRGB.

Binning by an area factor ``a`` divides the noise variance by ``a``; the reduced image records ``a`` as
``raw.extra["binning"]`` so the noise level the RAW denoiser is told (from a DNG profile or a camera
calibration, which describe the full-size sensor) is divided by it too.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.core.color import pack_rggb, unpack_rggb
from app.core.image import ColorSpace, Image
from app.core.io.develop_reduced import fit_colour, with_colour

#: where the fit is cached on the full image (not COLOUR_KEY: that marks an image as reduced).
_FIT_KEY = "colour_fit"


def fit_development(image: Image, developed: Image | None = None) -> None:
    """Measure the file's colour development for its previews now (from ``developed``, LibRaw's full-size
    development, when the caller has it: more faithful than the half-size development used otherwise)."""
    if image.space is ColorSpace.BAYER and image.raw is not None:
        image.raw.extra[_FIT_KEY] = fit_colour(image, developed)


def _colour(image: Image) -> dict:
    """The file's fitted colour development, measured once per loaded image (cached on its RawInfo)."""
    colour = image.raw.extra.get(_FIT_KEY)
    if colour is None:
        colour = fit_colour(image)
        image.raw.extra[_FIT_KEY] = colour  # same file, same numbers: safe to share between copies
    return colour


def downscale(image: Image, max_side: int) -> Image:
    """An area-averaged copy whose long side is at most ``max_side`` (the image itself if smaller)."""
    h, w = image.height, image.width
    s = max_side / max(h, w)
    if s >= 1.0:
        return image
    size = (max(1, round(w * s)), max(1, round(h * s)))
    data = cv2.resize(image.data, size, interpolation=cv2.INTER_AREA)
    return image.with_data(np.ascontiguousarray(data.reshape(size[1], size[0], -1)))


def _bin_planes(packed: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Area-bin each of the four planes to ``(ph, pw)`` so every sample sits where its site is.

    A plain resize would put the binned R, G1, G2 and B samples on the corners of each reduced cell as if
    they came from there, shifting the colour planes against each other by up to a preview pixel. Each
    plane is first shifted by the sub-pixel offset between its site in the full mosaic and its site in
    the reduced one: ``(phase - 1/2) (1/s - 1) / 2`` plane pixels, with ``s`` the reduction per axis.
    """
    h2, w2 = packed.shape[:2]
    sy, sx = ph / h2, pw / w2
    out = np.empty((ph, pw, 4), np.float32)
    for c, (pi, pj) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        dy, dx = (pi - 0.5) * (1 / sy - 1) / 2, (pj - 0.5) * (1 / sx - 1) / 2
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        plane = cv2.warpAffine(np.ascontiguousarray(packed[..., c]), shift, (w2, h2),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        out[..., c] = cv2.resize(plane, (pw, ph), interpolation=cv2.INTER_AREA)
    return out


#: a RAW preview's mosaic is this many times the preview's size (see app.core.io.develop_reduced).
OVERSAMPLE = 1.5


def preview_source(image: Image, max_side: int) -> Image:
    """The image the preview renders from; its rendering has a long side of at most ``max_side``.

    Args:
        image: the full-resolution image as opened (:func:`app.core.workflow.open_photo`).
        max_side: long side of the rendered preview in pixels.

    Returns:
        sRGB: the area-downscaled image. RAW: a reduced RGGB mosaic (sensor orientation) of
        :data:`OVERSAMPLE` times that size, which the pipeline's development averages down.
    """
    if image.space is not ColorSpace.BAYER or image.raw is None:
        return downscale(image, max_side)
    h, w = image.height, image.width
    s = OVERSAMPLE * max_side / max(h, w)
    if s >= 1.0:  # small enough already: the preview *is* the export's input, developed by LibRaw
        return image
    colour = _colour(image)
    ph, pw = max(1, round(h / 2 * s)), max(1, round(w / 2 * s))
    packed = pack_rggb(image.data)
    if (ph, pw) != packed.shape[:2]:
        packed = _bin_planes(packed, ph, pw)
    binning = (h * w) / (4.0 * ph * pw)
    over = max(1.0, 2.0 * max(ph, pw) / max_side)
    return with_colour(image, unpack_rggb(np.ascontiguousarray(packed)), colour, binning=binning, oversample=over)


def sensor_rect(image: Image, rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A display-space rectangle ``(x0, y0, x1, y1)`` of the developed photo -> the mosaic's, RGGB-aligned."""
    hs, ws = image.height, image.width
    x0, y0, x1, y1 = rect
    o = image.meta.orientation if image.meta else 1
    if o == 3:
        r0, r1, c0, c1 = hs - y1, hs - y0, ws - x1, ws - x0
    elif o == 6:
        r0, r1, c0, c1 = hs - x1, hs - x0, y0, y1
    elif o == 8:
        r0, r1, c0, c1 = x0, x1, ws - y1, ws - y0
    else:
        r0, r1, c0, c1 = y0, y1, x0, x1
    r0, c0 = max(0, r0) // 2 * 2, max(0, c0) // 2 * 2
    r1, c1 = min(hs, (r1 + 1) // 2 * 2), min(ws, (c1 + 1) // 2 * 2)
    return r0, r1, c0, c1


#: Edge of a JPEG file's coding grid: 8x8 blocks, 16x16 for 4:2:0 chroma.
JPEG_GRID = 16


def _on_jpeg_grid(image: Image, rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``rect`` grown so that, in the file's stored layout, the crop starts on the JPEG grid.

    The grid starts at the stored image's origin; along a display axis that runs against the stored one
    (EXIF orientations 2, 3, 6, 7 for x; 3, 4, 7, 8 for y) that origin is the rect's far end. The
    ``dejpeg`` op then sees the blocks where the whole photo has them; other ops just get a few pixels more.
    """
    x0, y0, x1, y1 = rect
    h, w, g = image.height, image.width, JPEG_GRID
    o = image.meta.orientation if image.meta else 1
    if o in (2, 3, 6, 7):
        x1 = w - (w - x1) // g * g
    else:
        x0 = x0 // g * g
    if o in (3, 4, 7, 8):
        y1 = h - (h - y1) // g * g
    else:
        y0 = y0 // g * g
    return x0, y0, x1, y1


def detail_source(image: Image, rect: tuple[int, int, int, int]) -> tuple[Image, tuple[int, int]]:
    """The full-resolution region ``rect`` (display coordinates) to render at 1:1, and its display origin.

    A RAW gives a crop of the mosaic (developed like the preview); other images a crop of the pixels that
    starts on the file's JPEG grid (:func:`_on_jpeg_grid`: up to 15 px more than ``rect``).
    """
    if image.space is not ColorSpace.BAYER or image.raw is None:
        x0, y0, x1, y1 = _on_jpeg_grid(image, rect)
        return image.with_data(image.data[y0:y1, x0:x1]), (x0, y0)
    r0, r1, c0, c1 = sensor_rect(image, rect)
    crop = with_colour(image, np.ascontiguousarray(image.data[r0:r1, c0:c1]), _colour(image), binning=1.0,
                       oversample=1.0)
    hs, ws = image.height, image.width
    o = image.meta.orientation if image.meta else 1
    origin = {3: (ws - c1, hs - r1), 6: (hs - r1, c0), 8: (r0, ws - c1)}.get(o, (c0, r0))
    return crop, origin


def starts_on_mosaic(image: Image, steps) -> bool:
    """Whether ``steps`` run their first op on ``image``'s mosaic (a RAW, and a RAW-domain op first).

    Only then does a preview need the reduced mosaic (:func:`preview_source`) or a 1:1 detail a crop of
    the mosaic: any other recipe starts, in the export, from the RAW's full-size development, so the
    preview starts from that development scaled down (and a detail from a crop of it). With no op, the
    preview then *is* the development the Before side shows; the reduced mosaic's own development is
    smoother (on the Canon 30D CR2 at 1200 px: noise 0.59 vs 1.76/255, NIQE 5.3 vs 3.7, issue 20).
    """
    if image.space is not ColorSpace.BAYER:
        return False
    first = next((s for s in steps if getattr(s, "enabled", True)), None)
    if first is None or first.op_id == "develop":
        return False
    from app.core.ops.registry import get_op

    return ColorSpace.BAYER in get_op(first.op_id).accepts


def binning(image: Image) -> float:
    """How many sensor samples each sample of this (reduced) mosaic averages (1 for full resolution)."""
    return float(image.raw.extra.get("binning", 1.0)) if image.raw is not None else 1.0


__all__ = ["binning", "detail_source", "fit_development", "preview_source", "sensor_rect", "starts_on_mosaic"]
