"""Noise-aware RAW denoising: the mosaic route's twin of :mod:`app.core.ops.denoise_guard`.

The RAW denoiser removes what the noise model says is noise. On a mildly noisy daylight RAW (the Canon
30D CR2 at ISO 640 in ``../shared/datasets/raw/bayer``) that is right by the numbers -- its change is
0.86 sigma of the calibrated noise per plane, with no low-frequency part -- but the developed sky and
distant forest come out as a flat wash (NIQE of the centre crop 6.7 -> 14.8; guarded 10.1): all the grain is gone,
and grain is what made them look like a photograph. The change ``delta = denoised - noisy`` is
judged in two ways, both from the noise *measured for this shot* (the level the network was told:
DNG NoiseProfile, our calibration, or the flat-block estimate, after ``noise_scale``):

1. **Grain left in place.** The noise a viewer sees is the sensor's linear-light noise taken through
   the development: the white balance, LibRaw's automatic brightness (the 1 % white clip: the 99th
   percentile of the luminance becomes white) and the sRGB curve's slope. Per pixel that display-domain
   luminance noise ``s`` is computed from the noise model, and the op keeps the share
   ``g = min(1, (GRAIN / s)^2)`` of the noise: all of it when ``s <= GRAIN`` (a clean RAW is left as it
   is, the "blend toward the input where little noise is measured" of the sRGB route), a faint grain
   (``GRAIN^2 / s``) on a mildly noisy one, and almost nothing where the noise is heavy (``g`` < 2 % from
   ``s`` = 7/255), so the gain there is kept.
2. **Texture protected.** Where the local energy of the luminance change, in units of the noise model's
   sigma (variance-stabilised, so one figure serves every brightness), exceeds ``K`` times what it is in
   the flattest blocks, the network removed structure, not noise, and the change is scaled down by
   ``min(1, (K q)^2 / energy)`` -- the sRGB guard's Wiener-like rule with its constants ``K``,
   ``QUANTILE``, ``ENERGY_SIGMA``. Heavy noise buries texture: like the sRGB guard, the rule fades out
   between ``FULL_TRUST`` (display-domain noise of the photo's median pixel).

One weight per mosaic cell is applied to all four planes, so the guard never changes colour by itself.
``GRAIN`` = 1/255 is a design value (about the grain of a clean 8-bit photo, below what one sees at 1:1);
the power was chosen on *training-split* synthetic RAW pairs (``python bench/denoise_raw_guard.py``,
8 photos, 512 px): with ``g = GRAIN / s`` the heavy-noise pairs lost 0.16 dB against the network alone
(one moderately noisy photo 1.4 dB), with the square they gain 0.06 dB, and on mild noise (the 30D at ISO
640) the square gave 38.36 dB against 37.33 for the network alone and 37.69 for the input. Figures and the real
CR2 are in ``docs/denoise.md`` ("RAW route: noise-aware"); the acceptance bench reports validation figures.
"""

from __future__ import annotations

import numpy as np

from app.core.color import SRGB_A, SRGB_GAMMA, SRGB_SLOPE, SRGB_T_LIN
from app.core.ops.denoise_guard import ENERGY_SIGMA, FULL_TRUST, QUANTILE, K, _block_stats
from app.core.ops.denoise_noise import RawNoise

#: Luminance weights of the white-balanced planes R, G1, G2, B (Rec. 709 Y, the green split in two).
LUMA = np.array([0.2126, 0.3576, 0.3576, 0.0722], np.float32)
#: Display-domain luminance grain (RMS, [0, 1] units) the guard leaves in place.
GRAIN = 1.0 / 255.0
#: ``g = (GRAIN / s) ** GRAIN_POWER``: how fast the grain left in place falls as the noise rises.
GRAIN_POWER = 2.0
#: LibRaw's automatic brightness maps this percentile of the luminance to white (its 1 % clip).
BRIGHT_PERCENTILE = 99.0


def plane_wb(camera_wb: tuple[float, ...] | None) -> np.ndarray:
    """As-shot multipliers ``(R, G, B, G2)`` (LibRaw's order) -> per plane R, G1, G2, B, green = 1."""
    if not camera_wb or len(camera_wb) < 3 or not all(np.isfinite(camera_wb[:3])) or min(camera_wb[:3]) <= 0:
        return np.ones(4, np.float32)
    r, g, b = (float(v) for v in camera_wb[:3])
    g2 = float(camera_wb[3]) if len(camera_wb) > 3 and camera_wb[3] > 0 else g
    return np.array([r / g, 1.0, g2 / g, b / g], np.float32)


