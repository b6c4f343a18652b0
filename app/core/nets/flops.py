"""Forward-hook FLOP counting for nets with several inputs, for the model cards and the speed budgets.

:func:`app.core.models.stats.count_flops_per_pixel` counts one zero-filled input; this module takes the
real inputs (RAW + variance, RAW + reference sRGB, L + alpha) and any pixel count to divide by (sensor
pixels for packed Bayer). Same convention, so both give the same figure where both apply (tested).
Parameters: :func:`app.core.models.stats.count_params`.

Convention: FLOP = 2 x multiply-accumulate, counted for ``Conv2d``, ``ConvTranspose2d`` and ``Linear``
only (with bias adds ignored). Attention gates, activations, norms, pooling and resampling are
element-wise and add well under 5 % for the nets in this package; they are deliberately not counted, which
matches the usual fvcore / ptflops convention the papers quote.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["count_flops", "count_flops_and_output", "count_flops_per_pixel"]


def _conv_macs(module: nn.modules.conv._ConvNd, inp: torch.Tensor, out: torch.Tensor) -> int:
    k = math.prod(module.kernel_size)
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        # Every input element scatters into out_channels/groups x kernel outputs.
        return inp.numel() * (module.out_channels // module.groups) * k
    return out.numel() * (module.in_channels // module.groups) * k


def count_flops_and_output(model: nn.Module, *inputs: torch.Tensor, **kwargs) -> tuple[int, object]:
    """Total FLOPs (2 x MACs) of one forward pass of ``model`` on ``inputs``, and the forward's output.

    The one FLOP counter: :func:`count_flops`, :func:`count_flops_per_pixel` and
    :func:`app.core.models.stats.count_flops_per_pixel` all count through it.
    """
    total = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.modules.conv._ConvNd):
            total += 2 * _conv_macs(module, args[0], out)
        elif isinstance(module, nn.Linear):
            total += 2 * (out.numel() // module.out_features) * module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.modules.conv._ConvNd | nn.Linear)]
    try:
        with torch.no_grad():
            out = model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return total, out


def count_flops(model: nn.Module, *inputs: torch.Tensor, **kwargs) -> int:
    """Total FLOPs (2 x MACs) of one forward pass of ``model`` on ``inputs``.

    Args:
        model: any module; its submodules are hooked for the duration of the call.
        *inputs: positional inputs for ``model.forward``.
        **kwargs: keyword inputs for ``model.forward``.

    Returns:
        FLOPs for the whole batch.
    """
    return count_flops_and_output(model, *inputs, **kwargs)[0]


def count_flops_per_pixel(model: nn.Module, *inputs: torch.Tensor, pixels: int | None = None,
                          **kwargs) -> float:
    """FLOPs per pixel for one image.

    Args:
        model: the network.
        *inputs: forward inputs; the first one must be ``(B, C, H, W)``.
        pixels: pixels per image to divide by. Defaults to ``H * W`` of the first input; pass the sensor
            pixel count (``4 * H * W`` for packed Bayer input) to count per sensor pixel.
        **kwargs: keyword inputs for ``model.forward``.

    Returns:
        FLOPs per pixel per image.
    """
    first = inputs[0]
    if pixels is None:
        pixels = first.shape[-2] * first.shape[-1]
    return count_flops(model, *inputs, **kwargs) / (first.shape[0] * pixels)
