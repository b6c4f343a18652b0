"""Bayer mosaics: RGGB pack/unpack, mosaicking of RGB images, and demosaicking.

Conventions (shared with ``app.core.io``'s normalised mosaics):

* a *mosaic* is ``(B, 1, H, W)`` (torch) or ``(H, W)`` / ``(H, W, 1)`` (numpy), RGGB, H and W even;
* a *packed* mosaic is ``(B, 4, H/2, W/2)`` (torch) or ``(H/2, W/2, 4)`` (numpy) with planes
  ``R, G1, G2, B`` -- G1 shares rows with R, G2 shares rows with B. This is the RAW denoiser's input.

Demosaicking: ``bilinear`` (cheap, used inside differentiable training losses), ``malvar``
(Malvar-He-Cutler 2004 gradient-corrected linear filters: sharper and still a fixed linear
filter, so differentiable and fast) and, numpy only, ``ea`` (OpenCV's edge-aware demosaic).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from app.core.color import pack_rggb as pack_rggb_np
from app.core.color import unpack_rggb as unpack_rggb_np

__all__ = [
    "pack_rggb",
    "unpack_rggb",
    "mosaic_rgb",
    "demosaic",
    "pack_rggb_np",
    "unpack_rggb_np",
    "mosaic_rgb_np",
    "demosaic_np",
]


def _check(x: Tensor, channels: int, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name}: expected (B, {channels}, H, W), got {tuple(x.shape)}")


def pack_rggb(mosaic: Tensor) -> Tensor:
    """``(B, 1, H, W)`` RGGB mosaic -> ``(B, 4, H/2, W/2)`` planes R, G1, G2, B (exact, no filtering)."""
    _check(mosaic, 1, "pack_rggb")
    if mosaic.shape[-2] % 2 or mosaic.shape[-1] % 2:
        raise ValueError(f"pack_rggb: H and W must be even, got {tuple(mosaic.shape[-2:])}")
    # pixel_unshuffle orders the 2x2 phases (0,0), (0,1), (1,0), (1,1) = R, G1, G2, B for RGGB.
    return F.pixel_unshuffle(mosaic, 2)


def unpack_rggb(packed: Tensor) -> Tensor:
    """``(B, 4, h, w)`` planes R, G1, G2, B -> ``(B, 1, 2h, 2w)`` RGGB mosaic (inverse of ``pack_rggb``)."""
    _check(packed, 4, "unpack_rggb")
    return F.pixel_shuffle(packed, 2)


def mosaic_rgb(rgb: Tensor) -> Tensor:
    """Sample an RGB image through an RGGB colour filter array.

    Args:
        rgb: ``(B, 3, H, W)``, H and W even.

    Returns:
        ``(B, 4, H/2, W/2)`` packed planes R, G1, G2, B.
    """
    _check(rgb, 3, "mosaic_rgb")
    r = F.pixel_unshuffle(rgb[:, 0:1], 2)[:, 0:1]
    g = F.pixel_unshuffle(rgb[:, 1:2], 2)[:, 1:3]
    b = F.pixel_unshuffle(rgb[:, 2:3], 2)[:, 3:4]
    return torch.cat([r, g, b], dim=1)


_BILINEAR_G = torch.tensor([[0, 1, 0], [1, 4, 1], [0, 1, 0]], dtype=torch.float32) / 4
_BILINEAR_RB = torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=torch.float32) / 4

# Malvar-He-Cutler filters (x 1/8): G at R/B sites; R/B at G sites whose same-colour neighbours
# are left/right ("row") or above/below ("col"); R at B sites and B at R sites ("diag").
_M_G = [[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1], [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]]
_M_ROW = [[0, 0, 0.5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1], [0, -1, 0, -1, 0], [0, 0, 0.5, 0, 0]]
_M_COL = [[0, 0, -1, 0, 0], [0, -1, 4, -1, 0], [0.5, 0, 5, 0, 0.5], [0, -1, 4, -1, 0], [0, 0, -1, 0, 0]]
_M_DIAG = [[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5], [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]]
_MALVAR = torch.tensor([_M_G, _M_ROW, _M_COL, _M_DIAG], dtype=torch.float32)[:, None] / 8


def _demosaic_bilinear(packed: Tensor) -> Tensor:
    mosaic = unpack_rggb(packed)
    zeros = torch.zeros_like(packed[:, :1])
    # Sparse colour planes: each keeps its own samples and zeros elsewhere.
    r = unpack_rggb(torch.cat([packed[:, 0:1], zeros, zeros, zeros], 1))
    g = unpack_rggb(torch.cat([zeros, packed[:, 1:3], zeros], 1))
    b = unpack_rggb(torch.cat([zeros, zeros, zeros, packed[:, 3:4]], 1))
    sparse = torch.cat([r, g, b], 1)
    # Reflect padding (not replicate) keeps the CFA phase: pixel -1 mirrors pixel 1.
    sparse = F.pad(sparse, (1, 1, 1, 1), mode="reflect")
    kernel = torch.stack([_BILINEAR_RB, _BILINEAR_G, _BILINEAR_RB])[:, None].to(mosaic)
    return F.conv2d(sparse, kernel, groups=3)


def _demosaic_malvar(packed: Tensor) -> Tensor:
    mosaic = F.pad(unpack_rggb(packed), (2, 2, 2, 2), mode="reflect")
    filt = F.conv2d(mosaic, _MALVAR.to(mosaic))  # (B, 4, H, W): G, ROW, COL, DIAG estimates
    g_est, row, col, diag = (F.pixel_unshuffle(filt[:, i : i + 1], 2) for i in range(4))
    raw = packed
    # Per 2x2 phase (R, G1, G2, B sites): pick the measured sample or the right estimate.
    r = torch.stack([raw[:, 0], row[:, 1], col[:, 2], diag[:, 3]], 1)
    g = torch.stack([g_est[:, 0], raw[:, 1], raw[:, 2], g_est[:, 3]], 1)
    b = torch.stack([diag[:, 0], col[:, 1], row[:, 2], raw[:, 3]], 1)
    return torch.cat([F.pixel_shuffle(c, 2) for c in (r, g, b)], 1)


def demosaic(packed: Tensor, method: str = "bilinear") -> Tensor:
    """Demosaic packed RGGB planes.

    Args:
        packed: ``(B, 4, h, w)`` planes R, G1, G2, B, linear, any range (h, w >= 2).
        method: ``"bilinear"`` or ``"malvar"`` (both differentiable). Malvar can overshoot
            slightly at edges; callers that need [0, 1] clamp afterwards.

    Returns:
        ``(B, 3, 2h, 2w)`` linear RGB.
    """
    _check(packed, 4, "demosaic")
    if method == "bilinear":
        return _demosaic_bilinear(packed)
    if method == "malvar":
        return _demosaic_malvar(packed)
    raise ValueError(f"unknown demosaic method {method!r} (torch supports 'bilinear', 'malvar')")


# ----------------------------------------------------------------------------- numpy wrappers


def mosaic_rgb_np(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB -> ``(H/2, W/2, 4)`` packed RGGB samples."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] % 2 or rgb.shape[1] % 2:
        raise ValueError(f"mosaic_rgb_np: expected an even (H, W, 3) image, got {rgb.shape}")
    return np.stack([rgb[0::2, 0::2, 0], rgb[0::2, 1::2, 1], rgb[1::2, 0::2, 1], rgb[1::2, 1::2, 2]], axis=-1)


def demosaic_np(mosaic: np.ndarray, method: str = "malvar") -> np.ndarray:
    """Demosaic an RGGB mosaic held as numpy.

    Args:
        mosaic: ``(H, W)`` / ``(H, W, 1)`` RGGB mosaic or ``(H/2, W/2, 4)`` packed planes, float.
        method: ``"bilinear"``, ``"malvar"`` or ``"ea"`` (OpenCV edge-aware; quantises the
            [0, 1] range to 16 bits and clips outside it).

    Returns:
        ``(H, W, 3)`` float32 linear RGB.
    """
    packed = mosaic if (mosaic.ndim == 3 and mosaic.shape[2] == 4) else pack_rggb_np(mosaic)
    if method == "ea":
        m = unpack_rggb_np(packed)[..., 0]
        u16 = np.round(np.clip(m, 0.0, 1.0) * 65535.0).astype(np.uint16)
        # OpenCV names Bayer codes after the second row's 2nd/3rd pixels: RGGB is "BayerBG".
        rgb = cv2.cvtColor(u16, cv2.COLOR_BayerBG2RGB_EA)
        return rgb.astype(np.float32) / np.float32(65535.0)
    t = torch.from_numpy(np.ascontiguousarray(packed, dtype=np.float32)).permute(2, 0, 1)[None]
    with torch.no_grad():
        rgb = demosaic(t, method)
    return rgb[0].permute(1, 2, 0).contiguous().numpy()
