"""Display histograms and clipping masks of 8-bit RGB pictures (what the histogram panel draws).

Computed on a display-sized copy (a pyramid level of at most :data:`MAX_PIXELS`): a histogram needs no
more pixels than that to be exact to the drawn line width, and it stays a few milliseconds so it can
follow every preview render without slowing a slider.
"""

from __future__ import annotations

import numpy as np

#: Pixels a histogram is computed on (larger inputs are strided down).
MAX_PIXELS = 400_000
#: Rec. 709 luma weights on the sRGB-encoded values (what a histogram's "luminance" line shows).
LUMA_WEIGHTS = (0.2126, 0.7152, 0.0722)
#: Clipping thresholds on 8-bit values: shadows at or below, highlights at or above.
SHADOW_MAX, HIGHLIGHT_MIN = 1, 254


def subsample(u8: np.ndarray, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """``u8`` strided evenly so it has at most ``max_pixels`` pixels."""
    h, w = u8.shape[:2]
    step = int(np.ceil(np.sqrt(h * w / max_pixels))) if h * w > max_pixels else 1
    return u8[::step, ::step]


def rgb_histogram(u8: np.ndarray, bins: int = 256) -> np.ndarray:
    """``(4, bins)`` counts of R, G, B and luminance of an ``(H, W, 3)`` uint8 picture (grey: all equal).

    Raises:
        ValueError: not uint8, or not ``(H, W)`` / ``(H, W, 1|3)``; ``bins`` not dividing 256.
    """
    if u8.dtype != np.uint8 or u8.ndim not in (2, 3) or (u8.ndim == 3 and u8.shape[2] not in (1, 3)):
        raise ValueError(f"rgb_histogram needs (H, W[, 1|3]) uint8, got {u8.dtype} {u8.shape}")
    if bins <= 0 or 256 % bins:
        raise ValueError(f"bins must divide 256, got {bins}")
    x = subsample(u8)
    if x.ndim == 2 or x.shape[2] == 1:
        x = np.repeat(x.reshape(x.shape[0], x.shape[1], 1), 3, axis=2)
    shift = 8 - int(np.log2(bins))
    chans = [x[..., c].ravel() >> shift for c in range(3)]
    wr, wg, wb = (round(w * 1024) for w in LUMA_WEIGHTS)
    luma = ((x[..., 0].astype(np.uint32) * wr + x[..., 1].astype(np.uint32) * wg
             + x[..., 2].astype(np.uint32) * wb + 512) >> 10).clip(0, 255).astype(np.uint8)
    chans.append(luma.ravel() >> shift)
    return np.stack([np.bincount(c, minlength=bins)[:bins] for c in chans]).astype(np.int64)


def clipping_masks(u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(shadows, highlights)`` boolean ``(H, W)`` masks: every channel at or below
    :data:`SHADOW_MAX` (crushed to black), any channel at or above :data:`HIGHLIGHT_MIN` (blown)."""
    x = u8 if u8.ndim == 3 else u8[..., None]
    return np.all(x <= SHADOW_MAX, axis=2), np.any(x >= HIGHLIGHT_MIN, axis=2)
