"""Analysis estimators against synthetic degradations of known level (validation-split photos).

Bounds are about twice the errors bench/estimators.py measures, so they catch regressions without
being flaky; the table in the report gives the actual accuracy.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.core.metrics import estimators as est
from app.core.metrics import synthetic as syn
from app.core.metrics.analysis import analyze_array, analyze_image
from app.core.metrics.analysis_text import format_analysis


def test_quantile_corrections_make_white_noise_unbiased():
    x = 0.5 + np.random.default_rng(1).normal(0.0, 0.04, (514, 514))
    sigma, _, coarse = est.noise_level(x)
    assert sigma == pytest.approx(0.04, rel=0.03)
    assert coarse == pytest.approx(0.04, rel=0.03)


@pytest.mark.parametrize("level", [5, 10, 25])
def test_noise_sigma(val_photos, level):
    rng = np.random.default_rng(level)
    for img in val_photos:
        # Photos carry their own noise/texture floor s0 (up to ~4/255 in busy 320 px crops); added
        # noise composes with it in quadrature.
        s0 = analyze_array(img).noise.sigma255
        a = analyze_array(syn.add_gaussian_noise(img, level / 255, rng))
        assert a.noise.sigma255 == pytest.approx(np.hypot(level, s0), abs=max(2.5, 0.2 * level))
        assert a.is_noisy


def test_signal_dependent_noise_model():
    # Grey ramp with var = a*x + b: the per-bin curve must recover both terms.
    x = np.tile(np.linspace(0.05, 0.95, 512), (512, 1))
    a_true, b_true = 4e-4, 2e-5
    noisy = syn.add_heteroscedastic_noise(x[..., None], a_true, b_true, np.random.default_rng(2))[..., 0]
    _, curve, _ = est.noise_level(noisy)
    a, b = est.fit_noise_model(curve)
    assert a == pytest.approx(a_true, rel=0.25)
    assert b == pytest.approx(b_true, abs=1.5e-5)


@pytest.mark.parametrize("sigma", [1.5, 3.0])
def test_gaussian_blur_sigma(val_photos, sigma):
    for img in val_photos:
        b0 = analyze_array(img).blur.sigma
        b = analyze_array(syn.gaussian_blur(img, sigma)).blur.sigma
        assert np.sqrt(max(b * b - b0 * b0, 0.0)) == pytest.approx(sigma, rel=0.3)


@pytest.mark.parametrize("angle", [0, 45, 90])
def test_motion_blur_direction_and_length(val_photo, angle):
    a = analyze_array(syn.motion_blur(val_photo, 15, angle))
    assert a.is_motion_blurred and a.is_blurred
    assert a.blur.motion_angle == angle
    assert a.blur.motion_length == pytest.approx(15, rel=0.4)


def test_clean_photo_has_no_findings(val_photos):
    for img in val_photos:
        a = analyze_array(img)
        assert not (a.is_blurred or a.is_dark or a.is_blocky), a.findings()


@pytest.mark.parametrize("factor", [4, 16])
def test_exposure_shift(val_photo, factor):
    ev0 = analyze_array(val_photo).exposure.ev_to_mid
    dark = analyze_array(syn.underexpose(val_photo, 1 / factor))
    assert dark.exposure.ev_to_mid - ev0 == pytest.approx(np.log2(factor), abs=0.35)
    assert dark.is_dark == (factor >= 16)
    assert dark.exposure.mean_luma < analyze_array(val_photo).exposure.mean_luma


def test_jpeg_blockiness(val_photos):
    for img in val_photos:
        assert analyze_array(syn.jpeg(img, 15)).is_blocky
        assert not analyze_array(syn.jpeg(img, 95)).is_blocky
        ratio_grid = est.jpeg_blockiness(est.luma(syn.jpeg(img, 15)[3:, 5:]))
        assert ratio_grid[1] == ((7 - 3) % 8, (7 - 5) % 8)  # the grid moves with the crop


def test_raw_image_gets_a_linear_noise_model():
    from app.core.image import ColorSpace, Image

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:512, :512]
    clean = (0.02 + 0.6 * (xx / 512.0) * (0.5 + 0.5 * (yy / 512.0)))[..., None]
    shot, read = 1e-3, 1e-5
    mosaic = clean + rng.normal(size=clean.shape) * np.sqrt(shot * clean + read)
    a = analyze_image(Image(mosaic.astype(np.float32), ColorSpace.BAYER))
    assert a.raw_noise is not None and a.raw_noise.domain == "linear-raw"
    s, r = a.raw_noise.model
    assert s == pytest.approx(shot, rel=0.25)
    assert r == pytest.approx(read, abs=1e-5)


def test_dict_and_text(val_photo):
    a = analyze_array(syn.add_gaussian_noise(val_photo, 0.05, np.random.default_rng(0)))
    d = a.to_dict()
    json.dumps(d)
    assert d["findings"] == a.findings() and d["findings"]
    text = format_analysis(a)
    assert "Noise" in text and "noisy" in text
    assert format_analysis(d) == text
