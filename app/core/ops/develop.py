"""Development of a RAW mosaic to sRGB: inserted by the pipeline, never chosen by the user."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.ops.base import Op


@dataclass(frozen=True)
class DevelopParams:
    pass


class DevelopOp(Op):
    id = "develop"
    label = "Develop RAW"
    description = "Demosaic, white balance and colour-convert a RAW mosaic to sRGB (LibRaw)."
    Params = DevelopParams
    accepts = frozenset({ColorSpace.BAYER, ColorSpace.SRGB})
    internal = True

    def run(self, image: Image, params: DevelopParams, ctx: RunContext) -> Image:
        if image.space is not ColorSpace.BAYER:
            return image
        from app.core.io import develop

        ctx.progress(0.0, "developing RAW")
        out = develop(image)
        ctx.progress(1.0, "developed")
        return out
