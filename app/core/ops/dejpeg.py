"""JPEG artefact removal: blocking, ringing and chroma smear, with a small quality-conditioned net.

The net (:mod:`app.core.nets.dejpeg`, model ``dejpeg_fast``) was trained here on permissive photos
compressed at quality 10-60 (sometimes twice, with 4:2:0 / 4:2:2 / 4:4:4 chroma) and told the quality;
its last input channel is the quality / 100. ``quality`` 0 (Auto) reads it from the file's quantisation
table when the photo is a JPEG; for other files (a PNG saved from a JPEG, a screenshot) set it by hand or
let Auto estimate it from the blocking. ``strength`` blends the result with the input. While the model
has no verified weights the op is unavailable with the registry's reason; it never fakes a result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.ops.base import Op, param
from app.core.ops.chunks import blend_to_array

MODEL_ID = "dejpeg_fast"
#: Quality assumed when it is Auto and the file carries no JPEG tables (the middle of the trained range).
FALLBACK_QUALITY = 40


@dataclass(frozen=True)
class DejpegParams:
    VERSION = 1
    quality: int = param(0, label="JPEG quality", min=0, max=100, step=1,
                         help="the quality the photo was saved at; 0 = Auto: read from the JPEG file "
                              f"(quality {FALLBACK_QUALITY} assumed for other files). Lower = stronger cleanup")
    strength: float = param(1.0, label="Strength", min=0.0, max=1.0, step=0.05,
                            help="0 = the input, 1 = the network's result; in between blends the two")


def source_quality(image: Image) -> float | None:
    """The quality in the quantisation table of the JPEG ``image`` was decoded from, or None."""
    meta = image.meta
    path = getattr(meta, "source_path", None)
    if not path or getattr(meta, "format", "") not in ("jpeg", "jpg", ""):
        return None
    from app.core.io.jpeg_tables import jpeg_quality_from_file

    return jpeg_quality_from_file(path)


def dejpeg_array(model, data: np.ndarray, quality: float, strength: float, ctx: RunContext) -> np.ndarray:
    """Clean an ``(H, W, 1|3)`` float32 sRGB array with a loaded ``dejpeg`` net (no registry checks)."""
    import torch

    rgb = data if data.shape[2] == 3 else np.repeat(data, 3, axis=2)
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    q = torch.full((1, 1, *x.shape[2:]), float(np.clip(quality, 1, 100)) / 100.0)
    out = model.run_tensor(torch.cat([x, q], dim=1), ctx)  # tiles: the descriptor's CPU policy
    return blend_to_array(out, x, strength, data.shape[2])


class DejpegOp(Op):
    id = "dejpeg"
    label = "JPEG artefacts"
    description = "Removes JPEG blocking, ringing and colour smear (small net trained here, quality-aware)."
    Params = DejpegParams
    cost_s_per_mp = 1.0  # 32-ch x 8-layer net at half resolution, one CPU thread (bench/quality.py timings)

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
        quality = float(params.quality) if params.quality > 0 else source_quality(image)
        if quality is None:
            quality = float(FALLBACK_QUALITY)
            ctx.warn(f"no JPEG quality in the file: quality {FALLBACK_QUALITY} assumed (set it on the card)")
        model = load_model(MODEL_ID, ctx.device, ctx=ctx)
        out = dejpeg_array(model, image.data.astype(np.float32, copy=False), quality, params.strength, ctx)
        return image.with_data(out)
