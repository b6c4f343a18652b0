"""Validation: PSNR / SSIM of a model over fixed batches (the runner's periodic check and export)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from app.core.metrics.psnr import PSNR_CAP, psnr_torch
from app.core.metrics.ssim import ssim_torch


@torch.inference_mode()
def evaluate(model: nn.Module, batches: Sequence[Mapping[str, torch.Tensor]],
             forward: Callable[[nn.Module, Mapping[str, torch.Tensor]], torch.Tensor], *,
             device: torch.device | str = "cpu", amp_dtype: torch.dtype | None = None,
             channels_last: bool = False) -> dict[str, float]:
    """Mean per-patch PSNR (dB, capped at 100) and SSIM of ``forward(model, batch)`` against ``batch["gt"]``.

    Predictions are clamped to [0, 1] first, as the app does. ``input_psnr`` scores ``batch["lq"]`` itself
    where it has the target's shape (the identity baseline a model must beat); NaN otherwise.

    Args:
        model: the network (switched to eval mode and back).
        batches: dicts of ``(B, C, H, W)`` tensors with ``lq`` and ``gt``.
        forward: the task's ``(model, batch) -> prediction``.
        device: where to run.
        amp_dtype: autocast dtype on CUDA, None for float32.
        channels_last: feed channels-last tensors.
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    psnrs, ssims, inputs = [], [], []
    try:
        for batch in batches:
            b = {k: v.to(device, memory_format=fmt if v.dim() == 4 else torch.preserve_format)
                 for k, v in batch.items()}
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                pred = forward(model, b)
            pred = pred.float().clamp(0, 1)
            gt = b["gt"].float()
            psnrs.append(psnr_torch(pred, gt).clamp(max=PSNR_CAP).cpu())
            ssims.append(ssim_torch(pred, gt).cpu())
            if b["lq"].shape == gt.shape:
                inputs.append(psnr_torch(b["lq"].float(), gt).clamp(max=PSNR_CAP).cpu())
    finally:
        model.train(was_training)
    return {"psnr": float(torch.cat(psnrs).mean()), "ssim": float(torch.cat(ssims).mean()),
            "input_psnr": float(torch.cat(inputs).mean()) if inputs else float("nan"),
            "count": int(sum(len(p) for p in psnrs))}


def combine_metrics(parts: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Count-weighted mean of several :func:`evaluate` results (one per validation source)."""
    total = sum(p["count"] for p in parts)
    out: dict[str, float] = {"count": total}
    for key in ("psnr", "ssim", "input_psnr"):
        out[key] = float(sum(p[key] * p["count"] for p in parts) / max(total, 1))
    return out
