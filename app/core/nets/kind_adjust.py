"""KinD illumination adjustment net, built for an interactive ratio slider.

KinD's adjustment net maps an illumination map L and a constant map of the ratio alpha through a few 3x3
convs and a sigmoid. Run per pixel at preview resolution that costs hundreds of milliseconds on a CPU, so
this net predicts, on a coarse grid (``scale`` x coarser), two parameters of a local tone curve

    L' = sigmoid(a * logit(L) + b),   a > 0

and applies them to the full-resolution L after bilinear upsampling. The curve is monotone in L, keeps L's
edges exactly (they come from L itself, not from the coarse grid), reduces to a gain ``e^b`` and gamma ``a``
in the shadows (``logit(L) ~ log L``) and saturates softly at 1. With ``scale=1`` the grid is the pixel
grid (KinD's per-pixel net, plus the curve). The last conv starts at zero, so an untrained net is the
identity. A ratio change needs only :meth:`~IlluminationAdjustNet.curve_params` on a small map plus
:meth:`~IlluminationAdjustNet.apply_curve`, which accepts a cached ``logit(L)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["IlluminationAdjustNet"]

_EPS = 1e-4


class IlluminationAdjustNet(nn.Module):
    """Illumination adjustment: ``(L, alpha) -> L'`` with ``alpha = mean(L_target / L_source)``.

    Args:
        channels: hidden width of the conv stack.
        num_layers: number of convs (``num_layers - 1`` 3x3 convs with LeakyReLU, then a 1x1 to the two
            curve parameters).
        scale: grid coarseness; the convs run on ``L`` average-pooled by ``scale``.

    The alpha map enters the convs as ``log2(alpha)`` so brightening and darkening are symmetric around 0.

    Shape:
        - Input: ``illumination`` ``(B, 1, H, W)`` in ``(0, 1)``; ``alpha`` a float, a tensor broadcastable to
          ``(B, 1, 1, 1)`` or a map ``(B, 1, H, W)``; all values > 0 (> 1 brightens). Or KinD's single
          ``(B, 2, H, W)`` tensor ``cat([L, alpha_map], 1)`` with ``alpha=None`` (registry / tiling form).
        - Output: ``(B, 1, H, W)`` adjusted illumination in ``(0, 1)``.
    """

    def __init__(self, *, channels: int = 16, num_layers: int = 3, scale: int = 8) -> None:
        super().__init__()
        if num_layers < 2 or scale < 1:
            raise ValueError("num_layers must be >= 2 and scale >= 1")
        self.scale = scale
        self.size_multiple = scale
        layers: list[nn.Module] = []
        prev = 2
        for _ in range(num_layers - 1):
            # Replicate padding: the alpha map stays constant at the border instead of fading to 0.
            layers += [nn.Conv2d(prev, channels, 3, padding=1, padding_mode="replicate"),
                       nn.LeakyReLU(0.2, inplace=True)]
            prev = channels
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(prev, 2, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @staticmethod
    def _alpha_map(alpha: float | torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        alpha = torch.as_tensor(alpha, dtype=ref.dtype, device=ref.device)
        if bool((alpha <= 0).any()):
            raise ValueError("alpha must be > 0")
        if alpha.ndim == 4 and alpha.shape[-2:] != (1, 1):
            if alpha.shape[-2:] != ref.shape[-2:]:
                raise ValueError(f"alpha map {tuple(alpha.shape)} does not match {tuple(ref.shape)}")
            return torch.log2(alpha).expand(ref.shape[0], 1, *ref.shape[-2:])
        b = ref.shape[0]
        return torch.log2(alpha).reshape(-1, 1, 1, 1).expand(b, 1, *ref.shape[-2:])

    def curve_params(self, illumination: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
        """Curve parameters ``(a, b)`` for an illumination map already at grid resolution.

        Args:
            illumination: ``(B, 1, h, w)`` coarse illumination (e.g. average-pooled by ``scale``).
            alpha: ratio, scalar/per-image or a ``(B, 1, h, w)`` map.

        Returns:
            ``(B, 2, h, w)``: slope ``a > 0`` and offset ``b``, for :meth:`apply_curve`.
        """
        x = torch.cat([illumination, self._alpha_map(alpha, illumination)], dim=1)
        raw = self.head(self.body(x))
        # exp on the coarse grid, not after upsampling: ~scale**2 fewer transcendental evaluations.
        return torch.cat([torch.exp(raw[:, :1].clamp(-4.0, 4.0)), raw[:, 1:]], dim=1)

    @staticmethod
    def apply_curve(illumination: torch.Tensor, params: torch.Tensor, *,
                    logit: torch.Tensor | None = None) -> torch.Tensor:
        """Apply curve parameters to a full-resolution illumination map: ``sigmoid(a * logit(L) + b)``.

        Args:
            illumination: ``(B, 1, H, W)`` in ``(0, 1)``.
            params: ``(B, 2, h, w)`` from :meth:`curve_params`; bilinearly upsampled to ``(H, W)`` if smaller.
            logit: optional cached ``torch.logit(illumination, eps=1e-4)`` (it does not change with alpha).

        Returns:
            ``(B, 1, H, W)`` adjusted illumination.
        """
        if logit is None:
            logit = torch.logit(illumination, eps=_EPS)
        if params.shape[-2:] != illumination.shape[-2:]:
            params = F.interpolate(params, size=illumination.shape[-2:], mode="bilinear", align_corners=False)
        return torch.sigmoid(torch.addcmul(params[:, 1:], params[:, :1], logit))

    def forward(self, illumination: torch.Tensor, alpha: float | torch.Tensor | None = None) -> torch.Tensor:
        if alpha is None:
            if illumination.ndim != 4 or illumination.shape[1] != 2:
                raise ValueError(f"expected (B, 2, H, W) = L + alpha map, got {tuple(illumination.shape)}")
            illumination, alpha = illumination[:, :1], illumination[:, 1:]
        if illumination.ndim != 4 or illumination.shape[1] != 1:
            raise ValueError(f"expected (B, 1, H, W) illumination, got {tuple(illumination.shape)}")
        is_map = isinstance(alpha, torch.Tensor) and alpha.ndim == 4 and alpha.shape[-2:] != (1, 1)
        alpha_map = alpha if is_map else None
        coarse = illumination
        if self.scale > 1:
            h, w = illumination.shape[-2:]
            pad = (0, (-w) % self.scale, 0, (-h) % self.scale)
            coarse = F.avg_pool2d(F.pad(illumination, pad, mode="replicate"), self.scale)
            if alpha_map is not None:
                alpha = F.avg_pool2d(F.pad(alpha_map, pad, mode="replicate"), self.scale)
        params = self.curve_params(coarse, alpha)
        if self.scale > 1:
            # Upsample on the padded grid, then crop, so grid cells stay aligned with the pixels they cover.
            hp, wp = coarse.shape[-2] * self.scale, coarse.shape[-1] * self.scale
            params = F.interpolate(params, size=(hp, wp), mode="bilinear", align_corners=False)
            params = params[..., : illumination.shape[-2], : illumination.shape[-1]]
        return self.apply_curve(illumination, params)
