"""A cheap four-stage op shaped like KinD's low-light op, registered for pipeline tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from app.core.image import Image
from app.core.ops.base import Op, Stage, param
from app.core.ops.registry import register_op, unregister_op


@dataclass(frozen=True)
class FakeLowlightParams:
    ratio: float = param(2.0, min=0.5, max=8.0)
    denoise: bool = param(True)
    strength: float = param(1.0, min=0.0, max=1.0)


class FakeLowlightOp(Op):
    id = "fake_lowlight"
    label = "Fake low light"
    Params = FakeLowlightParams

    def stages(self, params):
        def decompose(img, p, ctx):
            lum = img.data.mean(axis=2, keepdims=True) + 1e-3
            return {"image": img, "R": img.data / lum, "L": lum}

        def restore(state, p, ctx):
            r = state["R"] * (0.9 if p.denoise else 1.0)
            return {**state, "R": r}

        def adjust(state, p, ctx):
            return {**state, "L": np.clip(state["L"] * p.ratio, 0, 1)}

        def fuse(state, p, ctx):
            out = np.clip(state["R"] * state["L"], 0, 1)
            img = state["image"]
            return img.with_data(img.data + p.strength * (out - img.data))

        return [Stage("decompose", decompose, ()), Stage("restore", restore, ("denoise",)),
                Stage("adjust", adjust, ("ratio",)), Stage("fuse", fuse, ("strength",))]


@pytest.fixture
def fake_lowlight():
    op = FakeLowlightOp()
    register_op(op)
    yield op
    unregister_op(op.id)


@pytest.fixture
def small_image() -> Image:
    rng = np.random.default_rng(0)
    return Image(rng.random((64, 80, 3), dtype=np.float32) * 0.3)
