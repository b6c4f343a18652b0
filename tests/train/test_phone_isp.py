"""Phone-pipeline noise: seeded, the target is the noise-free rendering, and the noise looks processed."""

from __future__ import annotations

import numpy as np

from app.train.noise_spectra import noise_stats
from app.train.phone_isp import PhoneNoise, chroma_denoise, guided_filter, local_tone_gain
from app.train.tasks.denoise_srgb import degradation


def _photo(h: int = 96, w: int = 128) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    base = 0.3 + 0.25 * np.sin(5 * xx + 2 * yy) + 0.15 * (xx > 0.5)
    return np.clip(np.stack([base, base * 0.9, base * 1.1], -1), 0.03, 0.9).astype(np.float32)


def test_seeded_and_shapes():
    img = _photo()
    a = PhoneNoise()(img, np.random.default_rng(3))
    b = PhoneNoise()(img, np.random.default_rng(3))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].shape == a[1].shape == img.shape and a[0].dtype == np.float32
    assert 0.0 <= a[0].min() and a[0].max() <= 1.0


def test_target_is_the_noise_free_render_and_noise_is_real():
    img = _photo()
    for seed in range(4):
        noisy, target, info = PhoneNoise(resize_p=0.0)(img, np.random.default_rng(seed))
        # the camera keeps the scene: the target stays near the photo (tone map and sharpening only lift/crisp)
        assert np.abs(target.mean() - img.mean()) < 0.25
        assert np.std(noisy - target) > 0.3 / 255, info


def test_noise_is_stronger_where_the_tone_map_lifts():
    dark = np.full((64, 64, 3), 0.1, np.float32)
    gain = local_tone_gain(np.concatenate([dark, np.full_like(dark, 0.8)], 1), 0.5, 8.0)
    assert gain[:, :16].mean() > 1.3 and gain[:, -16:].mean() == 1.0


def test_chroma_denoise_removes_colour_noise_not_luma():
    rng = np.random.default_rng(0)
    img = np.clip(0.5 + rng.normal(0, 0.05, (64, 64, 3)), 0, 1).astype(np.float32)
    out = chroma_denoise(img, 2.0)
    before, after = noise_stats(img - 0.5, np.full_like(img, 0.5)), noise_stats(out - 0.5, np.full_like(img, 0.5))
    assert after["chroma"] < 0.3 * before["chroma"]
    assert after["std"] > 0.7 * before["std"]


def test_guided_filter_smooths_flat_noise_and_keeps_an_edge():
    rng = np.random.default_rng(1)
    step = np.zeros((32, 32, 1), np.float32)
    step[:, 16:] = 1.0
    noisy = step + rng.normal(0, 0.02, step.shape).astype(np.float32)
    out = guided_filter(noisy, 2, 1e-3)
    assert np.std(out[:, :12] - 0) < 0.5 * np.std(noisy[:, :12])
    assert out[:, 20:].mean() - out[:, :12].mean() > 0.9


def test_white_noise_spectrum_matches_the_band_areas():
    rng = np.random.default_rng(2)
    ref = np.full((128, 128, 3), 0.5, np.float32)
    s = noise_stats(rng.normal(0, 0.02, ref.shape).astype(np.float32), ref)
    assert abs(s["b3"] - 0.804) < 0.03 and abs(s["lag1"]) < 0.05


def test_denoise_config_mixes_phone_noise():
    cfg = {"degrade": {"noise_model": "sidd", "phone_p": 0.5}}
    deg = degradation(cfg)
    names = {deg(_photo(64, 64), np.random.default_rng(s))[2]["name"] for s in range(12)}
    assert names == {"RawNoise", "PhoneNoise"}


def test_denoise_config_mixes_clean_pairs_and_phone_levels():
    cfg = {"degrade": {"noise_model": "sidd", "phone_p": 0.3, "clean_p": 0.2, "phone_shot": [2e-4, 1e-3]}}
    deg = degradation(cfg)
    img = _photo(64, 64)
    seen: dict[str, list] = {}
    for s in range(40):
        noisy, target, info = deg(img, np.random.default_rng(s))
        seen.setdefault(info["name"], []).append((noisy, target, info))
    assert set(seen) == {"RawNoise", "PhoneNoise", "KeepClean"}
    for noisy, target, info in seen["KeepClean"]:  # nothing to fix: the net must return its input
        np.testing.assert_array_equal(noisy, target)
        if info["jpeg"] is None:
            np.testing.assert_array_equal(noisy, img)
    assert all(2e-4 <= i["noise"]["shot"] <= 1e-3 for _, _, i in seen["PhoneNoise"])


def test_denoise_config_rejects_shares_that_leave_no_camera_noise():
    import pytest

    with pytest.raises(ValueError, match="below 1"):
        degradation({"degrade": {"noise_model": "sidd", "phone_p": 0.6, "clean_p": 0.4}})
