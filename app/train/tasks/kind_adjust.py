"""``kind_adjust``: the KinD illumination adjustment net, (L_source, alpha) -> L_target.

Illuminations come from the frozen, exported decomposition net (see :mod:`kind_common`). Each pair is
used in both directions (KinD: any two exposures of a scene give a real ratio): training swaps source
and target at random per sample, so the net learns to darken (alpha < 1) as well as to brighten;
validation swaps every second sample, so both directions are scored on fixed patches.

``alpha = mean(L_target / L_source)`` is KinD's definition; the source is floored at 0.02 so the few
nearly black pixels of a dark frame cannot dominate the mean, and alpha is clamped to [1/16, 16].
Loss (config): MSE + gradient. Validation: adjusted L vs L_target, identity baseline L_source.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from app.train.tasks.base import Task, like_catalog
from app.train.tasks.kind_common import KIND_ARCH, arch_config, build_data, decompose_pair, decomposition_id

NET = "adjustment"
ALPHA_RANGE = (1 / 16, 16.0)
SOURCE_FLOOR = 0.02


def alpha_of(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample ``mean(L_target / max(L_source, 0.02))``, clamped: ``(B,)``."""
    ratio = target / source.clamp(min=SOURCE_FLOOR)
    return ratio.mean(dim=(1, 2, 3)).clamp(*ALPHA_RANGE)


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    low, high = decompose_pair(model, batch)
    l_lo, l_hi = low[:, 3:], high[:, 3:]
    b = l_lo.shape[0]
    if model.training:  # torch's RNG: seeded and checkpointed by the runner, so resumes stay exact
        swap = torch.rand(b, device=l_lo.device) < 0.5
    else:
        swap = torch.arange(b, device=l_lo.device) % 2 == 1
    sel = swap.view(b, 1, 1, 1)
    source, target = torch.where(sel, l_hi, l_lo), torch.where(sel, l_lo, l_hi)
    batch["lq"], batch["gt"] = source, target  # the stage's own input and target (kind_common)
    return model(source, alpha_of(source, target))


def build_model(cfg: dict[str, Any]) -> nn.Module:
    from app.core.nets import kind

    net = kind.build(**arch_config(cfg, NET))
    net.decomposition_id = decomposition_id(cfg)
    return net


TASK = Task(
    name="kind_adjust",
    build_model=build_model,
    arch=lambda cfg: (KIND_ARCH, arch_config(cfg, NET)),
    build_data=build_data,
    default_loss=[{"type": "mse"}, {"type": "gradient"}],
    forward=forward,
    descriptor=like_catalog("kind_adjustment", lambda cfg: arch_config(cfg, NET)),
)
