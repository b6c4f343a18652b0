"""Camera-shake reduction for a whole photo: kernel size, the failure detector, optional per-region kernels.

:func:`reduce_shake` is what the ``shake`` op runs: estimate the kernel (:mod:`.kernel`) on the linear
luminance of a textured region, try it on that region, and deconvolve the photo (:mod:`.nonblind`) only
when the trial passes the failure detector (:mod:`.trust`). The detector is the no-harm rule; its two
readings and thresholds were chosen by their ROC on training pairs (``bench/shake_detector.py``):

* the trial result must be sparser in gradients than the input (L1/L2 ratio, :data:`MAX_SPARSITY`):
  deconvolving a sharp photo, or with a kernel that does not fit, sharpens nothing (36 of 38 sharp
  training photos read above 0.95, shaken ones a median 0.89);
* the kernel must not reach the edge of its window (:data:`MAX_BORDER`): a kernel cut by its window is
  a blur longer than the window or an estimate that followed texture (the worst losses, -5 to -11 dB).

On 40 shaken training pairs (``python bench/shake_detector.py collect``) deconvolving every estimate lost
-1.08 dB on average (22 harmed, worst -11.5); with the detector +0.78 dB at smoothing 4 (19 applied, 1
harmed, worst -1.8), and 1 of 38 sharp photos was accepted (a soft painted wallpaper, edges 2 px wide).
Since the final kernel drops taps below 25 % of its peak (:data:`app.core.deconv.kernel.FINAL_THRESHOLD`)
the op gains +1.43 dB on those pairs (24 applied, 2 harmed, worst -0.39) and leaves all 35 sharp photos of
``bench/shake_detector.py op`` alone; the thresholds were re-checked then and kept (docs/deconv.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from app.core.deconv.kernel import KernelEstimate, estimate_kernel
from app.core.deconv.nonblind import deconvolve_srgb
from app.core.deconv.trust import kernel_readings, result_readings

#: A kernel whose RMS radius is below this (px) is a point: nothing to undo.
MIN_SPREAD = 1.0
#: Pre-search gate: a photo whose edges are this narrow (median width, px) AND that shows no motion streak
#: (:data:`MIN_STREAK`) is sharp and not searched. Edge width alone could not tell shaken from sharp (edges
#: along the motion stay sharp); the streak of the gradient autocorrelation does, mostly.
MIN_EDGE_WIDTH = 1.15
MIN_STREAK = 2.5
#: Failure detector (see the module docstring): gradient L1/L2 of the trial result over the input's ...
MAX_SPARSITY = 0.95
#: ... and the kernel's mass on the outer 4 px of its window (1/11 of its side; every kernel that helped on
#: the training pairs read 0 to 4e-5 there, the -5 to -11 dB failures 0.012-0.086).
MAX_BORDER = 1e-4
#: The detector's trial deconvolution uses this smoothing whatever the user's (its thresholds were set so).
DETECT_SMOOTHING = 2.0
#: Iterations per scale of the kernel estimate (10 beat 5 on training pairs: +0.41 vs -0.28 dB).
ITERS = 10


@dataclass
class ShakeResult:
    image: np.ndarray
    kernel: np.ndarray
    region: tuple[int, int, int, int]
    spread: float
    applied: bool
    reason: str = ""
    tiles: list[dict] = field(default_factory=list)
    readings: dict = field(default_factory=dict)


def luminance(srgb: np.ndarray) -> np.ndarray:
    return (srgb @ np.array([0.299, 0.587, 0.114], np.float32) if srgb.shape[2] == 3 else srgb[..., 0]).astype(
        np.float32)


def blur_reading(gray: np.ndarray, noise: float) -> tuple[float, float, int]:
    """(edge width px, motion streak px, auto kernel side) from
    :func:`app.core.measure.estimators.blur_level` on a <= 1024-px copy.

    The auto side is 45 px at least: the streak reading under-reads long shakes (15-21 px read for true
    kernels of 19-63), and a window too small to hold the kernel gives a wrong one; a fixed 45 px gained
    +1.12 dB blind on the validation pairs against +0.12 with the old reading. Long streaks on big photos
    widen it up to 75 px (sizes above 45 are not measured on pairs).
    """
    from app.core.measure.estimators import blur_level

    f = min(1.0, 1024 / max(gray.shape))
    small = gray if f == 1.0 else cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    info = blur_level(small.astype(np.float64), noise)
    width = info["sigma"] / f if np.isfinite(info["sigma"]) else 0.0
    streak = info["motion_length"] / f
    return float(width), float(streak), int(np.clip(1.4 * streak + 9, 45, 75)) | 1


def kernel_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Peak normalised cross-correlation of two kernels over all shifts (1 = same shape)."""
    n = max(a.shape[0], b.shape[0])
    big = np.pad(a, n).astype(np.float32)
    r = cv2.matchTemplate(big, b.astype(np.float32), cv2.TM_CCORR_NORMED)
    return float(r.max())


