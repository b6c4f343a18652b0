"""``kind_restore``: the KinD reflectance restoration net, R_low (guided by L_low) -> R_high.

Both reflectances come from the frozen, exported decomposition net (see :mod:`kind_common`), so the
net learns to clean exactly the reflectance the app will hand it. Loss (config): MSE + (1 - SSIM) +
gradient, as in KinD. Validation: restored R vs R_high, identity baseline R_low vs R_high.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from app.core.models.descriptor import ModelDescriptor
from app.train.tasks.base import Task
from app.train.tasks.kind_common import KIND_ARCH, arch_config, build_data, decompose_pair, decomposition_id

NET = "restoration"


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    low, high = decompose_pair(model, batch)
    batch["lq"], batch["gt"] = low[:, :3], high[:, :3]  # the stage's own input and target (kind_common)
    return model(low)


def build_model(cfg: dict[str, Any]) -> nn.Module:
    from app.core.nets import kind

    net = kind.build(**arch_config(cfg, NET))
    net.decomposition_id = decomposition_id(cfg)
    return net


def descriptor(cfg: dict, model_id: str) -> ModelDescriptor:
    return ModelDescriptor(id=model_id, arch=KIND_ARCH, config=arch_config(cfg, NET), in_channels=4,
                           size_multiple=8, overlap=32, description="KinD reflectance restoration")


TASK = Task(
    name="kind_restore",
    build_model=build_model,
    arch=lambda cfg: (KIND_ARCH, arch_config(cfg, NET)),
    build_data=build_data,
    default_loss=[{"type": "mse"}, {"type": "ssim"}, {"type": "gradient"}],
    forward=forward,
    descriptor=descriptor,
)
