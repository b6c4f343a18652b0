"""Low light op version 3: ratios up to 16, and the restoration's luminance only where its change is noise-like."""

from __future__ import annotations

import numpy as np

from app.core.ops import lowlight_stages as st


def test_automatic_ratio_reaches_past_eight_for_the_darkest_frames():
    # gmean(L) at which the fitted rule asks for x10.8 (the darkest SICE training frames)
    g = st.AUTO_KEY / 10.8 ** (1 / st.AUTO_POWER)
    assert abs(st.auto_ratio(g) - 10.8) < 1e-6
    assert st.auto_ratio(1e-4) == st.RATIO_RANGE[1] == 16.0


def test_texture_guard_keeps_noise_removal_and_protects_texture():
    import cv2

    rng = np.random.default_rng(0)
    h, w = 128, 192
    bright = np.full((h, w), 0.5, np.float32)
    texture = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 1.0)
    bright[:, w // 2:] += 0.6 * (texture[:, w // 2:] - texture.mean())  # grass-like texture on the right
    noise = rng.normal(0, 0.005, (h, w)).astype(np.float32)  # below the full-trust range (heavy noise)
    noisy = bright + noise
    # the restoration removes the noise everywhere and, on the right, also smooths the texture away
    restored = bright.copy()
    restored[:, w // 2:] = cv2.GaussianBlur(bright, (0, 0), 2.0)[:, w // 2:]
    wgt = st._texture_weight(restored, noisy)
    assert wgt.shape == (h, w) and wgt.dtype == np.float32
    assert np.median(wgt[:, 8: w // 2 - 8]) > 0.95  # flat: the noise removal is kept
    assert np.median(wgt[:, w // 2 + 8: -8]) < 0.5  # texture: the brightened input is kept
