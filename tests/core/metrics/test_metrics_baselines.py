"""Classical baselines do what they are for, on small synthetic problems."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.metrics import baselines as bl
from app.core.metrics import synthetic as syn
from app.core.metrics.estimators import luma
from app.core.metrics.psnr import psnr


@pytest.fixture(scope="module")
def small(val_photo) -> np.ndarray:
    return np.ascontiguousarray(val_photo[96:224, 96:224])  # 128x128 keeps BM3D around a second


# BM3D (the bm3d package) has a fixed cost of several seconds per call on a loaded 2-core machine.
@pytest.mark.parametrize("name", ["nlm", pytest.param("bm3d", marks=pytest.mark.slow), "wavelet"])
def test_denoisers_improve_psnr(small, name):
    noisy = syn.add_gaussian_noise(small, 20 / 255, np.random.default_rng(0))
    out = bl.BASELINES[name].fn(noisy)
    assert out.shape == small.shape and out.dtype == np.float32
    assert psnr(out, small) > psnr(noisy, small) + 2.0


@pytest.mark.parametrize("name", ["gamma", "clahe", "gamma+nlm"])
def test_lowlight_baselines_brighten(small, name):
    dark = syn.underexpose(small, 1 / 16)
    out = bl.BASELINES[name].fn(dark)
    if name == "clahe":  # local equalisation brightens a very dark frame only moderately
        assert luma(out).mean() > luma(dark).mean() + 0.03
    else:  # the global curves must bring the frame much closer to the exposed photo
        assert luma(out).mean() > luma(dark).mean() + 0.1
        assert psnr(out, small) > psnr(dark, small) + 3.0


@pytest.mark.parametrize("name", ["unsharp", "richardson_lucy"])
def test_deblur_baselines_sharpen(small, name):
    blurred = syn.gaussian_blur(small, 1.5)
    out = bl.BASELINES[name].fn(blurred)
    assert psnr(out, small) > psnr(blurred, small)


def test_identity_and_task_lists(small):
    assert np.array_equal(bl.identity(small), small)
    assert [b.name for b in bl.baselines_for("lowlight")][0] == "identity"
    assert {b.name for b in bl.baselines_for("denoise-srgb")} >= {"nlm", "bm3d", "wavelet"}
    assert bl.BASELINES["bm3d"].crop == 256
