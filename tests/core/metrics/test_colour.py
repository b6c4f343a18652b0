"""Colour fidelity metrics: a desaturated copy reads below 1, a cast reads as a/b distance, identity is exact."""

import numpy as np
import pytest

from app.core.metrics.colour import colour_stats


def _photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.9, size=(32, 32, 3)).astype(np.float32)
    return base


def test_identity_has_ratio_one_and_no_distance():
    img = _photo()
    s = colour_stats(img, img)
    assert s["chroma_ratio"] == pytest.approx(1.0)
    assert s["delta_ab"] == pytest.approx(0.0, abs=1e-6)


def test_desaturation_and_cast_are_measured():
    img = _photo()
    grey = img.mean(axis=2, keepdims=True)
    washed = grey + 0.5 * (img - grey)  # half the saturation, same lightness
    s = colour_stats(washed, img)
    assert 0.4 < s["chroma_ratio"] < 0.6
    assert s["delta_ab"] > 5
    warm = np.clip(img * np.array([1.1, 1.0, 0.85], np.float32), 0, 1)  # a yellow cast
    assert colour_stats(warm, img)["delta_ab"] > 3
    assert colour_stats(warm, img)["delta_ab"] > colour_stats(img * 0.98, img)["delta_ab"]


def test_black_reference_gives_nan_not_an_error():
    black = np.zeros((8, 8, 3), np.float32)
    s = colour_stats(_photo()[:8, :8], black)
    assert np.isnan(s["chroma_ratio"]) and np.isnan(s["delta_ab"])
    with pytest.raises(ValueError):
        colour_stats(black, np.zeros((4, 4, 3), np.float32))
