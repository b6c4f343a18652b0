"""bench/deblur_oracle.py's known-kernel bound: its PSF must be the blur ``MotionBlur`` applied (anchor of
even-sized kernels included) and its Wiener filter must undo that blur, or the bound it reports is wrong."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.train.degrade import MotionBlur

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def oracle():
    spec = importlib.util.spec_from_file_location("deblur_oracle", ROOT / "bench" / "deblur_oracle.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _blurred(seed: int, size: int = 192):
    rng = np.random.default_rng(seed)
    clean = cv2.GaussianBlur(rng.uniform(0.2, 0.8, (size, size, 3)).astype(np.float32), (0, 0), 1.0)
    return MotionBlur(length_range=(5.0, 12.0), linear=False)(clean, rng)


@pytest.mark.parametrize("seed", range(6))
def test_point_spread_reproduces_the_training_blur(oracle, seed):
    blurred, clean, info = _blurred(seed)
    psf = oracle.point_spread(info["kernel"])
    assert psf.shape[0] % 2 == 1 and abs(psf.sum() - 1.0) < 1e-4
    again = cv2.filter2D(clean, -1, psf[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT)
    assert np.abs(again - blurred).max() < 1e-4


def test_wiener_with_the_true_kernel_undoes_the_blur(oracle):
    m = 32  # the reflect padding is not the blur's exact boundary, and Wiener spreads that difference
    errs = {"blurred": [], "true": [], "shifted": []}
    for seed in range(6):
        blurred, clean, info = _blurred(seed)
        psf = oracle.point_spread(info["kernel"])
        for name, img in (("blurred", blurred), ("true", oracle.wiener(blurred, psf, 1e-3)),
                          ("shifted", oracle.wiener(blurred, np.roll(psf, 1, axis=0), 1e-3))):
            errs[name].append(np.abs(img - clean)[m:-m, m:-m].mean())
    mean = {k: float(np.mean(v)) for k, v in errs.items()}
    assert mean["true"] < 0.5 * mean["blurred"], mean
    assert mean["true"] < 0.5 * mean["shifted"], mean
