"""JPEG artefact removal: blocking, ringing and chroma smear, with a small quality-conditioned net.

The net (:mod:`app.core.nets.dejpeg`, model ``dejpeg_fast``) was trained here on permissive photos
compressed at quality 10-60 (sometimes twice, with 4:2:0 / 4:2:2 / 4:4:4 chroma) and told the quality;
its last input channel is the quality / 100. ``quality`` 0 (Auto) reads it from the file's quantisation
table when the photo is a JPEG; for other files (a PNG saved from a JPEG, a screenshot) set it by hand or
let Auto estimate it from the blocking. ``strength`` blends the result with the input. While the model
has no verified weights the op is unavailable with the registry's reason; it never fakes a result.

The net works on JPEG's 8x8 block grid, which starts at the *stored* image's origin: a JPEG shown rotated
by its EXIF orientation is turned back to the stored layout for the net and upright again after; for other
files the grid is found from the blocking itself (:func:`grid_padding`) and the image padded to put it at
the origin. The model's tiles stay on the grid (its descriptor's ``size_multiple`` is 16), and so do the
1:1 detail crops of the preview (:func:`app.core.workflow.preview.detail_source`).

On a photo decoded from a JPEG file, the net's result is then projected back into the quantisation cells of
the file's DCT coefficients (:mod:`app.core.ops.dejpeg_qcs`; tables and subsampling recorded by the loader
in ``meta.extra["jpeg_tables"]``): the result stays an image that encodes to the same file. Only pixels
that read as the file's own decoding on its grid are projected; a downscaled preview, a crop off the grid
or an image edited by an earlier step is not, and gets its grid from the blocking like any other file.
Files without tables are not projected at all (an estimated quality is too coarse to place the cells).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.io.exif import orient, unorient
from app.core.ops.base import Op, param
from app.core.ops.chunks import blend_to_array

MODEL_ID = "dejpeg_fast"
#: Quality assumed when it is Auto and the file carries no JPEG tables (the middle of the trained range).
FALLBACK_QUALITY = 40
#: Blocking ratio (:func:`app.core.measure.estimators.jpeg_blockiness`) from which the grid phase it finds is
#: trusted: images without JPEG history read ~1.0-1.15, q50 ~1.4.
GRID_RATIO = 1.2


@dataclass(frozen=True)
class DejpegParams:
    VERSION = 2  # 2: a JPEG file's result is projected onto its quantisation cells (no new parameter)
    quality: int = param(0, label="JPEG quality", min=0, max=100, step=1,
                         help="the quality the photo was saved at; 0 = Auto: read from the JPEG file "
                              f"(quality {FALLBACK_QUALITY} assumed for other files). Lower = stronger cleanup")
    strength: float = param(1.0, label="Strength", min=0.0, max=1.0, step=0.05,
                            help="0 = the input, 1 = the network's result; in between blends the two")


def _jpeg_source(image: Image) -> str | None:
    meta = image.meta
    path = getattr(meta, "source_path", None)
    if not path or getattr(meta, "format", "") not in ("jpeg", "jpg", ""):
        return None
    return path


def source_tables(image: Image):
    """What the JPEG ``image`` was decoded from stored (:class:`app.core.io.jpeg_tables.JpegTables`), or None.

    The loader records it in ``meta.extra["jpeg_tables"]`` (so does a bench that compressed the pixels
    itself); an image without the record but with a JPEG source path reads it from the file.
    """
    from app.core.io.jpeg_tables import JpegTables, jpeg_tables_from_file

    record = image.meta.extra.get("jpeg_tables") if image.meta is not None else None
    if record is not None:
        return JpegTables.from_meta(record)
    path = _jpeg_source(image)
    return None if path is None else jpeg_tables_from_file(path)


def source_quality(image: Image) -> float | None:
    """The quality of the luminance table of the JPEG ``image`` was decoded from, or None."""
    tables = source_tables(image)
    if tables is not None:
        return tables.quality
    path = _jpeg_source(image)  # a JPEG whose tables are not projected (CMYK): its quality still counts
    if path is None:
        return None
    from app.core.io.jpeg_tables import jpeg_quality_from_file

    return jpeg_quality_from_file(path)


def grid_padding(data: np.ndarray) -> tuple[int, int]:
    """Rows and columns to add at the top / left so the JPEG grid seen in ``data`` starts at the origin.

    ``(0, 0)`` unless the 8x8 blocking is clear (ratio >= :data:`GRID_RATIO`): without visible blocks the
    phase estimate is noise, and there is little for the net to do anyway.
    """
    from app.core.measure.estimators import jpeg_blockiness, luma

    ratio, (row, col) = jpeg_blockiness(luma(data))
    if ratio < GRID_RATIO:
        return 0, 0
    # A phase p puts block edges between pixels p and p + 1: blocks start at p + 1 (mod 8).
    return (7 - row) % 8, (7 - col) % 8


def dejpeg_array(model, data: np.ndarray, quality: float, strength: float, ctx: RunContext,
                 pad: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Clean an ``(H, W, 1|3)`` float32 sRGB array with a loaded ``dejpeg`` net (no registry checks).

    ``pad`` rows / columns are replicated at the top / left first (to put the JPEG grid at the origin) and
    cropped off the result.
    """
    import torch

    rgb = data if data.shape[2] == 3 else np.repeat(data, 3, axis=2)
    top, left = pad
    if top or left:
        rgb = np.pad(rgb, ((top, 0), (left, 0), (0, 0)), mode="edge")
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    q = torch.full((1, 1, *x.shape[2:]), float(np.clip(quality, 1, 100)) / 100.0)
    out = model.run_tensor(torch.cat([x, q], dim=1), ctx)  # tiles: the descriptor's CPU policy, on the grid
    return blend_to_array(out[..., top:, left:], x[..., top:, left:], strength, data.shape[2])


