"""DeblurGAN-v2 (Kupyn et al., ICCV 2019): FPN generator over MobileNetV2, double-scale discriminator.

Generator: five MobileNetV2 taps (1/2 .. 1/32), 1x1 laterals, a top-down path (nearest upsample + add, then
a 3x3 conv), per-level heads upsampled to 1/4 and concatenated, a smoothing conv, upsample to 1/2 and add
the 1/2-resolution lateral, smoothing conv, upsample to full resolution, a 3x3 conv to RGB, and
``clamp(tanh(x) + input, -1, 1)``. ``quality`` is the paper's MobileNetV2 generator; ``fast`` is
MobileNet-DSC (every 3x3 conv depthwise separable, narrower FPN). The RaGAN-LS losses are in
:mod:`losses_gan`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import ConvNormAct, DepthwiseSeparableConv, conv, crop_to, make_norm, pad_to_multiple
from .mobilenet import MobileNetV2Backbone

__all__ = ["CONFIGS", "DoubleScaleDiscriminator", "FPNGenerator", "NLayerDiscriminator", "build",
           "pad_to_multiple"]


def _conv3(in_ch: int, out_ch: int, *, dsc: bool, norm: str, act: bool = True) -> nn.Module:
    """3x3 conv (+norm, ReLU) or its depthwise-separable equivalent."""
    relu = nn.ReLU if act else None
    if dsc:
        return DepthwiseSeparableConv(in_ch, out_ch, 3, norm=norm, act=nn.ReLU, act_last=act)
    return ConvNormAct(in_ch, out_ch, 3, norm=norm, act=relu)


def _up(x: torch.Tensor, factor: int) -> torch.Tensor:
    return F.interpolate(x, scale_factor=factor, mode="nearest") if factor > 1 else x


class FPNGenerator(nn.Module):
    """DeblurGAN-v2 FPN generator with a MobileNetV2 backbone.

    Args:
        width_mult: MobileNetV2 width multiplier.
        fpn_channels: width of the laterals and the top-down path.
        head_channels: width of the per-level heads (the 1/2-resolution lateral has this width too, so it
            can be added after the first upsampling).
        dsc: MobileNet-DSC: depthwise-separable 3x3 convs everywhere (stem, top-down, heads, smoothing).
        norm: ``"batch"`` (default; folds at inference and is tile-independent) or ``"instance"`` (paper).
        unit_range: take and return images in ``[0, 1]`` (the app's sRGB convention) instead of the paper's
            ``[-1, 1]``; the mapping is outside the learned part, so the state dict is the same either way.
        full_skip: width of a full-resolution lateral from the input, added before the last conv (0 = the
            paper's generator). The paper's last features are nearest-upsampled from 1/2 resolution; this
            path lets the residual carry full-resolution detail (in the shipped fast model it raised the
            benchmark gain slightly but did not recover the fine bands of a shake: docs/deblur.md). Its last
            layer starts at zero: weights without it load into a generator with it and give the same output.

    Shape:
        - Input: ``(B, 3, H, W)`` in ``[-1, 1]`` (``[0, 1]`` with ``unit_range``); any ``H, W``
          (reflect-padded internally to a multiple of 32 and cropped back; callers may pad with
          :func:`pad_to_multiple` themselves).
        - Output: ``(B, 3, H, W)`` in the input's range.
    """

    size_multiple = 32

    def __init__(self, *, width_mult: float = 1.0, fpn_channels: int = 256, head_channels: int = 128,
                 dsc: bool = False, norm: str = "batch", unit_range: bool = False,
                 full_skip: int = 0) -> None:
        super().__init__()
        self.unit_range = unit_range
        self.backbone = MobileNetV2Backbone(width_mult=width_mult, dsc_stem=dsc, norm=norm)
        c = self.backbone.channels
        self.laterals = nn.ModuleList([nn.Conv2d(c[0], head_channels, 1, bias=False)] +
                                      [nn.Conv2d(ch, fpn_channels, 1, bias=False) for ch in c[1:]])
        # top_down[i] smooths the sum at level i + 1 (1/4, 1/8, 1/16).
        self.top_down = nn.ModuleList([_conv3(fpn_channels, fpn_channels, dsc=dsc, norm=norm)
                                       for _ in range(3)])
        self.heads = nn.ModuleList([
            nn.Sequential(_conv3(fpn_channels, head_channels, dsc=dsc, norm="none"),
                          _conv3(head_channels, head_channels, dsc=dsc, norm="none"))
            for _ in range(4)])
        self.smooth = _conv3(4 * head_channels, head_channels, dsc=dsc, norm=norm)
        self.smooth2 = _conv3(head_channels, head_channels // 2, dsc=dsc, norm=norm)
        self.final = _conv3(head_channels // 2, 3, dsc=dsc, norm="none", act=False) if dsc \
            else conv(head_channels // 2, 3)
        self.full_lateral = None
        if full_skip:
            self.full_lateral = nn.Sequential(
                ConvNormAct(3, full_skip, 3, norm=norm, act=nn.ReLU),
                DepthwiseSeparableConv(full_skip, head_channels // 2, 3, norm="none", act=nn.ReLU, act_last=False))
            nn.init.zeros_(self.full_lateral[-1][-1][0].weight)
            nn.init.zeros_(self.full_lateral[-1][-1][0].bias)
        # The last layer starts at zero, so an untrained generator returns its input (tanh(0) + x): training
        # starts from the identity instead of 4 dB below it (measured: a fresh fast generator scored 25.7 dB
        # against the blurry input's 29.8 on validation after 200 steps). The paper starts from ImageNet
        # weights; we have none, and CPU runs are short.
        last = [m for m in self.final.modules() if isinstance(m, nn.Conv2d)][-1]
        nn.init.zeros_(last.weight)
        if last.bias is not None:
            nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) images, got {tuple(x.shape)}")
        if self.unit_range:
            x = x * 2 - 1
        inp, size = pad_to_multiple(x, self.size_multiple)
        taps = self.backbone(inp)
        lat = [layer(t) for layer, t in zip(self.laterals, taps)]
        maps = [lat[4]]  # top-down from 1/32
        for level in (3, 2, 1):
            maps.insert(0, self.top_down[level - 1](lat[level] + _up(maps[0], 2)))
        # maps[i] is at 1/2**(i+2); each head runs at its level, then goes to 1/4.
        pyramid = [_up(head(m), 2**i) for i, (head, m) in enumerate(zip(self.heads, maps))]
        y = self.smooth(torch.cat(pyramid[::-1], dim=1))
        y = self.smooth2(_up(y, 2) + lat[0])
        y = _up(y, 2)
        if self.full_lateral is not None:
            y = y + self.full_lateral(inp)
        y = self.final(y)
        out = crop_to(torch.clamp(torch.tanh(y) + inp, -1.0, 1.0), size)
        return (out + 1) * 0.5 if self.unit_range else out


class NLayerDiscriminator(nn.Module):
    """PatchGAN discriminator (pix2pix): stride-2 4x4 convs, then two stride-1 4x4 convs to one channel.

    Args:
        in_channels: image channels.
        base: width of the first layer (doubles per layer, capped at 8x).
        num_layers: stride-2 layers; 3 gives a 70x70 receptive field, 5 covers a 256-px crop.
        norm: ``"instance"`` (default: per-sample statistics suit small GAN batches), ``"batch"``, ``"none"``.

    Shape:
        - Input: ``(B, in_channels, H, W)`` in ``[-1, 1]``.
        - Output: ``(B, 1, h, w)`` raw scores (no sigmoid), ``h ~ H / 2**num_layers``.
    """

    def __init__(self, *, in_channels: int = 3, base: int = 64, num_layers: int = 3,
                 norm: str = "instance") -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base, 4, stride=2, padding=2),
                                   nn.LeakyReLU(0.2, inplace=True)]
        prev = base
        for n in range(1, num_layers + 1):
            out = base * min(2**n, 8)
            stride = 2 if n < num_layers else 1
            layers += [nn.Conv2d(prev, out, 4, stride=stride, padding=2, bias=norm == "none"),
                       make_norm(norm, out), nn.LeakyReLU(0.2, inplace=True)]
            prev = out
        layers.append(nn.Conv2d(prev, 1, 4, padding=2))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class DoubleScaleDiscriminator(nn.Module):
    """DeblurGAN-v2 double-scale discriminator: local PatchGAN + full-image discriminator.

    The full-image branch is a deep PatchGAN whose score map is averaged to one score per image, so it
    judges the whole crop whatever its size. Train both with RaGAN-LS and average the two losses
    (:func:`app.core.nets.losses_gan.ragan_ls_d_loss_double`).

    Shape:
        - Input: ``(B, 3, H, W)`` in ``[-1, 1]``, ``H, W >= 64``.
        - Output: dict ``{"patch": (B, 1, h, w), "full": (B, 1)}`` raw scores.
    """

    def __init__(self, *, base: int = 64, patch_layers: int = 3, full_layers: int = 5,
                 norm: str = "instance") -> None:
        super().__init__()
        self.patch = NLayerDiscriminator(base=base, num_layers=patch_layers, norm=norm)
        self.full = NLayerDiscriminator(base=base, num_layers=full_layers, norm=norm)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"patch": self.patch(x), "full": self.full(x).mean(dim=(2, 3))}


#: ``CONFIGS[config][net]`` -> constructor kwargs. ``quality`` is the paper's MobileNetV2 generator.
CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "fast": {
        "generator": {"width_mult": 1.0, "fpn_channels": 128, "head_channels": 64, "dsc": True,
                      "norm": "batch"},
        "discriminator": {"base": 64, "patch_layers": 3, "full_layers": 5, "norm": "instance"},
    },
    "quality": {
        "generator": {"width_mult": 1.0, "fpn_channels": 256, "head_channels": 128, "dsc": False,
                      "norm": "batch"},
        "discriminator": {"base": 64, "patch_layers": 3, "full_layers": 5, "norm": "instance"},
    },
}
#: Other families call their big configuration ``full``.
CONFIG_ALIASES = {"full": "quality"}

NETS: dict[str, type[nn.Module]] = {"generator": FPNGenerator, "discriminator": DoubleScaleDiscriminator}


def build(net: str, config: str = "fast", **overrides: Any) -> nn.Module:
    """Build a DeblurGAN-v2 network.

    Args:
        net: ``"generator"`` or ``"discriminator"``.
        config: ``"fast"`` (MobileNet-DSC) or ``"quality"`` (MobileNetV2; alias ``"full"``).
        **overrides: constructor kwargs replacing the configuration's values.

    Returns:
        The freshly initialised module.
    """
    config = CONFIG_ALIASES.get(config, config)
    if net not in NETS:
        raise KeyError(f"unknown DeblurGAN net {net!r}; choose from {sorted(NETS)}")
    if config not in CONFIGS:
        raise KeyError(f"unknown config {config!r}; choose from {sorted(CONFIGS)}")
    return NETS[net](**{**CONFIGS[config][net], **overrides})
