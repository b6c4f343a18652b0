"""Flat-block noise statistics of a plane (Immerkaer's Laplacian-difference residual).

Shared by the denoise op (noise level of the photo being processed) and the calibration in
``app.train.noise_estimation``, so the op and the calibration measure noise the same way.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

#: Cancels locally linear content; its output variance is ``IMMERKAER_GAIN`` x the white-noise variance.
IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
IMMERKAER_GAIN = float((IMMERKAER**2).sum())


def block_stats(plane: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ``block``x``block`` block of a 2-D float32 plane: mean, residual noise variance, max.

    The outermost rows/columns are dropped (the residual is not defined there).
    """
    resid = cv2.filter2D(plane, cv2.CV_32F, IMMERKAER, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    core = plane[1:-1, 1:-1]
    bh, bw = core.shape[0] // block, core.shape[1] // block

    def blocks(a: np.ndarray) -> np.ndarray:
        return a[: bh * block, : bw * block].reshape(bh, block, bw, block).swapaxes(1, 2).reshape(bh * bw, -1)

    b_plane, b_resid = blocks(core), blocks(resid).astype(np.float64)
    return b_plane.mean(axis=1), (b_resid**2).mean(axis=1) / IMMERKAER_GAIN, b_plane.max(axis=1)


@functools.lru_cache(maxsize=8)
def quantile_bias(block: int, quantile: float) -> float:
    """The ``quantile`` of block variances of unit white noise: de-biases a flattest-blocks estimate."""
    noise = np.random.default_rng(1234).standard_normal((1024, 1024)).astype(np.float32)
    _m, var, _x = block_stats(noise, block)
    return float(np.quantile(var, quantile))


def binned_noise_curve(mean: np.ndarray, var: np.ndarray, *, block: int, bins: int, quantile: float,
                       min_blocks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The noise curve from block statistics: per equal-count intensity bin, the median mean and the
    ``quantile`` of the block variances de-biased by :func:`quantile_bias` (texture only adds variance).

    The one binned fit, shared by the denoise op's estimate and the camera calibration.

    Returns:
        ``(means, variances, counts)`` of the bins with at least ``min_blocks`` blocks.
    """
    bias = quantile_bias(block, quantile)
    edges = np.unique(np.quantile(mean, np.linspace(0.0, 1.0, bins + 1)))
    out_m, out_v, out_n = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (mean >= lo) & (mean < hi)
        if sel.sum() < min_blocks:
            continue
        out_m.append(float(np.median(mean[sel])))
        out_v.append(float(np.quantile(var[sel], quantile) / bias))
        out_n.append(int(sel.sum()))
    return np.asarray(out_m), np.asarray(out_v), np.asarray(out_n, np.int64)
