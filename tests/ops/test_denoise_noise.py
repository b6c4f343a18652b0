"""Noise levels for the RAW denoiser: DNG NoiseProfile mapping, the mosaic estimator, forced sources."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from app.core.image import ColorSpace, Image, RawInfo
from app.core.isp.noise import NoiseParams, add_noise_np
from app.core.isp.synthetic_camera import sample_isp_params, unprocess_np
from app.core.ops.denoise_noise import estimate_raw_noise, resolve_raw_noise

pytestmark = pytest.mark.usefixtures("datasets_dir")


@pytest.fixture(scope="module")
def clean_raw(datasets_dir) -> np.ndarray:
    """A clean validation photo unprocessed to packed RAW (1024 x 768 sensor pixels)."""
    from app.train.splits import load_splits

    item = sorted(load_splits().items("sunhays80", "val"), key=lambda it: it.key)[0]
    img = cv2.cvtColor(cv2.imread(str(item.paths[0])), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    img = cv2.resize(img, (1024, 768), interpolation=cv2.INTER_AREA)  # also averages away its own noise
    return unprocess_np(img, sample_isp_params(np.random.default_rng(0)))


@pytest.mark.parametrize("shot,read", [(2e-5, 1e-7), (1.2e-4, 3e-7), (1e-3, 1e-5), (1e-2, 5e-4)])
def test_estimate_recovers_known_shot_noise(clean_raw, shot, read):
    noisy = add_noise_np(clean_raw, NoiseParams(shot, read), np.random.default_rng(1))
    est = estimate_raw_noise(noisy)
    assert est is not None and est.source == "estimated from the image"
    assert est.shot[0] == pytest.approx(shot, rel=0.25)
    # Read noise is a small part of the variance at these levels; check the total at mid-grey instead.
    assert est.shot[0] * 0.18 + est.read[0] == pytest.approx(shot * 0.18 + read, rel=0.25)


def _bayer(profile) -> Image:
    info = RawInfo(path="", cfa_pattern="RGGB", crop_offset=(0, 0), black_level=(0.0,) * 4, white_level=1.0,
                   camera_wb=(1.0,) * 4, noise_profile=profile)
    return Image(np.zeros((64, 64, 1), np.float32), ColorSpace.BAYER, raw=info)


def test_dng_profile_pairs_map_to_rggb_planes():
    image = _bayer(((1e-4, 1e-6), (2e-4, 2e-6), (3e-4, 3e-6)))  # R, G, B as DNG lists colour planes
    n = resolve_raw_noise(image, np.zeros((32, 32, 4), np.float32))
    assert n.source == "DNG NoiseProfile"
    assert n.shot == (1e-4, 2e-4, 2e-4, 3e-4) and n.read == (1e-6, 2e-6, 2e-6, 3e-6)
    var = n.variance(np.full((2, 2, 4), 0.5, np.float32))
    np.testing.assert_allclose(var[0, 0], [0.5e-4 + 1e-6, 1e-4 + 2e-6, 1e-4 + 2e-6, 1.5e-4 + 3e-6], rtol=1e-6)
    bad = dataclasses.replace(image, raw=dataclasses.replace(image.raw, noise_profile=((float("nan"), 0.0),)))
    with pytest.raises(ValueError, match="cannot determine the noise level"):
        resolve_raw_noise(bad, np.zeros((4, 4, 4), np.float32))  # no profile, no camera, nothing to estimate


def test_forced_sources_say_why_they_are_unavailable():
    image = _bayer(None)
    with pytest.raises(ValueError, match="no RAW noise calibration"):
        resolve_raw_noise(image, np.zeros((32, 32, 4), np.float32), source="calibration")
    with pytest.raises(ValueError, match="set shot and/or read"):
        resolve_raw_noise(image, np.zeros((32, 32, 4), np.float32), source="manual")
