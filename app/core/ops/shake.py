"""Camera-shake reduction: blind kernel estimation + hyper-Laplacian deconvolution (app/core/deconv/).

No model: the blur kernel is estimated from the photo itself (coarse to fine, L0 gradient prior, on a
textured region's luminance) and undone in linear light. When no kernel is found with confidence the
photo passes through unchanged and the run records why (``meta.extra["shake"]["reason"]``); the kernel,
its region and the decision are recorded for the GUI card and the CLI.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.ops.base import Op, param


def parse_region(text: str, h: int, w: int) -> tuple[int, int, int, int] | None:
    """``"x0,y0,x1,y1"`` as fractions of the width/height -> (y0, x0, y1, x1) pixels; "" -> None (auto)."""
    text = text.strip()
    if not text or text == "auto":
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"region: expected 'x0,y0,x1,y1' fractions or 'auto', got {text!r}") from None
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise ValueError(f"region: fractions must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, got {text!r}")
    box = (int(y0 * h), int(x0 * w), int(round(y1 * h)), int(round(x1 * w)))
    if box[2] - box[0] < 64 or box[3] - box[1] < 64:
        raise ValueError("region: the chosen rectangle must be at least 64 x 64 pixels")
    return box


@dataclass(frozen=True)
class ShakeParams:
    VERSION = 3  # 2: auto kernel >= 45 px, failure detector, smoothing 2 -> 4; 3: final kernel threshold 25 %
    kernel_size: int = param(0, label="Kernel size (px)", min=0, max=75, step=2,
                             help="Largest blur path to look for; 0 = from the photo's motion estimate")
    region: str = param("", label="Region", help="x0,y0,x1,y1 as fractions (GUI: drag a rectangle); "
                                                  "empty = the most textured area")
    strength: float = param(1.0, label="Strength", min=0.0, max=1.0, step=0.05)
    smoothing: float = param(4.0, label="Smoothing", min=0.1, max=10.0, step=0.1,
                             help="Prior weight: higher hides noise and ringing, lower restores more detail")
    spatial: int = param(1, label="Regions per side", min=1, max=4, step=1, advanced=True,
                         help="1 = one kernel; 2-4 = a kernel per overlapping tile, blended")
    force: bool = param(False, label="Apply even if unsure", advanced=True,
                        help="Deconvolve even when the kernel is not confirmed (may ring)")


class ShakeOp(Op):
    id = "shake"
    label = "Shake reduction"
    description = "Estimates the camera-shake kernel from the photo and deconvolves it (no model)."
    Params = ShakeParams
    cost_s_per_mp = 3.5  # 12 MP: 42 s on the shared 2-core CPU (bench/deblur_classic.py --speed)

    def run(self, image: Image, params: ShakeParams, ctx: RunContext) -> Image:
        from app.core.deconv.nonblind import noise_sigma as estimate_sigma
        from app.core.deconv.nonblind import noise_to_lambda
        from app.core.deconv.shake import (
            DETECT_SMOOTHING,
            blur_reading,
            luminance,
            reduce_shake,
            reduce_shake_tiled,
        )

        if image.space is not ColorSpace.SRGB or image.channels not in (1, 3):
            raise ValueError(f"shake reduction needs an sRGB grey or colour image, got {image.space.value}")
        data = image.data
        h, w = data.shape[:2]
        if min(h, w) < 64:
            raise ValueError(f"shake reduction needs at least 64 x 64 pixels, got {w} x {h}")
        region = parse_region(params.region, h, w)
        sigma = estimate_sigma(data)
        width, streak, auto_size = blur_reading(luminance(data), sigma)
        size = min(params.kernel_size | 1 if params.kernel_size else auto_size, (min(h, w) // 4) | 1)
        kw = dict(kernel_size=size, edge_width=width, streak=streak, sigma=sigma,
                  lam=noise_to_lambda(sigma) / params.smoothing,
                  detect_lam=noise_to_lambda(sigma) / DETECT_SMOOTHING,
                  strength=params.strength,
                  force=params.force, check=ctx.check_cancelled, progress=ctx.progress)
        if params.spatial > 1:
            res = reduce_shake_tiled(data, params.spatial, **kw)
        else:
            res = reduce_shake(data, region=region, **kw)
        info = {"kernel": [[round(float(v), 5) for v in row] for row in res.kernel],
                "kernel_size": size, "spread": round(res.spread, 2), "region": list(res.region),
                "edge_width": round(width, 2),
                "streak": round(streak, 1), "applied": res.applied, "reason": res.reason,
                "readings": {k: round(float(v), 4) for k, v in res.readings.items()}}
        if not res.applied:
            ctx.warn(f"shake: {res.reason}; the photo is unchanged")
        meta = dataclasses.replace(image.meta, extra={**image.meta.extra, "shake": info})
        return dataclasses.replace(image.with_data(res.image), meta=meta)
