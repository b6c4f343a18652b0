"""Blur-aware deblurring: apply the network's change as far as the photo measurably needs it, without halos.

DeblurGAN-v2 sharpens whatever it is given: on a sharp photo it adds ringing and false texture (the
issue-20 acceptance bench measured 32.7 dB against the input on clean photos). Two measured limits:

* **Need** (global, 0..1): the photo's own blur, measured by the analysis' estimators on its luma
  (:func:`app.core.measure.estimators.blur_level`: the Gaussian-equivalent edge width and the motion
  streak length of the gradient autocorrelation). A photo whose edges are as narrow as a sharp photo's
  (``SIGMA_RAMP[0]``) and that shows no streak (``MOTION_RAMP[0]``) gets 0, the input; the full result
  from ``SIGMA_RAMP[1]`` or ``MOTION_RAMP[1]``, linear in between (the larger of the two).
* **No overshoot on a nearly sharp photo** (per pixel): a deblurred pixel is pulled towards the minimum /
  maximum of the input's 3x3 neighbourhood (per channel) by ``1 - need``. Sharpening an edge that is
  almost sharp moves values towards its two sides, never past them: what goes past is ringing. A clearly
  blurred photo's thin lines and highlights do end up beyond the blurred range (the blur flattened their
  peaks), so at need 1 there is no clamp: with the full clamp the real GoPro validation pairs lost
  0.12-0.25 dB (27.45 -> 27.25 dB on average; on 10 GoPro *training* windows the clamp changed +0.02 dB).

Ramps set from *training-split* photos (16 clean, 10 synthetic camera-shake pairs, 512-px crops): clean
photos measured edge sigma 0.45-0.87 px and no streak; shaken ones 0.8-1.5 px and streaks of 2-5 px.
The blur is measured on a centre crop of at most ``MEASURE_SIDE`` px (its cost stays ~1 s on any photo).
The preview measures its own (downscaled, so sharper-looking) image: it may show less deblurring than
the full-size export of a slightly blurred photo.
"""

from __future__ import annotations

import numpy as np

SIGMA_RAMP = (0.8, 1.2)
MOTION_RAMP = (1.0, 3.0)
MEASURE_SIDE = 1024
CLAMP_RADIUS = 1
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _ramp(v: float, lo_hi: tuple[float, float]) -> float:
    if not np.isfinite(v):
        return 0.0
    return float(np.clip((v - lo_hi[0]) / (lo_hi[1] - lo_hi[0]), 0.0, 1.0))


def blur_need(rgb: np.ndarray) -> tuple[float, dict[str, float]]:
    """``(need, measures)`` for an ``(H, W, 3)`` sRGB array: 0 = sharp (leave it), 1 = clearly blurred."""
    from app.core.measure.estimators import blur_level, noise_level

    h, w = rgb.shape[:2]
    y0, x0 = max(0, (h - MEASURE_SIDE) // 2), max(0, (w - MEASURE_SIDE) // 2)
    gray = rgb[y0:y0 + MEASURE_SIDE, x0:x0 + MEASURE_SIDE, :3] @ _LUMA
    if min(gray.shape) < 32:  # too small to measure: do what the user asked
        return 1.0, {"sigma": float("nan"), "motion_length": float("nan")}
    noise = noise_level(gray)[0]
    b = blur_level(gray, noise if np.isfinite(noise) else 0.0)
    need = max(_ramp(b["sigma"], SIGMA_RAMP), _ramp(b["motion_length"], MOTION_RAMP))
    return need, {"sigma": float(b["sigma"]), "motion_length": float(b["motion_length"])}


def clamp_to_neighbourhood(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out`` limited per channel to the min/max of ``x``'s (2r+1)^2 neighbourhood, in place; ``(H, W, C)``."""
    import cv2

    k = np.ones((2 * CLAMP_RADIUS + 1,) * 2, np.uint8)
    for c in range(x.shape[2]):
        xc = np.ascontiguousarray(x[..., c])
        np.clip(out[..., c], cv2.erode(xc, k), cv2.dilate(xc, k), out=out[..., c])
    return out
