"""Cheap test ops registered at run time by GUI tests.

``TestLowlightOp`` mimics the KinD low-light op's four cached stages (decompose -> restore ->
adjust(ratio) -> fuse) with a few numpy lines, so the slider test can check through the
pipeline's counters that moving the ratio reruns only adjust + fuse. ``SlowOp`` takes seconds
and checks cancellation every few tens of milliseconds, like a tiled model op.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from app.core.context import RunContext
from app.core.image import Image
from app.core.ops.base import Op, Stage, param


@dataclass(frozen=True)
class TestLowlightParams:
    ratio: float = param(2.0, label="Illumination ratio", min=0.5, max=8.0, step=0.05,
                         help="Brightness of the illumination relative to the input")
    denoise_reflectance: bool = param(True, label="Denoise reflectance")
    strength: float = param(1.0, label="Strength", min=0.0, max=1.0, step=0.05)


def _decompose(image: Image, params: Any, ctx: RunContext) -> dict[str, Any]:
    lum = image.data.max(axis=2, keepdims=True)
    light = cv2.blur(lum, (9, 9)).reshape(lum.shape) + 1e-3
    ctx.progress(1.0, "decompose")
    return {"image": image, "R": np.clip(image.data / light, 0, 1).astype(np.float32), "L": light}


def _restore(state: dict[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
    r = state["R"]
    if params.denoise_reflectance:
        r = cv2.GaussianBlur(r, (3, 3), 0).reshape(r.shape)
    return {**state, "R": r}


def _adjust(state: dict[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
    light = state["L"]  # monotonic in the ratio, maps [0, 1] onto [0, 1]
    r = np.float32(params.ratio)
    adjusted = light * r / (1.0 + (r - 1.0) * light)
    return {**state, "L_adj": adjusted.astype(np.float32, copy=False)}


def _fuse(state: dict[str, Any], params: Any, ctx: RunContext) -> Image:
    image = state["image"]
    out = np.multiply(state["R"], state["L_adj"], dtype=np.float32)
    if params.strength < 1.0:
        out *= np.float32(params.strength)
        out += image.data * np.float32(1.0 - params.strength)
    return image.with_data(out)


class TestLowlightOp(Op):
    id = "test_lowlight"
    label = "Low-light (test op)"
    description = "Four cheap numpy stages shaped like KinD's: decompose, restore, adjust(ratio), fuse."
    Params = TestLowlightParams
    cost_s_per_mp = 0.01
    prominent_param = "ratio"

    def stages(self, params: Any) -> list[Stage]:
        return [Stage("decompose", _decompose, reads=()),
                Stage("restore", _restore, reads=("denoise_reflectance",)),
                Stage("adjust", _adjust, reads=("ratio",)),
                Stage("fuse", _fuse, reads=("strength",))]


@dataclass(frozen=True)
class SlowParams:
    seconds: float = param(6.0, label="Seconds", min=0.1, max=60.0, step=0.1)


class SlowOp(Op):
    """Sleeps in 20-ms "tiles", reporting progress and checking cancellation between them."""

    id = "test_slow"
    label = "Slow (test op)"
    Params = SlowParams
    cost_s_per_mp = 3.0

    def run(self, image: Image, params: SlowParams, ctx: RunContext) -> Image:
        n = max(1, round(params.seconds / 0.02))
        for i in range(n):
            ctx.check_cancelled()
            time.sleep(0.02)
            ctx.progress((i + 1) / n, f"tile {i + 1}/{n}")
        return image.with_data(image.data * 0.5)
