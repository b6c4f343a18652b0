"""Transfer curves: sRGB <-> linear light, and the global tone curve of the synthetic camera.

Two flavours of every curve:

* torch functions (differentiable, any shape, typically ``(B, C, H, W)``) for training losses
  and the unprocess/process pipeline;
* ``*_np`` numpy functions (float32 in, float32 out) for ops at inference time. These use
  ``cv2.pow``, which is several times faster than ``np.power`` on float32 and keeps memory at
  one extra buffer, so the exposure and low-light ops can call them on 24 MP images.

The sRGB curves follow IEC 61966-2-1 exactly and are extended to values outside [0, 1] by
odd symmetry and by the power law above 1, so scene-linear highlights (> 1) and small negative
values from noise survive a round trip instead of being clipped.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "srgb_to_linear",
    "linear_to_srgb",
    "srgb_to_linear_np",
    "linear_to_srgb_np",
    "smoothstep",
    "inverse_smoothstep",
    "SrgbToLinear",
    "LinearToSrgb",
]

# IEC 61966-2-1 constants. The linear-segment threshold in the encoded domain is 0.04045 and
# 0.0031308 in the linear domain; they agree to ~1e-7, well below float32 image precision.
_A = 0.055
_GAMMA = 2.4
_SLOPE = 12.92
_T_ENC = 0.04045
_T_LIN = 0.0031308


def srgb_to_linear(x: Tensor) -> Tensor:
    """Decode sRGB-encoded values to linear light.

    Args:
        x: tensor of any shape, typically ``(B, 3, H, W)``, sRGB-encoded, nominally in [0, 1].

    Returns:
        Tensor of the same shape and dtype with linear values (odd-symmetric extension below 0).
    """
    a = x.abs()
    # Clamp the pow argument so the unused branch of ``where`` never produces inf/NaN gradients.
    curve = ((a.clamp(min=_T_ENC) + _A) / (1.0 + _A)) ** _GAMMA
    return torch.sign(x) * torch.where(a <= _T_ENC, a / _SLOPE, curve)


def linear_to_srgb(x: Tensor) -> Tensor:
    """Encode linear light values with the sRGB transfer curve.

    Args:
        x: tensor of any shape, typically ``(B, 3, H, W)``, linear, nominally in [0, 1].

    Returns:
        Tensor of the same shape with sRGB-encoded values (odd-symmetric extension below 0).
    """
    a = x.abs()
    curve = (1.0 + _A) * a.clamp(min=_T_LIN) ** (1.0 / _GAMMA) - _A
    return torch.sign(x) * torch.where(a <= _T_LIN, a * _SLOPE, curve)


def _prepare(x: np.ndarray, out: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.ascontiguousarray(x, dtype=np.float32)
    if out is None:
        out = np.empty_like(x)
    elif out.shape != x.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError("out must be a C-contiguous float32 array of the input's shape")
    # cv2 accepts any contiguous array once it is 2-D; these are views, not copies.
    return x.reshape(-1, 1), out.reshape(-1, 1), out


def _apply_np(
    x: np.ndarray, out: np.ndarray | None, threshold: float, slope: float, encode: bool
) -> np.ndarray:
    flat, dst, result = _prepare(x, out)
    # Everything that needs the input is gathered first so that ``out`` may alias ``x``.
    small = (flat <= threshold) & (flat >= -threshold)
    low = flat[small] * np.float32(slope)
    neg = np.signbit(flat)
    np.abs(flat, out=dst)
    if encode:
        cv2.pow(dst, 1.0 / _GAMMA, dst)
        dst *= np.float32(1.0 + _A)
        dst -= np.float32(_A)
    else:
        dst += np.float32(_A)
        dst *= np.float32(1.0 / (1.0 + _A))
        cv2.pow(dst, _GAMMA, dst)
    np.negative(dst, out=dst, where=neg)
    dst[small] = low
    return result


def srgb_to_linear_np(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Numpy sRGB -> linear for inference-time ops (float32, any shape, e.g. ``(H, W, 3)``).

    Args:
        x: sRGB-encoded values; integer input is *not* rescaled, convert to [0, 1] first.
        out: optional C-contiguous float32 buffer of the same shape; may be ``x`` itself, which
            avoids a second full-size allocation on large images.

    Returns:
        float32 array of linear values (``out`` when given).
    """
    return _apply_np(x, out, _T_ENC, 1.0 / _SLOPE, encode=False)


def linear_to_srgb_np(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Numpy linear -> sRGB for inference-time ops (float32, any shape, e.g. ``(H, W, 3)``).

    Args:
        x: linear values, nominally in [0, 1] (values above 1 follow the power law).
        out: optional C-contiguous float32 buffer of the same shape; may be ``x`` itself.

    Returns:
        float32 array of sRGB-encoded values (``out`` when given).
    """
    return _apply_np(x, out, _T_LIN, _SLOPE, encode=True)


def smoothstep(x: Tensor) -> Tensor:
    """Global tone curve ``3x^2 - 2x^3`` (Brooks et al. 2019), applied after gamma encoding.

    Args:
        x: tensor of any shape with values in [0, 1].

    Returns:
        Tensor of the same shape in [0, 1].
    """
    x = x.clamp(0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def inverse_smoothstep(y: Tensor) -> Tensor:
    """Exact inverse of :func:`smoothstep` on [0, 1]: ``0.5 - sin(asin(1 - 2y) / 3)``.

    Args:
        y: tensor of any shape with values in [0, 1] (clamped).

    Returns:
        Tensor of the same shape in [0, 1].
    """
    # asin has an infinite derivative at +-1; keeping a hair inside avoids NaN gradients at 0 and 1.
    y = y.clamp(0.0, 1.0)
    t = (1.0 - 2.0 * y).clamp(-1.0 + 1e-7, 1.0 - 1e-7)
    return 0.5 - torch.sin(torch.asin(t) / 3.0)


class SrgbToLinear(nn.Module):
    """Module form of :func:`srgb_to_linear`; input and output ``(B, C, H, W)``."""

    def forward(self, x: Tensor) -> Tensor:
        return srgb_to_linear(x)


class LinearToSrgb(nn.Module):
    """Module form of :func:`linear_to_srgb`; input and output ``(B, C, H, W)``."""

    def forward(self, x: Tensor) -> Tensor:
        return linear_to_srgb(x)
