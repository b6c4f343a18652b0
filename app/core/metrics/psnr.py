"""Peak signal-to-noise ratio for numpy arrays and torch tensors.

Both paths compute ``10 * log10(data_range**2 / MSE)`` in float64 (numpy) / float32 (torch) over
every pixel and channel. Identical inputs give ``inf`` rather than a division error, which is what
tables and tests expect of a perfect reconstruction.
"""

from __future__ import annotations

import math

import numpy as np

#: PSNR reported for identical images when a finite number is needed (tables, JSON).
PSNR_CAP = 100.0


def _check_shapes(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    if tuple(a_shape) != tuple(b_shape):
        raise ValueError(f"images differ in size: {tuple(a_shape)} vs {tuple(b_shape)}")


def _crop(x: np.ndarray, border: int) -> np.ndarray:
    # Restoration papers often ignore a border (padding artefacts of the methods under test).
    return x[border:-border, border:-border] if border > 0 else x


def mse(a: np.ndarray, b: np.ndarray, *, crop_border: int = 0) -> float:
    """Mean squared error over all pixels and channels, accumulated in float64."""
    a = np.asarray(a)
    b = np.asarray(b)
    _check_shapes(a.shape, b.shape)
    d = _crop(a, crop_border).astype(np.float64) - _crop(b, crop_border).astype(np.float64)
    return float(np.mean(d * d))


def psnr(a: np.ndarray, b: np.ndarray, *, data_range: float = 1.0, crop_border: int = 0) -> float:
    """PSNR in dB between two images of the same shape.

    Args:
        a: image ``(H, W)`` or ``(H, W, C)``, any dtype; values on the scale of ``data_range``.
        b: reference of the same shape.
        data_range: peak value (1.0 for float [0, 1] images, 255 for uint8).
        crop_border: pixels ignored on each side.

    Returns:
        PSNR in dB; ``inf`` for identical images.

    Raises:
        ValueError: if the shapes differ.
    """
    err = mse(a, b, crop_border=crop_border)
    if err == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range * data_range / err)


def psnr_torch(a, b, *, data_range: float = 1.0):
    """Per-image PSNR of torch batches.

    Args:
        a: tensor ``(B, C, H, W)`` or ``(C, H, W)``, values on the scale of ``data_range``.
        b: tensor of the same shape.
        data_range: peak value.

    Returns:
        Tensor ``(B,)`` (or a 0-d tensor for unbatched input) of PSNR in dB; differentiable, so it
        can be logged from a training loop without leaving the device.
    """
    import torch

    _check_shapes(tuple(a.shape), tuple(b.shape))
    unbatched = a.dim() == 3
    if unbatched:
        a, b = a[None], b[None]
    err = (a.float() - b.float()).pow(2).flatten(1).mean(dim=1)
    out = 10.0 * torch.log10(data_range**2 / err.clamp_min(1e-20))
    out = torch.where(err == 0, torch.full_like(out, math.inf), out)
    return out[0] if unbatched else out


def finite_psnr(value: float) -> float:
    """PSNR capped at :data:`PSNR_CAP` so identical images still average and serialise."""
    return min(float(value), PSNR_CAP)
