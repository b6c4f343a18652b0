"""``refine``: a PTG refiner (:mod:`app.core.nets.ptg`) on the outputs of one op's frozen, exported nets.

The config's ``[model]`` names the op (``base``: ``denoise``, ``lowlight`` or ``deblur``), the task whose
data the op was trained on (``data_task``; its ``[degrade]`` table applies) and the refiner's ``prior``.
``forward`` runs the base op on ``batch["lq"]`` (no gradient), replaces ``batch["lq"]`` by that output and
returns the refinement of ``cat(I_d, I_c)``: validation's ``input_psnr`` is then the op's own PSNR, so
``psnr - input_psnr`` is exactly the gain the refiner adds.

The base runs as the app runs it: the sRGB denoiser at full strength; KinD decompose -> restore ->
adjust at the automatic ratio -> fuse; the fast deblur generator.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from app.train.splits import Splits
from app.train.tasks.base import Task, frozen_model, like_catalog

ARCH = "ptg"
#: base op -> the exported model ids its forward needs.
BASE_MODELS = {"denoise": ("cycleisp_srgb_denoise",),
               "lowlight": ("kind_decomposition", "kind_restoration", "kind_adjustment"),
               "deblur": ("deblurgan_fast",)}


def arch_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """``ptg.build`` kwargs (the training-only keys removed)."""
    m = {k: v for k, v in cfg["model"].items() if k not in ("base", "data_task")}
    return {"net": "refiner", "config": m.pop("preset", "fast"), **m}


def base_output(base: str, x: torch.Tensor) -> torch.Tensor:
    """The op's output for a ``(B, 3, H, W)`` batch in [0, 1] (H, W multiples of 32)."""
    dev = x.device
    with torch.no_grad():
        if base == "denoise":
            return frozen_model("cycleisp_srgb_denoise", dev)(x).clamp(0, 1)
        if base == "deblur":
            return frozen_model("deblurgan_fast", dev)(x).clamp(0, 1)
        if base == "lowlight":
            from app.core.ops.lowlight_stages import auto_ratio

            out = frozen_model("kind_decomposition", dev)(x)
            light = out[:, 3:4]
            r = frozen_model("kind_restoration", dev)(out).clamp(0, 1)  # the op's fuse at strength 1: R only
            gmean = torch.exp(torch.log(light.clamp(min=1e-3)).mean(dim=(1, 2, 3)))
            alpha = torch.tensor([auto_ratio(float(g)) for g in gmean], device=dev)
            adjusted = frozen_model("kind_adjustment", dev)(light, alpha)
            return (r * adjusted).clamp(0, 1)
    raise ValueError(f"unknown refine base {base!r}; use {', '.join(BASE_MODELS)}")


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    degraded = batch["lq"]
    candidate = base_output(model.refine_base, degraded)
    batch["lq"] = candidate  # validation's input_psnr: the op without refinement
    return model(torch.cat([degraded, candidate], 1))


def build_model(cfg: dict[str, Any]) -> nn.Module:
    from app.core.nets import ptg

    kwargs = arch_config(cfg)
    prior = kwargs.get("prior", ptg.CONFIGS[kwargs["config"]]["prior"])
    if prior == "vgg":
        from app.train.perceptual import default_weights_path

        kwargs["prior_weights"] = str(default_weights_path())
    net = ptg.build(**kwargs)
    if prior == "degradation":
        from app.core.models.registry import load_model

        net.prior.load_state_dict(load_model("ptg_degradation_prior", "cpu", backend="torch").module.state_dict())
    net.refine_base = cfg["model"]["base"]
    return net


def build_data(cfg: dict, splits: Splits, split: str):
    from app.train.tasks import get_task

    return get_task(cfg["model"]["data_task"]).build_data(cfg, splits, split)


TASK = Task(
    name="refine",
    build_model=build_model,
    arch=lambda cfg: (ARCH, arch_config(cfg)),
    build_data=build_data,
    default_loss=[{"type": "charbonnier", "eps": 1e-3}],
    forward=forward,
    descriptor=like_catalog(lambda cfg: f"ptg_refine_{cfg['model']['base']}", arch_config),
)
