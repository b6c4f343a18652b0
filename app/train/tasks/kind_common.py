"""Shared pieces of the three KinD training tasks (``kind_decompose``, ``kind_restore``, ``kind_adjust``).

Data: real SICE exposure pairs (dark frame -> mid exposure, :class:`~app.train.datasets.ExposurePairs`)
mixed with synthetic low light over clean photos (:class:`~app.train.degrade.LowLight`: exposure cut in
linear RAW, sensor noise, quantisation, developed to sRGB). Every sample carries ``ratio`` so the two
kinds of source collate into one batch.

The restoration and adjustment nets learn on the *decomposition's* outputs, so their tasks load the
exported decomposition weights (``model.decomposition``, a model id verified through the registry:
exactly the weights the app will run in front of them) and keep them frozen. Their ``forward`` replaces
``batch["gt"]`` (and ``batch["lq"]``) with the stage's own target and input: the runner and the
validation read both *after* calling ``forward``, so the loss, the PSNR and the identity baseline all
compare like with like (e.g. restored R vs R_high, and R_low vs R_high as the baseline).
"""

from __future__ import annotations

from typing import Any

import torch

from app.train.splits import Splits
from app.train.tasks.base import build_mixture, frozen_model

KIND_ARCH = "kind"


def degradation(cfg: dict[str, Any]):
    """Synthetic low light for the clean sources (``[degrade]``: ``ratio``, ``noise_model``, ``bits``)."""
    from app.train.degrade import LowLight, OneOf

    d = cfg["degrade"]
    ratio = tuple(d.get("ratio", (2.0, 12.0)))
    bits = tuple(d.get("bits", (10, 12, 14)))
    models = d.get("noise_model", ["sidd", "dnd"])
    models = [models] if isinstance(models, str) else list(models)
    options = [LowLight(ratio_range=ratio, noise_model=m, bits=bits) for m in models]
    return options[0] if len(options) == 1 else OneOf(options)


def build_data(cfg: dict, splits: Splits, split: str):
    return build_mixture(cfg, splits, split, degrade=degradation(cfg), keep_info=("ratio",))


#: ``[model]`` keys that configure training, not the architecture
TRAINING_KEYS = ("decomposition", "target")


def arch_config(cfg: dict[str, Any], net: str) -> dict[str, Any]:
    """``kind.build`` kwargs: the net, the preset and per-field overrides (``TRAINING_KEYS`` are not ones)."""
    m = {k: v for k, v in cfg["model"].items() if k not in TRAINING_KEYS}
    for key, value in list(m.items()):
        if isinstance(value, list):  # TOML arrays -> the tuples the constructors document
            m[key] = tuple(value)
    return {"net": net, "config": m.pop("preset", "fast"), **m}


def decomposition_id(cfg: dict[str, Any]) -> str:
    return cfg["model"].get("decomposition", "kind_decomposition")


def frozen_decomposition(model_id: str, device: torch.device) -> torch.nn.Module:
    """The exported decomposition net ``model_id``, frozen, in eval mode (loaded once per process).

    Raises:
        ModelUnavailableError: the decomposition has not been trained and exported yet (train
            ``kind_decompose`` with ``--export`` first).
    """
    return frozen_model(model_id, device)


def decompose_pair(model: torch.nn.Module,
                   batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, 4, H, W)`` decompositions (R + L) of ``batch["lq"]`` and ``batch["gt"]`` by the frozen net.

    ``model`` is the net being trained; its task's ``build_model`` set ``model.decomposition_id`` (the
    runner's ``forward(model, batch)`` has no config to read it from).
    """
    net = frozen_decomposition(model.decomposition_id, batch["lq"].device)
    with torch.no_grad():
        b = batch["lq"].shape[0]
        out = net(torch.cat([batch["lq"], batch["gt"]]).float())
    return out[:b], out[b:]
