"""Defocus point-spread functions (:func:`psf`), and their radius and shape from the photo's power spectrum.

A disk (or ring) PSF multiplies the spectrum by its transfer function, whose zeros are rings at
frequencies ~0.61/r, 1.12/r, ... cycles/px: the radially averaged power spectrum of a defocused photo
shows dips there, then sinks into the noise floor. Natural photos' spectra fall as ~A f^-beta, so the
spectrum is fitted as  P(f) = A f^-beta |K_r(f)|^2 + N  for a grid of radii, shapes and slopes (A, N by
weighted least squares), and the best fit in the log domain wins. This uses the whole blur profile, not
just edge widths, whose reading scatters by +-30 % between photos and saturates above ~10 px.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from scipy import fft as sfft

TILE = 256
#: first frequency bin used (lower ones carry window leakage and the photo's large-scale layout)
F_LO = 3
SHAPES = ("disk", "ring", "gauss")
RADII = np.round(np.concatenate([[0.0], 1.0 * 1.04 ** np.arange(0, 70)]), 3)  # 0 (sharp), 1 .. ~15 px
BETAS = np.arange(1.2, 3.61, 0.1)


def psf(shape: str, radius: float) -> np.ndarray:
    """A centred, normalised PSF; disk and ring edges are anti-aliased by 8x supersampling."""
    if shape not in SHAPES:
        raise ValueError(f"unknown PSF shape {shape!r}; expected one of {', '.join(SHAPES)}")
    r = max(float(radius), 0.3)
    if shape == "gauss":
        half = int(np.ceil(3 * r))
        g = cv2.getGaussianKernel(2 * half + 1, r).astype(np.float64)
        k = g @ g.T
        return (k / k.sum()).astype(np.float32)
    half = int(np.ceil(r)) + 1
    ss = 8
    n = (2 * half + 1) * ss
    c = (np.arange(n) + 0.5) / ss - (half + 0.5)
    rr = np.hypot(c[:, None], c[None, :])
    k = (rr <= r).astype(np.float64)
    if shape == "ring":
        # brighter rim: weight rises from 0.6 at the centre to 1.4 at the edge
        k *= 0.6 + 0.8 * (rr / r) ** 2
    k = k.reshape(2 * half + 1, ss, 2 * half + 1, ss).sum(axis=(1, 3))
    return (k / k.sum()).astype(np.float32)


def _radial_bins(n: int) -> tuple[np.ndarray, int]:
    fy = sfft.fftfreq(n)[:, None]
    fx = sfft.rfftfreq(n)[None, :]
    b = np.round(np.hypot(fy, fx) * n).astype(int)
    return b, n // 2


def radial_power(gray_lin: np.ndarray, tile: int = TILE, max_tiles: int = 48) -> np.ndarray:
    """Welch estimate (Hann-windowed tiles, half overlap) of the radially averaged power spectrum,
    bins 0 .. tile/2 in units of 1/tile cycles/px. Large photos use an even subset of tiles."""
    g = np.asarray(gray_lin, np.float32)
    if min(g.shape) < tile:
        tile = 1 << int(np.log2(min(g.shape)))
    step = tile // 2
    ys = list(range(0, g.shape[0] - tile + 1, step))
    xs = list(range(0, g.shape[1] - tile + 1, step))
    corners = [(y, x) for y in ys for x in xs]
    if len(corners) > max_tiles:
        corners = [corners[i] for i in np.linspace(0, len(corners) - 1, max_tiles).astype(int)]
    win = np.outer(np.hanning(tile), np.hanning(tile)).astype(np.float32)
    acc = np.zeros((tile, tile // 2 + 1))
    for y, x in corners:
        t = g[y:y + tile, x:x + tile]
        acc += np.abs(sfft.rfft2((t - t.mean()) * win)) ** 2
    b, nb = _radial_bins(tile)
    # rfft halves: interior columns stand for two conjugate coefficients
    wt = np.full(acc.shape, 2.0)
    wt[:, 0] = 1.0
    if tile % 2 == 0:
        wt[:, -1] = 1.0
    keep = b <= nb
    s = np.bincount(b[keep], (acc * wt)[keep], nb + 1)
    c = np.bincount(b[keep], wt[keep], nb + 1)
    return s / np.maximum(c, 1e-9)


@functools.lru_cache(maxsize=512)
def _psf_profile(shape: str, radius: float, tile: int) -> np.ndarray:
    """Radially averaged |OTF|^2 of the PSF on a ``tile`` grid (same bins as :func:`radial_power`)."""
    if radius <= 0:
        return np.ones(tile // 2 + 1)
    k = psf(shape, radius).astype(np.float64)
    pad = np.zeros((tile, tile))
    pad[:k.shape[0], :k.shape[1]] = k
    o = np.abs(sfft.rfft2(pad)) ** 2
    b, nb = _radial_bins(tile)
    keep = b <= nb
    return np.bincount(b[keep], o[keep], nb + 1) / np.maximum(np.bincount(b[keep], minlength=nb + 1), 1)


def fit_radius(gray_lin: np.ndarray, shapes: tuple[str, ...] = ("disk",),
               radii: np.ndarray = RADII, tile: int = TILE) -> dict:
    """Best (shape, radius) for the spectrum of a linear grey photo; radius 0 = no blur fits best.

    Returns ``radius``, ``shape``, ``err`` (RMS log residual of the best fit) and ``err_sharp`` (of the
    best radius-0 fit), so a caller can tell how much a blur explains."""
    p = radial_power(gray_lin, tile)
    tile = 2 * (len(p) - 1)
    f = np.arange(len(p), dtype=np.float64) / tile
    sel = slice(F_LO, len(p) - 1)
    fs, ps = f[sel], np.maximum(p[sel], 1e-30)
    lp = np.log(ps)
    best = {"err": np.inf}
    sharp_err = np.inf
    for shape in shapes:
        for r in radii:
            k2 = _psf_profile(shape, float(r), tile)[sel]
            g = k2[None, :] * fs[None, :] ** -BETAS[:, None]  # (betas, bins)
            # minimise sum(((A g + N - P) / P)^2): 2x2 normal equations per beta, A, N clamped at 0
            u, v = g / ps, 1.0 / ps
            suu, suv, svv = (u * u).sum(1), (u * v[None]).sum(1), (v * v).sum()
            su1, sv1 = u.sum(1), v.sum()
            det = suu * svv - suv * suv
            a = (su1 * svv - suv * sv1) / det
            n = (suu * sv1 - suv * su1) / det
            neg = n < 0
            a = np.where(neg, su1 / suu, a)
            n = np.where(neg, 0.0, n)
            a = np.maximum(a, 1e-30)
            model = a[:, None] * g + n[:, None]
            err = np.sqrt(np.mean((np.log(model) - lp[None]) ** 2, axis=1))
            i = int(np.argmin(err))
            if r == 0:
                sharp_err = min(sharp_err, float(err[i]))
            if err[i] < best["err"]:
                best = {"err": float(err[i]), "radius": float(r), "shape": shape, "beta": float(BETAS[i])}
    best["err_sharp"] = sharp_err
    return best
