"""CycleISP denoisers (Zamir et al., CVPR 2020) and the family builder.

Two denoisers share one body (:class:`DualAttentionDenoiser`): head conv, recursive residual groups of
dual attention blocks, a conv + PReLU, a tail conv and a global residual (the net predicts the negative
noise). The ``full`` configuration is the paper's (64 channels, 4 RRG x 8 DAB, all at input resolution).
The ``fast`` configuration runs its RRGs behind a lossless pixel-unshuffle (``scale=2``): four times the
receptive field per FLOP, and wider convs that run at a higher fraction of CPU peak. A thin full-resolution
path (head features skipped around the trunk, one 3x3 refine conv) keeps single-pixel detail.

The learned camera pipeline nets (RGB2RAW, RAW2RGB, colour correction) live in :mod:`cycleisp_isp`; this
module's :data:`CONFIGS` and :func:`build` cover all four.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .blocks import conv, crop_to, pad_to_multiple, rrg_stack
from .cycleisp_isp import ISP_CONFIGS, LearnedIsp, Raw2Rgb, Rgb2Raw

__all__ = ["CONFIGS", "DualAttentionDenoiser", "RawDenoiser", "SrgbDenoiser", "build"]


class DualAttentionDenoiser(nn.Module):
    """Residual RRG/DAB denoiser body; see :class:`SrgbDenoiser` and :class:`RawDenoiser`.

    Args:
        in_channels: channels of the network input (image plus any conditioning maps).
        out_channels: channels of the output; the residual adds the first ``out_channels`` input channels.
        channels: width of the RRG trunk.
        num_rrg: recursive residual groups in the trunk.
        num_dab: dual attention blocks per group.
        reduction: channel-attention squeeze ratio.
        scale: 1 runs the trunk at input resolution (paper); 2 or 4 runs it behind a pixel-unshuffle.
        skip_channels: width of the full-resolution path when ``scale > 1``.

    Any ``H, W`` is accepted: with ``scale > 1`` the input is reflect-padded to a multiple of ``scale``
    internally and the output cropped back.

    Attributes:
        size_multiple: sizes that need no internal padding (``scale``).
        tail: the last conv; its output is added to the input (global residual).
    """

    def __init__(self, *, in_channels: int, out_channels: int, channels: int = 64, num_rrg: int = 4,
                 num_dab: int = 8, reduction: int = 16, scale: int = 1, skip_channels: int = 16) -> None:
        super().__init__()
        if scale not in (1, 2, 4):
            raise ValueError(f"scale must be 1, 2 or 4, got {scale}")
        self.out_channels = out_channels
        self.size_multiple = scale
        outer = channels if scale == 1 else skip_channels
        # The paper's head is a bare conv; the skip path of the scaled trunk wants non-linear features.
        self.head = conv(in_channels, outer) if scale == 1 else nn.Sequential(conv(in_channels, outer),
                                                                              nn.PReLU(outer))
        if scale == 1:
            self.down: nn.Module = nn.Identity()
            self.up: nn.Module = nn.Identity()
            self.refine: nn.Module = nn.Identity()
        else:
            self.down = nn.Sequential(nn.PixelUnshuffle(scale), nn.Conv2d(outer * scale**2, channels, 1))
            self.up = nn.Sequential(nn.Conv2d(channels, outer * scale**2, 1), nn.PixelShuffle(scale))
            self.refine = nn.Sequential(conv(outer, outer), nn.PReLU(outer))
        self.body = nn.Sequential(*rrg_stack(channels, num_rrg=num_rrg, num_dab=num_dab, reduction=reduction),
                                  conv(channels, channels), nn.PReLU(channels))
        self.tail = conv(outer, out_channels)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        x, size = pad_to_multiple(x, self.size_multiple)
        feat = self.head(x)
        deep = self.up(self.body(self.down(feat)))
        # With scale == 1 the skip would double the head features into the paper's plain chain; skip it.
        out = self.tail(self.refine(deep if self.size_multiple == 1 else deep + feat))
        return crop_to(x[:, : self.out_channels] + out, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - subclasses define the API
        return self._run(x)


class SrgbDenoiser(DualAttentionDenoiser):
    """sRGB denoiser with a global residual (blind: no noise-level input).

    Args:
        **kwargs: :class:`DualAttentionDenoiser` options (``channels``, ``num_rrg``, ``num_dab``,
            ``reduction``, ``scale``, ``skip_channels``).

    Shape:
        - Input: ``(B, 3, H, W)`` gamma-encoded sRGB in ``[0, 1]``.
        - Output: ``(B, 3, H, W)`` denoised, same range (not clamped: the caller clamps).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(in_channels=3, out_channels=3, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) sRGB, got {tuple(x.shape)}")
        return self._run(x)


