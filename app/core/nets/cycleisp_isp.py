"""CycleISP learned camera pipeline: RGB2RAW, RAW2RGB and the colour-correction (colour attention) branch.

Used by data synthesis as a selectable "learned ISP": RGB2RAW inverts development (sRGB -> packed RAW),
RAW2RGB replays it (packed RAW -> sRGB) while the colour branch, fed with a heavily blurred copy of the
target sRGB, supplies the per-image colour rendition as an attention map (as in the paper, so the RAW2RGB
trunk learns structure and the branch carries white balance / colour style).

Build these through :func:`app.core.nets.cycleisp.build`; configurations are in :data:`ISP_CONFIGS`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import conv, rrg_stack

__all__ = ["ISP_CONFIGS", "ColourCorrection", "LearnedIsp", "Raw2Rgb", "Rgb2Raw", "mosaic_rggb"]


def mosaic_rggb(rgb: torch.Tensor) -> torch.Tensor:
    """Sample an RGB image on an RGGB Bayer pattern and pack it.

    Args:
        rgb: ``(B, 3, H, W)`` with even ``H`` and ``W``.

    Returns:
        ``(B, 4, H/2, W/2)`` planes ``R, G(red row), G(blue row), B``.
    """
    if rgb.ndim != 4 or rgb.shape[1] != 3 or rgb.shape[-2] % 2 or rgb.shape[-1] % 2:
        raise ValueError(f"expected (B, 3, H, W) with even H and W, got {tuple(rgb.shape)}")
    return torch.stack([rgb[:, 0, 0::2, 0::2], rgb[:, 1, 0::2, 1::2],
                        rgb[:, 1, 1::2, 0::2], rgb[:, 2, 1::2, 1::2]], dim=1)


def _gaussian_blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Separable blur of every channel of ``x`` with the 1-D ``kernel``."""
    c, radius = x.shape[1], kernel.numel() // 2
    mode = "reflect" if min(x.shape[-2:]) > radius else "replicate"
    x = F.pad(x, (radius, radius, radius, radius), mode=mode)
    k = kernel.to(x.dtype)
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


class Rgb2Raw(nn.Module):
    """Learned inverse ISP: sRGB -> linear camera RGB -> RGGB mosaic.

    Args:
        channels: trunk width.
        num_rrg: recursive residual groups.
        num_dab: dual attention blocks per group.
        reduction: channel-attention squeeze ratio.

    Shape:
        - Input: ``(B, 3, H, W)`` sRGB in ``[0, 1]``, ``H`` and ``W`` even (the Bayer phase must be defined).
        - Output: ``(B, 4, H/2, W/2)`` packed RGGB, linear, black level 0 / white level 1.
    """

    def __init__(self, *, channels: int = 96, num_rrg: int = 3, num_dab: int = 5, reduction: int = 8) -> None:
        super().__init__()
        self.size_multiple = 2
        self.head = conv(3, channels)
        self.body = nn.Sequential(*rrg_stack(channels, num_rrg=num_rrg, num_dab=num_dab, reduction=reduction),
                                  conv(channels, channels), nn.PReLU(channels))
        self.tail = conv(channels, 3)

    def linear(self, rgb: torch.Tensor) -> torch.Tensor:
        """The full-resolution camera-RGB image before mosaicking, ``(B, 3, H, W)``."""
        return self.tail(self.body(self.head(rgb)))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return mosaic_rggb(self.linear(rgb))


class ColourCorrection(nn.Module):
    """Colour attention branch: blurred sRGB -> per-channel sigmoid attention at packed resolution.

    The strong Gaussian blur (``sigma`` px) removes structure so only colour rendition can pass.

    Args:
        out_channels: attention channels, equal to the RAW2RGB trunk width it modulates.
        channels: branch width.
        num_rrg: recursive residual groups.
        num_dab: dual attention blocks per group.
        reduction: channel-attention squeeze ratio.
        sigma: Gaussian blur standard deviation in pixels.

    Shape:
        - Input: ``(B, 3, H, W)`` sRGB in ``[0, 1]``, ``H`` and ``W`` even.
        - Output: ``(B, out_channels, H/2, W/2)`` in ``(0, 1)``.
    """

    def __init__(self, *, out_channels: int = 96, channels: int = 96, num_rrg: int = 2, num_dab: int = 2,
                 reduction: int = 8, sigma: float = 12.0) -> None:
        super().__init__()
        radius = max(1, math.ceil(2 * sigma))
        taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=torch.float32) / sigma) ** 2)
        # Not persistent: it is fully determined by sigma, so it stays out of the weight files.
        self.register_buffer("kernel", taps / taps.sum(), persistent=False)
        self.head = nn.Sequential(conv(3, channels), nn.MaxPool2d(2))
        self.body = nn.Sequential(*rrg_stack(channels, num_rrg=num_rrg, num_dab=num_dab, reduction=reduction),
                                  conv(channels, channels), nn.PReLU(channels))
        self.tail = nn.Sequential(conv(channels, out_channels), nn.Sigmoid())

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.tail(self.body(self.head(_gaussian_blur(rgb, self.kernel))))


