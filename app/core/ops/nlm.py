"""OpenCV non-local-means denoising: the classical baseline, usable without any model."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app.core.context import RunContext
from app.core.image import Image
from app.core.ops.base import Op, param
from app.core.ops.chunks import map_rows


@dataclass(frozen=True)
class NlmDenoiseParams:
    VERSION = 1
    strength: float = param(8.0, label="Strength", min=1.0, max=30.0, step=0.5,
                            help="Filter strength h for luminance (0-255 scale)")
    color_strength: float = param(8.0, label="Colour strength", min=0.0, max=30.0, step=0.5)
    search: int = param(21, label="Search window", min=7, max=35, step=2, advanced=True)


class NlmDenoiseOp(Op):
    id = "nlm_denoise"
    label = "Denoise (classical NLM)"
    description = "OpenCV fast non-local means on 8-bit data; a model-free fallback."
    Params = NlmDenoiseParams
    cost_s_per_mp = 4.0

    def run(self, image: Image, params: NlmDenoiseParams, ctx: RunContext) -> Image:
        search = int(params.search) | 1
        halo = search // 2 + 4

        def apply(block: np.ndarray) -> np.ndarray:
            u8 = np.clip(block * 255.0 + 0.5, 0, 255).astype(np.uint8)
            if u8.shape[2] == 3:
                den = cv2.fastNlMeansDenoisingColored(u8, None, params.strength, params.color_strength, 7, search)
            else:
                den = cv2.fastNlMeansDenoising(u8[:, :, 0], None, params.strength, 7, search)
            den = den.astype(np.float32) / 255.0
            # Keep the sub-8-bit detail of 16-bit sources: only the removed noise is quantised.
            den = den.reshape(block.shape)
            return block + (den - u8.astype(np.float32).reshape(block.shape) / 255.0)

        return image.with_data(map_rows(apply, image.data, ctx, rows=256, halo=halo))
