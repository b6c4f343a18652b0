"""KinD low-light nets (Zhang et al., "Kindling the Darkness", 2019; KinD++ 2021).

Three nets run as separate cached pipeline stages: :class:`DecompositionNet` (image -> reflectance R and
illumination L), :class:`RestorationNet` (R_low guided by L_low -> clean R) and
:class:`IlluminationAdjustNet` (L and a ratio alpha -> adjusted L). Output = restored R x adjusted L.

``full`` configurations follow the papers' widths; ``fast`` ones are sized for a 24-MP photo end-to-end in
under a minute on a 2-core CPU (see ``bench/net_speed.py``). The illumination net's ``fast`` setting
predicts a smooth per-pixel tone curve on a coarse grid and applies it at full resolution (see its
docstring), so a ratio change on a 2-MP preview costs a few element-wise passes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import conv, crop_to, pad_to_multiple
from .kind_adjust import IlluminationAdjustNet

__all__ = ["CONFIGS", "DecompositionNet", "IlluminationAdjustNet", "RestorationNet", "build"]


def _conv_act(in_ch: int, out_ch: int, kernel_size: int = 3) -> nn.Sequential:
    return nn.Sequential(conv(in_ch, out_ch, kernel_size), nn.LeakyReLU(0.2, inplace=True))


class DecompositionNet(nn.Module):
    """Retinex decomposition ``I = R * L`` with a shared 3-level U-Net encoder (KinD layer-decomposition net).

    The reflectance branch reads the decoder output; the illumination branch combines a shallow branch off
    the first encoder level with the decoder output, as in KinD, so L stays smooth but edge-aware.

    Args:
        channels: widths of the three U-Net levels (full, 1/2 and 1/4 resolution).

    Shape:
        - Input: ``(B, 3, H, W)`` sRGB in ``[0, 1]``; any ``H, W`` (reflect-padded to a multiple of 4).
        - Output: ``(B, 4, H, W)`` in ``(0, 1)``: reflectance ``R`` in channels 0-2, illumination ``L`` in
          channel 3 (one tensor, so the registry can tile it); :meth:`split` separates them.
    """

    size_multiple = 4

    def __init__(self, *, channels: tuple[int, int, int] = (32, 64, 128)) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.enc1 = _conv_act(3, c1)
        self.enc2 = _conv_act(c1, c2)
        self.enc3 = _conv_act(c2, c3)
        self.up2 = nn.ConvTranspose2d(c3, c2, 2, stride=2)
        self.dec2 = _conv_act(2 * c2, c2)
        self.up1 = nn.ConvTranspose2d(c2, c1, 2, stride=2)
        self.dec1 = _conv_act(2 * c1, c1)
        self.reflectance = nn.Sequential(conv(c1, 3, 1), nn.Sigmoid())
        self.illum_branch = _conv_act(c1, c1)
        self.illumination = nn.Sequential(conv(2 * c1, 1, 1), nn.Sigmoid())

    @staticmethod
    def split(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(R, L)`` views of a ``(B, 4, H, W)`` decomposition."""
        return out[:, :3], out[:, 3:]

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) image, got {tuple(image.shape)}")
        x, size = pad_to_multiple(image, self.size_multiple)
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(e3), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        r = self.reflectance(d1)
        l_map = self.illumination(torch.cat([self.illum_branch(e1), d1], dim=1))
        return crop_to(torch.cat([r, l_map], dim=1), size)


