"""Out-of-focus blur: parametric point-spread functions and their radius, estimated from edges.

A defocused lens spreads a point into its aperture's image: a disk (``disk``), often with a brighter rim
from spherical aberration (``ring``, the "onion" bokeh of many lenses), or, once diffraction and
aberrations mix, something Gaussian-like (``gauss``). The radius comes from the edges' Gaussian-equivalent
width (Zhuo & Sim 2011, :func:`app.core.measure.estimators.blur_level`): a disk of radius r has a per-axis
standard deviation of r/2, but real edges are not ideal steps, so the reading is mapped to a radius by a
table measured on training-split photos (:data:`CAL_SIGMA`). :func:`defocus_map` does the same per cell
where focus varies across the frame.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from app.core.measure.estimators import _ratio_sigma, _sobel, blur_level

SHAPES = ("disk", "ring", "gauss")
#: Edge width that estimators.blur_level reads (median over 20 training-split photos, 1/255 noise) for a
#: PSF of each radius: sharp photos read ~0.77 px. Inverting this table turns a reading into a radius;
#: the readings saturate above ~10 px and scatter by +-30 % between photos (bench/deblur_classic.py).
CAL_RADII = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0])
CAL_SIGMA = {
    "disk": np.array([0.766, 0.991, 1.369, 1.687, 1.918, 2.124, 2.42, 3.019, 3.664, 3.799]),
    "ring": np.array([0.77, 1.038, 1.382, 1.576, 1.704, 1.849, 2.009, 2.435, 2.754, 2.989]),
}


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


def sigma_to_radius(sigma: float, shape: str) -> float:
    """Radius of ``shape`` whose blur of a typical photo reads ``sigma`` (see :data:`CAL_SIGMA`).

    ``gauss`` (not tabulated): the reading is already a Gaussian width; the photo's own is removed in
    quadrature."""
    if shape == "gauss":
        return float(np.sqrt(max(sigma * sigma - CAL_SIGMA["disk"][0] ** 2, 0.0)))
    return float(np.interp(sigma, CAL_SIGMA[shape], CAL_RADII))


def estimate_radius(gray: np.ndarray, noise_sigma: float, shape: str = "disk") -> tuple[float, int]:
    """Global radius (px) from the median edge width, and the number of edges it rests on."""
    info = blur_level(gray, noise_sigma)
    if not np.isfinite(info["sigma"]):
        return 0.0, int(info["edges"])
    return sigma_to_radius(info["sigma"], shape), int(info["edges"])


def defocus_map(gray: np.ndarray, shape: str = "disk", cell: int = 64) -> np.ndarray:
    """Per-cell radius (px) from the edges in each cell; cells without edges take their neighbours'.

    Returns an ``(H // cell + 1, W // cell + 1)``-ish grid (the caller resizes it smoothly).
    """
    g = np.asarray(gray, np.float64)
    m, _ = _sobel(g)
    maxima = (m >= cv2.dilate(m, np.ones((3, 3), np.uint8))) & (m > max(0.02, np.quantile(m, 0.9)))
    maxima[:4] = maxima[-4:] = False
    maxima[:, :4] = maxima[:, -4:] = False
    s = np.full(m.shape, np.nan)
    s[maxima] = _ratio_sigma(g, m, maxima, 1.0) * 1.2  # the estimators' edge calibration
    gh, gw = -(-g.shape[0] // cell), -(-g.shape[1] // cell)
    grid = np.full((gh, gw), np.nan)
    for i in range(gh):
        for j in range(gw):
            v = s[i * cell:(i + 1) * cell, j * cell:(j + 1) * cell]
            v = v[np.isfinite(v)]
            if v.size >= 8:
                grid[i, j] = sigma_to_radius(float(np.median(v)), shape)
    if np.isnan(grid).all():
        return np.zeros_like(grid)
    # fill empty cells by repeated neighbour averaging (flat areas carry no focus cue)
    while np.isnan(grid).any():
        pad = np.pad(grid, 1, constant_values=np.nan)
        nb = np.stack([pad[:-2, 1:-1], pad[2:, 1:-1], pad[1:-1, :-2], pad[1:-1, 2:]])
        with warnings.catch_warnings():  # all-empty neighbourhoods stay NaN until a later pass
            warnings.simplefilter("ignore", RuntimeWarning)
            fill = np.nanmean(nb, axis=0)
        grid = np.where(np.isnan(grid), fill, grid)
    return cv2.medianBlur(grid.astype(np.float32), 3) if min(grid.shape) >= 3 else grid.astype(np.float32)


#: Below this radius (px) the photo (or region) counts as in focus and is left alone.
MIN_RADIUS = 1.5


def reduce_defocus(srgb: np.ndarray, *, shape: str, radius: float, lam: float, use_map: bool,
                   check=None, progress=None) -> tuple[np.ndarray, dict]:
    """Deconvolve ``srgb`` by a ``shape`` PSF: one radius (``radius`` > 0 or estimated), or a per-pixel
    radius from :func:`defocus_map`, done as a few deconvolutions at quantised radii blended per pixel.
    Where the radius is under :data:`MIN_RADIUS` the input is kept (the in-focus subject)."""
    from app.core.deconv.nonblind import deconvolve_srgb
    from app.core.deconv.nonblind import noise_sigma as estimate_sigma

    gray = srgb @ np.array([0.299, 0.587, 0.114], np.float32) if srgb.shape[2] == 3 else srgb[..., 0]
    prog = progress or (lambda f: None)
    info: dict = {"shape": shape}
    if not use_map:
        r = float(radius)
        if r <= 0:
            r, edges = estimate_radius(gray, estimate_sigma(srgb), shape)
            info["edges"] = edges
        info["radius"] = round(r, 2)
        if r < MIN_RADIUS:
            info["reason"] = f"in focus (radius {r:.2f} px < {MIN_RADIUS})"
            return srgb, {**info, "applied": False}
        out = deconvolve_srgb(srgb, psf(shape, r), lam, check=check, progress=prog)
        return out, {**info, "applied": True}
    grid = defocus_map(gray, shape)
    grid = np.where(grid < MIN_RADIUS, 0.0, grid).astype(np.float32)  # in-focus cells: exactly the input
    rmap = cv2.resize(grid, (srgb.shape[1], srgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    rmap = cv2.GaussianBlur(rmap, (0, 0), 8)
    info.update(radius_min=round(float(rmap.min()), 2), radius_max=round(float(rmap.max()), 2),
                radius=round(float(np.median(rmap)), 2))
    if rmap.max() < MIN_RADIUS:
        info["reason"] = f"in focus everywhere (largest radius {rmap.max():.2f} px < {MIN_RADIUS})"
        return srgb, {**info, "applied": False}
    # radii quantised on a ~1.35x geometric ladder: each pixel interpolates its two nearest levels
    levels = [0.0] + [float(v) for v in MIN_RADIUS * 1.35 ** np.arange(0, 12) if v <= rmap.max() * 1.35]
    out = np.zeros_like(srgb)
    wsum = np.zeros(srgb.shape[:2], np.float32)
    for i, lv in enumerate(levels):
        lo = levels[i - 1] if i else lv
        hi = levels[i + 1] if i + 1 < len(levels) else lv
        wgt = np.where(rmap <= lv, (rmap - lo) / max(lv - lo, 1e-6), (hi - rmap) / max(hi - lv, 1e-6))
        wgt = np.clip(np.where((rmap < lo) | (rmap > hi), 0.0, wgt), 0.0, 1.0).astype(np.float32)
        if i == 0:
            wgt = np.where(rmap <= 0, 1.0, wgt).astype(np.float32)
        if i == len(levels) - 1:
            wgt = np.where(rmap >= lv, 1.0, wgt).astype(np.float32)
        if wgt.max() <= 0:
            continue
        layer = srgb if lv == 0 else deconvolve_srgb(srgb, psf(shape, lv), lam, check=check)
        out += wgt[..., None] * layer
        wsum += wgt
        prog((i + 1) / len(levels))
    info["levels"] = [round(v, 2) for v in levels]
    return out / np.maximum(wsum, 1e-6)[..., None], {**info, "applied": True}
