"""Small JPEG artefact removal net (DnCNN-like residual stack at half resolution), quality-conditioned.

JPEG blocking lives on an 8x8 grid (16x16 for 4:2:0 chroma), so the net needs a receptive field of a few
blocks but little capacity: a pixel-unshuffle by 2 lets ``depth`` 3x3 convs see ``2 * (2 * depth + 1)``
pixels at a quarter of the full-resolution cost. The input's last channel is a constant map of the
estimated JPEG quality / 100, so one net serves q10 (strong smoothing) to q95 (almost nothing). The last
conv starts near zero: an untrained net is close to the identity.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["DeJpegNet", "build"]


class DeJpegNet(nn.Module):
    """``x + f(x, q)`` on sRGB.

    Args:
        channels: hidden width.
        depth: number of hidden 3x3 conv layers (each followed by a ReLU).

    Shape:
        ``(B, 4, H, W)`` = sRGB in [0, 1] then the quality map (quality / 100) -> ``(B, 3, H, W)``;
        ``H`` and ``W`` even (the descriptor's ``size_multiple`` pads).
    """

    def __init__(self, *, channels: int = 32, depth: int = 8) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.PixelUnshuffle(2), nn.Conv2d(16, channels, 3, padding=1),
                                   nn.ReLU(inplace=True)]
        for _ in range(depth):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
        for m in layers:
            # He init: PyTorch's default shrinks the signal ~3x per ReLU layer, and a 10-layer plain stack
            # without batch norm then barely trains (a first run stayed at the identity for 600 steps).
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        tail = nn.Conv2d(channels, 12, 3, padding=1)
        nn.init.normal_(tail.weight, std=1e-3)  # near the identity, but not exactly (a zero tail learns slowly)
        nn.init.zeros_(tail.bias)
        layers += [tail, nn.PixelShuffle(2)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 4:
            raise ValueError(f"DeJpegNet expects (B, 4, H, W) sRGB + quality map, got {tuple(x.shape)}")
        return x[:, :3] + self.body(x)


def build(**config: Any) -> DeJpegNet:
    """Registry builder: ``config`` = :class:`DeJpegNet` keyword arguments."""
    return DeJpegNet(**config)
