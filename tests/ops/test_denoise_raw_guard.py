"""The RAW route's noise-aware guard (``app.core.ops.denoise_raw_guard``): a clean RAW is left as it is, a
mildly noisy one keeps a faint grain, a heavily noisy one keeps the network's gain, texture the network
smears is pulled back. Synthetic checks of the rule, then the op on the real Canon 30D CR2 with the shipped
RAW denoiser (the CR2 whose sky turned into a flat wash: issue 20)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core.color import linear_to_srgb
from app.core.context import RunContext
from app.core.models.registry import model_state
from app.core.ops.denoise import MODEL_IDS, DenoiseParams
from app.core.ops.denoise_noise import RawNoise
from app.core.ops.denoise_raw_guard import GRAIN, change_keep, display_noise, guard_raw, plane_wb, srgb_slope
from app.core.ops.registry import get_op

CR2 = "bayer/debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"


def _noise(shot: float, read: float = 1e-7) -> RawNoise:
    return RawNoise((shot,) * 4, (read,) * 4, "test")


def _scene(h: int = 96, w: int = 128) -> np.ndarray:
    """(4, h, w) planes: a smooth gradient (sky) beside fine texture (foliage), as a daylight frame has, at
    the CR2's sensor levels (its 99th percentile is 0.18 of the white level)."""
    rng = np.random.default_rng(0)
    tex = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 0.8)
    base = np.where(np.arange(w) < w // 2, np.linspace(0.2, 0.5, h)[:, None], 0.25 + 0.6 * (tex - tex.mean()))
    return np.repeat(0.3 * np.clip(base, 0.01, 1.0)[None], 4, axis=0).astype(np.float32)


def _noisy(clean: np.ndarray, noise: RawNoise, seed: int = 1) -> np.ndarray:
    sigma = np.sqrt(noise.shot[0] * clean + noise.read[0])
    return (clean + np.random.default_rng(seed).normal(size=clean.shape) * sigma).astype(np.float32)


def test_srgb_slope_is_the_derivative_of_the_one_curve():
    v = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.9], np.float32)
    eps = 1e-4
    num = (linear_to_srgb(v + eps) - linear_to_srgb(v - eps)) / (2 * eps)
    np.testing.assert_allclose(srgb_slope(v), num, rtol=2e-2)
    assert srgb_slope(np.array([1.5], np.float32))[0] == srgb_slope(np.array([1.0], np.float32))[0] > 0


def test_plane_wb_reorders_libraw_multipliers_and_ignores_junk():
    np.testing.assert_allclose(plane_wb((2.0, 1.0, 1.5, 1.0)), [2.0, 1.0, 1.0, 1.5])
    np.testing.assert_allclose(plane_wb((4.0, 2.0, 3.0, 0.0)), [2.0, 1.0, 1.0, 1.5])  # G2 0 = same as G
    assert plane_wb(None).tolist() == plane_wb((0.0, 0.0, 0.0, 0.0)).tolist() == [1.0] * 4


def test_display_noise_grows_with_the_sensor_noise():
    clean = _scene()
    low, _ = display_noise(clean, _noise(1e-5), np.ones(4, np.float32))
    high, _ = display_noise(clean, _noise(1e-3), np.ones(4, np.float32))
    np.testing.assert_allclose(np.median(high) / np.median(low), 10.0, rtol=0.1)  # sigma ~ sqrt(shot) (+ read)


def test_clean_raw_is_left_as_it_is():
    clean = _scene()
    noise = _noise(1e-6)  # ~0.2/255 on display: below GRAIN
    smeared = np.stack([cv2.GaussianBlur(p, (0, 0), 1.5) for p in clean])
    out = guard_raw(clean, smeared.copy(), noise)
    np.testing.assert_allclose(out, clean, atol=1e-6)


def test_heavy_noise_keeps_the_gain_of_a_perfect_denoiser():
    clean = _scene()
    noise = _noise(1e-2)
    noisy = _noisy(clean, noise)
    out = guard_raw(noisy, clean.copy(), noise)
    err_in, err_out = np.abs(noisy - clean).mean(), np.abs(out - clean).mean()
    assert err_out < 0.05 * err_in


def test_mild_noise_keeps_a_faint_grain_where_the_network_flattens():
    clean = _scene()
    noise = _noise(1.2e-4)  # the 30D at ISO 640
    noisy = _noisy(clean, noise)
    s, _ = display_noise(clean, noise, np.ones(4, np.float32))
    keep = change_keep(noisy, clean.copy(), noise)
    sky = keep[:, : keep.shape[1] // 2]
    # in the flat sky the share of the noise left is (GRAIN / s)^2: some grain, most of the noise removed
    left = 1.0 - sky
    want = np.minimum((GRAIN / s[:, :64]) ** 2, 1)
    np.testing.assert_allclose(np.median(left), np.median(want), rtol=0.1)
    assert 0.05 < np.median(left) < 0.6


def test_texture_the_network_smears_is_pulled_back():
    clean = _scene()
    noise = _noise(2e-4)
    noisy = _noisy(clean, noise)
    smeared = np.stack([cv2.GaussianBlur(p, (0, 0), 2.0) for p in noisy])  # removes noise and texture
    keep = change_keep(noisy, smeared, noise)
    w = keep.shape[1] // 2
    assert np.median(keep[:, w + 8:]) < 0.7 * np.median(keep[8:-8, 8:w - 8])


def test_a_preview_keeps_the_grain_of_the_export_scaled_down():
    clean = _scene()
    full = _noise(1.2e-4)
    binned = full.scaled(0.5)  # a 2x2-binned preview: sigma halved (resolve_raw_noise divides by sqrt(4))
    k_full = change_keep(clean, clean * 0.9, full)
    k_prev = change_keep(clean, clean * 0.9, binned, binning=4.0)
    # judged on the full-size noise: the same share of the (smaller) preview noise stays
    np.testing.assert_allclose(np.median(k_prev), np.median(k_full), atol=0.02)


@pytest.fixture(scope="module")
def cr2(raw_dir):
    from app.core.io import load_image

    state = model_state(MODEL_IDS[("raw", "fast")])
    if not state.ok:
        pytest.skip(f"no shipped RAW denoiser: {state.message}")
    return load_image(raw_dir / CR2, raw_as="bayer")


def _sky_crop(image):
    """A sky-and-cloud region of the CR2 (even-aligned, so the RGGB phase holds), as a BAYER image."""
    return image.with_data(np.ascontiguousarray(image.data[160:416, 1600:1856]))


def test_the_cr2_sky_keeps_a_grain_and_loses_most_of_its_noise(cr2):
    """Measured on the mosaic: the guarded op leaves part of the noise (no flat wash) and removes most."""
    image = _sky_crop(cr2)
    op = get_op("denoise")
    plain = op.run(image, DenoiseParams(mode="raw", adaptive=False), RunContext(device="cpu")).data[..., 0]
    guarded = op.run(image, DenoiseParams(mode="raw"), RunContext(device="cpu")).data[..., 0]
    x = image.data[..., 0]
    removed_plain = np.sqrt(np.mean(np.square(plain - x)))
    removed = np.sqrt(np.mean(np.square(guarded - x)))
    assert 0.5 * removed_plain < removed < 0.95 * removed_plain
    assert guarded.shape == x.shape and np.isfinite(guarded).all()
