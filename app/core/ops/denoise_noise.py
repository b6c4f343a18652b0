"""Where the RAW denoiser's noise level comes from: DNG NoiseProfile, camera calibration, or the image.

The RAW denoiser is told the noise as a per-pixel variance map ``shot * max(x, 0) + read`` per CFA plane
(``x`` normalised between black and white level). :func:`resolve_raw_noise` picks ``(shot, read)`` per
RGGB plane in this order (``source="auto"``):

1. the DNG ``NoiseProfile`` tag: the camera maker's own measurement for this very shot, defined on
   exactly our normalisation (DNG 1.3+, 51041);
2. our calibration (``app/core/isp/noise_calibration.json``) when the camera was measured *in RAW*
   (sRGB-equivalent PolyU entries are a different domain), scaled to the shot's ISO;
3. an estimate from the mosaic itself (:func:`estimate_raw_noise`): flat blocks per intensity bin.

``source`` can force one of them, or ``"manual"`` with the user's ``shot`` / ``read``; ``scale``
multiplies the noise standard deviation the network is told (variance by ``scale**2``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.core.image import Image

__all__ = ["NOISE_SOURCES", "RawNoise", "estimate_raw_noise", "resolve_raw_noise"]

NOISE_SOURCES = ("auto", "profile", "calibration", "estimate", "manual")

_BLOCK = 8
_QUANTILE = 0.1  # flattest 10 % of the blocks of an intensity bin measure the noise
_WINDOW = 256  # estimation reads a grid of windows (plane pixels), not all of a 24-MP mosaic
_MAX_WINDOWS = 64


@dataclass(frozen=True)
class RawNoise:
    """Noise of a mosaic: per RGGB plane ``var = shot[i] * x + read[i]``; ``source`` says where it came from."""

    shot: tuple[float, float, float, float]
    read: tuple[float, float, float, float]
    source: str

    def scaled(self, scale: float) -> RawNoise:
        s2 = float(scale) ** 2
        tag = self.source if scale == 1.0 else f"{self.source} x{scale:g}"
        return RawNoise(tuple(s * s2 for s in self.shot), tuple(r * s2 for r in self.read), tag)  # type: ignore[arg-type]

    def variance(self, packed: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``(h, w, 4)`` packed mosaic -> its ``(h, w, 4)`` float32 variance map (``out`` may be given)."""
        out = np.maximum(packed, 0.0, out=out, dtype=np.float32)
        out *= np.asarray(self.shot, np.float32)
        out += np.asarray(self.read, np.float32)
        return out


def _four(pairs: tuple[tuple[float, float], ...]) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """DNG NoiseProfile pairs -> per-RGGB-plane (shot, read); one pair = all planes, three = R, G, B."""
    if len(pairs) == 1:
        pairs = pairs * 4
    elif len(pairs) == 3:
        pairs = (pairs[0], pairs[1], pairs[1], pairs[2])
    elif len(pairs) != 4:
        return None
    shot, read = tuple(float(p[0]) for p in pairs), tuple(float(p[1]) for p in pairs)
    if not all(math.isfinite(v) and v >= 0 for v in shot + read) or not any(shot + read):
        return None
    return shot, read


def _from_profile(image: Image) -> RawNoise | None:
    prof = image.raw.noise_profile if image.raw is not None else None
    planes = _four(prof) if prof else None
    return RawNoise(*planes, "DNG NoiseProfile") if planes else None  # type: ignore[arg-type]


def _from_calibration(image: Image) -> RawNoise | None:
    from app.core.isp.noise import calibrated_noise_params, load_calibration

    camera = " ".join(s for s in (image.meta.camera_make, image.meta.camera_model) if s)
    p = calibrated_noise_params(camera or None, image.meta.iso)
    entry = load_calibration()["cameras"].get(p.camera, {})
    # Only RAW-domain measurements of this very camera; "generic" is a guess, PolyU entries are sRGB.
    if p.camera == "generic" or entry.get("domain") != "raw":
        return None
    iso = f" at ISO {p.iso:g}" if p.iso else ""
    guess = " (shot ISO unknown: calibration ISO)" if entry.get("iso") and not image.meta.iso else ""
    return RawNoise((p.shot,) * 4, (p.read,) * 4, f"calibration: {p.camera}{iso}{guess}")


