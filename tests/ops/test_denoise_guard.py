"""Noise-aware denoising (``app.core.ops.denoise_guard``): a clean photo is left nearly as it is, a noisy
one keeps the network's gain. Synthetic checks of the rule, then the shipped sRGB model on validation photos
(never the training photos the guard's constants were fitted on)."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.context import RunContext
from app.core.image import Image
from app.core.metrics.psnr import psnr
from app.core.models.registry import model_state
from app.core.ops.denoise import MODEL_IDS, DenoiseParams
from app.core.ops.denoise_guard import guard
from app.core.ops.registry import get_op


def _texture(h: int = 128, w: int = 160) -> np.ndarray:
    rng = np.random.default_rng(0)
    import cv2

    t = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 1.0)
    t = 0.5 + 0.8 * (t - t.mean())
    t[:, : w // 2] = np.linspace(0.3, 0.8, h)[:, None]  # a smooth sky beside the texture, as photos have
    return np.repeat(np.clip(t, 0, 1)[..., None], 3, axis=2)


def test_perfect_denoiser_on_noise_is_kept():
    clean = np.full((128, 160, 3), 0.4, np.float32)
    clean[:, 80:] = 0.7
    noisy = (clean + np.random.default_rng(1).normal(0, 0.03, clean.shape)).astype(np.float32)
    out = guard(noisy, clean.copy())
    assert psnr(out, clean) > psnr(noisy, clean) + 10


def test_smoothing_a_clean_texture_is_pulled_back():
    x = _texture()
    import cv2

    smeared = cv2.GaussianBlur(x, (0, 0), 1.5)  # what a denoiser does to texture it mistakes for noise
    out = guard(x, smeared)
    assert psnr(out, x) > psnr(smeared, x) + 10


def test_tiny_image_falls_back_to_the_network():
    x = np.random.default_rng(2).random((5, 6, 3)).astype(np.float32)
    y = x * 0.5
    assert np.allclose(guard(x, y), y)


def _shipped() -> None:
    state = model_state(MODEL_IDS[("srgb", "fast")])
    if not state.ok:
        pytest.skip(f"no shipped sRGB denoiser: {state.message}")


def _read(path) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255


def _run(x: np.ndarray, **kw) -> np.ndarray:
    return get_op("denoise").run(Image(x), DenoiseParams(mode="srgb", **kw), RunContext(device="cpu")).data


@pytest.mark.usefixtures("datasets_dir")
def test_clean_validation_photos_stay_close_to_the_input():
    _shipped()
    from app.train.splits import load_splits

    sp = load_splits()
    items = [sorted(sp.items(src, "val"), key=lambda it: it.key)[0] for src in ("sunhays80", "urban100", "live1")]
    guarded, plain = [], []
    for it in items:
        img = _read(it.paths[0])
        h, w = img.shape[:2]
        x = np.ascontiguousarray(img[(h - 320) // 2:][:320, (w - 320) // 2:][:, :320])
        guarded.append(psnr(_run(x), x))
        plain.append(psnr(_run(x, adaptive=False), x))
    # The acceptance bench's no-harm target (>= 38 dB on average); each photo well above the plain network
    assert float(np.mean(guarded)) >= 38.0, (guarded, plain)
    assert all(g > p + 2.0 for g, p in zip(guarded, plain)), (guarded, plain)


@pytest.mark.usefixtures("datasets_dir")
def test_real_polyu_noise_still_gains():
    _shipped()
    from app.train.splits import load_splits

    items = sorted(load_splits().items("polyu", "val"), key=lambda it: it.key)[::4][:6]
    gains, plain = [], []
    for it in items:
        noisy, clean = (_read(p) for p in it.paths[:2])
        gains.append(psnr(_run(noisy), clean) - psnr(noisy, clean))
        plain.append(psnr(_run(noisy, adaptive=False), clean) - psnr(noisy, clean))
    assert float(np.mean(gains)) > 0.5 and float(np.mean(gains)) > float(np.mean(plain)) - 0.1, (gains, plain)
