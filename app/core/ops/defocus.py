"""Out-of-focus blur reduction: a parametric PSF (disk, lens-like ring, Gaussian) whose radius (and shape)
is fitted to the photo's power spectrum, globally or as a defocus map, undone by hyper-Laplacian deconvolution.

Where the estimated radius is small (in focus) the photo, or that part of it, is left alone; the radius,
and for the map its range, are recorded in ``meta.extra["defocus"]`` for the GUI card and the CLI.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.ops.base import Op, param

SHAPES = ("auto", "disk", "ring", "gauss")


@dataclass(frozen=True)
class DefocusParams:
    VERSION = 2
    shape: str = param("auto", label="Lens blur shape", choices=SHAPES,
                       help="auto: disk or ring, whichever fits the photo's spectrum; disk: ideal aperture; "
                            "ring: brighter rim (many real lenses); gauss: soft blur")
    radius: float = param(0.0, label="Radius (px)", min=0.0, max=30.0, step=0.1,
                          help="Blur radius; 0 = estimated from the edges")
    varying: bool = param(False, label="Focus varies across the frame",
                          help="Estimate a radius per region (defocus map); in-focus parts stay as they are")
    strength: float = param(1.0, label="Strength", min=0.0, max=1.0, step=0.05)
    smoothing: float = param(1.0, label="Smoothing", min=0.1, max=10.0, step=0.1,
                             help="Prior weight: higher hides noise and ringing, lower restores more detail")


class DefocusOp(Op):
    id = "defocus"
    label = "Defocus (lens blur)"
    description = "Undoes out-of-focus blur with a disk/ring/Gaussian PSF fitted to the photo's spectrum."
    Params = DefocusParams
    cost_s_per_mp = 1.2

    def run(self, image: Image, params: DefocusParams, ctx: RunContext) -> Image:
        from app.core.deconv.defocus import reduce_defocus
        from app.core.deconv.nonblind import noise_sigma as estimate_sigma
        from app.core.deconv.nonblind import noise_to_lambda

        if image.space is not ColorSpace.SRGB or image.channels not in (1, 3):
            raise ValueError(f"defocus reduction needs an sRGB grey or colour image, got {image.space.value}")
        data = image.data
        if min(data.shape[:2]) < 32:
            raise ValueError("defocus reduction needs at least 32 x 32 pixels")
        lam = noise_to_lambda(estimate_sigma(data)) / params.smoothing
        out, info = reduce_defocus(data, shape=params.shape, radius=params.radius, lam=lam,
                                   use_map=params.varying and params.radius <= 0,
                                   check=ctx.check_cancelled, progress=ctx.progress)
        if info["applied"] and params.strength < 1.0:
            out = data + params.strength * (out - data)
        if not info["applied"]:
            ctx.warn(f"defocus: {info['reason']}; the photo is unchanged")
        meta = dataclasses.replace(image.meta, extra={**image.meta.extra, "defocus": info})
        return dataclasses.replace(image.with_data(out.clip(0.0, 1.0).astype("float32")), meta=meta)
