"""Readings that tell a wrong blind shake kernel from a right one (the failure detector's inputs).

A blind estimate can be badly wrong while looking plausible: the L0 latent follows texture, and the
kernel step then fits a blob or a stray curve. Deconvolving with it costs up to 10 dB. These readings
are measured on the kernel alone and on the deconvolved result against the input; which of them the op
trusts, and at what threshold, was chosen by their ROC on training pairs (``bench/shake_detector.py``).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from app.core.deconv.fftops import kernel_spread
from app.core.isp.tone import srgb_to_linear_np


def kernel_readings(k: np.ndarray) -> dict[str, float]:
    """Shape of a kernel: spread, peak, entropy, blob-ness (support area over a disk of the same RMS
    radius: a thin path reads low, a blob ~2), elongation, mass on the outer 1/11 of the window
    (``border``; 4 px of a 45-px one), connected components."""
    k = np.asarray(k, np.float64)
    k = k / max(k.sum(), 1e-12)
    s = kernel_spread(k)
    support = k > 0.05 * k.max()
    p = k[k > 0]
    yy, xx = np.mgrid[: k.shape[0], : k.shape[1]]
    cy, cx = (k * yy).sum(), (k * xx).sum()
    cov = np.array([[(k * (yy - cy) ** 2).sum(), (k * (yy - cy) * (xx - cx)).sum()],
                    [(k * (yy - cy) * (xx - cx)).sum(), (k * (xx - cx) ** 2).sum()]])
    ev = np.sort(np.linalg.eigvalsh(cov))
    frame = np.ones(k.shape, bool)
    w = max(1, k.shape[0] // 11)  # 4 px for the default 45-px window
    frame[w:-w, w:-w] = False
    return {"spread": s, "peak": float(k.max()), "entropy": float(-(p * np.log(p)).sum()),
            "blob": float(support.sum() / (np.pi * max(s, 0.5) ** 2)),
            "elong": float(np.sqrt(max(ev[1], 1e-6) / max(ev[0], 1e-6))),
            "border": float(k[frame].sum()), "parts": float(ndimage.label(support, np.ones((3, 3)))[1])}


def _luma_lin(srgb: np.ndarray) -> np.ndarray:
    lin = srgb_to_linear_np(np.ascontiguousarray(srgb, np.float32))
    return (lin @ np.array([0.2126, 0.7152, 0.0722], np.float32)) if lin.ndim == 3 else lin


def _grad_mag(x: np.ndarray) -> np.ndarray:
    return np.hypot(cv2.Sobel(x, cv2.CV_32F, 1, 0), cv2.Sobel(x, cv2.CV_32F, 0, 1)) / 8.0


def result_readings(x: np.ndarray, out: np.ndarray, k: np.ndarray, sigma: float) -> dict[str, float]:
    """The deconvolved ``out`` against the input ``x`` (both sRGB (H, W, C) in [0, 1]):

    * ``reblur``: RMS of (out re-blurred by k) - x in linear luminance, over the noise level;
    * ``ring``: mean gradient of out over that of x where the input is flat (lowest 40 % of gradient):
      a right kernel sharpens edges and leaves flat areas flat, a wrong one ripples them;
    * ``tv``: total variation ratio out / x; ``sparsity``: gradient L1/L2 ratio out / x;
    * ``change``: RMS of out - x (sRGB).
    """
    m = max(k.shape) // 2 + 2
    yl, ol = _luma_lin(x), _luma_lin(out)
    re = cv2.filter2D(ol, -1, k[::-1, ::-1].astype(np.float32).copy(), borderType=cv2.BORDER_REFLECT)
    inner = (slice(m, -m), slice(m, -m)) if min(yl.shape) > 4 * m else (slice(None), slice(None))
    lin_sigma = max(sigma, 0.5 / 255) * 0.5  # sRGB noise seen in linear light at mid-grey, roughly
    reblur = float(np.sqrt(np.mean((re - yl)[inner] ** 2)) / lin_sigma)
    ys, os_ = yl[inner], ol[inner]
    gx, go = _grad_mag(ys), _grad_mag(os_)
    flat = gx <= np.quantile(gx, 0.4)
    ring = float(go[flat].mean() / max(gx[flat].mean(), 1e-6))
    tv = float(go.mean() / max(gx.mean(), 1e-9))

    def l1l2(g: np.ndarray) -> float:
        return float(np.abs(g).sum() / max(np.sqrt((g * g).sum()), 1e-9))

    sparsity = l1l2(go) / max(l1l2(gx), 1e-9)
    change = float(np.sqrt(np.mean((out - x) ** 2)))
    return {"reblur": reblur, "ring": ring, "tv": tv, "sparsity": sparsity, "change": change}
