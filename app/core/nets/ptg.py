"""PTG refinement (after "Boosting Image Restoration via Priors from Pre-trained Models", CVPR 2024).

A small net that looks at a degraded image ``I_d`` and an op's output ``I_c`` and corrects the output:
``I_d + (I_c - I_d) * I_m + I_r`` with a correction mask ``I_m`` and a residual ``I_r``. The paper guides
it with CLIP features; no hub is reachable here, so the prior is one of ours (frozen, shipped inside the
refiner's weights):

- ``"vgg"``: VGG16 conv layers fine-tuned for HED edge detection (``app/core/nets/vgg.py``), up to
  ``relu2_2``, run on ``I_d`` at a quarter of the resolution (one eighth after its pool = the trunk's).
- ``"degradation"``: :class:`DegradationEncoder`, pretrained by us to recognise the kind and level of
  degradation (``python -m app.train.degradation_prior``).
- ``"none"``: no prior (the ablation).

The trunk works at 1/8 resolution: an encoder over the concatenated pair, ``blocks`` x (PTG-SVE, PTG-CSA),
a decoder with skips up to full resolution, where two light convs see the pair again so the residual can
carry full-resolution detail.

- **PTG-SVE** (selective-range feature enhancement): a range score ``M`` from features, prior and a
  learned positional embedding mixes a short-range conv branch and a long-range attention branch,
  ``M * f_s + (1 - M) * f_l``. The attention runs in 8 x 8 windows of the 1/8 grid (64 x 64 px of
  image), so the net stays local enough to tile.
- **PTG-CSA** (channel and spatial attention): channel weights from locally pooled features and prior
  (a 15 x 15 cell = 120 px pool instead of a global one, again for tiling), and a spatial map from
  position-specific 3 x 3 dynamic kernels predicted from features, prior and position.

The positional embedding is learned and periodic: a ``pos_period``-square block of 1/8-resolution cells
(32 px of image) repeated from the tile's corner. An embedding stretched over the whole input would give a
pixel different positions in different tiles (measured: seams of ~4/1000 with a random head); a periodic
one agrees between tiles whose offsets are multiples of its period, which the catalog's ``size_multiple``
(32) makes the tiler use. It tells the range score and the dynamic kernels where a cell sits in the
32-px lattice -- the local position signal that survives tiling.

The output heads start at zero, so an untrained refiner returns ``I_c`` exactly: refinement can only
learn to help from there.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CONFIGS", "DEGRADATION_CLASSES", "DegradationEncoder", "PTGRefiner", "build"]

#: The classes the degradation prior is pretrained to tell apart (kind x level), in label order.
DEGRADATION_CLASSES = ("clean", "noise_low", "noise_high", "blur_short", "blur_long", "lowlight_mild",
                       "lowlight_strong", "jpeg_strong", "jpeg_mild")

CONFIGS: dict[str, dict[str, Any]] = {
    "fast": {"width": 48, "blocks": 2, "heads": 4, "window": 8, "pos_period": 4, "pos_channels": 8,
             "full_width": 16, "prior": "vgg"},
}


def _act() -> nn.Module:
    return nn.LeakyReLU(0.1, inplace=True)


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


class DegradationEncoder(nn.Module):
    """Three stride-2 stages to a ``(B, 64, H/8, W/8)`` degradation feature map, plus pretraining heads.

    Pretrained to classify :data:`DEGRADATION_CLASSES` from globally pooled features (``logits``); the
    refiner uses the spatial map (``forward``), frozen.
    """

    out_channels = 64

    def __init__(self, classes: int = len(DEGRADATION_CLASSES)) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(3, 24, 3, 2), _act(), _conv(24, 48, 3, 2), _act(),
                                  _conv(48, 64, 3, 2), _act(), _conv(64, 64), _act())
        self.head = nn.Linear(64 * 2, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        f = self.body(x)
        # mean and std pooling: noise shows in the spread of the features as much as in their level
        return self.head(torch.cat([f.mean(dim=(2, 3)), f.std(dim=(2, 3))], dim=1))


class VGGPrior(nn.Module):
    """HED-VGG16 ``relu2_2`` of the image at 1/4 resolution: ``(B, 128, H/8, W/8)``, frozen."""

    out_channels = 128

    def __init__(self, weights: str | None = None) -> None:
        super().__init__()
        from app.core.nets.vgg import VGGFeatures

        self.vgg = VGGFeatures(layers=("relu2_2",), weights=weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        small = F.avg_pool2d(x, 4)
        return self.vgg(small)["relu2_2"]


class _WindowAttention(nn.Module):
    """Multi-head self-attention inside non-overlapping ``window`` x ``window`` cells."""

    def __init__(self, channels: int, heads: int, window: int) -> None:
        super().__init__()
        self.heads, self.window = heads, window
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        s = self.window
        ph, pw = (-h) % s, (-w) % s
        # Padded even when ph == pw == 0: a traced ONNX export then keeps the pad for every tile size.
        xp = F.pad(x, (0, pw, 0, ph), mode="replicate")
        hh, ww = xp.shape[-2:]
        qkv = self.qkv(xp).view(b, 3, self.heads, c // self.heads, hh // s, s, ww // s, s)
        # -> (3, b * cells, heads, s*s, d)
        qkv = qkv.permute(1, 0, 4, 6, 2, 5, 7, 3).reshape(3, b * (hh // s) * (ww // s), self.heads, s * s,
                                                           c // self.heads)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        out = out.view(b, hh // s, ww // s, self.heads, s, s, c // self.heads)
        out = out.permute(0, 3, 6, 1, 4, 2, 5).reshape(b, c, hh, ww)[..., :h, :w]
        return self.proj(out)


class _ChannelNorm(nn.Module):
    """Layer norm over the channels of each position: per pixel, so tiles agree (GroupNorm pools the image)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, c, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).square().mean(1, keepdim=True)
        return (x - mean) * torch.rsqrt(var + 1e-5) * self.weight + self.bias