def _projected(model, data: np.ndarray, quality: float, strength: float, ctx: RunContext, tables) -> np.ndarray:
    """:func:`dejpeg_array` on the file's own grid, projected onto its tables, then blended by ``strength``
    (a blend of two images in the cells stays in them)."""
    from app.core.ops.dejpeg_qcs import project

    restored = project(dejpeg_array(model, data, quality, 1.0, ctx), data, tables)
    if strength == 1.0:
        return restored
    return (data + np.float32(strength) * (restored - data)).astype(np.float32)


class DejpegOp(Op):
    id = "dejpeg"
    label = "JPEG artefacts"
    description = "Removes JPEG blocking, ringing and colour smear (small net trained here, quality-aware)."
    Params = DejpegParams
    cost_s_per_mp = 1.0  # 96-ch block-grid net, ~13 kMAC per pixel, one CPU thread (bench/dejpeg.py s/MP column)

    def model_ids(self, params: DejpegParams) -> list[str]:
        return [MODEL_ID]

    def run(self, image: Image, params: DejpegParams, ctx: RunContext) -> Image:
        from app.core.models.registry import ModelUnavailableError, load_model, model_state

        state = model_state(MODEL_ID)
        if not state.ok:
            raise ModelUnavailableError(MODEL_ID, state.name, state.message)
        if image.space is not ColorSpace.SRGB or image.channels not in (1, 3):
            raise ValueError(f"JPEG artefact removal needs an sRGB grey or colour image, got "
                             f"{image.space.value} with {image.channels} channel(s)")
        file_quality = source_quality(image)
        quality_from_file = file_quality is not None  # decoded from a JPEG: its grid is known exactly
        tables = source_tables(image)
        quality = float(params.quality) if params.quality > 0 else file_quality
        if quality is None:
            quality = float(FALLBACK_QUALITY)
            ctx.warn(f"no JPEG quality in the file: quality {FALLBACK_QUALITY} assumed (set it on the card)")
        model = load_model(MODEL_ID, ctx.device, ctx=ctx)
        data = image.data.astype(np.float32, copy=False)
        orientation = int(getattr(image.meta, "orientation", 1) or 1)
        if quality_from_file:
            from app.core.ops.dejpeg_qcs import consistent

            # The decoder turned the pixels upright; the file's grid is at the stored layout's origin.
            flip = orientation != 1
            stored = np.ascontiguousarray(unorient(data, orientation)) if flip else data
            if tables is not None and consistent(stored, tables):  # the file's own pixels: project
                out = _projected(model, stored, quality, params.strength, ctx, tables)
            elif flip:
                out = dejpeg_array(model, stored, quality, params.strength, ctx)
            else:  # edited, cropped or resized since the decode: the grid is found from the blocking
                out = dejpeg_array(model, data, quality, params.strength, ctx, grid_padding(data))
            return image.with_data(np.ascontiguousarray(orient(out, orientation)) if flip else out)
        return image.with_data(dejpeg_array(model, data, quality, params.strength, ctx, grid_padding(data)))
