"""Small JPEG artefact removal net that works on JPEG's own 8x8 block grid, quality-conditioned.

JPEG quantises each 8x8 block (16x16 for 4:2:0 chroma) on a grid that starts at the image origin, so the
artefacts are a function of the block, not of the pixel. The body therefore runs at block resolution: a
pixel-unshuffle by 8 turns every block (3 x 64 values) into one feature vector, and residual 3x3 convs
between neighbouring blocks (24 px per conv) learn what a learned inverse of the quantiser needs. That costs
~1/64 of a full-resolution conv per feature, and the net knows the grid by construction (a plain CNN
would have to find it from the blocking, or, trained on small crops, from the crop border). A small
full-resolution head smooths across block edges. The caller must keep the grid: the image origin on a
multiple of 16 (``size_multiple`` = 16, tiles at multiples of 16, padding only at the bottom/right).

The input's last channel is a constant map of the estimated JPEG quality / 100, so one net serves q10
(strong smoothing) to q95 (almost nothing). The last conv is zero: an untrained net is the identity.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["DeJpegNet", "build", "config_of"]

#: JPEG's block edge; the body's pixel-unshuffle factor.
BLOCK = 8


class _ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.a = nn.Conv2d(channels, channels, 3, padding=1)
        self.b = nn.Conv2d(channels, channels, 3, padding=1)
        # Scaled down so a stack of them starts close to the identity map (no batch norm here).
        nn.init.kaiming_normal_(self.a.weight, nonlinearity="relu")
        nn.init.kaiming_normal_(self.b.weight, nonlinearity="relu")
        self.b.weight.data.mul_(0.1)
        nn.init.zeros_(self.a.bias)
        nn.init.zeros_(self.b.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(torch.relu(self.a(x)))


class DeJpegNet(nn.Module):
    """``x + f(x, q)`` on sRGB, with ``f`` computed on the 8x8 JPEG block grid.

    Args:
        channels: block-feature width.
        depth: residual blocks (two 3x3 convs each) at block resolution.
        fine: channels of the full-resolution head (``0`` = none: the block features map straight to
            pixels).

    Shape:
        ``(B, 4, H, W)`` = sRGB in [0, 1] then the quality map (quality / 100) -> ``(B, 3, H, W)``;
        ``H`` and ``W`` multiples of 8 (the descriptor's ``size_multiple`` 16 pads, grid-aligned).
    """

    def __init__(self, *, channels: int = 96, depth: int = 3, fine: int = 16) -> None:
        super().__init__()
        self.fine = int(fine)
        self.down = nn.PixelUnshuffle(BLOCK)
        self.head = nn.Conv2d(3 * BLOCK * BLOCK + 1, channels, 1)
        self.body = nn.Sequential(*[_ResBlock(channels) for _ in range(depth)])
        out = 3 if not self.fine else self.fine
        self.tail = nn.Conv2d(channels, out * BLOCK * BLOCK, 1)
        self.up = nn.PixelShuffle(BLOCK)
        last = self.tail
        if self.fine:
            self.refine = nn.Sequential(nn.Conv2d(self.fine + 3, self.fine, 3, padding=1), nn.ReLU(inplace=True),
                                        nn.Conv2d(self.fine, 3, 3, padding=1))
            last = self.refine[-1]
        nn.init.zeros_(last.weight)  # an untrained net returns its input exactly
        nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 4:
            raise ValueError(f"DeJpegNet expects (B, 4, H, W) sRGB + quality map, got {tuple(x.shape)}")
        if x.shape[-2] % BLOCK or x.shape[-1] % BLOCK:
            raise ValueError(f"DeJpegNet needs H and W multiples of {BLOCK} (the JPEG grid), got "
                             f"{tuple(x.shape[-2:])}")
        rgb = x[:, :3]
        centred = rgb - 0.5
        q = x[:, 3:, ::BLOCK, ::BLOCK]  # constant map: one value per block
        h = torch.relu(self.head(torch.cat([self.down(centred), q * 2.0 - 1.0], dim=1)))
        t = self.up(self.tail(self.body(h)))
        if self.fine:
            t = self.refine(torch.cat([torch.relu(t), centred], dim=1))
        return rgb + t


def config_of(state: dict[str, Any]) -> dict[str, int]:
    """The :class:`DeJpegNet` keyword arguments a state dict was saved from (checkpoints of wider runs)."""
    depth = len({k.split(".")[1] for k in state if k.startswith("body.")})
    fine = int(state["refine.0.weight"].shape[0]) if "refine.0.weight" in state else 0
    return {"channels": int(state["head.weight"].shape[0]), "depth": depth, "fine": fine}


def build(**config: Any) -> DeJpegNet:
    """Registry builder: ``config`` = :class:`DeJpegNet` keyword arguments."""
    return DeJpegNet(**config)
