"""``kind_restore``: the KinD reflectance restoration net, R_low (guided by L_low) -> R_high.

Both reflectances come from the frozen, exported decomposition net (see :mod:`kind_common`), so the
net learns to clean exactly the reflectance the app will hand it. Loss (config): MSE + (1 - SSIM) +
gradient, as in KinD. Validation: restored R vs the target, identity baseline R_low vs the target.

Target (``[model] target``): ``"decomposed"`` is KinD's R_high. ``"exact"`` is ``I_high / L_high``, the
reflectance that reproduces the normal frame exactly with the decomposed illumination. Measured with
:func:`app.core.metrics.colour.colour_stats` on 12 SICE validation scenes: our decomposition's
``R_high * L_high`` keeps only 84 % of the normal frame's Lab chroma, so a net trained towards R_high
learned to desaturate (and left a yellow cast in greens); with the exact target the op's colour error
dropped from 9.34 to 8.61 (docs/lowlight.md).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from app.train.tasks.base import Task, like_catalog
from app.train.tasks.kind_common import KIND_ARCH, arch_config, build_data, decompose_pair, decomposition_id

NET = "restoration"


#: below this illumination ``I / L`` is mostly the normal frame's own noise: blend towards R_high
EXACT_FLOOR = 0.1


def exact_reflectance(image: torch.Tensor, decomposed: torch.Tensor) -> torch.Tensor:
    """``I / L`` (clipped to [0, 1]) where L is bright enough, R as decomposed in deep shadow.

    Args:
        image: ``(B, 3, H, W)`` the normal-exposure frame.
        decomposed: ``(B, 4, H, W)`` its decomposition (R then L).
    """
    # float32 whatever the frozen decomposition ran in: under ``--bf16`` autocast it returns bfloat16, and
    # lerp refuses mixed dtypes (the target of a loss is computed in float32 anyway).
    decomposed = decomposed.float()
    r, light = decomposed[:, :3], decomposed[:, 3:4]
    exact = (image / light.clamp(min=1e-3)).clamp(0.0, 1.0)
    w = (light / EXACT_FLOOR).clamp(max=1.0)
    return torch.lerp(r, exact, w)


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    low, high = decompose_pair(model, batch)
    target = high[:, :3]
    if model.reflectance_target == "exact":
        target = exact_reflectance(batch["gt"].float(), high)
    batch["lq"], batch["gt"] = low[:, :3], target  # the stage's own input and target (kind_common)
    return model(low)


def build_model(cfg: dict[str, Any]) -> nn.Module:
    from app.core.nets import kind

    net = kind.build(**arch_config(cfg, NET))
    net.decomposition_id = decomposition_id(cfg)
    net.reflectance_target = cfg["model"].get("target", "decomposed")
    if net.reflectance_target not in ("decomposed", "exact"):
        raise ValueError(f"model.target must be 'decomposed' or 'exact', got {net.reflectance_target!r}")
    return net


TASK = Task(
    name="kind_restore",
    build_model=build_model,
    arch=lambda cfg: (KIND_ARCH, arch_config(cfg, NET)),
    build_data=build_data,
    default_loss=[{"type": "mse"}, {"type": "ssim"}, {"type": "gradient"}],
    forward=forward,
    descriptor=like_catalog("kind_restoration", lambda cfg: arch_config(cfg, NET)),
)
