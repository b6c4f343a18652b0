"""unprocess()/process(): the synthetic camera and its inverse."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.core.isp.color import XYZ_TO_CAM, rgb_to_cam_matrix, sample_ccm, sample_wb_gains
from app.core.isp.synthetic_camera import IspParams, process, process_np, sample_isp_params, unprocess, unprocess_np


def _in_gamut_batch(b: int, seed: int) -> torch.Tensor:
    """Moderately saturated colours: their RAW values stay strictly inside (0, 1)."""
    g = torch.Generator().manual_seed(seed)
    x = 0.1 + 0.75 * torch.rand(b, 3, 16, 16, generator=g)
    gray = x.mean(1, keepdim=True)
    return gray + 0.5 * (x - gray)


@pytest.mark.parametrize("seed", range(5))
def test_forward_of_inverse_is_identity_in_gamut(seed):
    rng = np.random.default_rng(seed)
    params = [sample_isp_params(rng) for _ in range(3)]
    x = _in_gamut_batch(3, seed)
    raw = unprocess(x, params, mosaic=False)
    assert 0.0 < raw.min() and raw.max() < 1.0  # in gamut: nothing clipped
    assert (process(raw, params) - x).abs().max() < 1e-4
    # Highlight softening off: exact on the whole [0, 1] range where nothing clips.
    raw = unprocess(x, params, mosaic=False, preserve_highlights=False)
    assert (process(raw, params) - x).abs().max() < 1e-4


def test_numpy_wrappers_round_trip_and_shapes():
    rng = np.random.default_rng(7)
    p = sample_isp_params(rng)
    img = _in_gamut_batch(1, 7)[0].permute(1, 2, 0).numpy()
    packed = unprocess_np(img, p)
    assert packed.shape == (8, 8, 4) and packed.dtype == np.float32
    cam = unprocess_np(img, p, mosaic=False)
    np.testing.assert_allclose(process_np(cam, p), img, atol=1e-4)


def test_mosaic_path_on_smooth_image_is_close():
    rng = np.random.default_rng(3)
    p = sample_isp_params(rng)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32) / 32.0
    base = 0.4 + 0.15 * np.sin(2 * xx + yy)
    img = np.stack([base, base * 0.9 + 0.05, base * 0.8 + 0.1], -1).astype(np.float32)
    for method in ("bilinear", "malvar"):
        out = process_np(unprocess_np(img, p), p, demosaic_method=method)
        assert np.abs(out - img)[2:-2, 2:-2].max() < 5e-3


def test_highlights_clip_in_raw_when_preserved():
    p = IspParams(np.eye(3, dtype=np.float32), 2.0, 1.8, 1.25)
    white = torch.ones(1, 3, 4, 4)
    # Saturated white stays (nearly) saturated in RAW instead of being divided by the gains.
    assert unprocess(white, p, mosaic=False).min() > 0.99
    assert unprocess(white, p, mosaic=False, preserve_highlights=False).max() < 0.9


def test_process_is_differentiable():
    p = sample_isp_params(np.random.default_rng(0))
    raw = (0.2 + 0.3 * torch.rand(2, 4, 8, 8)).requires_grad_()
    process(raw, p, demosaic_method="malvar").mean().backward()
    assert raw.grad is not None and torch.isfinite(raw.grad).all() and raw.grad.abs().sum() > 0


def test_param_sampling_is_realistic_and_seeded():
    rng = np.random.default_rng(1)
    ccms = [sample_ccm(rng) for _ in range(50)]
    for m in ccms:
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-5)
        assert abs(np.linalg.det(m)) > 1e-2
    assert not np.allclose(ccms[0], ccms[1])
    red, blue, rgb = sample_wb_gains(rng)
    assert 1.9 <= red <= 2.4 and 1.5 <= blue <= 1.9 and 1 / 1.1 <= rgb <= 2.0
    a = sample_isp_params(np.random.default_rng(5)).to_dict()
    assert a == sample_isp_params(np.random.default_rng(5)).to_dict()
    assert IspParams.from_dict(a).to_dict() == a


def test_real_camera_matrices_are_well_formed():
    for name, m in XYZ_TO_CAM.items():
        rgb2cam = rgb_to_cam_matrix(m)
        assert np.all(np.diag(rgb2cam) > 0), name
        assert abs(np.linalg.det(rgb2cam)) > 1e-2, name


def test_batch_of_params_must_match():
    p = sample_isp_params(np.random.default_rng(0))
    with pytest.raises(ValueError):
        unprocess(torch.rand(2, 3, 4, 4), [p])
    with pytest.raises(ValueError):
        process(torch.rand(1, 2, 4, 4), p)
