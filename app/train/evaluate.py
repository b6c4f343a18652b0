"""Validation: PSNR / SSIM of a model over fixed batches (the runner's periodic check and export)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from app.core.metrics.ssim import ssim_torch

#: Per-patch MSE floor: the noise of 8-bit quantisation, (1/255)^2 / 12 (a 58.9 dB ceiling). A flat patch
#: that JPEG (or any degradation) leaves exact would otherwise score infinity (100 dB once capped), and one
#: such patch changed by an invisible 1/1000 swung the mean of 64 patches by half a dB.
MSE_FLOOR = (1.0 / 255.0) ** 2 / 12.0


def _patch_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.float() - b.float()).pow(2).flatten(1).mean(dim=1)


def _psnr(mse: torch.Tensor) -> torch.Tensor:
    return 10.0 * torch.log10(1.0 / mse.clamp_min(MSE_FLOOR))


@torch.inference_mode()
def evaluate(model: nn.Module, batches: Sequence[Mapping[str, torch.Tensor]],
             forward: Callable[[nn.Module, Mapping[str, torch.Tensor]], torch.Tensor], *,
             device: torch.device | str = "cpu", amp_dtype: torch.dtype | None = None,
             channels_last: bool = False) -> dict[str, float]:
    """Mean per-patch PSNR (dB) and SSIM of ``forward(model, batch)`` against ``batch["gt"]``.

    Predictions are clamped to [0, 1] first, as the app does. Each patch's MSE is floored at
    :data:`MSE_FLOOR` (PSNR <= 58.9 dB), so exact flat patches cannot dominate the mean; ``psnr_mse`` is
    the PSNR of the mean MSE over all patches (unfloored; what a pooled error says). ``input_psnr`` /
    ``input_psnr_mse`` score ``batch["lq"]`` itself where it has the target's shape (the identity baseline
    a model must beat); NaN otherwise.

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
    mses, ssims, inputs = [], [], []
    try:
        for batch in batches:
            b = {k: v.to(device, memory_format=fmt if v.dim() == 4 else torch.preserve_format)
                 for k, v in batch.items()}
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                pred = forward(model, b)
            pred = pred.float().clamp(0, 1)
            gt = b["gt"].float()
            mses.append(_patch_mse(pred, gt).cpu())
            ssims.append(ssim_torch(pred, gt).cpu())
            if b["lq"].shape == gt.shape:
                inputs.append(_patch_mse(b["lq"], gt).cpu())
    finally:
        model.train(was_training)
    mse = torch.cat(mses)
    nan = float("nan")
    inp = torch.cat(inputs) if inputs else None
    return {"psnr": float(_psnr(mse).mean()), "ssim": float(torch.cat(ssims).mean()),
            "psnr_mse": float(10.0 * torch.log10(1.0 / mse.mean().clamp_min(1e-20))),
            "input_psnr": float(_psnr(inp).mean()) if inp is not None else nan,
            "input_psnr_mse": float(10.0 * torch.log10(1.0 / inp.mean().clamp_min(1e-20))) if inp is not None else nan,
            "count": int(len(mse))}


def combine_metrics(parts: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Count-weighted mean of several :func:`evaluate` results (one per validation source)."""
    total = sum(p["count"] for p in parts)
    out: dict[str, float] = {"count": total}
    for key in ("psnr", "ssim", "input_psnr"):
        out[key] = float(sum(p[key] * p["count"] for p in parts) / max(total, 1))
    for key in ("psnr_mse", "input_psnr_mse"):  # pool the MSEs, not the decibels
        if all(key in p for p in parts):
            mse = sum(10.0 ** (-p[key] / 10.0) * p["count"] for p in parts) / max(total, 1)
            out[key] = float(-10.0 * math.log10(mse)) if mse > 0 else float("inf")
    return out
