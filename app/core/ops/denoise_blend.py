"""How much of the denoiser's change to keep, separately for luminance noise, colour noise and fine detail.

The network removes all noise at once; photographers (DxO, Lightroom) want grain and colour blotches on
separate sliders. The change ``delta = denoised - noisy`` is split exactly into a grey part (its luma,
the same on every channel) and a colour part (``delta - luma``, which has zero luma):

    out = noisy + k_l * (low(luma) + (1 - detail) * high(luma)) + k_c * colour

``k_l`` / ``k_c`` come from the luminance / colour strengths (:func:`strength_gain`: linear to 1, then at
half rate); ``high`` is what a Gaussian (sigma 1 px) leaves of the luma change, i.e. the finest structure
the network removed, and ``detail`` keeps that fraction of it (texture, with its grain). With both
strengths equal and ``detail = 0`` this is exactly the single-strength blend of earlier versions.
Images: sRGB ``(1, 3, H, W)`` with Rec. 601 luma weights; packed RGGB mosaics ``(1, 4, h, w)`` with the
mean of the four planes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

SRGB_LUMA = (0.299, 0.587, 0.114)
BAYER_LUMA = (0.25, 0.25, 0.25, 0.25)
DETAIL_SIGMA = 1.0


def strength_gain(strength: float) -> float:
    """``s`` up to 1, then ``1 + (s - 1) / 2``: above 1 the removed noise is pushed further at half rate."""
    return strength if strength <= 1.0 else 1.0 + 0.5 * (strength - 1.0)


def _gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    import torch
    import torch.nn.functional as F

    r = max(1, round(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    y = F.pad(x, (r, r, r, r), mode="replicate")
    y = F.conv2d(y, k.view(1, 1, 1, -1))
    return F.conv2d(y, k.view(1, 1, -1, 1))


def blend_luma_chroma(noisy: torch.Tensor, denoised: torch.Tensor, luminance: float, colour: float,
                      detail: float = 0.0) -> torch.Tensor:
    """The blended result, written into ``denoised`` (see the module docstring); shapes ``(1, C, H, W)``."""
    kl, kc = strength_gain(luminance), strength_gain(colour)
    if kl == kc and detail == 0.0:  # the plain blend, bit for bit as before the split
        if kl != 1.0:
            denoised.sub_(noisy).mul_(kl).add_(noisy)
        return denoised
    import torch

    c = noisy.shape[1]
    weights = {3: SRGB_LUMA, 4: BAYER_LUMA}.get(c)
    if weights is None:
        raise ValueError(f"luma/chroma blend needs 3 (sRGB) or 4 (RGGB) channels, got {c}")
    w = torch.tensor(weights, dtype=denoised.dtype).view(1, c, 1, 1)
    delta = denoised.sub_(noisy)  # reuses the buffer: denoised now holds the change
    luma = (delta * w).sum(dim=1, keepdim=True)
    colour_part = delta - luma
    if detail > 0.0:
        luma = luma - detail * (luma - _gaussian(luma, DETAIL_SIGMA))
    return delta.copy_(noisy + kl * luma + kc * colour_part)
