"""PSNR and SSIM: known values, agreement with scikit-image, numpy vs torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from app.core.metrics.psnr import finite_psnr, mse, psnr, psnr_torch
from app.core.metrics.ssim import ssim, ssim_torch


def _pair(seed: int = 0, shape=(72, 96, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Smooth structure plus texture, so SSIM's means, variances and covariances all matter.
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    base = 0.5 + 0.3 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 11.0)[..., None] * np.ones(shape[2])
    a = np.clip(base + rng.normal(0, 0.05, shape), 0, 1).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.08, shape), 0, 1).astype(np.float32)
    return a, b


def test_psnr_of_known_mse():
    a = np.zeros((16, 16, 3), np.float32)
    b = a + 0.1  # MSE = 0.01 -> 20 dB at data range 1
    assert mse(a, b) == pytest.approx(0.01, rel=1e-6)
    assert psnr(a, b) == pytest.approx(20.0, abs=1e-5)
    assert psnr(a * 255, b * 255, data_range=255.0) == pytest.approx(20.0, abs=1e-4)


def test_psnr_identical_and_mismatch():
    a, _ = _pair()
    assert math.isinf(psnr(a, a))
    assert finite_psnr(psnr(a, a)) == 100.0
    with pytest.raises(ValueError, match="differ in size"):
        psnr(a, a[:-1])


def test_psnr_torch_matches_numpy():
    a, b = _pair(1)
    ta, tb = (torch.from_numpy(x).permute(2, 0, 1)[None] for x in (a, b))
    assert psnr_torch(ta, tb).item() == pytest.approx(psnr(a, b), abs=1e-3)
    assert math.isinf(psnr_torch(ta[0], ta[0]).item())


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_skimage(seed: int):
    from skimage.metrics import structural_similarity

    a, b = _pair(seed)
    ref = structural_similarity(a, b, data_range=1.0, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False)
    assert ssim(a, b) == pytest.approx(ref, abs=1e-3)
    t = ssim_torch(torch.from_numpy(a).permute(2, 0, 1), torch.from_numpy(b).permute(2, 0, 1)).item()
    assert t == pytest.approx(ref, abs=1e-3)
    grey = structural_similarity(a[..., 0], b[..., 0], data_range=1.0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)
    assert ssim(a[..., 0], b[..., 0]) == pytest.approx(grey, abs=1e-3)


def test_ssim_properties():
    a, b = _pair(2)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-9)
    worse = np.clip(a + np.random.default_rng(3).normal(0, 0.2, a.shape), 0, 1)
    assert ssim(a, worse) < ssim(a, b) < 1.0
    assert 0.0 < ssim(a, b, luma=True) < 1.0
    with pytest.raises(ValueError):
        ssim(a[:8, :8], b[:8, :8])
