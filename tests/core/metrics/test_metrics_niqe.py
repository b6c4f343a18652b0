"""NIQE: the committed model is sane and ranks clean held-out photos above degraded versions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core.metrics import synthetic as syn
from app.core.metrics.niqe import PARAMS_PATH, load_model, niqe, patch_features


def test_model_file_is_consistent():
    m = load_model()
    assert m.mu.shape == (36,) and m.cov.shape == (36, 36)
    assert np.allclose(m.cov, m.cov.T)
    assert np.linalg.eigvalsh(m.cov).min() > -1e-9
    assert m.n_patches > 500 and len(m.images) > 50
    with np.load(PARAMS_PATH) as z:
        held = set(map(str, z["holdout"]))
    assert held and not held & set(m.images), "held-out photos must not be in the pristine fit"


def test_features_shape_and_patch_count():
    img = np.random.default_rng(0).random((200, 300, 3)).astype(np.float32)
    f, sharp = patch_features(img)
    assert f.shape == (2 * 3, 36) and sharp.shape == (6,)
    assert np.all(np.isfinite(f))


def test_clean_scores_better_than_degraded(val_photos):
    rng = np.random.default_rng(0)
    for img in val_photos:
        clean = niqe(img)
        assert niqe(syn.add_gaussian_noise(img, 15 / 255, rng)) > clean
        assert niqe(cv2.GaussianBlur(img, (0, 0), 2.0)) > clean


def test_too_small_image_is_an_error():
    with pytest.raises(ValueError):
        niqe(np.zeros((100, 100, 3), np.float32))
