"""Camera-shake reduction for a whole photo: kernel size, confidence gate, optional per-region kernels.

:func:`reduce_shake` is what the ``shake`` op runs: estimate the kernel (:mod:`.kernel`) on the luminance
of a textured region, check it, deconvolve in linear light (:mod:`.nonblind`). The check is the no-harm
rule: a kernel that is nearly a point (a sharp photo), or that a second, disjoint region does not
reproduce (the estimate followed texture or noise rather than the blur, which is the same all over a
shaken photo), leaves the photo untouched and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from app.core.deconv.kernel import KernelEstimate, choose_region, clipped_mask, estimate_kernel
from app.core.deconv.nonblind import deconvolve_srgb

#: A kernel whose RMS radius is below this (px) is a point: nothing to undo.
MIN_SPREAD = 1.0
#: Least normalised cross-correlation between the kernels of two regions for the blur to count as found.
MIN_AGREEMENT = 0.5
#: Edge width (px, estimators.blur_level) below which a photo counts as sharp and is not searched: sharp
#: training-split photos read 0.3-1.06 px, the same shaken by 4-32 px trajectories 0.45-2.5 (24 of 30 >= 1.15).
MIN_EDGE_WIDTH = 1.15
#: Without a second region (small photos), only a clearly extended kernel (RMS radius, px) is trusted.
UNCONFIRMED_SPREAD = 1.5


@dataclass
class ShakeResult:
    image: np.ndarray
    kernel: np.ndarray
    region: tuple[int, int, int, int]
    spread: float
    agreement: float | None
    applied: bool
    reason: str = ""
    tiles: list[dict] = field(default_factory=list)


def luminance(srgb: np.ndarray) -> np.ndarray:
    return (srgb @ np.array([0.299, 0.587, 0.114], np.float32) if srgb.shape[2] == 3 else srgb[..., 0]).astype(
        np.float32)


def blur_reading(gray: np.ndarray, noise: float) -> tuple[float, int]:
    """(edge width in px, auto kernel side) from :func:`app.core.measure.estimators.blur_level` on a
    <= 1024-px copy: the median Gaussian-equivalent edge width, and the motion length read from gradient
    autocorrelations plus a margin (15..51 px)."""
    from app.core.measure.estimators import blur_level

    f = min(1.0, 1024 / max(gray.shape))
    small = gray if f == 1.0 else cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    info = blur_level(small.astype(np.float64), noise)
    width = info["sigma"] / f if np.isfinite(info["sigma"]) else 0.0
    return float(width), int(np.clip(1.4 * info["motion_length"] / f + 9, 15, 51)) | 1


def kernel_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Peak normalised cross-correlation of two kernels over all shifts (1 = same shape)."""
    n = max(a.shape[0], b.shape[0])
    big = np.pad(a, n).astype(np.float32)
    r = cv2.matchTemplate(big, b.astype(np.float32), cv2.TM_CCORR_NORMED)
    return float(r.max())


def second_region(gray: np.ndarray, first: tuple[int, int, int, int], size: int) -> tuple[int, int, int, int] | None:
    """The most textured window that does not overlap ``first`` (None when the photo is too small)."""
    y0, x0, y1, x1 = first
    clipped = clipped_mask(gray)
    clipped[y0:y1, x0:x1] = True  # scored like a clipped highlight: windows overlapping it lose
    if clipped.mean() > 0.9:
        return None
    region = choose_region(gray, size, clipped)
    ry0, rx0, ry1, rx1 = region
    if ry0 < y1 and y0 < ry1 and rx0 < x1 and x0 < rx1:
        return None
    return region


