"""Structural similarity (Wang et al. 2004) with an 11-tap Gaussian window, numpy and torch.

The protocol matches ``skimage.metrics.structural_similarity(a, b, data_range=..., channel_axis=-1,
gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``: Gaussian sigma 1.5 truncated at
3.5 sigma (radius 5), K1 = 0.01, K2 = 0.03, population (not sample) covariances, the SSIM map
cropped by the window radius before averaging, and colour images scored per channel then averaged.
Cropping the radius means border handling never enters the score, so the torch path can use a
*valid* convolution and still agree with skimage (tested to 1e-3; in practice ~1e-6).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

K1 = 0.01
K2 = 0.03
SIGMA = 1.5
TRUNCATE = 3.5


def _radius(sigma: float) -> int:
    return int(TRUNCATE * sigma + 0.5)


def _luma(x: np.ndarray) -> np.ndarray:
    # ITU-R BT.601 luma on the encoded values: the Y channel restoration papers report SSIM on.
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def ssim_map(a: np.ndarray, b: np.ndarray, *, data_range: float = 1.0, sigma: float = SIGMA) -> np.ndarray:
    """Local SSIM of two single-channel images, cropped by the window radius.

    Args:
        a: ``(H, W)`` array.
        b: ``(H, W)`` reference.
        data_range: peak value (1.0 for float images).
        sigma: Gaussian window sigma in pixels.

    Returns:
        float64 array ``(H - 2r, W - 2r)`` with r = int(3.5 * sigma + 0.5).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    r = _radius(sigma)
    if min(a.shape) < 2 * r + 1:
        raise ValueError(f"SSIM needs images of at least {2 * r + 1}x{2 * r + 1} pixels, got {a.shape}")

    def blur(x: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(x, sigma=sigma, truncate=TRUNCATE, mode="reflect")

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a * mu_a
    var_b = blur(b * b) - mu_b * mu_b
    cov = blur(a * b) - mu_a * mu_b
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    return (num / den)[r:-r, r:-r]


def ssim(a: np.ndarray, b: np.ndarray, *, data_range: float = 1.0, sigma: float = SIGMA,
         luma: bool = False) -> float:
    """Mean SSIM of two images.

    Args:
        a: ``(H, W)`` or ``(H, W, C)`` array on the scale of ``data_range``.
        b: reference of the same shape.
        data_range: peak value (1.0 for float [0, 1] images, 255 for uint8).
        sigma: Gaussian window sigma.
        luma: score the BT.601 luma of RGB images instead of averaging R, G and B.

    Returns:
        SSIM in [-1, 1]; 1.0 for identical images.

    Raises:
        ValueError: if the shapes differ or the image is smaller than the window.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {a.shape} vs {b.shape}")
    if a.ndim == 3 and luma:
        if a.shape[2] != 3:
            raise ValueError("luma=True needs RGB images")
        a, b = _luma(a.astype(np.float64)), _luma(b.astype(np.float64))
    if a.ndim == 2:
        return float(ssim_map(a, b, data_range=data_range, sigma=sigma).mean())
    return float(np.mean([ssim_map(a[..., c], b[..., c], data_range=data_range, sigma=sigma).mean()
                          for c in range(a.shape[2])]))


def ssim_torch(a, b, *, data_range: float = 1.0, sigma: float = SIGMA):
    """Per-image SSIM of torch batches (differentiable; use ``1 - ssim`` as a loss).

    Args:
        a: tensor ``(B, C, H, W)`` or ``(C, H, W)``, values on the scale of ``data_range``.
        b: tensor of the same shape.
        data_range: peak value.
        sigma: Gaussian window sigma.

    Returns:
        Tensor ``(B,)`` (0-d for unbatched input): SSIM averaged over channels and the valid area.
    """
    import torch
    import torch.nn.functional as F

    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {tuple(a.shape)} vs {tuple(b.shape)}")
    unbatched = a.dim() == 3
    if unbatched:
        a, b = a[None], b[None]
    r = _radius(sigma)
    if min(a.shape[-2:]) < 2 * r + 1:
        raise ValueError(f"SSIM needs images of at least {2 * r + 1}x{2 * r + 1} pixels")
    dtype = torch.float64 if a.dtype == torch.float64 else torch.float32
    a, b = a.to(dtype), b.to(dtype)
    x = torch.arange(-r, r + 1, dtype=dtype, device=a.device)
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    g = g / g.sum()
    ch = a.shape[1]
    gy = g.view(1, 1, -1, 1).expand(ch, 1, -1, 1)
    gx = g.view(1, 1, 1, -1).expand(ch, 1, 1, -1)

    def blur(t):
        # Separable valid convolution: equals skimage's reflect-padded filter on the cropped area.
        return F.conv2d(F.conv2d(t, gy, groups=ch), gx, groups=ch)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a * mu_a
    var_b = blur(b * b) - mu_b * mu_b
    cov = blur(a * b) - mu_a * mu_b
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    smap = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    out = smap.flatten(2).mean(dim=2).mean(dim=1)
    return out[0] if unbatched else out
