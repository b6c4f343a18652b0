"""``photorestore analyze``'s degradation-prior line: probabilities of the shipped prior, or n/a."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.metrics.prior import degradation_probabilities, format_probabilities
from app.core.models.registry import model_state
from app.core.nets.ptg import DEGRADATION_CLASSES


@pytest.mark.skipif(not model_state("ptg_degradation_prior").ok, reason="ptg_degradation_prior not exported")
def test_probabilities_cover_every_class_and_react_to_the_image():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:300, 0:400].astype(np.float32)
    clean = np.stack([x / 400, y / 300, 0.5 + 0.2 * np.sin(x / 9)], axis=2).astype(np.float32)
    noisy = np.clip(clean + rng.normal(0, 0.12, clean.shape), 0, 1).astype(np.float32)
    p_clean, p_noisy = degradation_probabilities(clean), degradation_probabilities(noisy)
    for p in (p_clean, p_noisy):
        assert set(p) == set(DEGRADATION_CLASSES)
        assert abs(sum(p.values()) - 1.0) < 1e-4
    noise = ("noise_low", "noise_high")
    assert sum(p_noisy[k] for k in noise) > sum(p_clean[k] for k in noise)
    assert "PTG degradation prior" in format_probabilities(p_noisy)


def test_too_small_or_unavailable_is_na():
    assert degradation_probabilities(np.zeros((40, 40, 3), np.float32)) is None
    assert "n/a" in format_probabilities(None)
