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

import torch
from torch import nn

__all__ = ["count_flops", "count_flops_per_pixel"]


def _conv_macs(module: nn.Conv2d | nn.ConvTranspose2d, inp: torch.Tensor, out: torch.Tensor) -> int:
    kh, kw = module.kernel_size
    per_position = kh * kw * (module.in_channels // module.groups) * module.out_channels
    if isinstance(module, nn.ConvTranspose2d):
        # Every input position scatters a full kernel into the output.
        return inp.shape[0] * inp.shape[-2] * inp.shape[-1] * per_position
    return out.shape[0] * out.shape[-2] * out.shape[-1] * per_position


def count_flops(model: nn.Module, *inputs: torch.Tensor, **kwargs) -> int:
    """Total FLOPs (2 x MACs) of one forward pass of ``model`` on ``inputs``.

    Args:
        model: any module; its submodules are hooked for the duration of the call.
        *inputs: positional inputs for ``model.forward``.
        **kwargs: keyword inputs for ``model.forward``.

    Returns:
        FLOPs for the whole batch.
    """
    total = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal total
        inp = args[0]
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
            total += 2 * _conv_macs(module, inp, out)
        elif isinstance(module, nn.Linear):
            total += 2 * (out.numel() // module.out_features) * module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear)]
    try:
        with torch.no_grad():
            model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return total


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
