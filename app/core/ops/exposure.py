"""Exposure and gamma, applied in linear light so highlights and colours behave like a camera's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.color import linear_to_srgb, srgb_to_linear
from app.core.context import RunContext
from app.core.image import Image
from app.core.ops.base import Op, param
from app.core.ops.chunks import map_rows


@dataclass(frozen=True)
class ExposureParams:
    VERSION = 1
    ev: float = param(0.0, label="Exposure (EV)", min=-4.0, max=4.0, step=0.1,
                      help="Stops of brightness change, in linear light")
    gamma: float = param(1.0, label="Gamma", min=0.3, max=3.0, step=0.05,
                         help=">1 lifts shadows, <1 deepens them (applied after exposure)")


def _linear_to_srgb(x: np.ndarray) -> np.ndarray:
    return linear_to_srgb(np.clip(x, 0.0, 1.0, dtype=np.float32))


class ExposureOp(Op):
    id = "exposure"
    label = "Exposure / gamma"
    description = "Classical exposure (EV, linear light) and gamma adjustment."
    Params = ExposureParams
    cost_s_per_mp = 0.05

    def run(self, image: Image, params: ExposureParams, ctx: RunContext) -> Image:
        gain = np.float32(2.0 ** params.ev)
        inv_gamma = np.float32(1.0 / params.gamma)

        def apply(block: np.ndarray) -> np.ndarray:
            out = _linear_to_srgb(srgb_to_linear(block) * gain)
            return np.power(out, inv_gamma, dtype=np.float32) if params.gamma != 1.0 else out

        return image.with_data(map_rows(apply, image.data, ctx))
