"""MobileNetV2 feature extractor with five taps, for the DeblurGAN-v2 FPN generator.

Written from the MobileNetV2 paper (Sandler et al., 2018); no torchvision. The classifier end (the 320-wide
block, the 1280-wide 1x1 conv and the pooling) is dropped, as in DeblurGAN-v2, which taps the stages
ending at 1/2, 1/4, 1/8, 1/16 and 1/32 resolution.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ConvNormAct, DepthwiseSeparableConv, InvertedResidual

__all__ = ["MobileNetV2Backbone", "make_divisible"]

# (expand ratio t, output channels c, repeats n, first stride s) per stage, from the paper; the 320-wide
# stage is omitted.
_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2))
# Stage indices (into _STAGES) after which each tap is taken: 1/2, 1/4, 1/8, 1/16, 1/32.
_TAP_AFTER = (0, 1, 2, 3, 5)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a width to a multiple of ``divisor`` without dropping more than 10 % (MobileNet rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class MobileNetV2Backbone(nn.Module):
    """MobileNetV2 trunk returning five feature maps.

    Args:
        width_mult: channel multiplier applied to every stage (rounded to multiples of 8).
        dsc_stem: make the stride-2 stem conv depthwise separable too (MobileNet-DSC: no dense 3x3 conv
            anywhere in the generator).
        norm: ``"batch"`` (default, folds at inference), ``"instance"`` or ``"none"``.

    Attributes:
        channels: widths of the five taps, shallowest first.

    Shape:
        - Input: ``(B, 3, H, W)`` with ``H, W`` multiples of 32.
        - Output: list of 5 tensors ``(B, channels[i], H / 2**(i+1), W / 2**(i+1))``.
    """

    def __init__(self, *, width_mult: float = 1.0, dsc_stem: bool = False, norm: str = "batch") -> None:
        super().__init__()
        stem_ch = make_divisible(32 * width_mult)
        self.stem = (DepthwiseSeparableConv(3, stem_ch, 3, stride=2, norm=norm) if dsc_stem
                     else ConvNormAct(3, stem_ch, 3, stride=2, norm=norm))
        stages: list[nn.Module] = []
        prev = stem_ch
        for t, c, n, s in _STAGES:
            out = make_divisible(c * width_mult)
            blocks = []
            for i in range(n):
                stride = s if i == 0 else 1
                blocks.append(InvertedResidual(prev, out, stride=stride, expand_ratio=t, norm=norm))
                prev = out
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.channels = tuple(make_divisible(_STAGES[i][1] * width_mult) for i in _TAP_AFTER)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        taps = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in _TAP_AFTER:
                taps.append(x)
        return taps
