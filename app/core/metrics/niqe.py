"""NIQE: the Natural Image Quality Evaluator (Mittal, Soundararajan & Bovik, 2013), with our own model.

NIQE is "opinion unaware": it fits a multivariate Gaussian (MVG) to natural-scene statistics of
sharp patches of pristine photos, fits another MVG to all patches of the image under test, and
reports the distance between the two. Lower is better. The pristine model is *ours*: it is fitted
by ``python -m app.train.fit_niqe`` on the clean photos in ``../shared/datasets/clean/``
(the list of images used and held out is stored in ``niqe_params.npz`` and printed by that
command), because the published MATLAB model cannot be downloaded here.

Features (36 per patch, 18 per scale, two scales): mean-subtracted contrast-normalised (MSCN)
coefficients with a 7x7 Gaussian window (sigma 7/6, C = 1 on the 0-255 scale); a generalised
Gaussian fit of the MSCN values (shape, variance); asymmetric generalised Gaussian fits of the
products of neighbouring MSCN values along 4 orientations (shape, mean, left and right variance).
Patches are 96x96 at full scale and the same grid at half scale (area downsampling; the MATLAB
reference uses antialiased bicubic, so absolute values differ from published NIQE numbers even
beyond the different pristine set: compare our NIQE only with our NIQE).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from scipy.special import gamma as gamma_fn

PARAMS_PATH = Path(__file__).with_name("niqe_params.npz")
PATCH = 96
#: pristine patches are those at least this sharp relative to the image's sharpest patch (paper: 0.75).
SHARPNESS_FRACTION = 0.75
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))
_ALPHAS = np.arange(0.2, 10.0, 0.001)
# GGD moment ratio E[x^2] / E[|x|]^2 as a function of the shape: decreasing in alpha.
_R_GGD = gamma_fn(1 / _ALPHAS) * gamma_fn(3 / _ALPHAS) / gamma_fn(2 / _ALPHAS) ** 2


def _gauss_window() -> np.ndarray:
    x = np.arange(-3, 4)
    g = np.exp(-0.5 * (x / (7 / 6)) ** 2)
    return np.outer(g, g) / np.outer(g, g).sum()


_WINDOW = _gauss_window()


def gray255(image: np.ndarray) -> np.ndarray:
    """BT.601 luma on the 0-255 scale (float64) of an sRGB [0, 1] image ``(H, W[, C])``."""
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 3:
        x = x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114 if x.shape[2] >= 3 else x[..., 0]
    return x * 255.0


def mscn(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MSCN coefficients and the local standard deviation map of a 0-255 grey image."""
    mu = cv2.filter2D(gray, cv2.CV_64F, _WINDOW, borderType=cv2.BORDER_REPLICATE)
    var = cv2.filter2D(gray * gray, cv2.CV_64F, _WINDOW, borderType=cv2.BORDER_REPLICATE) - mu * mu
    sigma = np.sqrt(np.abs(var))
    return (gray - mu) / (sigma + 1.0), sigma


