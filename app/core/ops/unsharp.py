"""Unsharp mask: the classical sharpening baseline for deblurring."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app.core.context import RunContext
from app.core.image import Image
from app.core.ops.base import Op, param
from app.core.ops.chunks import map_rows


@dataclass(frozen=True)
class UnsharpParams:
    VERSION = 1
    amount: float = param(0.8, label="Amount", min=0.0, max=3.0, step=0.05)
    radius: float = param(1.5, label="Radius (px)", min=0.3, max=10.0, step=0.1)
    threshold: float = param(0.0, label="Threshold", min=0.0, max=0.2, step=0.005,
                             help="Ignore differences smaller than this (keeps noise from being sharpened)")


class UnsharpOp(Op):
    id = "unsharp"
    label = "Sharpen (unsharp mask)"
    description = "Classical unsharp masking with an optional noise threshold."
    Params = UnsharpParams
    cost_s_per_mp = 0.15

    def run(self, image: Image, params: UnsharpParams, ctx: RunContext) -> Image:
        halo = int(np.ceil(params.radius * 4)) + 2

        def apply(block: np.ndarray) -> np.ndarray:
            blurred = cv2.GaussianBlur(block, (0, 0), params.radius, borderType=cv2.BORDER_REFLECT)
            if blurred.ndim == 2:
                blurred = blurred[:, :, None]
            detail = block - blurred
            if params.threshold > 0:
                detail = np.where(np.abs(detail) < params.threshold, 0.0, detail).astype(np.float32)
            return np.clip(block + params.amount * detail, 0.0, 1.0)

        return image.with_data(map_rows(apply, image.data, ctx, rows=256, halo=halo))
