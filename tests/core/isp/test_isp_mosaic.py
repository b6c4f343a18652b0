"""RGGB packing, mosaicking and demosaicking."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.core.isp.mosaic import (
    demosaic,
    demosaic_np,
    mosaic_rgb,
    mosaic_rgb_np,
    pack_rggb,
    pack_rggb_np,
    unpack_rggb,
    unpack_rggb_np,
)


def _smooth_image(h: int = 64, w: int = 96) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / 64.0
    base = 0.45 + 0.25 * np.sin(2.0 * xx + 1.3 * yy)
    # Correlated channels, as in natural images (what Malvar's gradient correction relies on).
    return np.stack([base * 0.9 + 0.05, base, base * 0.7 + 0.1 * yy], axis=-1).astype(np.float32)


def test_pack_unpack_round_trip_exact():
    m = torch.rand(2, 1, 6, 8)
    p = pack_rggb(m)
    assert p.shape == (2, 4, 3, 4)
    assert torch.equal(p[:, 0], m[:, 0, 0::2, 0::2]) and torch.equal(p[:, 1], m[:, 0, 0::2, 1::2])
    assert torch.equal(p[:, 2], m[:, 0, 1::2, 0::2]) and torch.equal(p[:, 3], m[:, 0, 1::2, 1::2])
    assert torch.equal(unpack_rggb(p), m)
    mn = m[0, 0].numpy()
    assert np.array_equal(pack_rggb_np(mn), p[0].permute(1, 2, 0).numpy())
    assert np.array_equal(unpack_rggb_np(pack_rggb_np(mn))[..., 0], mn)


def test_mosaic_rgb_samples_the_cfa():
    rgb = torch.rand(1, 3, 4, 6)
    p = mosaic_rgb(rgb)
    assert torch.equal(p[0, 0], rgb[0, 0, 0::2, 0::2]) and torch.equal(p[0, 3], rgb[0, 2, 1::2, 1::2])
    assert torch.equal(p[0, 1], rgb[0, 1, 0::2, 1::2]) and torch.equal(p[0, 2], rgb[0, 1, 1::2, 0::2])
    assert np.array_equal(mosaic_rgb_np(rgb[0].permute(1, 2, 0).numpy()), p[0].permute(1, 2, 0).numpy())


def test_odd_sizes_and_wrong_channels_are_rejected():
    with pytest.raises(ValueError):
        pack_rggb(torch.zeros(1, 1, 5, 6))
    with pytest.raises(ValueError):
        demosaic(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError):
        pack_rggb_np(np.zeros((4, 5)))


@pytest.mark.parametrize("method,tol", [("bilinear", 2e-3), ("malvar", 2e-3), ("ea", 2e-3)])
def test_demosaic_of_smooth_image_is_close(method, tol):
    img = _smooth_image()
    out = demosaic_np(mosaic_rgb_np(img), method)
    assert out.shape == img.shape and out.dtype == np.float32
    assert np.abs(out - img)[3:-3, 3:-3].max() < tol
    assert np.abs(out - img).mean() < tol


def test_flat_colour_is_reproduced_exactly_including_borders():
    img = np.broadcast_to(np.array([0.2, 0.5, 0.8], np.float32), (8, 10, 3)).copy()
    for method in ("bilinear", "malvar"):
        np.testing.assert_allclose(demosaic_np(mosaic_rgb_np(img), method), img, atol=1e-6)


def test_malvar_beats_bilinear_on_a_natural_image():
    data = pytest.importorskip("skimage.data")
    img = data.astronaut()[128:384, 128:384].astype(np.float32) / 255.0
    packed = mosaic_rgb_np(img)
    err = {m: float(np.mean((demosaic_np(packed, m) - img)[4:-4, 4:-4] ** 2)) for m in ("bilinear", "malvar")}
    assert err["malvar"] < 0.8 * err["bilinear"]


def test_demosaic_is_differentiable():
    p = torch.rand(1, 4, 8, 8, requires_grad=True)
    demosaic(p, "malvar").sum().backward()
    assert p.grad is not None and torch.isfinite(p.grad).all()
