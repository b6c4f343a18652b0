"""Low-level degradation estimators on float arrays (the parts :mod:`analysis` assembles).

Every function takes float arrays in [0, 1] and returns plain numbers; thresholds and the decision
of what is "noisy" or "dark" live in :mod:`app.core.metrics.analysis`. Validation against
synthesised degradations of known level: ``bench/estimators.py`` (table) and
``tests/core/metrics/test_metrics_analysis.py`` (error bounds).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage
from scipy.fft import next_fast_len

from app.core import color

# Immerkaer's noise kernel: the difference of two Laplacians cancels smooth image structure; divided
# by 6, its output has exactly the standard deviation of additive white noise.
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64) / 6.0
NOISE_BLOCK = 8
NOISE_QUANTILE = 0.05
# The main noise figure uses Immerkaer's 3x3 high-pass: texture barely passes it, so the flattest
# blocks measure noise even in busy photos. It sees only the pixel-to-pixel part of the noise,
# though: demosaiced or in-camera-filtered noise reads 2-5x low. The RMS of each block around its
# best-fit plane keeps every noise frequency above ~1/8 cycle/px but also more texture; it is
# reported as ``coarse``, an upper bound of the per-pixel noise (validated on white noise only).
_YY, _XX = np.mgrid[:NOISE_BLOCK, :NOISE_BLOCK]
_A = np.stack([np.ones(NOISE_BLOCK**2), _XX.ravel() - 3.5, _YY.ravel() - 3.5], axis=1)
_PLANE_RESIDUAL = np.eye(NOISE_BLOCK**2) - _A @ np.linalg.pinv(_A)
# 5th percentiles of the block RMS of pure white noise relative to its sigma (Immerkaer residual,
# plane residual; simulated with 8M samples, checked by test_metrics_analysis). Dividing by them
# makes the low-quantile estimates unbiased on flat regions; texture can only push them up.
NOISE_QUANTILE_CORRECTION = 0.7460
COARSE_QUANTILE_CORRECTION = 0.8290
INTENSITY_BINS = np.linspace(0.0, 1.0, 9)
QUANTISATION_FLOOR = 0.29 / 255.0
MIN_BLOCKS_PER_BIN = 40
#: The Sobel-ratio blur estimate reads about 17 % low on synthetic Gaussian blur (edge selection
#: favours the steepest profiles). Set from 40 *train-split* clean photos x sigma 1-4 (median ratio
#: 0.834, 512 px crops); bench/estimators.py validates it on the validation-split photos.
BLUR_CALIBRATION = 1.20
#: Motion length = 2 sqrt(w^2 - w_perp^2) reads 1.11 L along the axes and 0.77 L along diagonals
#: (photos' gradients are elongated along the axes, which narrows diagonal autocorrelations). Set
#: from 16 train-split photos x L 9-21 x 4 angles; validated on validation-split photos.
MOTION_CALIBRATION = (1 / 1.11, 1 / 0.77)


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an ``(H, W, 3)`` image (SICE's ``mean_luma`` convention); 2-D passes through."""
    if rgb.ndim == 2:
        return rgb.astype(np.float64)
    if rgb.shape[2] == 1:
        return rgb[..., 0].astype(np.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """sRGB -> linear of ``x`` clipped to [0, 1] (the one curve in :mod:`app.core.color`)."""
    return color.srgb_to_linear(np.clip(x, 0.0, 1.0, dtype=np.float32))


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Linear -> sRGB of ``x`` clipped to [0, 1]."""
    return color.linear_to_srgb(np.clip(x, 0.0, 1.0, dtype=np.float32))


def _blocks(x: np.ndarray, b: int) -> np.ndarray:
    h, w = (x.shape[0] // b) * b, (x.shape[1] // b) * b
    return x[:h, :w].reshape(h // b, b, w // b, b).swapaxes(1, 2).reshape(-1, b * b)


def noise_blocks(channel: np.ndarray, lo: float = 0.0, hi: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 8x8 block of one channel: mean intensity, Immerkaer residual RMS, RMS around a best-fit plane.

    Blocks touching ``lo`` or ``hi`` are dropped: clipping removes noise there and would bias the
    estimate low. So are blocks whose residual is below the 8-bit quantisation floor (0.29/255):
    in dark or JPEG-smoothed areas they are flat by quantisation and say nothing about the noise.
    """
    x = np.asarray(channel, dtype=np.float64)
    r = cv2.filter2D(x, cv2.CV_64F, _IMMERKAER, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    xb = _blocks(x[1:-1, 1:-1], NOISE_BLOCK)
    plane = np.sqrt(np.mean((xb @ _PLANE_RESIDUAL) ** 2, axis=1))
    fine = np.sqrt(np.mean(_blocks(r, NOISE_BLOCK) ** 2, axis=1))
    ok = (xb.min(axis=1) > lo) & (xb.max(axis=1) < hi) & (plane > QUANTISATION_FLOOR)
    return xb[ok].mean(axis=1), fine[ok], plane[ok]


def _low_quantile_sigma(rms: np.ndarray, correction: float = NOISE_QUANTILE_CORRECTION) -> float:
    return float(np.quantile(rms, NOISE_QUANTILE) / correction)


Curve = list[tuple[float, float, int]]


def noise_level(channel: np.ndarray, lo: float = 0.0) -> tuple[float, Curve, float]:
    """Noise standard deviation of one channel: overall, per intensity bin, and a coarse upper bound.

    The flattest blocks (5th percentile of block RMS) measure the noise, so texture is mostly
    ignored. Overall, that picks the flattest regions of the whole image (on train-split photos this
    beat weighting per-bin figures, whose bins in textured tones read high); for signal-dependent
    noise it is the noise of those regions, and the per-bin curve shows the intensity dependence.

    Args:
        channel: ``(H, W)`` float array in [0, 1].
        lo: values at or below this count as clipped (-inf for RAW data that keeps negative noise).

    Returns:
        ``(sigma, curve, coarse)``: the pixel-to-pixel noise std on the [0, 1] scale (NaN if no
        usable block); per bin with enough blocks ``(mean intensity of the bin, sigma, number of
        blocks)``; and ``coarse``, the block-RMS figure that also counts spatially correlated
        (blotchy) noise from demosaicing, in-camera noise reduction or JPEG, and more texture.
    """
    means, rms, coarse = noise_blocks(channel, lo=lo)
    if len(rms) == 0:
        return float("nan"), [], float("nan")
    idx = np.clip(np.digitize(means, INTENSITY_BINS) - 1, 0, len(INTENSITY_BINS) - 2)
    curve = []
    for k in range(len(INTENSITY_BINS) - 1):
        sel = rms[idx == k]
        if len(sel) >= MIN_BLOCKS_PER_BIN:
            curve.append((float(np.mean(means[idx == k])), _low_quantile_sigma(sel), int(len(sel))))
    return _low_quantile_sigma(rms), curve, _low_quantile_sigma(coarse, COARSE_QUANTILE_CORRECTION)


def fit_noise_model(points: list[tuple[float, float, int]]) -> tuple[float, float] | None:
    """Least-squares ``var = a * x + b`` (a, b >= 0) through (intensity, sigma, weight) points.

    In linear RAW data ``a`` and ``b`` are the shot and read noise parameters of the camera.
    """
    if len(points) < 2:
        return None
    from scipy.optimize import nnls

    x = np.array([p[0] for p in points])
    v = np.array([p[1] ** 2 for p in points])
    w = np.sqrt(np.array([p[2] for p in points], np.float64))
    (a, b), _ = nnls(np.stack([x, np.ones_like(x)], axis=1) * w[:, None], v * w)
    return float(a), float(b)


def _sobel(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gx = cv2.Sobel(x, cv2.CV_64F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(x, cv2.CV_64F, 0, 1, ksize=3) / 8.0
    return np.hypot(gx, gy), np.arctan2(gy, gx)


def _ratio_sigma(g: np.ndarray, m: np.ndarray, sel: np.ndarray, s0: float) -> np.ndarray:
    # Zhuo & Sim (2011): re-blurring a Gaussian edge of scale s by s0 divides its peak gradient by
    # R = sqrt(s^2 + s0^2) / s, hence s = s0 / sqrt(R^2 - 1).
    m1, _ = _sobel(cv2.GaussianBlur(g, (0, 0), s0))
    r = m[sel] / np.maximum(m1[sel], 1e-12)
    r = np.maximum(r, 1.0 + 1e-6)
    return s0 / np.sqrt(r * r - 1.0)


def _half_width(acc: np.ndarray, ang: float, max_lag: int) -> float:
    """First lag (px) along ``ang`` where a centred, normalised autocorrelation drops below 0.5."""
    cy, cx = acc.shape[0] // 2, acc.shape[1] // 2
    lags = np.arange(0.0, max_lag, 0.25)
    c, s = np.cos(np.radians(ang)), np.sin(np.radians(ang))
    prof = ndimage.map_coordinates(acc, [cy - s * lags, cx + c * lags], order=1)
    below = np.nonzero(prof < 0.5)[0]
    return float(lags[below[0]]) if len(below) else float(max_lag)


def acorr_widths(gray: np.ndarray, noise_sigma: float = 0.0, max_lag: int = 48) -> dict[str, np.ndarray]:
    """Half-widths (px) of derivative autocorrelations along 0, 45, 90 and 135 degrees.

    Two flavours, both sampled along each direction (counter-clockwise from +x, y up):

    * ``directional``: the derivative is taken *along* the direction. Long straight edges parallel
      to it (a horizon, JPEG block rows) have no derivative along it, so only blur along the
      direction widens it: a robust detector of *which* way the camera moved, but its width grows
      only like sqrt(L) (it mixes in the image's own autocorrelation).
    * ``gradient``: both derivatives together. Motion of length L convolves them with a box along
      the motion, so the width grows linearly (~L/2) and gives the *length*; long straight edges
      widen it too, which is why motion is only declared when ``directional`` agrees.

    The white-noise share of the zero lag (forward differences: 2 sigma^2 per axis, 1 or 3 sigma^2
    along the diagonals) is removed so noise does not read as sharpness.
    """
    g = np.asarray(gray, np.float64)
    g = g - g.mean()
    # Hann window: no wrap-around edges from the FFT's periodicity.
    win = np.outer(np.hanning(g.shape[0]), np.hanning(g.shape[1]))[:-1, :-1]
    # Zero-padding by max_lag keeps circular wrap-around out of the lags we read; fast FFT sizes.
    shape = tuple(next_fast_len(n - 1 + max_lag, real=True) for n in g.shape)
    fx = np.fft.rfft2((g[:-1, 1:] - g[:-1, :-1]) * win, s=shape)
    fy = np.fft.rfft2((g[1:, :-1] - g[:-1, :-1]) * win, s=shape)
    w2 = np.sum(win * win)

    def centred(power: np.ndarray, noise_gain: float) -> np.ndarray:
        acc = np.fft.irfft2(power, s=shape)
        acc[0, 0] -= noise_gain * noise_sigma**2 * w2
        return np.fft.fftshift(acc) / max(acc[0, 0], 1e-12)

    grad = centred(np.abs(fx) ** 2 + np.abs(fy) ** 2, 4.0)
    directional, gradient = [], []
    for ang, noise_gain in ((0.0, 2.0), (45.0, 1.0), (90.0, 2.0), (135.0, 3.0)):
        c, s = np.cos(np.radians(ang)), np.sin(np.radians(ang))
        f = c * fx - s * fy  # derivative along (cos, -sin) in (column, row) coordinates
        directional.append(_half_width(centred(np.abs(f) ** 2, noise_gain), ang, max_lag))
        gradient.append(_half_width(grad, ang, max_lag))
    return {"directional": np.array(directional), "gradient": np.array(gradient)}


def _noise_gradient_floor(noise_sigma: float, pre: float) -> float:
    """99.9th percentile of the gradient magnitude that white noise alone produces (same filters)."""
    if noise_sigma <= 0:
        return 0.0
    n = np.random.default_rng(0).normal(0.0, noise_sigma, (160, 160))
    if pre > 0:
        n = cv2.GaussianBlur(n, (0, 0), pre)
    return float(np.quantile(_sobel(n)[0][16:-16, 16:-16], 0.999))


def blur_level(gray: np.ndarray, noise_sigma: float = 0.0) -> dict[str, float]:
    """Gaussian-equivalent edge blur in pixels and the anisotropy that betrays camera motion.

    Args:
        gray: ``(H, W)`` luma in [0, 1].
        noise_sigma: estimated noise of ``gray``; above ~1.5/255 the image is pre-smoothed and the
            pre-smoothing is subtracted in quadrature, so noise does not read as sharpness.

    Returns:
        dict with ``sigma`` (median edge blur over edges of all directions), ``widths`` (directional
        derivative autocorrelation half-widths along 0/45/90/135 deg, see :func:`acorr_widths`),
        ``anisotropy`` (widest / perpendicular), ``motion_angle`` (the widest direction, deg
        counter-clockwise from horizontal), ``motion_length`` (2 * sqrt(w^2 - w_perp^2) of the
        gradient autocorrelation along that direction, px), ``laplacian_var`` and ``edges``.
    """
    g = np.asarray(gray, dtype=np.float64)
    lap = float(cv2.Laplacian(g, cv2.CV_64F).var())
    w = acorr_widths(g, noise_sigma)
    wd, wg = w["directional"], w["gradient"]
    k = int(np.argmax(wd))
    length = 2.0 * np.sqrt(max(wg[k] ** 2 - wg[(k + 2) % 4] ** 2, 0.0)) * MOTION_CALIBRATION[k % 2]
    out = {"sigma": float("nan"), "widths": [float(v) for v in wd],
           "anisotropy": float(wd[k] / max(wd[(k + 2) % 4], 0.5)), "motion_length": float(length),
           "motion_angle": float(k * 45.0), "laplacian_var": lap, "edges": 0}
    pre = 0.0
    if noise_sigma > 1.5 / 255:
        pre = 1.0 if noise_sigma < 8 / 255 else 1.5
        g = cv2.GaussianBlur(g, (0, 0), pre)
    m, theta = _sobel(g)
    dbin = np.mod(np.round(np.mod(np.degrees(theta), 180.0) / 45.0), 4).astype(int)
    # Edge pixels: 3x3 gradient maxima well above noise, the strongest 10 % of each direction so
    # that no orientation dominates the median.
    maxima = m >= cv2.dilate(m, np.ones((3, 3), np.uint8))
    maxima[:4, :] = maxima[-4:, :] = False
    maxima[:, :4] = maxima[:, -4:] = False
    # Low-contrast images may have too few edges above the noise: retry with the bare floor.
    for floor in (max(_noise_gradient_floor(noise_sigma, pre), 2e-3), 2e-3):
        peak = maxima & (m > floor)
        sel = np.zeros_like(peak)
        for d in range(4):
            cand = peak & (dbin == d)
            if cand.sum() >= 10:
                sel |= cand & (m >= np.quantile(m[cand], 0.9))
        out["edges"] = n = int(sel.sum())
        if n >= 20:
            break
    else:
        return out
    first = float(np.median(_ratio_sigma(g, m, sel, 1.0)))
    # Re-blur at about the edge's own scale: the ratio is least sensitive there.
    s = _ratio_sigma(g, m, sel, max(1.0, first)) * BLUR_CALIBRATION
    out["sigma"] = float(np.median(np.sqrt(np.maximum(s * s - pre * pre, 0.0))))
    return out


def exposure_stats(rgb: np.ndarray) -> dict[str, float]:
    """Brightness statistics of an sRGB image.

    Returns:
        ``mean_luma`` (0-255, BT.601, as in SICE's sequences.csv), luma percentiles ``p01``,
        ``p50``, ``p99`` (0-1), ``clipped_dark`` / ``clipped_bright`` (fraction of pixels with all
        channels <= 1/255, or any channel >= 254/255), ``key`` (log-average linear luminance,
        Reinhard's scene key) and ``ev_to_mid``: stops of linear gain that bring the key to 0.18.
    """
    x = np.asarray(rgb, dtype=np.float64)
    if x.ndim == 2:
        x = x[..., None]
    y = luma(x) if x.shape[2] == 3 else x[..., 0]
    p01, p50, p99 = np.quantile(y, [0.01, 0.5, 0.99])
    lin = srgb_to_linear(x)
    lum = lin[..., 0] if x.shape[2] != 3 else lin @ np.array([0.2126, 0.7152, 0.0722])
    # eps at about the linear value of sRGB code 1: keeps black pixels from dominating the log.
    key = float(np.exp(np.mean(np.log(lum + 3e-4))))
    return {"mean_luma": float(y.mean() * 255.0), "p01": float(p01), "p50": float(p50), "p99": float(p99),
            "clipped_dark": float(np.mean(np.all(x <= 1 / 255, axis=2))),
            "clipped_bright": float(np.mean(np.any(x >= 254 / 255, axis=2))),
            "key": key, "ev_to_mid": float(np.log2(0.18 / max(key, 1e-6)))}


def _offset_profile(d: np.ndarray) -> np.ndarray:
    n = (len(d) // 8) * 8
    return d[:n].reshape(-1, 8).mean(axis=0)


def jpeg_blockiness(gray: np.ndarray) -> tuple[float, tuple[int, int]]:
    """8x8 block-boundary discontinuity ratio of a luma image.

    Mean absolute neighbour differences across each of the 8 column (row) phases are compared; the
    phase whose differences stand out most is taken as the JPEG grid (crops shift it). The result is
    the mean of the horizontal and vertical ratios (boundary / other phases): ~1.0-1.15 for images
    without JPEG history, rising as quality drops (about 1.4 at q=50, 2.4 at q=10).

    Returns:
        ``(ratio, (row phase, column phase))``; a phase ``p`` means block edges lie between pixels
        ``p`` and ``p + 1`` (mod 8). ``(1.0, (0, 0))`` for images smaller than 16 px.
    """
    g = np.asarray(gray, dtype=np.float64) * 255.0
    if min(g.shape) < 16:
        return 1.0, (0, 0)
    ph = _offset_profile(np.abs(np.diff(g, axis=1)).mean(axis=0))
    pv = _offset_profile(np.abs(np.diff(g, axis=0)).mean(axis=1))

    def ratios(p: np.ndarray) -> np.ndarray:
        return p / np.maximum((p.sum() - p) / 7.0, 1e-9)

    rh, rv = ratios(ph), ratios(pv)
    ox, oy = int(np.argmax(rh)), int(np.argmax(rv))
    return float(0.5 * (rh[ox] + rv[oy])), (oy, ox)
