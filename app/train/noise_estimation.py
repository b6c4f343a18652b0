"""Estimating signal-dependent noise ``var = shot * x + read`` from real images.

Two estimators, used by ``python -m app.train.calibrate_noise``:

* :func:`raw_noise_curve` -- one RAW mosaic, no reference. Each colour plane is cut into small
  blocks; per block the local mean and the variance of a residual that cancels smooth image
  content (Immerkaer's 3x3 mask, the outer product of ``[1, -2, 1]``) are measured. Texture only
  ever *adds* variance, so within each intensity bin a low quantile of the block variances is
  taken and de-biased by the same quantile measured on simulated pure noise.
* :func:`pair_noise_curve` -- a noisy/clean pair (PolyU: a shot and the mean of many shots):
  the difference is the noise; a robust (MAD) variance per intensity bin over flat pixels of the
  clean image, where small misalignments between the shots cannot leak edges into the estimate.

:func:`fit_shot_read` then fits the line robustly in relative terms, since variances span decades.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import least_squares

from app.core.isp.noise import NoiseParams, add_noise_np
from app.core.isp.noise_stats import binned_noise_curve, block_stats
from app.core.isp.synthetic_camera import IspParams, process_np, unprocess_np

__all__ = [
    "NoiseCurve",
    "raw_noise_curve",
    "pair_noise_curve",
    "fit_shot_read",
    "fit_pipeline_equivalent",
    "pair_binning",
]



@dataclass
class NoiseCurve:
    """Binned noise measurements: ``var[i]`` at mean level ``mean[i]`` from ``count[i]`` samples."""

    mean: np.ndarray
    var: np.ndarray
    count: np.ndarray

    def to_dict(self, digits: int = 8) -> dict[str, list[float]]:
        return {
            "mean": [round(float(v), digits) for v in self.mean],
            "var": [float(f"{v:.4g}") for v in self.var],
            "count": [int(c) for c in self.count],
        }


def raw_noise_curve(
    packed: np.ndarray,
    *,
    block: int = 8,
    bins: int = 24,
    quantile: float = 0.1,
    clip_level: float = 0.97,
    min_blocks: int = 60,
) -> NoiseCurve:
    """Noise curve of a normalised RAW mosaic from its flattest blocks.

    Args:
        packed: ``(h, w, 4)`` packed RGGB planes, black-subtracted and divided by (white - black).
        block: block side in plane pixels (``2 * block`` sensor pixels).
        bins: number of equal-count intensity bins.
        quantile: quantile of block variances taken as "flat" within each bin.
        clip_level: blocks with any value above this are dropped (clipping kills the noise).
        min_blocks: bins with fewer blocks are dropped.

    Returns:
        A :class:`NoiseCurve` in normalised RAW units, all four planes pooled.
    """
    means, variances = [], []
    for c in range(packed.shape[2]):
        m, v, mx = block_stats(np.ascontiguousarray(packed[..., c], dtype=np.float32), block)
        keep = mx < clip_level
        means.append(m[keep])
        variances.append(v[keep])
    mean, var = np.concatenate(means), np.concatenate(variances)
    out_m, out_v, out_n = binned_noise_curve(mean, var, block=block, bins=bins, quantile=quantile,
                                             min_blocks=min_blocks)
    return NoiseCurve(out_m, out_v, out_n)


def pair_binning(
    ref: np.ndarray, *, bins: int = 20, flat_quantile: float = 0.5, min_pixels: int = 300
) -> list[list[np.ndarray]]:
    """Flat-pixel indices per (channel, intensity bin) of a reference image, for :func:`pair_noise_curve`.

    Computing this once per reference lets many simulated pairs share the same pixels and bins.
    Bins with fewer than ``min_pixels`` flat pixels get an empty index array.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for c in range(ref.shape[2]):
        r = np.ascontiguousarray(ref[..., c], dtype=np.float32)
        smooth = cv2.GaussianBlur(r, (0, 0), 1.5)
        grad = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
        flat = np.flatnonzero(grad.ravel() <= np.quantile(grad, flat_quantile))
        idx = np.clip(np.searchsorted(edges, r.ravel()[flat], side="right") - 1, 0, bins - 1)
        order = np.argsort(idx, kind="stable")
        groups = np.split(flat[order], np.searchsorted(idx[order], np.arange(1, bins)))
        out.append([g if g.size >= min_pixels else g[:0] for g in groups])
    return out


def pair_noise_curve(
    noisy: np.ndarray,
    clean: np.ndarray,
    *,
    ref: np.ndarray | None = None,
    binning: list[list[np.ndarray]] | None = None,
) -> list[NoiseCurve]:
    """Per-channel noise curves from a noisy image and its clean reference (same units).

    Args:
        noisy, clean: ``(H, W, C)`` float arrays; the noise is ``noisy - clean``.
        ref: image whose intensities and flatness choose the pixels and bins (default ``clean``);
            passing the same ``ref`` for a real and a simulated pair makes their bins line up.
        binning: precomputed :func:`pair_binning` of ``ref`` (default bins and thresholds otherwise).

    Returns:
        One :class:`NoiseCurve` per channel with one entry per bin (NaN where a bin is too small):
        robust variance of the noise vs the mean reference level.
    """
    ref = clean if ref is None else ref
    binning = pair_binning(ref) if binning is None else binning
    curves = []
    for c, groups in enumerate(binning):
        diff = noisy[..., c].astype(np.float32) - clean[..., c].astype(np.float32)
        # Remove any residual low-frequency offset (exposure drift between shots) before measuring.
        diff = (diff - cv2.GaussianBlur(diff, (0, 0), 8.0)).ravel()
        r = ref[..., c].ravel()
        ms, vs = np.full(len(groups), np.nan), np.full(len(groups), np.nan)
        ns = np.array([g.size for g in groups])
        for b, g in enumerate(groups):
            if g.size:
                ms[b], vs[b] = float(r[g].mean()), _trimmed_variance(diff[g])
        curves.append(NoiseCurve(ms, vs, ns))
    return curves


