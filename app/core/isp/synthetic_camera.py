"""The synthetic camera: a simple, invertible pipeline sRGB <-> linear camera RAW (Brooks et al. 2019, CycleISP).

Not the op pipeline (that is :mod:`app.core.pipeline`): this one makes training pairs and noise calibrations.

``process`` (RAW -> sRGB) is: white balance and digital gain -> clamp -> demosaic -> camera ->
sRGB colour matrix -> clamp -> sRGB transfer curve -> smoothstep tone curve.
``unprocess`` runs the exact inverse of each step, so for in-gamut colours (those whose RAW
values land inside [0, 1] and whose highlights are not softened, see ``preserve_highlights``)
``process(unprocess(x, p), p) == x`` up to float32 rounding.

Both are differentiable torch functions on ``(B, C, H, W)`` with one :class:`IspParams` for the
batch or one per sample; ``*_np`` wrappers take ``(H, W, C)`` float32 arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from app.core.isp.color import apply_ccm, sample_ccm, sample_wb_gains
from app.core.isp.mosaic import demosaic, mosaic_rgb
from app.core.isp.tone import inverse_smoothstep, linear_to_srgb, smoothstep, srgb_to_linear

__all__ = ["IspParams", "sample_isp_params", "unprocess", "process", "unprocess_np", "process_np"]


@dataclass(frozen=True, eq=False)
class IspParams:
    """Everything that defines one synthetic camera rendering.

    Attributes:
        rgb_to_cam: ``(3, 3)`` sRGB -> camera matrix (rows sum to 1).
        red_gain, blue_gain: white-balance multipliers relative to green (> 0).
        rgb_gain: global digital gain applied by ``process`` (> 0).
        tone_curve: whether the smoothstep tone curve is part of the rendering.
    """

    rgb_to_cam: np.ndarray
    red_gain: float
    blue_gain: float
    rgb_gain: float
    tone_curve: bool = True

    @property
    def cam_to_rgb(self) -> np.ndarray:
        return np.linalg.inv(np.asarray(self.rgb_to_cam, dtype=np.float64)).astype(np.float32)

    def gains(self) -> np.ndarray:
        """``(3,)`` per-channel gains (R, G, B) that ``process`` multiplies RAW values by."""
        return np.array([self.red_gain, 1.0, self.blue_gain], dtype=np.float32) * np.float32(self.rgb_gain)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for degradation ``info`` dicts and dataset metadata)."""
        return {
            "rgb_to_cam": np.asarray(self.rgb_to_cam).round(6).tolist(),
            "red_gain": self.red_gain,
            "blue_gain": self.blue_gain,
            "rgb_gain": self.rgb_gain,
            "tone_curve": self.tone_curve,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IspParams:
        return cls(
            np.asarray(d["rgb_to_cam"], dtype=np.float32),
            float(d["red_gain"]),
            float(d["blue_gain"]),
            float(d["rgb_gain"]),
            bool(d.get("tone_curve", True)),
        )

    @classmethod
    def identity(cls) -> IspParams:
        """No colour matrix, no gains, no tone curve: process() is demosaic + sRGB encoding only."""
        return cls(np.eye(3, dtype=np.float32), 1.0, 1.0, 1.0, tone_curve=False)


def sample_isp_params(rng: np.random.Generator, *, tone_curve: bool = True, **gain_ranges: Any) -> IspParams:
    """Random realistic camera: mixed real CCM, white balance and digital gain.

    Args:
        rng: numpy random generator.
        tone_curve: include the smoothstep tone curve.
        **gain_ranges: forwarded to :func:`app.core.isp.color.sample_wb_gains`.
    """
    ccm = sample_ccm(rng)
    red, blue, rgb = sample_wb_gains(rng, **gain_ranges)
    return IspParams(ccm, red, blue, rgb, tone_curve)


def _batched(
    params: IspParams | Sequence[IspParams], batch: int, x: Tensor
) -> tuple[Tensor, Tensor, Tensor, bool]:
    """Stack params into tensors: rgb_to_cam (B,3,3), cam_to_rgb (B,3,3), gains (B,3)."""
    plist = [params] * batch if isinstance(params, IspParams) else list(params)
    if len(plist) != batch:
        raise ValueError(f"got {len(plist)} IspParams for a batch of {batch}")
    tones = {p.tone_curve for p in plist}
    if len(tones) != 1:
        raise ValueError("all IspParams in a batch must agree on tone_curve")

    def stack(arrs: list[np.ndarray]) -> Tensor:
        return torch.from_numpy(np.stack(arrs).astype(np.float32)).to(device=x.device, dtype=x.dtype)

    return (
        stack([p.rgb_to_cam for p in plist]),
        stack([p.cam_to_rgb for p in plist]),
        stack([p.gains() for p in plist]),
        tones.pop(),
    )


def _inverse_gains(x: Tensor, gains: Tensor, preserve_highlights: bool) -> Tensor:
    inv = (1.0 / gains)[:, :, None, None]
    if not preserve_highlights:
        return x * inv
    # Brooks et al.: dividing bright pixels by the gains would make RAW highlights that can
    # never clip. Near white (mean > 0.9) the inverse gain is blended smoothly towards 1, so
    # saturated regions unprocess to saturated RAW, as in a real camera.
    gray = x.mean(dim=1, keepdim=True)
    mask = ((gray - 0.9).clamp(min=0.0) / 0.1) ** 2
    return x * torch.maximum(mask + (1.0 - mask) * inv, inv)


def unprocess(
    srgb: Tensor,
    params: IspParams | Sequence[IspParams],
    *,
    mosaic: bool = True,
    preserve_highlights: bool = True,
) -> Tensor:
    """Invert the camera pipeline: sRGB image -> linear camera RAW.

    Args:
        srgb: ``(B, 3, H, W)`` sRGB in [0, 1] (H, W even when ``mosaic``).
        params: one :class:`IspParams` for the batch or a sequence of B.
        mosaic: return packed RGGB ``(B, 4, H/2, W/2)``; otherwise camera RGB ``(B, 3, H, W)``.
        preserve_highlights: soften the inverse white balance for near-white pixels (gray > 0.9),
            which is what makes highlights clip realistically but is not exactly invertible there.

    Returns:
        Linear RAW in [0, 1] (clamped: a sensor cannot record negative or super-white light).
    """
    if srgb.ndim != 4 or srgb.shape[1] != 3:
        raise ValueError(f"unprocess: expected (B, 3, H, W), got {tuple(srgb.shape)}")
    rgb_to_cam, _, gains, tone = _batched(params, srgb.shape[0], srgb)
    x = inverse_smoothstep(srgb) if tone else srgb.clamp(0.0, 1.0)
    x = srgb_to_linear(x)
    x = apply_ccm(x, rgb_to_cam)
    x = _inverse_gains(x, gains, preserve_highlights).clamp(0.0, 1.0)
    return mosaic_rgb(x) if mosaic else x


def process(
    raw: Tensor,
    params: IspParams | Sequence[IspParams],
    *,
    demosaic_method: str = "bilinear",
) -> Tensor:
    """Render linear camera RAW to sRGB.

    Args:
        raw: ``(B, 4, h, w)`` packed RGGB (demosaicked to ``(B, 3, 2h, 2w)``) or ``(B, 3, H, W)``
            camera RGB, linear, nominally [0, 1] (noisy values outside are fine: clamped).
        params: one :class:`IspParams` for the batch or a sequence of B.
        demosaic_method: ``"bilinear"`` or ``"malvar"``.

    Returns:
        ``(B, 3, H, W)`` sRGB in [0, 1].
    """
    if raw.ndim != 4 or raw.shape[1] not in (3, 4):
        raise ValueError(f"process: expected (B, 4, h, w) or (B, 3, H, W), got {tuple(raw.shape)}")
    _, cam_to_rgb, gains, tone = _batched(params, raw.shape[0], raw)
    if raw.shape[1] == 4:
        g4 = torch.stack([gains[:, 0], gains[:, 1], gains[:, 1], gains[:, 2]], 1)
        x = demosaic((raw * g4[:, :, None, None]).clamp(0.0, 1.0), demosaic_method)
    else:
        x = (raw * gains[:, :, None, None]).clamp(0.0, 1.0)
    x = apply_ccm(x, cam_to_rgb).clamp(0.0, 1.0)
    x = linear_to_srgb(x)
    return smoothstep(x) if tone else x


def _to_tensor(x: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(2, 0, 1)[None]


def _to_numpy(t: Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).contiguous().numpy()


def unprocess_np(
    srgb: np.ndarray, params: IspParams, *, mosaic: bool = True, preserve_highlights: bool = True
) -> np.ndarray:
    """Numpy :func:`unprocess`: ``(H, W, 3)`` sRGB -> ``(H/2, W/2, 4)`` packed RAW or ``(H, W, 3)`` camera RGB
    (with ``mosaic=False``)."""
    with torch.no_grad():
        return _to_numpy(
            unprocess(_to_tensor(srgb), params, mosaic=mosaic, preserve_highlights=preserve_highlights)
        )


def process_np(raw: np.ndarray, params: IspParams, *, demosaic_method: str = "bilinear") -> np.ndarray:
    """Numpy :func:`process`: ``(h, w, 4)`` packed RAW or ``(H, W, 3)`` camera RGB -> ``(H, W, 3)`` sRGB."""
    with torch.no_grad():
        return _to_numpy(process(_to_tensor(raw), params, demosaic_method=demosaic_method))
