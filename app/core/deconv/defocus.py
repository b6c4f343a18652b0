"""Out-of-focus blur: parametric point-spread functions and their radius, fitted to the photo's spectrum.

A defocused lens spreads a point into its aperture's image: a disk (``disk``), often with a brighter rim
from spherical aberration (``ring``, the "onion" bokeh of many lenses), or, once diffraction and
aberrations mix, something Gaussian-like (``gauss``). The radius (and, for ``auto``, disk or ring) comes
from fitting the PSF's transfer function, whose zeros leave dips in the photo's power spectrum
(:mod:`app.core.deconv.psf_fit`); :func:`defocus_map` does the same per region where focus varies
across the frame. (The first version read the radius from edge widths: +-30 % scatter, saturating
above ~10 px.)
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from app.core.deconv.psf_fit import SHAPES, fit_radius, psf  # noqa: F401 - SHAPES, psf: re-exported
from app.core.isp.tone import linear_to_srgb_np, srgb_to_linear_np
from app.core.measure.estimators import _sobel

#: what ``shape="auto"`` chooses between (by the spectrum fit)
AUTO_SHAPES = ("disk", "ring")
#: radii the defocus map tries per region (coarser than the global fit's: 128-px regions are noisy)
MAP_RADII = np.round(np.concatenate([[0.0], 1.0 * 1.08 ** np.arange(0, 36)]), 3)


def linear_luminance(srgb: np.ndarray) -> np.ndarray:
    """The blur happened in linear light: its luminance is where the PSF model holds."""
    lin = srgb_to_linear_np(np.ascontiguousarray(srgb, np.float32))
    if lin.shape[2] == 1:
        return lin[..., 0]
    return lin @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def estimate_radius(gray_lin: np.ndarray, shape: str = "auto") -> tuple[float, str, dict]:
    """Global (radius, shape) from the power-spectrum fit (:func:`app.core.deconv.psf_fit.fit_radius`) of
    a linear grey photo; ``shape="auto"`` also chooses disk or ring. Returns the fit's readings too."""
    shapes = AUTO_SHAPES if shape == "auto" else (shape,)
    fit = fit_radius(gray_lin, shapes)
    return fit["radius"], fit["shape"], fit


def defocus_map(gray_lin: np.ndarray, shape: str = "disk", cell: int = 0) -> np.ndarray:
    """Per-cell radius (px): the spectrum fit (128-px tiles) on the ``2 * cell`` region centred on each
    cell; cells without texture (fewer than 8 strong edge pixels: a flat area carries no focus cue) take
    their neighbours'. ``cell`` 0: 64 px, more on big photos (at most ~24 cells across the short side,
    which keeps a 12-MP map to a few seconds). Returns a ``(ceil(H / cell), ceil(W / cell))`` grid (the
    caller resizes it smoothly)."""
    g = np.asarray(gray_lin, np.float32)
    cell = cell or max(64, int(round(min(g.shape) / 24)))
    m, _ = _sobel(srgb_from_linear_grey(g).astype(np.float64))
    strong = (m >= cv2.dilate(m, np.ones((3, 3), np.uint8))) & (m > max(0.02, np.quantile(m, 0.9)))
    gh, gw = -(-g.shape[0] // cell), -(-g.shape[1] // cell)
    side = min(2 * cell, *g.shape)
    grid = np.full((gh, gw), np.nan)
    for i in range(gh):
        for j in range(gw):
            if strong[i * cell:(i + 1) * cell, j * cell:(j + 1) * cell].sum() < 8:
                continue
            y0 = int(np.clip(i * cell + cell // 2 - side // 2, 0, g.shape[0] - side))
            x0 = int(np.clip(j * cell + cell // 2 - side // 2, 0, g.shape[1] - side))
            fit = fit_radius(g[y0:y0 + side, x0:x0 + side], (shape,), MAP_RADII, tile=min(side, 128))
            grid[i, j] = fit["radius"]
    if np.isnan(grid).all():
        return np.zeros_like(grid, dtype=np.float32)
    # fill empty cells by repeated neighbour averaging
    while np.isnan(grid).any():
        pad = np.pad(grid, 1, constant_values=np.nan)
        nb = np.stack([pad[:-2, 1:-1], pad[2:, 1:-1], pad[1:-1, :-2], pad[1:-1, 2:]])
        with warnings.catch_warnings():  # all-empty neighbourhoods stay NaN until a later pass
            warnings.simplefilter("ignore", RuntimeWarning)
            fill = np.nanmean(nb, axis=0)
        grid = np.where(np.isnan(grid), fill, grid)
    return cv2.medianBlur(grid.astype(np.float32), 3) if min(grid.shape) >= 3 else grid.astype(np.float32)


def srgb_from_linear_grey(g: np.ndarray) -> np.ndarray:
    return linear_to_srgb_np(np.clip(g, 0.0, 1.0).astype(np.float32))


#: Below this radius (px) the photo (or region) counts as in focus and is left alone.
MIN_RADIUS = 1.5


def reduce_defocus(srgb: np.ndarray, *, shape: str, radius: float, lam: float, use_map: bool,
                   check=None, progress=None) -> tuple[np.ndarray, dict]:
    """Deconvolve ``srgb`` by a ``shape`` PSF: one radius (``radius`` > 0 or estimated), or a per-pixel
    radius from :func:`defocus_map`, done as a few deconvolutions at quantised radii blended per pixel.
    Where the radius is under :data:`MIN_RADIUS` the input is kept (the in-focus subject)."""
    from app.core.deconv.nonblind import deconvolve_srgb

    gray = linear_luminance(srgb)
    prog = progress or (lambda f: None)
    info: dict = {"shape": shape}
    if shape == "auto" or (not use_map and radius <= 0):
        r, shape, fit = estimate_radius(gray, shape)
        info.update(shape=shape, fit_err=round(fit["err"], 3), fit_err_sharp=round(fit["err_sharp"], 3))
    if not use_map:
        r = float(radius) if radius > 0 else r
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
