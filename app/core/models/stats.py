"""Model size and cost figures for model cards and benchmarks: parameters and FLOPs per pixel."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from app.core.nets.flops import count_flops_and_output


def count_params(module: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters (shared parameters counted once)."""
    seen: set[int] = set()
    total = 0
    for p in module.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def count_flops_per_pixel(module: nn.Module, in_shape: Sequence[int]) -> float:
    """FLOPs (2 x multiply-accumulates) per *output* pixel of one forward pass.

    Counts ``Conv1d/2d/3d``, ``ConvTranspose*`` and ``Linear`` (the bulk of any restoration
    net); activations, norms, biases and additions are ignored (a few percent at most).

    Args:
        module: the network; run once on zeros, in eval mode, without gradients.
        in_shape: ``(N, C, H, W)`` input shape, e.g. ``(1, 3, 64, 64)``; use a size the network
            accepts (a multiple of its size multiple).

    Returns:
        FLOPs per output pixel, i.e. total FLOPs / (N * H_out * W_out) of the first output tensor.
    """
    was_training = module.training
    try:
        module.eval()
        param = next(module.parameters(), None)
        x = torch.zeros(*in_shape, device=param.device if param is not None else "cpu",
                        dtype=param.dtype if param is not None else torch.float32)
        flops, out = count_flops_and_output(module, x)
    finally:
        module.train(was_training)
    while isinstance(out, (tuple, list)):
        out = out[0]
    if isinstance(out, dict):
        out = next(iter(out.values()))
    return flops / (out.shape[0] * out.shape[-2] * out.shape[-1])