class Raw2Rgb(nn.Module):
    """Learned ISP: packed RAW -> sRGB, with colour attention from a reference sRGB image.

    The trunk features are modulated as ``f * a + f`` by the :class:`ColourCorrection` output ``a``
    computed from ``reference`` (during training the target sRGB; in synthesis the clean sRGB being
    re-rendered), then upsampled to full resolution by pixel shuffle.

    Args:
        channels: trunk width (also the colour branch's output width).
        num_rrg: recursive residual groups.
        num_dab: dual attention blocks per group.
        reduction: channel-attention squeeze ratio.
        colour: kwargs for the :class:`ColourCorrection` branch (``out_channels`` is set to ``channels``).

    Shape:
        - Input ``raw``: ``(B, 4, h, w)`` packed RGGB in ``[0, 1]``; ``reference``: ``(B, 3, 2h, 2w)``.
        - Output: ``(B, 3, 2h, 2w)`` sRGB (not clamped).
    """

    def __init__(self, *, channels: int = 96, num_rrg: int = 3, num_dab: int = 5, reduction: int = 8,
                 colour: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.colour = ColourCorrection(**{**(colour or {}), "out_channels": channels})
        self.head = conv(4, channels)
        self.body = nn.Sequential(*rrg_stack(channels, num_rrg=num_rrg, num_dab=num_dab, reduction=reduction))
        self.post = nn.Sequential(conv(channels, channels), nn.PReLU(channels),
                                  conv(channels, channels), nn.PReLU(channels))
        self.tail = nn.Sequential(nn.Conv2d(channels, 3 * 4, 1), nn.PixelShuffle(2))

    def forward(self, raw: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        if raw.ndim != 4 or raw.shape[1] != 4:
            raise ValueError(f"expected packed RGGB (B, 4, h, w), got {tuple(raw.shape)}")
        expected = (raw.shape[0], 3, 2 * raw.shape[-2], 2 * raw.shape[-1])
        if tuple(reference.shape) != expected:
            raise ValueError(f"reference must have shape {expected}, got {tuple(reference.shape)}")
        feat = self.body(self.head(raw))
        feat = feat * self.colour(reference) + feat
        return self.tail(self.post(feat))


class LearnedIsp(nn.Module):
    """RGB2RAW and RAW2RGB trained together and shipped as one weight file (``cycleisp_learned_isp``).

    Data synthesis uses the two halves directly (:mod:`app.train.degrade` ``LearnedRawNoise``);
    ``forward`` is the sRGB -> RAW -> sRGB round trip, so the registry's tiled runner can apply it.

    Args:
        rgb2raw: :class:`Rgb2Raw` kwargs.
        raw2rgb: :class:`Raw2Rgb` kwargs.
    """

    def __init__(self, *, rgb2raw: dict[str, Any], raw2rgb: dict[str, Any]) -> None:
        super().__init__()
        self.size_multiple = 2
        self.rgb2raw = Rgb2Raw(**rgb2raw)
        self.raw2rgb = Raw2Rgb(**raw2rgb)

    def forward(self, srgb: torch.Tensor) -> torch.Tensor:
        return self.raw2rgb(self.rgb2raw(srgb), srgb)


#: ``ISP_CONFIGS[config][net]`` -> constructor kwargs; ``full`` is the paper's (96 channels).
ISP_CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "fast": {
        # Light enough to train on a CPU: the mapping is mostly per-pixel colour and tone.
        "rgb2raw": {"channels": 32, "num_rrg": 1, "num_dab": 2, "reduction": 8},
        "raw2rgb": {"channels": 32, "num_rrg": 2, "num_dab": 3, "reduction": 8,
                    "colour": {"channels": 32, "num_rrg": 1, "num_dab": 2, "sigma": 12.0}},
    },
    "full": {
        "rgb2raw": {"channels": 96, "num_rrg": 3, "num_dab": 5, "reduction": 8},
        "raw2rgb": {"channels": 96, "num_rrg": 3, "num_dab": 5, "reduction": 8,
                    "colour": {"channels": 96, "num_rrg": 2, "num_dab": 2, "sigma": 12.0}},
    },
}
for _cfg in ISP_CONFIGS.values():
    _cfg["isp"] = {"rgb2raw": dict(_cfg["rgb2raw"]), "raw2rgb": dict(_cfg["raw2rgb"])}