def judge(srgb: np.ndarray, est: KernelEstimate, lam: float, sigma: float) -> tuple[str, dict]:
    """Try the kernel on its region and return (why not, readings); '' = trusted."""
    y0, x0, y1, x1 = est.region
    crop = srgb[y0:y1, x0:x1]
    readings = {**kernel_readings(est.kernel), **result_readings(crop, deconvolve_srgb(crop, est.kernel, lam),
                                                                 est.kernel, sigma)}
    if est.spread < MIN_SPREAD:
        return f"no shake found (kernel radius {est.spread:.2f} px < {MIN_SPREAD})", readings
    if readings["border"] > MAX_BORDER:
        return (f"kernel reaches the edge of its {est.kernel.shape[0]}-px window (blur longer than the window, "
                "or a wrong estimate)"), readings
    if readings["sparsity"] > MAX_SPARSITY:
        return (f"trial deconvolution sharpens nothing (gradient sparsity {readings['sparsity']:.3f} > "
                f"{MAX_SPARSITY})"), readings
    return "", readings


def reduce_shake(srgb: np.ndarray, *, kernel_size: int, lam: float, region: tuple[int, int, int, int] | None,
                 strength: float = 1.0, force: bool = False, edge_width: float | None = None,
                 streak: float | None = None, sigma: float = 0.0, detect_lam: float | None = None,
                 check: Callable[[], None] | None = None,
                 progress: Callable[[float], None] | None = None) -> ShakeResult:
    """Estimate the shake kernel of ``srgb`` ((H, W, C) in [0, 1]) and deconvolve when it is trusted.

    ``edge_width`` and ``streak`` (from :func:`blur_reading`) both below their gates mean a sharp photo: no
    search. ``sigma`` is the noise level (sRGB scale); ``detect_lam`` the data weight of the detector's trial
    deconvolution (default ``lam``).
    """
    from app.core.color import srgb_to_linear

    prog = progress or (lambda f: None)
    sharp = edge_width is not None and edge_width < MIN_EDGE_WIDTH and (streak or 0.0) < MIN_STREAK
    if sharp and not force:
        prog(1.0)
        return ShakeResult(srgb, np.ones((1, 1), np.float32), (0, 0, 0, 0), 0.0, False,
                           f"edges already sharp (width {edge_width:.2f} px < {MIN_EDGE_WIDTH}, "
                           f"no motion streak: {streak or 0.0:.1f} px < {MIN_STREAK})")
    gray = srgb_to_linear(np.clip(luminance(srgb), 0.0, 1.0))
    est: KernelEstimate = estimate_kernel(gray, kernel_size, region=region, iters=ITERS, check=check,
                                          progress=lambda f: prog(0.5 * f))
    reason, readings = judge(srgb, est, lam if detect_lam is None else detect_lam, sigma)
    prog(0.6)
    applied = force or not reason
    out = srgb
    if applied and strength > 0:
        out = deconvolve_srgb(srgb, est.kernel, lam, check=check, progress=lambda f: prog(0.6 + 0.4 * f))
        if strength < 1.0:
            out = srgb + strength * (out - srgb)
    prog(1.0)
    return ShakeResult(np.clip(out, 0.0, 1.0).astype(np.float32), est.kernel, est.region, est.spread, applied,
                       reason, readings=readings)


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
    return ShakeResult(out, first.kernel, first.region, first.spread, applied,
                       "" if applied else "no tile found a trusted kernel", tiles)
