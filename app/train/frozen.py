"""Exported nets loaded frozen for training code that runs on another model's outputs.

Its own module (not ``tasks.base``) so data synthesis (:mod:`app.train.degrade`) can use it without an
import cycle through the task registry.
"""

from __future__ import annotations

import torch
from torch import nn

_frozen: dict[str, nn.Module] = {}


def frozen_model(model_id: str, device: torch.device) -> nn.Module:
    """The exported net ``model_id`` (registry-verified), frozen, float32, in eval mode; loaded once per
    process and device (tasks that train on top of another model's outputs).

    Raises:
        ModelUnavailableError: ``model_id`` has not been trained and exported yet.
    """
    from app.core.models.registry import load_model

    key = f"{model_id}@{device}"
    if key not in _frozen:
        module = load_model(model_id, "cpu", backend="torch").module  # training needs torch, never a runtime
        _frozen[key] = module.to(device).float().eval().requires_grad_(False)
    return _frozen[key]