def _windows(h: int, w: int) -> list[tuple[int, int, int, int]]:
    """An evenly spread grid of at most ``_MAX_WINDOWS`` windows covering the plane."""
    win_h, win_w = min(h, _WINDOW), min(w, _WINDOW)
    ny, nx = max(1, h // win_h), max(1, w // win_w)
    while ny * nx > _MAX_WINDOWS:
        ny, nx = max(1, ny - (ny >= nx)), max(1, nx - (nx > ny))
    ys = np.linspace(0, h - win_h, ny).astype(int)
    xs = np.linspace(0, w - win_w, nx).astype(int)
    return [(int(y), int(x), win_h, win_w) for y in ys for x in xs]


def estimate_raw_noise(packed: np.ndarray, *, bins: int = 16, clip_level: float = 0.97) -> RawNoise | None:
    """Estimate ``(shot, read)`` from a normalised ``(h, w, 4)`` packed mosaic, planes pooled.

    Blocks of each plane give (mean, residual variance); texture only adds variance, so per equal-count
    intensity bin a low quantile, de-biased on simulated white noise, measures the noise; a weighted
    least-squares line through the bins gives shot (slope) and read (intercept), both >= 0.

    Returns:
        The estimate, or None when the image has too few flat, unclipped blocks (e.g. tiny images).
    """
    from app.core.isp.noise_stats import binned_noise_curve, block_stats  # app.core.isp imports torch
    means, variances = [], []
    h, w = packed.shape[:2]
    if min(h, w) < _BLOCK + 2:  # not one whole block inside the filter's border
        return None
    for y, x, wh, ww in _windows(h, w):
        for c in range(4):
            plane = np.ascontiguousarray(packed[y : y + wh, x : x + ww, c], dtype=np.float32)
            m, v, mx = block_stats(plane, _BLOCK)
            keep = mx < clip_level
            means.append(m[keep])
            variances.append(v[keep])
    mean, var = np.concatenate(means), np.concatenate(variances)
    if mean.size < 200:
        return None
    xm, vv, counts = binned_noise_curve(mean, var, block=_BLOCK, bins=bins, quantile=_QUANTILE, min_blocks=30)
    if len(xm) < 2:
        return None
    from scipy.optimize import nnls

    # Relative residuals: variances span decades, so absolute ones would ignore the dark bins.
    wts = np.sqrt(counts.astype(np.float64)) / np.maximum(vv, 1e-12)
    (shot, read), _ = nnls(np.stack([np.maximum(xm, 0.0), np.ones_like(xm)], 1) * wts[:, None], vv * wts)
    if shot <= 0 and read <= 0:
        return None
    return RawNoise((float(shot),) * 4, (float(read),) * 4, "estimated from the image")


def resolve_raw_noise(image: Image, packed: np.ndarray, *, source: str = "auto", scale: float = 1.0,
                      shot: float = 0.0, read: float = 0.0) -> RawNoise:
    """The noise level the RAW denoiser is told for ``image`` (see the module doc for the order).

    Args:
        image: the BAYER image (its ``raw.noise_profile`` and ISO / camera metadata are read).
        packed: its ``(h, w, 4)`` packed mosaic (for the estimate).
        source: one of :data:`NOISE_SOURCES`.
        scale: multiplies the noise standard deviation.
        shot, read: the ``"manual"`` level.

    Raises:
        ValueError: a forced source is not available for this image (the message says why).
    """
    if source not in NOISE_SOURCES:
        raise ValueError(f"noise source {source!r} is not one of {', '.join(NOISE_SOURCES)}")
    if source == "manual":
        if shot <= 0 and read <= 0:
            raise ValueError("manual noise level: set shot and/or read above 0")
        found: RawNoise | None = RawNoise((shot,) * 4, (read,) * 4, "manual")  # type: ignore[arg-type]
    else:
        finders = {"profile": _from_profile, "calibration": _from_calibration,
                   "estimate": lambda _img: estimate_raw_noise(packed)}
        order = list(finders) if source == "auto" else [source]
        found = next((r for r in (finders[k](image) for k in order) if r is not None), None)
        if found is None:
            why = {"profile": "the file has no DNG NoiseProfile",
                   "calibration": "this camera has no RAW noise calibration",
                   "estimate": "too few flat areas to estimate the noise",
                   "auto": "no NoiseProfile, no calibration for this camera, and too few flat areas to "
                           "estimate it; set the noise level manually"}[source]
            raise ValueError(f"cannot determine the noise level: {why}")
    # A preview's reduced mosaic averages ``binning`` sensor samples per sample: a level that describes the
    # full-size sensor (profile, calibration, manual) is that many times too high for it; an estimate
    # measured on the reduced mosaic is already right.
    binning = float(image.raw.extra.get("binning", 1.0)) if image.raw is not None else 1.0
    if binning > 1.0 and not found.source.startswith("estimated"):
        return found.scaled(scale / binning ** 0.5)
    return found.scaled(scale)
