"""Colour fidelity against a reference: saturation kept and chroma error, in CIELAB.

PSNR barely moves when a restoration washes colours out (a 15 % chroma loss costs ~0.1 dB on SICE), so
the quality benchmark also reports, per pair:

* ``chroma_ratio``: mean Lab chroma ``C* = hypot(a*, b*)`` of the output over the reference's. Below 1 is
  desaturated, above 1 oversaturated.
* ``delta_ab``: mean Euclidean distance in the (a*, b*) plane, lightness ignored (casts and hue shifts).

Near-black reference pixels (``L* <= 15``) are left out: their chroma is noise and JPEG rounding.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["colour_stats", "to_lab"]

#: reference pixels darker than this L* carry no reliable colour
MIN_LIGHTNESS = 15.0


def to_lab(img: np.ndarray) -> np.ndarray:
    """sRGB ``(H, W, 3)`` float in [0, 1] (values outside are clipped) -> CIELAB (D65), float32."""
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {img.shape}")
    return cv2.cvtColor(np.ascontiguousarray(np.clip(img[..., :3], 0, 1), dtype=np.float32), cv2.COLOR_RGB2Lab)


def colour_stats(out: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """``{"chroma_ratio", "delta_ab"}`` of ``out`` against ``ref`` (see the module docstring).

    Returns NaNs when the reference has no pixel brighter than ``MIN_LIGHTNESS`` or no chroma at all.
    """
    if out.shape[:2] != ref.shape[:2]:
        raise ValueError(f"images differ in size: {out.shape[:2]} vs {ref.shape[:2]}")
    a, b = to_lab(out), to_lab(ref)
    mask = b[..., 0] > MIN_LIGHTNESS
    if not mask.any():
        return {"chroma_ratio": float("nan"), "delta_ab": float("nan")}
    ca = np.hypot(a[..., 1], a[..., 2])[mask].mean(dtype=np.float64)
    cb = np.hypot(b[..., 1], b[..., 2])[mask].mean(dtype=np.float64)
    dab = np.hypot(a[..., 1] - b[..., 1], a[..., 2] - b[..., 2])[mask].mean(dtype=np.float64)
    return {"chroma_ratio": float(ca / cb) if cb > 1e-6 else float("nan"), "delta_ab": float(dab)}
