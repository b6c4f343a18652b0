"""Transfer curves: sRGB <-> linear light, and the global tone curve of the synthetic camera.

The torch functions here are differentiable (any shape, typically ``(B, C, H, W)``), for training
losses and the unprocess/process pipeline. The ``*_np`` names re-export the numpy curves of
:mod:`app.core.color`, the one torch-free copy.

The sRGB curves follow IEC 61966-2-1 exactly and are extended to values outside [0, 1] by
odd symmetry and by the power law above 1, so scene-linear highlights (> 1) and small negative
values from noise survive a round trip instead of being clipped.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from app.core.color import SRGB_A, SRGB_GAMMA, SRGB_SLOPE, SRGB_T_ENC, SRGB_T_LIN
from app.core.color import linear_to_srgb as linear_to_srgb_np
from app.core.color import srgb_to_linear as srgb_to_linear_np

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

# The constants and the numpy curves live in the torch-free app.core.color (one copy for everyone).
_A, _GAMMA, _SLOPE, _T_ENC, _T_LIN = SRGB_A, SRGB_GAMMA, SRGB_SLOPE, SRGB_T_ENC, SRGB_T_LIN


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
