"""Training losses as small modules, composed from a config (BasicSR style).

All take ``pred`` and ``target`` tensors ``(B, C, H, W)`` on the same scale (images in [0, 1]) and return
a scalar. :func:`build_loss` turns a config list such as
``[{type = "charbonnier", weight = 1.0}, {type = "ssim", weight = 0.2}]`` into a :class:`WeightedSum`
that also reports each term for logging.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from app.core.metrics.ssim import ssim_torch


class L1Loss(nn.Module):
    """Mean absolute error."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(pred, target)


class MSELoss(nn.Module):
    """Mean squared error (the loss PSNR measures)."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(pred, target)


class CharbonnierLoss(nn.Module):
    """``mean(sqrt((pred - target)^2 + eps^2))``: L1 that stays differentiable at zero (CycleISP, MPRNet).

    Args:
        eps: smoothing; 1e-3 is the usual choice for [0, 1] images.
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps2 = float(eps) ** 2

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        d = pred.float() - target.float()
        return torch.sqrt(d * d + self.eps2).mean()


class SSIMLoss(nn.Module):
    """``1 - SSIM`` with an 11-tap Gaussian window (the metric's own definition, see ``app.core.metrics``).

    Computed in float32 even under autocast: the variance terms cancel catastrophically in half precision.
    Patches must be at least 11 px.
    """

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.autocast(pred.device.type, enabled=False):
            return 1.0 - ssim_torch(pred.float(), target.float()).mean()


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along ``H`` and ``W``: ``(B, C, H-1, W)`` and ``(B, C, H, W-1)``."""
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


class GradientLoss(nn.Module):
    """L1 between image gradients: penalises blurred or doubled edges that a pixel loss averages away."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        py, px = image_gradients(pred)
        ty, tx = image_gradients(target)
        return F.l1_loss(py, ty) + F.l1_loss(px, tx)


def _perceptual(**kwargs) -> nn.Module:
    # Imported on use: the VGG code and its weights file are only needed by tasks that ask for it.
    from app.train.perceptual import PerceptualLoss

    return PerceptualLoss(**kwargs)


LOSSES: dict[str, type[nn.Module] | Callable[..., nn.Module]] = {
    "l1": L1Loss,
    "mse": MSELoss,
    "charbonnier": CharbonnierLoss,
    "ssim": SSIMLoss,
    "gradient": GradientLoss,
    "perceptual": _perceptual,  # VGG16 conv3_3 (DeblurGAN-v2); needs the HED weights file
}


class WeightedSum(nn.Module):
    """``sum(weight_i * loss_i)``; :attr:`last` holds the unweighted terms of the latest call.

    The terms stay detached tensors (no device sync per step); convert them when logging.

    Args:
        terms: ``(name, weight, module)`` triples.
    """

    def __init__(self, terms: Sequence[tuple[str, float, nn.Module]]) -> None:
        super().__init__()
        if not terms:
            raise ValueError("a loss needs at least one term")
        self.names = [n for n, _, _ in terms]
        self.weights = [float(w) for _, w, _ in terms]
        self.terms = nn.ModuleList([m for _, _, m in terms])
        self.last: dict[str, torch.Tensor] = {}

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = pred.new_zeros((), dtype=torch.float32)
        last = {}
        for name, weight, term in zip(self.names, self.weights, self.terms):
            value = term(pred, target)
            last[name] = value.detach()
            total = total + weight * value.float()
        self.last = last
        return total


def build_loss(spec: Sequence[Mapping] | None,
               extra: Mapping[str, Callable[..., nn.Module]] | None = None) -> WeightedSum:
    """Build a weighted loss from config entries ``{type, weight=1.0, **kwargs}``.

    Args:
        spec: the config entries.
        extra: task-specific loss types (e.g. KinD's decomposition loss over a packed prediction), which
            do not take ``(image, image)`` like the shared ones in :data:`LOSSES`.

    Raises:
        KeyError: for an unknown loss type.
    """
    spec = spec or [{"type": "l1"}]
    known = {**LOSSES, **(extra or {})}
    terms = []
    for entry in spec:
        kwargs = dict(entry)
        kind = kwargs.pop("type")
        weight = kwargs.pop("weight", 1.0)
        if kind not in known:
            raise KeyError(f"unknown loss {kind!r}; choose from {sorted(known)}")
        terms.append((kind, weight, known[kind](**kwargs)))
    return WeightedSum(terms)