def _fit_ggd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shape and variance of a zero-mean GGD per row of ``x`` (moment matching)."""
    var = np.mean(x * x, axis=1)
    e_abs = np.mean(np.abs(x), axis=1)
    rho = var / np.maximum(e_abs * e_abs, 1e-12)
    # _R_GGD decreases with alpha: interpolate on the reversed (increasing) table.
    alpha = np.interp(rho, _R_GGD[::-1], _ALPHAS[::-1])
    return alpha, var


def _fit_aggd(x: np.ndarray) -> np.ndarray:
    """(shape, mean, left var, right var) of an asymmetric GGD per row of ``x``."""
    neg, pos = x < 0, x > 0
    left = np.sqrt(np.sum(np.where(neg, x * x, 0), axis=1) / np.maximum(neg.sum(axis=1), 1))
    right = np.sqrt(np.sum(np.where(pos, x * x, 0), axis=1) / np.maximum(pos.sum(axis=1), 1))
    g = left / np.maximum(right, 1e-12)
    r_hat = np.mean(np.abs(x), axis=1) ** 2 / np.maximum(np.mean(x * x, axis=1), 1e-12)
    r_norm = r_hat * (g**3 + 1) * (g + 1) / (g * g + 1) ** 2
    # 1 / _R_GGD increases with alpha.
    alpha = np.interp(r_norm, 1 / _R_GGD, _ALPHAS)
    mean = (right - left) * (gamma_fn(2 / alpha) / gamma_fn(1 / alpha)) * np.sqrt(
        gamma_fn(1 / alpha) / gamma_fn(3 / alpha))
    return np.stack([alpha, mean, left * left, right * right], axis=1)


def _patches(x: np.ndarray, size: int) -> np.ndarray:
    ny, nx = x.shape[0] // size, x.shape[1] // size
    x = x[: ny * size, : nx * size]
    return x.reshape(ny, size, nx, size).swapaxes(1, 2).reshape(ny * nx, size, size)


def _scale_features(m: np.ndarray, size: int) -> np.ndarray:
    p = _patches(m, size)
    flat = p.reshape(len(p), -1)
    alpha, var = _fit_ggd(flat)
    feats = [alpha[:, None], var[:, None]]
    for dy, dx in _SHIFTS:
        # Products of each coefficient with its neighbour at (dy, dx), inside the patch.
        h, w = size - abs(dy), size - abs(dx)
        a = p[:, :h, max(-dx, 0): max(-dx, 0) + w]
        b = p[:, dy: dy + h, max(dx, 0): max(dx, 0) + w]
        feats.append(_fit_aggd((a * b).reshape(len(p), -1)))
    return np.concatenate(feats, axis=1)


def patch_features(image: np.ndarray, patch: int = PATCH) -> tuple[np.ndarray, np.ndarray]:
    """NIQE features of every patch of an image.

    Args:
        image: sRGB ``(H, W, 3)`` or grey ``(H, W)`` in [0, 1]; at least ``patch`` pixels each way.
        patch: patch edge at full scale (half of it at the second scale).

    Returns:
        ``(features (N, 36), sharpness (N,))``; sharpness is the mean local standard deviation of
        each patch at full scale, used to pick pristine patches when fitting.
    """
    gray = gray255(image)
    if min(gray.shape) < patch:
        raise ValueError(f"NIQE needs at least {patch}x{patch} pixels, got {gray.shape}")
    h, w = (gray.shape[0] // patch) * patch, (gray.shape[1] // patch) * patch
    gray = gray[:h, :w]
    m1, sigma = mscn(gray)
    half = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    m2, _ = mscn(half)
    f1 = _scale_features(m1, patch)
    f2 = _scale_features(m2, patch // 2)
    sharp = _patches(sigma, patch).reshape(len(f1), -1).mean(axis=1)
    return np.concatenate([f1, f2], axis=1), sharp


@dataclass(frozen=True)
class NiqeModel:
    """The pristine MVG: mean ``(36,)`` and covariance ``(36, 36)`` plus fitting provenance."""

    mu: np.ndarray
    cov: np.ndarray
    patch: int = PATCH
    n_patches: int = 0
    images: tuple[str, ...] = ()


@cache
def load_model(path: str | None = None) -> NiqeModel:
    """Load the pristine model written by ``fit_niqe`` (cached)."""
    p = Path(path) if path else PARAMS_PATH
    if not p.is_file():
        raise FileNotFoundError(f"NIQE model {p} is missing; run `python -m app.train.fit_niqe`")
    with np.load(p, allow_pickle=False) as z:
        return NiqeModel(mu=z["mu"], cov=z["cov"], patch=int(z["patch"]), n_patches=int(z["n_patches"]),
                         images=tuple(str(s) for s in z["images"]))


def niqe(image: np.ndarray, model: NiqeModel | None = None) -> float:
    """NIQE score of an sRGB [0, 1] image (lower = more natural). Needs >= 2x2 patches (192 px)."""
    model = model or load_model()
    feats, _ = patch_features(image, model.patch)
    feats = feats[np.all(np.isfinite(feats), axis=1)]
    if len(feats) < 2:
        raise ValueError("NIQE needs at least 2 patches: the image is too small")
    mu = feats.mean(axis=0)
    cov = np.cov(feats, rowvar=False)
    d = model.mu - mu
    return float(np.sqrt(max(d @ np.linalg.pinv((model.cov + cov) / 2) @ d, 0.0)))