def reduce_shake(srgb: np.ndarray, *, kernel_size: int, lam: float, region: tuple[int, int, int, int] | None,
                 strength: float = 1.0, force: bool = False, edge_width: float | None = None,
                 check: Callable[[], None] | None = None,
                 progress: Callable[[float], None] | None = None) -> ShakeResult:
    """Estimate the shake kernel of ``srgb`` ((H, W, C) in [0, 1]) and deconvolve when it is trusted.

    ``edge_width`` (from :func:`blur_reading`) below :data:`MIN_EDGE_WIDTH` means a sharp photo: no search.
    """
    gray = luminance(srgb)
    prog = progress or (lambda f: None)
    if edge_width is not None and edge_width < MIN_EDGE_WIDTH and not force:
        prog(1.0)
        return ShakeResult(srgb, np.ones((1, 1), np.float32), (0, 0, 0, 0), 0.0, None, False,
                           f"edges already sharp (width {edge_width:.2f} px < {MIN_EDGE_WIDTH})")
    est: KernelEstimate = estimate_kernel(gray, kernel_size, region=region, check=check,
                                          progress=lambda f: prog(0.35 * f))
    agreement = None
    if region is None:
        size = est.region[2] - est.region[0]
        other = second_region(gray, est.region, size)
        if other is not None:
            est2 = estimate_kernel(gray, kernel_size, region=other, check=check,
                                   progress=lambda f: prog(0.35 + 0.25 * f))
            agreement = kernel_agreement(est.kernel, est2.kernel)
    reason = ""
    if est.spread < MIN_SPREAD:
        reason = f"no shake found (kernel radius {est.spread:.2f} px < {MIN_SPREAD})"
    elif agreement is not None and agreement < MIN_AGREEMENT:
        reason = f"kernel not confirmed by a second region (agreement {agreement:.2f} < {MIN_AGREEMENT})"
    elif agreement is None and region is None and est.spread < UNCONFIRMED_SPREAD:
        reason = f"small kernel ({est.spread:.2f} px) and no second region to confirm it"
    applied = force or not reason
    out = srgb
    if applied and strength > 0:
        out = deconvolve_srgb(srgb, est.kernel, lam, check=check, progress=lambda f: prog(0.6 + 0.4 * f))
        if strength < 1.0:
            out = srgb + strength * (out - srgb)
    prog(1.0)
    return ShakeResult(np.clip(out, 0.0, 1.0).astype(np.float32), est.kernel, est.region, est.spread, agreement,
                       applied, reason)


def reduce_shake_tiled(srgb: np.ndarray, grid: int, overlap: float = 0.25, **kw) -> ShakeResult:
    """Spatially varying mode: a kernel per overlapping tile of a ``grid`` x ``grid`` layout, blended with
    raised-cosine weights (rotation of the camera makes the blur differ across the frame)."""
    h, w = srgb.shape[:2]
    th, tw = int(np.ceil(h / grid * (1 + overlap))), int(np.ceil(w / grid * (1 + overlap)))
    acc = np.zeros(srgb.shape, np.float32)
    wsum = np.zeros((h, w, 1), np.float32)
    tiles, first = [], None
    prog = kw.pop("progress", None) or (lambda f: None)
    kw.pop("region", None)
    n = 0
    for i in range(grid):
        for j in range(grid):
            y0 = int(round(i * (h - th) / max(grid - 1, 1)))
            x0 = int(round(j * (w - tw) / max(grid - 1, 1)))
            tile = srgb[y0:y0 + th, x0:x0 + tw]
            r = reduce_shake(tile, region=None, progress=None, **kw)
            wy = np.hanning(tile.shape[0] + 2)[1:-1].astype(np.float32)
            wx = np.hanning(tile.shape[1] + 2)[1:-1].astype(np.float32)
            wt = (wy[:, None] * wx[None, :])[..., None]
            acc[y0:y0 + th, x0:x0 + tw] += wt * r.image
            wsum[y0:y0 + th, x0:x0 + tw] += wt
            tiles.append({"origin": (y0, x0), "applied": r.applied, "spread": r.spread, "reason": r.reason})
            first = first or r
            n += 1
            prog(n / grid**2)
    out = acc / np.maximum(wsum, 1e-6)
    applied = any(t["applied"] for t in tiles)
    return ShakeResult(out, first.kernel, first.region, first.spread, first.agreement, applied,
                       "" if applied else "no tile found a trusted kernel", tiles)