class RawDenoiser(DualAttentionDenoiser):
    """RAW denoiser on packed RGGB, conditioned on a per-pixel noise-variance map.

    The variance follows the heteroscedastic model ``var = shot * x + read`` evaluated on the noisy packed
    mosaic ``x`` (black-level subtracted, white level 1). The net sees its square root, the noise standard
    deviation: variances of 1e-6..1e-3 next to signals of 0.01..1 would need first-layer weights hundreds of
    times larger than their initialisation before the net could use them; the std is in the signal's units.
    With ``noise_channels=4`` (default, as in CycleISP)
    it is given per CFA plane, aligned with the packed input; ``noise_channels=1`` takes one map per packed
    pixel (e.g. from a luminance estimate) for callers that have no per-plane estimate.

    Args:
        noise_channels: 4 or 1, channels of the variance map.
        **kwargs: :class:`DualAttentionDenoiser` options.

    Shape:
        - Input ``raw``: ``(B, 4, H/2, W/2)`` packed RGGB in ``[0, 1]``; ``variance``: ``(B, noise_channels,
          H/2, W/2)``. Or, for single-tensor callers (the model registry, tiling), ``raw`` alone as
          ``(B, 4 + noise_channels, H/2, W/2)`` = ``cat([raw, variance], 1)`` and ``variance=None``.
        - Output: ``(B, 4, H/2, W/2)`` denoised packed RGGB (not clamped).
    """

    def __init__(self, *, noise_channels: int = 4, **kwargs: Any) -> None:
        if noise_channels not in (1, 4):
            raise ValueError(f"noise_channels must be 1 or 4, got {noise_channels}")
        super().__init__(in_channels=4 + noise_channels, out_channels=4, **kwargs)
        self.noise_channels = noise_channels

    def forward(self, raw: torch.Tensor, variance: torch.Tensor | None = None) -> torch.Tensor:
        if variance is None:
            if raw.ndim != 4 or raw.shape[1] != 4 + self.noise_channels:
                raise ValueError(f"expected (B, {4 + self.noise_channels}, h, w) = packed RGGB + variance, "
                                 f"got {tuple(raw.shape)}")
            raw, variance = raw[:, :4], raw[:, 4:]
        if raw.ndim != 4 or raw.shape[1] != 4:
            raise ValueError(f"expected packed RGGB (B, 4, h, w), got {tuple(raw.shape)}")
        expected = (raw.shape[0], self.noise_channels, *raw.shape[2:])
        if tuple(variance.shape) != expected:
            raise ValueError(f"variance must have shape {expected}, got {tuple(variance.shape)}")
        return self._run(torch.cat([raw, variance.clamp(min=0.0).sqrt()], dim=1))


_DENOISER_CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    # fast: sRGB 145 kFLOP/pixel (ceiling 150 k). RAW 104 kFLOP per sensor pixel: under the 150 k ceiling
    # because a 24-MP RAW must decode, denoise, develop and export in 60 s on 2 cores (~0.9 s/MP here).
    "fast": {
        "srgb_denoiser": {"channels": 32, "num_rrg": 2, "num_dab": 6, "reduction": 8, "scale": 2,
                          "skip_channels": 16},
        "raw_denoiser": {"channels": 64, "num_rrg": 2, "num_dab": 4, "reduction": 8, "scale": 2,
                         "skip_channels": 32, "noise_channels": 4},
    },
    "full": {
        "srgb_denoiser": {"channels": 64, "num_rrg": 4, "num_dab": 8, "reduction": 16, "scale": 1},
        "raw_denoiser": {"channels": 64, "num_rrg": 4, "num_dab": 8, "reduction": 16, "scale": 1,
                         "noise_channels": 4},
    },
}

#: ``CONFIGS[config][net]`` -> constructor kwargs, for every net of the CycleISP family.
CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    name: {**_DENOISER_CONFIGS[name], **ISP_CONFIGS[name]} for name in ("fast", "full")
}

NETS: dict[str, type[nn.Module]] = {
    "srgb_denoiser": SrgbDenoiser,
    "raw_denoiser": RawDenoiser,
    "rgb2raw": Rgb2Raw,
    "raw2rgb": Raw2Rgb,
    "isp": LearnedIsp,
}


def build(net: str, config: str = "fast", **overrides: Any) -> nn.Module:
    """Build a CycleISP-family network.

    Args:
        net: one of :data:`NETS` (``"srgb_denoiser"``, ``"raw_denoiser"``, ``"rgb2raw"``, ``"raw2rgb"``).
        config: ``"fast"`` or ``"full"``.
        **overrides: constructor kwargs replacing the configuration's values.

    Returns:
        The freshly initialised module.
    """
    if net not in NETS:
        raise KeyError(f"unknown CycleISP net {net!r}; choose from {sorted(NETS)}")
    if config not in CONFIGS:
        raise KeyError(f"unknown config {config!r}; choose from {sorted(CONFIGS)}")
    return NETS[net](**{**CONFIGS[config][net], **overrides})
