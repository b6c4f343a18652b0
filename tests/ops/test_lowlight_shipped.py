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
from app.core.metrics.colour import colour_stats
from app.core.metrics.psnr import psnr
from app.core.ops.lowlight import LowlightParams
from app.core.pipeline.engine import Pipeline
from app.core.pipeline.recipe import Step

pytestmark = pytest.mark.usefixtures("datasets_dir")


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


@pytest.fixture(scope="module")
def clean_photos() -> list[np.ndarray]:
    """Well-exposed clean validation photos (centre 384 px), a few sources."""
    from app.train.splits import load_splits

    sp = load_splits()
    out = []
    for source in ("sunhays80", "live1", "urban100"):
        for it in sorted(sp.items(source, "val"), key=lambda it: it.key)[:2]:
            img = _read(it.paths[0])
            h, w = img.shape[:2]
            out.append(img[(h - 384) // 2:(h + 384) // 2, (w - 384) // 2:(w + 384) // 2] if min(h, w) > 384 else img)
    assert out, "no clean validation photos"
    return out


@pytest.mark.parametrize("which", ["dark", "normal"])
def test_brightness_increases_with_ratio(lowlight_op, val_pairs, clean_photos, which):
    """Every step of the slider brightens (the 4.3-5.5 range once made the image darker)."""
    img = Image(val_pairs[0][0] if which == "dark" else clean_photos[0])
    pipe = Pipeline()
    ratios = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 4.3, 4.9, 5.5, 6.5, 8.0)
    means = [float(pipe.run(img, [Step("lowlight", LowlightParams(ratio=r, auto_ratio=False))]).data.mean())
             for r in ratios]
    assert all(b > a for a, b in zip(means, means[1:])), means
    assert pipe.cache.misses["lowlight.decompose"] == 1  # the sweep reused one decomposition


def test_normal_photo_is_left_alone_by_the_automatic_ratio(lowlight_op, clean_photos):
    """Issue 20: low light on a well-exposed photo kept 17.6 dB of it and 42 % of its chroma."""
    for img in clean_photos:
        out = lowlight_op.run(Image(img), LowlightParams(), RunContext(device="cpu"))
        assert out.meta.extra["lowlight"]["ratio"] == pytest.approx(1.0)
        assert psnr(out.data, img) >= 30.0
        assert colour_stats(out.data, img)["chroma_ratio"] >= 0.95


def test_brightening_a_normal_photo_keeps_its_colour(lowlight_op, clean_photos):
    """Set by hand to x2, a normal photo gets brighter, not greyer."""
    for img in clean_photos[:3]:
        out = lowlight_op.run(Image(img), LowlightParams(ratio=2.0, auto_ratio=False), RunContext(device="cpu")).data
        assert out.mean() > img.mean() * 1.1
        assert colour_stats(out, img)["chroma_ratio"] >= 0.95


def test_auto_ratio_beats_the_dark_input(lowlight_op, val_pairs):
    gains = []
    for dark, ref in val_pairs:
        out = lowlight_op.run(Image(dark), LowlightParams(), RunContext(device="cpu")).data
        gains.append(psnr(out, ref) - psnr(dark, ref))
    assert np.mean(gains) > 3.0, gains


def test_auto_ratio_keeps_the_colour_of_dark_frames(lowlight_op):
    """Brightened dark frames keep more of their reference's chroma than KinD's own product ``R x L'`` (the
    op's output before issue 20), compared at the reference's exposure. Frames of luma >= 10 (below, the
    JPEG has lost most of the colour: both keep little of it; see docs/lowlight.md)."""
    from app.core.color import linear_to_srgb, srgb_to_linear
    from app.core.ops import lowlight_stages as st

    def matched_chroma(out, ref):
        lin = srgb_to_linear(np.clip(out, 0, 1).astype(np.float32))
        gain = srgb_to_linear(ref).mean() / max(lin.mean(), 1e-6)
        return colour_stats(linear_to_srgb(np.clip(lin * gain, 0, 1)), ref)["chroma_ratio"]

    from app.train.splits import load_splits

    pairs = []
    for it in sorted(load_splits().items("sice", "val"), key=lambda it: it.key):
        mid = [i for i, v in enumerate(it.lumas) if 90 <= v <= 140]
        if 10 <= it.lumas[0] < 50 and mid and len(pairs) < 6:
            ref = min(mid, key=lambda i: abs(it.lumas[i] - 115))
            dark, bright = _read(it.paths[0]), _read(it.paths[ref])
            if dark.shape == bright.shape:
                pairs.append((dark[128:384, 128:384], bright[128:384, 128:384]))
    ours, kind = [], []
    ctx, p = RunContext(device="cpu"), LowlightParams()
    for dark, ref in pairs:
        state = st.adjust(st.restore(st.decompose(Image(dark), p, ctx), p, ctx), p, ctx)
        ours.append(matched_chroma(st.fuse(state, p, ctx).data, ref))
        kind.append(matched_chroma(state["R"] * state["L_adj"][..., None], ref))
    assert np.mean(ours) >= np.mean(kind) + 0.05 and np.mean(ours) >= 0.75, (ours, kind)



def test_ratio_one_keeps_the_exposure(lowlight_op, val_pairs):
    dark = val_pairs[0][0]
    out = lowlight_op.run(Image(dark), LowlightParams(ratio=1.0, auto_ratio=False), RunContext(device="cpu")).data
    assert abs(np.log2(out.mean() / dark.mean())) < 0.5  # alpha = 1: same illumination, within half a stop