class _IlluminationAttention(nn.Module):
    """Per-scale illumination gate (a simplified KinD++ MSIA): ``f * (1 + sigmoid(conv(L_s)))``.

    Dark regions hide most of the noise and colour damage in R, so letting L scale features per level lets
    the net denoise harder where the scene is dark without a separate noise map.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(conv(1, channels), nn.Sigmoid())

    def forward(self, feat: torch.Tensor, illumination: torch.Tensor) -> torch.Tensor:
        factor = illumination.shape[-1] // feat.shape[-1]
        l_s = F.avg_pool2d(illumination, factor) if factor > 1 else illumination
        return feat * (1 + self.gate(l_s))


class RestorationNet(nn.Module):
    """Reflectance restoration U-Net: (R_low, L_low) -> clean R (KinD restoration net).

    Args:
        channels: width per level, level ``i`` at ``1 / 2**i`` resolution.
        blocks: 3x3 convs per level, in the encoder and again in the decoder. One conv at full resolution
            (``fast``) keeps the costly full-size level thin; KinD uses two everywhere.
        illumination_attention: gate each encoder level with the illumination (simplified KinD++ MSIA).

    Shape:
        - Input: ``reflectance`` ``(B, 3, H, W)`` and ``illumination`` ``(B, 1, H, W)`` in ``[0, 1]``, or
          one ``(B, 4, H, W)`` tensor (a :class:`DecompositionNet` output) with ``illumination=None``; any
          ``H, W`` (reflect-padded to a multiple of ``2 ** (len(channels) - 1)``).
        - Output: ``(B, 3, H, W)`` restored reflectance in ``(0, 1)``.
    """

    def __init__(self, *, channels: tuple[int, ...] = (32, 64, 128, 256, 512),
                 blocks: tuple[int, ...] = (2, 2, 2, 2, 2), illumination_attention: bool = False) -> None:
        super().__init__()
        if len(channels) != len(blocks) or len(channels) < 2:
            raise ValueError("channels and blocks need the same length (>= 2)")
        self.size_multiple = 2 ** (len(channels) - 1)
        self.encoders = nn.ModuleList()
        prev = 4
        for ch, n in zip(channels, blocks):
            self.encoders.append(nn.Sequential(*[_conv_act(prev if i == 0 else ch, ch) for i in range(n)]))
            prev = ch
        self.attention = nn.ModuleList([_IlluminationAttention(ch) for ch in channels]) \
            if illumination_attention else None
        self.ups = nn.ModuleList([nn.ConvTranspose2d(channels[i + 1], channels[i], 2, stride=2)
                                  for i in range(len(channels) - 1)])
        self.decoders = nn.ModuleList([
            nn.Sequential(*[_conv_act(2 * ch if i == 0 else ch, ch) for i in range(n)])
            for ch, n in zip(channels[:-1], blocks[:-1])])
        self.out = nn.Sequential(conv(channels[0], 3, 1), nn.Sigmoid())

    def forward(self, reflectance: torch.Tensor, illumination: torch.Tensor | None = None) -> torch.Tensor:
        if illumination is None:
            if reflectance.ndim != 4 or reflectance.shape[1] != 4:
                raise ValueError(f"expected (B, 4, H, W) = R + L, got {tuple(reflectance.shape)}")
            reflectance, illumination = reflectance[:, :3], reflectance[:, 3:]
        if reflectance.ndim != 4 or reflectance.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) reflectance, got {tuple(reflectance.shape)}")
        if illumination.shape != (reflectance.shape[0], 1, *reflectance.shape[2:]):
            raise ValueError(f"illumination must be (B, 1, H, W) matching R, got {tuple(illumination.shape)}")
        x, size = pad_to_multiple(torch.cat([reflectance, illumination], dim=1), self.size_multiple)
        l_pad = x[:, 3:]
        skips = []
        for i, enc in enumerate(self.encoders):
            x = enc(x if i == 0 else F.max_pool2d(x, 2))
            if self.attention is not None:
                x = self.attention[i](x, l_pad)
            skips.append(x)
        for i in reversed(range(len(self.decoders))):
            x = self.decoders[i](torch.cat([self.ups[i](x), skips[i]], dim=1))
        return crop_to(self.out(x), size)


#: ``CONFIGS[config][net]`` -> constructor kwargs.
CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "fast": {
        "decomposition": {"channels": (16, 32, 64)},
        "restoration": {"channels": (16, 32, 64, 128), "blocks": (1, 2, 2, 2),
                        "illumination_attention": False},
        "adjustment": {"channels": 16, "num_layers": 3, "scale": 8},
    },
    "full": {
        "decomposition": {"channels": (32, 64, 128)},
        "restoration": {"channels": (32, 64, 128, 256, 512), "blocks": (2, 2, 2, 2, 2),
                        "illumination_attention": False},
        "adjustment": {"channels": 32, "num_layers": 3, "scale": 1},
    },
}

NETS: dict[str, type[nn.Module]] = {
    "decomposition": DecompositionNet,
    "restoration": RestorationNet,
    "adjustment": IlluminationAdjustNet,
}


def build(net: str, config: str = "fast", **overrides: Any) -> nn.Module:
    """Build a KinD-family network.

    Args:
        net: ``"decomposition"``, ``"restoration"`` or ``"adjustment"``.
        config: ``"fast"`` or ``"full"``.
        **overrides: constructor kwargs replacing the configuration's values.

    Returns:
        The freshly initialised module.
    """
    if net not in NETS:
        raise KeyError(f"unknown KinD net {net!r}; choose from {sorted(NETS)}")
    if config not in CONFIGS:
        raise KeyError(f"unknown config {config!r}; choose from {sorted(CONFIGS)}")
    return NETS[net](**{**CONFIGS[config][net], **overrides})