class SVE(nn.Module):
    """Selective-range enhancement: ``f + P(M * f_short + (1 - M) * f_long)``."""

    def __init__(self, c: int, guide: int, heads: int, window: int) -> None:
        super().__init__()
        self.score = nn.Sequential(_conv(c + guide, 16), _act(), _conv(16, 1))
        self.short = nn.Sequential(_conv(c, c), _act(), _conv(c, c))
        self.long = _WindowAttention(c, heads, window)
        self.norm = _ChannelNorm(c)
        self.out = nn.Conv2d(c, c, 1)

    def forward(self, f: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        m = torch.sigmoid(self.score(torch.cat([f, guide], 1)))
        mixed = m * self.short(f) + (1 - m) * self.long(self.norm(f))
        return f + self.out(mixed)


class CSA(nn.Module):
    """Channel attention from locally pooled features + prior; spatial attention from dynamic kernels."""

    def __init__(self, c: int, guide: int, pool: int = 15) -> None:
        super().__init__()
        self.pool = pool
        self.channel = nn.Sequential(nn.Conv2d(c + guide, c // 4, 1), _act(), nn.Conv2d(c // 4, c, 1))
        self.kernels = nn.Sequential(_conv(c + guide, 32), _act(), _conv(32, 9))
        self.spatial = _conv(c, 1)
        self.out = nn.Conv2d(c, c, 1)

    def forward(self, f: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        both = torch.cat([f, guide], 1)
        pooled = F.avg_pool2d(both, self.pool, stride=1, padding=self.pool // 2, count_include_pad=False)
        ca = torch.sigmoid(self.channel(pooled))
        k = torch.softmax(self.kernels(both), dim=1)  # (B, 9, h, w): one 3x3 kernel per position
        b, c, h, w = f.shape
        patches = F.unfold(f, 3, padding=1).view(b, c, 9, h, w)
        filtered = (patches * k.unsqueeze(1)).sum(dim=2)
        sa = torch.sigmoid(self.spatial(filtered))
        return f + self.out(filtered * ca * sa)


class PTGRefiner(nn.Module):
    """``(B, 6, H, W)`` = ``cat(I_d, I_c)`` in [0, 1] -> refined ``(B, 3, H, W)``; H, W multiples of 8.

    Args:
        width: trunk channels at 1/8 resolution.
        blocks: SVE + CSA pairs.
        heads, window: the SVE attention.
        pos_period, pos_channels: the learned periodic positional embedding (period in 1/8-res cells).
        full_width: channels of the full-resolution head.
        prior: ``"vgg"``, ``"degradation"`` or ``"none"`` (see the module docstring).
        prior_weights: HED h5 file for the VGG prior at training time (the app loads the refiner's own
            safetensors, which include the frozen prior).
    """

    def __init__(self, *, width: int = 48, blocks: int = 2, heads: int = 4, window: int = 8, pos_period: int = 4,
                 pos_channels: int = 8, full_width: int = 16, prior: str = "vgg",
                 prior_weights: str | None = None) -> None:
        super().__init__()
        if prior not in ("vgg", "degradation", "none"):
            raise ValueError(f"unknown prior {prior!r}; use vgg, degradation or none")
        self.prior_kind = prior
        if prior == "vgg":
            self.prior: nn.Module | None = VGGPrior(prior_weights)
        elif prior == "degradation":
            self.prior = DegradationEncoder()
        else:
            self.prior = None
        if self.prior is not None:
            self.prior.requires_grad_(False)
        prior_ch = self.prior.out_channels if self.prior is not None else 0
        c1, c2 = 24, 32
        self.enc1 = nn.Sequential(_conv(24, c1), _act())             # 1/2 (pixel-unshuffled pair)
        self.enc2 = nn.Sequential(_conv(c1, c2, 3, 2), _act())        # 1/4
        self.enc3 = nn.Sequential(_conv(c2, width, 3, 2), _act())     # 1/8
        self.prior_proj = nn.Conv2d(prior_ch, width, 1) if prior_ch else None
        self.pos = nn.Parameter(torch.zeros(1, pos_channels, pos_period, pos_period))
        nn.init.normal_(self.pos, std=0.02)
        guide = width + pos_channels
        self.sve = nn.ModuleList(SVE(width, guide, heads, window) for _ in range(blocks))
        self.csa = nn.ModuleList(CSA(width, guide) for _ in range(blocks))
        self.dec2 = nn.Sequential(_conv(width + c2, c2), _act())
        self.dec1 = nn.Sequential(_conv(c2 + c1, c1), _act())
        self.full = nn.Sequential(_conv(c1 + 6, full_width), _act(), _conv(full_width, full_width), _act())
        self.head = _conv(full_width, 4)  # mask logit + RGB residual
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def trainable_parameters(self) -> int:
        """Parameters of the refiner itself (the frozen prior excluded): the issue's < 1 M budget."""
        return sum(p.numel() for n, p in self.named_parameters() if not n.startswith("prior."))

    def train(self, mode: bool = True) -> PTGRefiner:
        super().train(mode)
        if self.prior is not None:
            self.prior.eval()  # frozen: never in training mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != 6:
            raise ValueError(f"expected cat(I_d, I_c) with 6 channels, got {tuple(x.shape)}")
        if x.shape[-2] % 8 or x.shape[-1] % 8:
            raise ValueError(f"H and W must be multiples of 8, got {tuple(x.shape[-2:])}")
        degraded, candidate = x[:, :3], x[:, 3:]
        f1 = self.enc1(F.pixel_unshuffle(x, 2))
        f2 = self.enc2(f1)
        f = self.enc3(f2)
        h, w = f.shape[-2:]
        period = self.pos.shape[-1]
        reps = (-(-h // period), -(-w // period))
        guide = self.pos.repeat(1, 1, *reps)[..., :h, :w].expand(x.shape[0], -1, -1, -1)
        if self.prior is not None:
            with torch.no_grad():
                p = self.prior(degraded)
            p = self.prior_proj(p)
        else:
            p = torch.zeros_like(f)
        guide = torch.cat([p, guide], 1)
        for sve, csa in zip(self.sve, self.csa):
            f = csa(sve(f, guide), guide)
        u = self.dec2(torch.cat([F.interpolate(f, scale_factor=2.0, mode="bilinear", align_corners=False), f2], 1))
        u = self.dec1(torch.cat([F.interpolate(u, scale_factor=2.0, mode="bilinear", align_corners=False), f1], 1))
        u = F.interpolate(u, scale_factor=2.0, mode="bilinear", align_corners=False)
        out = self.head(self.full(torch.cat([u, x], 1)))
        mask = 2.0 * torch.sigmoid(out[:, :1])  # 1 at initialisation: I_c unchanged
        return degraded + (candidate - degraded) * mask + out[:, 1:]


def build(net: str = "refiner", config: str = "fast", **overrides: Any) -> nn.Module:
    """``build("refiner", "fast", prior="degradation")`` or ``build("degradation_encoder")``."""
    if net == "degradation_encoder":
        return DegradationEncoder(**overrides)
    if net != "refiner":
        raise ValueError(f"unknown PTG net {net!r}; use refiner or degradation_encoder")
    if config not in CONFIGS:
        raise ValueError(f"unknown PTG config {config!r}; choose from {', '.join(CONFIGS)}")
    return PTGRefiner(**{**CONFIGS[config], **overrides})