def _trimmed_variance(d: np.ndarray) -> float:
    """Variance of the central part of ``d``: robust to misalignment outliers, but -- unlike the
    MAD alone -- still smooth in the noise level when values are quantised to 8 bits."""
    med = float(np.median(d))
    scale = max(1.4826 * float(np.median(np.abs(d - med))), 1.0 / 255.0)
    core = d[np.abs(d - med) <= 5.0 * scale]
    return float(core.var())


def fit_shot_read(
    mean: np.ndarray, var: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Robust fit of ``var = shot * mean + read`` (both >= 0), residuals relative to ``var``.

    Returns:
        ``(shot, read, rms_relative_residual)``.
    """
    mean, var = np.asarray(mean, np.float64), np.asarray(var, np.float64)
    w = np.ones_like(mean) if weights is None else np.sqrt(np.asarray(weights, np.float64) / np.max(weights))
    a0, b0 = np.polyfit(mean, var, 1)
    x0 = np.array([max(a0, 1e-7), max(b0, 1e-9)])
    scale = x0.copy()

    def resid(p: np.ndarray) -> np.ndarray:
        pred = p[0] * scale[0] * mean + p[1] * scale[1]
        return w * (pred - var) / var

    res = least_squares(resid, np.ones(2), bounds=(0.0, np.inf), loss="soft_l1", f_scale=0.1)
    shot, read = res.x * scale
    rel = (shot * mean + read - var) / var
    return float(shot), float(read), float(np.sqrt(np.mean(rel**2)))


def _to8(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, 0.0, 1.0) * 255.0) / 255.0


def _simulated_curves(
    cleans: list[np.ndarray], binnings: list, params: IspParams, shot: float, read: float, seed: int
) -> np.ndarray:
    """Variance per (image, channel, bin) of 8-bit sRGB noise our pipeline makes from (shot, read)."""
    rng = np.random.default_rng(seed)  # common random numbers across calls: smooth in (shot, read)
    out = []
    for clean, binning in zip(cleans, binnings):
        raw = unprocess_np(clean, params)
        sim = _to8(process_np(add_noise_np(raw, NoiseParams(shot, read), rng), params))
        out.extend(
            c.var for c in pair_noise_curve(sim, _to8(process_np(raw, params)), ref=clean, binning=binning)
        )
    return np.concatenate(out)


def fit_pipeline_equivalent(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    params: IspParams,
    *,
    init: tuple[float, float] = (1e-3, 1e-5),
    iterations: int = 3,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(shot, read) that make :func:`~app.core.isp.synthetic_camera.process` reproduce the sRGB noise of pairs.

    The clean image of each pair is unprocessed with ``params``, noise is added in RAW and the
    result processed and quantised to 8 bits; its noise curve is measured exactly like the real
    pair's (same pixels, same bins). sRGB variance is close to linear in (shot, read), so each
    iteration simulates one basis curve per term at the current estimate and solves a 2-term
    non-negative fit in log space; re-linearising at the solution absorbs clipping effects.

    Args:
        pairs: ``(noisy, clean)`` float sRGB ``(H, W, 3)`` images in [0, 1], H and W even.
        params: the (fixed, typically average) camera used for the simulation.

    Returns:
        ``(shot, read, rms_log10_residual)``.
    """
    cleans = [c for _, c in pairs]
    binnings = [pair_binning(c) for c in cleans]
    real = np.concatenate(
        [cv.var for (n, c), b in zip(pairs, binnings) for cv in pair_noise_curve(n, c, binning=b)]
    )
    shot, read = init
    for _ in range(iterations):
        b_shot = _simulated_curves(cleans, binnings, params, shot, 0.0, seed)
        b_read = _simulated_curves(cleans, binnings, params, 0.0, read, seed)
        ok = np.isfinite(real) & np.isfinite(b_shot) & np.isfinite(b_read) & (real > 0)
        v, bs, br = real[ok], b_shot[ok], b_read[ok]

        def resid(p: np.ndarray, v=v, bs=bs, br=br) -> np.ndarray:
            return np.log10(p[0] * bs + p[1] * br + 1e-12) - np.log10(v)

        sol = least_squares(resid, np.ones(2), bounds=(1e-4, 1e4), loss="soft_l1", f_scale=0.1)
        shot, read = shot * sol.x[0], read * sol.x[1]
    return float(shot), float(read), float(np.sqrt(np.mean(sol.fun**2)))