def srgb_slope(v: np.ndarray) -> np.ndarray:
    """d sRGB(v) / dv of the one sRGB curve (:mod:`app.core.color`); above 1, the slope at 1.

    Not 0 above white: the brightness is an estimate (a development may not clip there), and a zero
    slope would keep those pixels' noise whole (it cost 0.05-0.1 dB on the acceptance pairs).
    """
    import cv2  # cv2.pow: several times np.power on float32 (as in app.core.color)

    v = np.clip(np.asarray(v, np.float32), SRGB_T_LIN, 1.0)
    low = v <= SRGB_T_LIN
    slope = cv2.pow(v.reshape(-1, 1), 1.0 / SRGB_GAMMA - 1.0).reshape(v.shape)
    slope *= np.float32((1.0 + SRGB_A) / SRGB_GAMMA)
    slope[low] = SRGB_SLOPE
    return slope


def display_noise(denoised: np.ndarray, noise: RawNoise, wb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(s, sigma)``: per mosaic cell the display-domain luminance noise and its linear-light sigma.

    ``denoised``: ``(4, h, w)`` planes R, G1, G2, B, normalised (0 = black, 1 = white level). Float32
    throughout, in place where it can (a 24-MP mosaic is four 6-MP planes).
    """
    c = (LUMA * wb).astype(np.float64)
    read = float(sum(c[i] ** 2 * noise.read[i] for i in range(4)))
    var = np.full(denoised.shape[1:], read, np.float32)
    lum = np.zeros(denoised.shape[1:], np.float32)
    plane = np.empty_like(lum)
    for i in range(4):
        np.maximum(denoised[i], 0.0, out=plane)
        lum += plane * np.float32(c[i])
        var += plane * np.float32(c[i] ** 2 * noise.shot[i])
    sigma = np.sqrt(var, out=var)
    p = float(np.percentile(lum[::4, ::4], BRIGHT_PERCENTILE)) if lum.size else 1.0
    bright = np.float32(1.0 / max(p, 1e-4))
    lum *= bright
    s = srgb_slope(lum)
    s *= sigma
    s *= bright
    return s, sigma


def _trust(s: np.ndarray) -> float:
    med = float(np.median(s[::4, ::4])) if s.size else 0.0
    return float(np.clip((med - FULL_TRUST[0]) / (FULL_TRUST[1] - FULL_TRUST[0]), 0.0, 1.0))


def change_keep(noisy: np.ndarray, denoised: np.ndarray, noise: RawNoise,
                camera_wb: tuple[float, ...] | None = None, binning: float = 1.0) -> np.ndarray:
    """Per mosaic cell, the share ``(h, w)`` of the network's change the guard keeps (0 = the input).

    ``binning``: sensor samples per sample of a preview's reduced mosaic (``noise`` is already divided for
    it). The grain rule is judged on the full-size photo's noise, so a preview keeps the grain the export
    keeps, scaled down like the rest of it (what you see is what you export).
    """
    import cv2  # lazily: the op module is imported at app start-up

    wb = plane_wb(camera_wb)
    s, sigma = display_noise(denoised, noise, wb)
    if binning > 1.0:
        s *= np.float32(binning ** 0.5)
    t = _trust(s)
    # keep = 1 - min(1, (GRAIN / s)^GRAIN_POWER), in place on s (s > 0: the sRGB slope is never 0)
    keep = np.divide(np.float32(GRAIN), np.maximum(s, np.float32(1e-12), out=s), out=s)
    keep = np.square(keep, out=keep) if GRAIN_POWER == 2.0 else np.power(keep, np.float32(GRAIN_POWER), out=keep)
    np.minimum(keep, 1.0, out=keep)
    np.subtract(1.0, keep, out=keep)
    if t < 1.0:
        c = LUMA * wb
        z = np.zeros_like(sigma)
        diff = np.empty_like(sigma)
        for i in range(4):  # the luminance change, one plane at a time
            np.subtract(denoised[i], noisy[i], out=diff)
            z += diff * np.float32(c[i])
        z /= np.maximum(sigma, np.float32(1e-12), out=sigma)
        rms, _ = _block_stats(z, z)
        if rms.size:
            q = float(np.quantile(rms, QUANTILE))
            energy = cv2.GaussianBlur(np.square(z), (0, 0), ENERGY_SIGMA)
            w = np.divide(np.float32((K * q) ** 2), np.maximum(energy, np.float32(1e-12), out=energy), out=energy)
            np.minimum(w, 1.0, out=w)
            w *= np.float32(1.0 - t)
            w += np.float32(t)
            keep *= w
    return keep


def guard_raw(noisy: np.ndarray, denoised: np.ndarray, noise: RawNoise,
              camera_wb: tuple[float, ...] | None = None, binning: float = 1.0) -> np.ndarray:
    """The noise-aware result, written into ``denoised`` (``(4, h, w)`` float32, planes R, G1, G2, B)."""
    keep = change_keep(noisy, denoised, noise, camera_wb, binning)
    for i in range(4):  # noisy + keep * (denoised - noisy), one plane at a time (no full-size temporaries)
        d = denoised[i]
        d -= noisy[i]
        d *= keep
        d += noisy[i]
    return denoised
