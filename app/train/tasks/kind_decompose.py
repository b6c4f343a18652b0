"""``kind_decompose``: the KinD Retinex decomposition net (``I = R * L``) on low/normal-light pairs.

Training sees both images of a pair through the one net and minimises KinD's loss
(:class:`KinDDecompositionLoss`). The runner's loss receives ``(pred, gt)``, so the training
``forward`` packs everything the loss needs into ``pred``: both decompositions and the dark input.

Validation scores *relighting*: ``R_low * L_high`` against the normal-light image. It is what the
decomposition must make possible (the dark frame's reflectance, lit like the reference; no
restoration, no adjustment net), and its identity baseline is the dark input itself.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from app.train.losses import image_gradients
from app.train.tasks.base import Task, like_catalog
from app.train.tasks.kind_common import KIND_ARCH, arch_config, build_data

NET = "decomposition"


def _gray(x: torch.Tensor) -> torch.Tensor:
    return 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]


def _abs_grad(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    gy, gx = image_gradients(x)
    return gy.abs(), gx.abs()


class KinDDecompositionLoss(nn.Module):
    """KinD's decomposition loss over a packed prediction.

    ``pred``: ``(B, 11, H, W)`` = decomposition of the dark image (R 3 + L 1), of the normal image (4), and
    the dark image (3); ``target``: the normal image ``(B, 3, H, W)``.

    Terms (KinD eq. 1-4): reconstruction ``|R L - I|`` for both images; reflectance similarity
    ``|R_low - R_high|``; illumination smoothness ``|grad L| / max(|grad I|, 0.01)`` (L may only change
    where the image has edges); mutual consistency ``M exp(-c M)``, ``M = |grad L_low| + |grad L_high|``
    (both illuminations share their strong edges, weak ones are flattened); optionally RetinexNet's
    cross reconstruction ``|R_low L_high - I_high| + |R_high L_low - I_low|`` (``cross``), which pins the
    brightness split between R and L: without it a dark frame can keep its darkness in R (the product is
    unchanged), and relighting R_low with L_high then stays dark; optionally a Retinex prior
    ``|L - max_c I|`` (``prior``, as LIME/RetinexNet initialise L): a few-level U-Net sees ~20 px, too
    little to tell a dark grey wall from a white one at night, and the bright channel is an
    exposure-invariant cue for that split (``I / max_c I`` does not change when the exposure does).
    """

    def __init__(self, *, reflectance: float = 0.01, smoothness: float = 0.15, mutual: float = 0.2,
                 mutual_c: float = 10.0, cross: float = 0.0, prior: float = 0.0) -> None:
        super().__init__()
        self.w_rs, self.w_is, self.w_mc, self.c = reflectance, smoothness, mutual, mutual_c
        self.w_cross, self.w_prior = cross, prior

    def _smooth(self, illum: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        ly, lx = _abs_grad(illum)
        iy, ix = _abs_grad(_gray(image))
        return (ly / iy.clamp(min=0.01)).mean() + (lx / ix.clamp(min=0.01)).mean()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        r_lo, l_lo, r_hi, l_hi, low = pred[:, :3], pred[:, 3:4], pred[:, 4:7], pred[:, 7:8], pred[:, 8:11]
        recon = F.l1_loss(r_lo * l_lo, low) + F.l1_loss(r_hi * l_hi, target)
        similar = F.l1_loss(r_lo, r_hi)
        smooth = self._smooth(l_lo, low) + self._smooth(l_hi, target)
        gy_lo, gx_lo = _abs_grad(l_lo)
        gy_hi, gx_hi = _abs_grad(l_hi)
        my, mx = gy_lo + gy_hi, gx_lo + gx_hi
        mutual = (my * torch.exp(-self.c * my)).mean() + (mx * torch.exp(-self.c * mx)).mean()
        loss = recon + self.w_rs * similar + self.w_is * smooth + self.w_mc * mutual
        if self.w_cross:
            loss = loss + self.w_cross * (F.l1_loss(r_lo * l_hi, target) + F.l1_loss(r_hi * l_lo, low))
        if self.w_prior:
            bright_lo, bright_hi = low.amax(1, keepdim=True), target.amax(1, keepdim=True)
            loss = loss + self.w_prior * (F.l1_loss(l_lo, bright_lo) + F.l1_loss(l_hi, bright_hi))
        return loss


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    low, high = batch["lq"], batch["gt"]
    b = low.shape[0]
    out = model(torch.cat([low, high]))  # one pass over both images: same weights, half the calls
    if model.training:
        return torch.cat([out[:b], out[b:], low], dim=1)
    return out[:b, :3] * out[b:, 3:]  # relighting: R_low lit by L_high, against the normal image


def build_model(cfg: dict[str, Any]) -> nn.Module:
    from app.core.nets import kind

    return kind.build(**arch_config(cfg, NET))


TASK = Task(
    name="kind_decompose",
    build_model=build_model,
    arch=lambda cfg: (KIND_ARCH, arch_config(cfg, NET)),
    build_data=build_data,
    default_loss=[{"type": "kind_decomposition"}],
    losses={"kind_decomposition": KinDDecompositionLoss},  # packed (B, 11, H, W) prediction: task-only
    forward=forward,
    descriptor=like_catalog("kind_decomposition", lambda cfg: arch_config(cfg, NET)),
)
