"""The sRGB denoiser's noise reading: level, colour/grain split, correlation, and what Luminance leaves."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core.measure.denoise_level import PROCESSED_COLOUR_RATIO, measure_change


def _scene(h: int = 256, w: int = 256) -> np.ndarray:
    # a smooth gradient (all flat blocks) with a dark and a bright half, for the shadow ratio
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.where(xx < w / 2, 0.15, 0.75) + 0.05 * yy / h
    return np.repeat(base[..., None], 3, axis=2).astype(np.float32)


def test_independent_grey_noise_reads_its_level_and_no_correlation():
    clean = _scene()
    noise = np.random.default_rng(0).normal(0, 4 / 255, clean.shape[:2]).astype(np.float32)
    lv = measure_change(clean + noise[..., None], clean)  # a perfect denoiser's change = the noise
    assert lv.luma255 == pytest.approx(4.0, rel=0.08)  # block offsets removed: (63/64) of the variance
    assert lv.colour255 < 0.01 and lv.processed  # grey noise: no colour part
    assert abs(lv.lag1) < 0.05
    assert lv.shadow_ratio == pytest.approx(1.0, abs=0.15)


def test_colour_speckle_is_not_processed_and_blurred_grain_is_correlated():
    clean = _scene()
    rng = np.random.default_rng(1)
    # developed sensor noise: the camera's colour matrix makes most of it colour (raw pairs read 2.5-2.9)
    speckle = rng.normal(0, 4 / 255, clean.shape).astype(np.float32)
    speckle -= (speckle @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]  # colour part only ...
    speckle += rng.normal(0, 1 / 255, clean.shape[:2]).astype(np.float32)[..., None]  # ... and a little grain
    lv = measure_change(clean + speckle, clean)
    assert lv.colour_ratio > PROCESSED_COLOUR_RATIO and not lv.processed
    assert "speckle" in lv.kind
    blotch = cv2.GaussianBlur(rng.normal(0, 1, clean.shape[:2]).astype(np.float32), (0, 0), 1.5)
    blotch *= (3 / 255) / blotch.std()
    lv = measure_change(clean + blotch[..., None], clean)
    assert lv.lag1 > 0.6 and lv.processed and "phone-like" in lv.kind


def test_noise_stronger_in_the_shadows_and_nothing_to_read():
    clean = _scene()
    sigma = np.where(clean[..., :1] < 0.5, 6 / 255, 2 / 255)
    noisy = clean + sigma * np.random.default_rng(2).normal(0, 1, clean.shape[:2])[..., None]
    lv = measure_change(noisy.astype(np.float32), clean)
    assert lv.shadow_ratio == pytest.approx(3.0, rel=0.15)
    assert measure_change(clean, clean).luma255 == 0.0 and "none" in measure_change(clean, clean).kind
    assert measure_change(clean[:16, :16], clean[:16, :16]) is None  # too few blocks


def test_luminance_leaves_the_unremoved_share_of_the_grain():
    clean = _scene()
    noise = np.random.default_rng(3).normal(0, 5 / 255, clean.shape[:2]).astype(np.float32)[..., None]
    noisy = clean + noise
    lv = measure_change(noisy, clean)
    for k in (0.0, 0.3, 0.5, 1.0, 1.25):
        out = noisy + k * (clean - noisy)  # the op's linear blend at gain k
        rest = measure_change(out, clean)  # what is left against the clean image
        assert rest.luma255 == pytest.approx(lv.left255(k) if k <= 1 else abs(1 - k) * lv.luma255, abs=0.05)
