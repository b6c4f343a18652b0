"""Camera colour: sampled colour-correction matrices and white-balance gains.

The synthetic camera's colour matrix is a random convex combination of *real* XYZ -> camera
matrices (Brooks et al., "Unprocessing Images for Learned Raw Denoising", 2019), so unprocessed
RAW data has the cross-talk and channel sensitivities of actual sensors rather than an identity.
Rows of the resulting sRGB -> camera matrix are normalised to sum to 1: white stays white, and
the colour cast of a RAW file is modelled separately by the white-balance gains.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "SRGB_TO_XYZ",
    "XYZ_TO_CAM",
    "rgb_to_cam_matrix",
    "sample_ccm",
    "sample_wb_gains",
    "apply_ccm",
]

# Linear sRGB (D65) -> CIE XYZ.
SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]],
    dtype=np.float64,
)

# XYZ -> camera matrices (Adobe DNG convention, D65 or daylight calibration where a file has two).
XYZ_TO_CAM: dict[str, np.ndarray] = {
    # The four matrices used by Brooks et al. (2019) and CycleISP, from their public code.
    "unprocessing_a": np.array(
        [[1.0234, -0.2969, -0.2266], [-0.5625, 1.6328, -0.0469], [-0.0703, 0.2188, 0.6406]]
    ),
    "unprocessing_b": np.array(
        [[0.4913, -0.0541, -0.0202], [-0.613, 1.3513, 0.2906], [-0.1564, 0.2151, 0.7183]]
    ),
    "unprocessing_c": np.array(
        [[0.838, -0.263, -0.0639], [-0.2887, 1.0725, 0.2496], [-0.0627, 0.1427, 0.5438]]
    ),
    "unprocessing_d": np.array(
        [[0.6596, -0.2079, -0.0562], [-0.4782, 1.3016, 0.1933], [-0.097, 0.1581, 0.5181]]
    ),
    # Read from the RAW files in ../shared/datasets/raw/bayer (rawpy rgb_xyz_matrix / DNG tags).
    "Canon EOS 30D": np.array(
        [[0.6257, -0.0303, -0.1000], [-0.7880, 1.5621, 0.2396], [-0.1714, 0.1904, 0.7046]]
    ),
    "Canon EOS 550D (Magic Lantern DNG)": np.array(
        [[0.6461, -0.1164, -0.0857], [-0.3825, 1.1597, 0.2534], [-0.0416, 0.1540, 0.6039]]
    ),
    "Blackmagic Pocket Cinema 4K (ColorMatrix2, D65)": np.array(
        [[0.68795, -0.24747, -0.04866], [-0.39256, 1.20114, 0.15793], [-0.08916, 0.20063, 0.58148]]
    ),
}


def rgb_to_cam_matrix(xyz_to_cam: np.ndarray) -> np.ndarray:
    """sRGB -> camera matrix from an XYZ -> camera matrix, rows normalised to sum to 1.

    Args:
        xyz_to_cam: ``(3, 3)`` matrix.

    Returns:
        ``(3, 3)`` float32 matrix ``M`` with ``cam = M @ rgb`` for linear column vectors.
    """
    m = np.asarray(xyz_to_cam, dtype=np.float64) @ SRGB_TO_XYZ
    return (m / m.sum(axis=1, keepdims=True)).astype(np.float32)


def sample_ccm(rng: np.random.Generator, names: list[str] | None = None) -> np.ndarray:
    """A random sRGB -> camera matrix: convex combination of real camera matrices.

    Args:
        rng: numpy random generator (the only source of randomness).
        names: keys of :data:`XYZ_TO_CAM` to mix; all of them by default.

    Returns:
        ``(3, 3)`` float32 sRGB -> camera matrix whose rows sum to 1.
    """
    keys = list(XYZ_TO_CAM) if names is None else list(names)
    weights = rng.uniform(1e-8, 1.0, size=len(keys))
    xyz_to_cam = sum(w * XYZ_TO_CAM[k] for w, k in zip(weights, keys)) / weights.sum()
    return rgb_to_cam_matrix(xyz_to_cam)


def sample_wb_gains(
    rng: np.random.Generator,
    *,
    red_range: tuple[float, float] = (1.9, 2.4),
    blue_range: tuple[float, float] = (1.5, 1.9),
    brightness_mean: float = 0.8,
    brightness_std: float = 0.1,
) -> tuple[float, float, float]:
    """White-balance and digital gains, as a camera would apply them to RAW data.

    Defaults are Brooks et al.'s ranges; the as-shot multipliers of the RAW files in
    ``../shared/datasets/raw/bayer`` (R 2.2-2.5, B 1.3-1.9 relative to G) fall inside or close.

    Returns:
        ``(red_gain, blue_gain, rgb_gain)``. ``rgb_gain`` > 0 is the global digital gain
        (``1 / N(brightness_mean, brightness_std)``, the normal truncated to [0.5, 1.1]), so
        unprocessed RAW is on average ~20 % darker than the sRGB image it came from.
    """
    red = float(rng.uniform(*red_range))
    blue = float(rng.uniform(*blue_range))
    brightness = float(np.clip(rng.normal(brightness_mean, brightness_std), 0.5, 1.1))
    return red, blue, 1.0 / brightness


def apply_ccm(x: Tensor, ccm: Tensor) -> Tensor:
    """Apply a colour matrix per pixel.

    Args:
        x: ``(B, 3, H, W)`` linear RGB.
        ccm: ``(3, 3)`` or ``(B, 3, 3)`` matrix ``M`` (``out = M @ rgb``).

    Returns:
        ``(B, 3, H, W)`` tensor.
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W), got {tuple(x.shape)}")
    ccm = ccm.to(dtype=x.dtype, device=x.device)
    if ccm.ndim == 2:
        return torch.einsum("ij,bjhw->bihw", ccm, x)
    if ccm.shape != (x.shape[0], 3, 3):
        raise ValueError(f"ccm must be (3, 3) or ({x.shape[0]}, 3, 3), got {tuple(ccm.shape)}")
    return torch.einsum("bij,bjhw->bihw", ccm, x)
