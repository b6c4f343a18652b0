"""The shipped KinD low-light weights on SICE validation scenes (skipped until ``models/`` has them verified).

Validation scenes only (the recorded by-scene split). Thresholds sit well below the benchmark's figures, so
they catch a broken export or plumbing, not a slightly weaker training run.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core.context import RunContext
from app.core.image import Image
from app.core.metrics.psnr import psnr
from app.core.ops.lowlight import LowlightParams
from app.core.ops.registry import get_op
from app.core.pipeline.engine import Pipeline
from app.core.pipeline.recipe import Step

pytestmark = pytest.mark.usefixtures("datasets_dir")


@pytest.fixture(scope="module")
def op():
    op = get_op("lowlight")
    ok, why = op.availability()
    if not ok:
        pytest.skip(f"no shipped low-light weights: {why}")
    return op


def _read(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


@pytest.fixture(scope="module")
def val_pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    from app.train.splits import load_splits

    out = []
    for it in sorted(load_splits().items("sice", "val"), key=lambda it: it.key):
        mid = [i for i, v in enumerate(it.lumas) if 90 <= v <= 140]
        if it.lumas[0] < 50 and mid:
            ref = min(mid, key=lambda i: abs(it.lumas[i] - 115))
            dark, bright = _read(it.paths[0]), _read(it.paths[ref])
            if dark.shape == bright.shape:
                out.append((dark[128:384, 128:384], bright[128:384, 128:384]))
        if len(out) == 3:
            break
    assert out, "no SICE validation pairs"
    return out


def test_brightness_increases_with_ratio(op, val_pairs):
    dark = Image(val_pairs[0][0])
    pipe = Pipeline()
    means = [float(pipe.run(dark, [Step("lowlight", LowlightParams(ratio=r, auto_ratio=False))]).data.mean())
             for r in (0.5, 1.0, 2.0, 4.0, 8.0)]
    assert all(b > a for a, b in zip(means, means[1:])), means
    assert pipe.cache.misses["lowlight.decompose"] == 1  # the sweep reused one decomposition


def test_auto_ratio_beats_the_dark_input(op, val_pairs):
    gains = []
    for dark, ref in val_pairs:
        out = op.run(Image(dark), LowlightParams(), RunContext(device="cpu")).data
        gains.append(psnr(out, ref) - psnr(dark, ref))
    assert np.mean(gains) > 3.0, gains


def test_ratio_one_keeps_the_exposure(op, val_pairs):
    dark = val_pairs[0][0]
    out = op.run(Image(dark), LowlightParams(ratio=1.0, auto_ratio=False), RunContext(device="cpu")).data
    assert abs(np.log2(out.mean() / dark.mean())) < 0.5  # alpha = 1: same illumination, within half a stop
