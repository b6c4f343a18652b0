"""The noise estimators behind ``python -m app.train.calibrate_noise``, checked on known noise."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.isp.noise import NoiseParams, add_noise_np, load_calibration
from app.train.noise_estimation import fit_shot_read, pair_noise_curve, raw_noise_curve


def _textured_mosaic(h: int = 384, w: int = 512) -> np.ndarray:
    """Packed RGGB planes: smooth shading plus a few sharp edges (texture the estimator must ignore)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / w
    scene = 0.002 + 0.45 * (0.5 + 0.5 * np.sin(5 * xx + 3 * yy)) * (0.3 + 0.7 * yy)
    scene += 0.1 * ((xx * 12).astype(int) % 3 == 0) * (yy > 0.5)
    return np.repeat(scene[..., None], 4, axis=2) * np.array([0.5, 1.0, 1.0, 0.7], np.float32)


@pytest.mark.parametrize("shot,read", [(1.2e-4, 3e-7), (2e-3, 2e-5)])
def test_raw_estimator_recovers_known_noise(shot, read):
    clean = _textured_mosaic()
    noisy = add_noise_np(clean, NoiseParams(shot, read), np.random.default_rng(0))
    curve = raw_noise_curve(noisy, bins=12, min_blocks=30)
    est_shot, est_read, rel = fit_shot_read(curve.mean, curve.var, curve.count)
    assert est_shot == pytest.approx(shot, rel=0.1)
    assert est_read == pytest.approx(read, rel=0.35)
    assert rel < 0.15


def test_fit_shot_read_on_exact_line():
    x = np.linspace(0.01, 0.5, 20)
    shot, read, rel = fit_shot_read(x, 3e-3 * x + 2e-5)
    assert shot == pytest.approx(3e-3, rel=1e-3) and read == pytest.approx(2e-5, rel=1e-2) and rel < 1e-3


def test_pair_curve_measures_additive_noise_and_ignores_outliers():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32) / 256
    clean = np.stack([0.1 + 0.8 * xx] * 3, -1).astype(np.float32)
    sigma = 0.02 + 0.03 * clean  # signal-dependent
    noisy = clean + sigma * rng.standard_normal(clean.shape).astype(np.float32)
    noisy[::17, ::13] += 0.5  # misalignment-like outliers
    curve = pair_noise_curve(noisy, clean)[1]
    ok = np.isfinite(curve.var)
    assert ok.sum() > 10
    np.testing.assert_allclose(np.sqrt(curve.var[ok]), 0.02 + 0.03 * curve.mean[ok], rtol=0.08)


def test_committed_calibration_agrees_with_the_real_cr2(datasets_dir):
    from app.train.calibrate_noise import read_normalised_mosaic

    path = datasets_dir / "raw" / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
    if not path.exists():
        pytest.skip("Canon 30D sample not available")
    packed, meta = read_normalised_mosaic(path)
    assert packed.shape[2] == 4 and meta["iso"] == 640
    # Black level subtracted: the darkest blocks sit near 0, nothing reaches 1 in this dim frame.
    assert -0.05 < np.percentile(packed, 0.1) < 0.02 and packed.max() < 1.0
    crop = packed[200:712, 300:1068]  # a quarter of the frame keeps this fast
    curve = raw_noise_curve(crop, bins=12, min_blocks=30)
    shot, _, _ = fit_shot_read(curve.mean, curve.var, curve.count)
    ref = load_calibration()["cameras"]["Canon EOS 30D"]
    assert shot == pytest.approx(ref["shot"], rel=0.25)


@pytest.mark.slow
def test_pipeline_equivalent_fit_recovers_noise_rendered_by_random_cameras():
    from app.core.isp.synthetic_camera import process_np, sample_isp_params, unprocess_np
    from app.train.calibrate_noise import average_camera
    from app.train.noise_estimation import fit_pipeline_equivalent

    rng = np.random.default_rng(0)
    data = pytest.importorskip("skimage.data")
    crops = [data.astronaut()[:256, :256], data.coffee()[:256, 100:356], data.chelsea()[:256, :256]]
    shot, read = 1e-3, 5e-6
    pairs = []
    for img in crops:
        clean = img.astype(np.float32) / 255.0
        p = sample_isp_params(rng)
        raw = unprocess_np(clean, p)
        noisy = add_noise_np(raw, NoiseParams(shot, read), rng)
        pairs.append(tuple(np.round(np.clip(process_np(x, p), 0, 1) * 255) / 255 for x in (noisy, raw)))
    est_shot, _, rms = fit_pipeline_equivalent(pairs, average_camera())
    assert est_shot == pytest.approx(shot, rel=0.25)
    assert rms < 0.3
