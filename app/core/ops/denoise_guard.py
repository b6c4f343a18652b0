"""Noise-aware denoising: keep the network's change where it looks like the photo's noise, not where it
removes detail.

A blind denoiser also smooths texture (grass, fabric, hair) and, on a photo with no noise at all, that is
all it does: the issue-20 acceptance bench measured 36.4 dB against the input on clean photos. The
change ``delta = denoised - noisy`` is noise where its local energy matches the photo's noise level and
lost detail where it exceeds it. So, per pixel and separately for the grey (luma) and colour parts of
the change (Wiener-like, with a tolerance ``K``):

    w = min(1, (K * sigma(intensity))^2 / gauss(delta^2, ENERGY_SIGMA))

where ``sigma`` is *measured on the change itself*: the flattest 8x8 blocks (``QUANTILE`` of the block
RMS of ``delta``) in each intensity bin of the input -- in flat areas the network removes noise only,
so this follows signal-dependent noise and counts correlated (demosaiced, JPEG'd) noise as the network
sees it. A clean photo has ``sigma ~ 0`` and keeps almost nothing of the change; a noisy one keeps it
in flat areas and in texture up to ``K`` times the noise.

Heavy noise (flattest-block change above ``FULL_TRUST[0]``) buries the texture the rule protects; there
the weight ramps to 1 by ``FULL_TRUST[1]`` (the network's output, as before).

Constants fitted on *training-split* photos only (16 clean, 10 PolyU, 10 synthetic RAW-noise and 10
phone-noise pairs, 512-px crops; ``docs/denoise.md``, "No harm"): on them the clean photos went from 35.5
dB against the input (the network alone) to 41.6 dB, and the noisy sets ended within 0.03 dB of the
network's output or above it. ``K`` = 2.5 / 3 kept PolyU +0.04 / +0.05 dB better but clean photos at only
39.9 / 38.8 dB (and 37.6 dB on three 320-px validation crops of ``tests/ops/test_denoise_guard.py``).
The acceptance bench reports validation figures.
"""

from __future__ import annotations

import numpy as np

from app.core.color import REC601_LUMA

SRGB_LUMA = REC601_LUMA
K = 2.0
QUANTILE = 0.1
BLOCK = 8
BINS = 8
MIN_BLOCKS = 30
ENERGY_SIGMA = 3.0
INTENSITY_SIGMA = 2.0
FULL_TRUST = (1.5 / 255.0, 3.0 / 255.0)


def _block_stats(values: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per ``BLOCK``-square block: the RMS of ``values`` and the mean of ``level`` (both flattened)."""
    b = BLOCK
    h, w = (values.shape[0] // b) * b, (values.shape[1] // b) * b
    rms = np.sqrt(np.square(values[:h, :w]).reshape(h // b, b, w // b, b).mean(axis=(1, 3))).ravel()
    mean = level[:h, :w].reshape(h // b, b, w // b, b).mean(axis=(1, 3)).ravel()
    return rms, mean


def noise_curve(change: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(intensities, sigmas)``: the flattest-block RMS of ``change`` per intensity bin of ``level``.

    Bins with fewer than ``MIN_BLOCKS`` blocks are skipped; with none left the global figure is used.
    Empty arrays when the image is smaller than one block.
    """
    rms, mean = _block_stats(change, level)
    if rms.size == 0:
        return np.empty(0, np.float32), np.empty(0, np.float32)
    idx = np.clip((mean * BINS).astype(int), 0, BINS - 1)
    xs, ys = [], []
    for k in range(BINS):
        sel = idx == k
        if sel.sum() >= MIN_BLOCKS:
            xs.append(float(mean[sel].mean()))
            ys.append(float(np.quantile(rms[sel], QUANTILE)))
    if not xs:
        xs, ys = [0.5], [float(np.quantile(rms, QUANTILE))]
    return np.array(xs, np.float32), np.array(ys, np.float32)


def change_weight(change: np.ndarray, level: np.ndarray, smooth_level: np.ndarray) -> np.ndarray:
    """Per pixel ``min(1, (K sigma)^2 / local energy)`` of a single-channel ``change``; ``sigma`` from
    :func:`noise_curve` binned by ``level`` and read at ``smooth_level`` (all ``(H, W)``)."""
    import cv2  # lazily: the op module is imported at app start-up

    xs, ys = noise_curve(change, level)
    if xs.size == 0:
        return np.ones_like(change)
    sigma = np.interp(smooth_level, xs, ys).astype(np.float32)
    energy = cv2.GaussianBlur(np.square(change), (0, 0), ENERGY_SIGMA)
    return np.minimum(np.square(K * sigma) / np.maximum(energy, 1e-12), 1.0)


def trust(change_luma: np.ndarray) -> float:
    """0..1: how far the photo's flattest-block change is into the heavy-noise range ``FULL_TRUST``."""
    rms, _ = _block_stats(change_luma, change_luma)
    if rms.size == 0:
        return 1.0
    s = float(np.quantile(rms, QUANTILE))
    return float(np.clip((s - FULL_TRUST[0]) / (FULL_TRUST[1] - FULL_TRUST[0]), 0.0, 1.0))


def guard(noisy: np.ndarray, denoised: np.ndarray) -> np.ndarray:
    """The noise-aware result for sRGB ``(H, W, 3)`` float32 arrays (a new array; inputs untouched)."""
    import cv2
    delta = denoised - noisy
    luma = delta @ SRGB_LUMA
    colour = delta - luma[..., None]
    t = trust(luma)
    if t >= 1.0:
        return denoised.copy()
    level = noisy @ SRGB_LUMA  # bins by the input's brightness (signal-dependent noise)
    smooth_level = cv2.GaussianBlur(denoised @ SRGB_LUMA, (0, 0), INTENSITY_SIGMA)
    wl = change_weight(luma, level, smooth_level)
    wc = change_weight(np.sqrt(np.square(colour).sum(axis=2) / 2.0), level, smooth_level)
    wl = t + (1.0 - t) * wl
    wc = t + (1.0 - t) * wc
    return noisy + wl[..., None] * luma[..., None] + wc[..., None] * colour
