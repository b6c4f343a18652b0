"""Patch cutting and geometric augmentation shared by every sampler (all driven by an explicit rng)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def crop_box(shape: Sequence[int], size: int, rng: np.random.Generator | None) -> tuple[int, int]:
    """Top-left corner of a ``size`` square inside ``shape`` (random with an rng, centred without).

    Raises:
        ValueError: if the image is smaller than the patch.
    """
    h, w = int(shape[0]), int(shape[1])
    if h < size or w < size:
        raise ValueError(f"image {h}x{w} is smaller than the {size}-px patch")
    if rng is None:
        return (h - size) // 2, (w - size) // 2
    return int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))


def crop_same(arrays: Sequence[np.ndarray], size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Cut the same ``size`` square out of aligned arrays (views; no copy)."""
    h = min(a.shape[0] for a in arrays)
    w = min(a.shape[1] for a in arrays)
    y, x = crop_box((h, w), size, rng)
    return [a[y : y + size, x : x + size] for a in arrays]


def dihedral(arrays: Sequence[np.ndarray], k: int) -> list[np.ndarray]:
    """Apply one of the 8 flips/rotations (``k`` in 0..7: ``k % 4`` quarter turns, flip if ``k >= 4``)."""
    out = []
    for a in arrays:
        b = np.rot90(a, k % 4, axes=(0, 1))
        out.append(b[:, ::-1] if k >= 4 else b)
    return out


def random_dihedral(arrays: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Same random flip/rotation for all arrays (noise statistics are isotropic, so this is label-safe)."""
    return dihedral(arrays, int(rng.integers(0, 8)))


def to_float(img: np.ndarray) -> np.ndarray:
    """``uint8``/``uint16`` -> float32 in [0, 1]; float input is passed through as float32."""
    if img.dtype == np.uint8:
        return img.astype(np.float32) * np.float32(1 / 255)
    if img.dtype == np.uint16:
        return img.astype(np.float32) * np.float32(1 / 65535)
    return img.astype(np.float32, copy=False)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """``(H, W, C)`` or ``(H, W)`` array -> contiguous float32 tensor ``(C, H, W)``."""
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(to_float(img).transpose(2, 0, 1)))


def centre_crop(img: np.ndarray, size: int) -> np.ndarray:
    """Centre ``size`` square of an array at least that large (used after degradations with a margin)."""
    h, w = img.shape[:2]
    if h == size and w == size:
        return img
    y, x = (h - size) // 2, (w - size) // 2
    return img[y : y + size, x : x + size]
