"""The quality report of a result: analysis (noise, blur, exposure, blocking), NIQE, and PSNR/SSIM against
a reference; the GUI's quality panel shows it, tests and scripts can call it the same way.

One metric failing is reported in the notes instead of failing the whole report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from app.core.context import Cancelled, RunContext
from app.core.image import Image

#: metrics run on at most this many pixels (NIQE on a 2-MP preview takes seconds).
MAX_METRIC_PIXELS = 600_000


@dataclass
class QualityReport:
    """Rows of (label, before, after) strings, plus notes."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _small(data: np.ndarray) -> np.ndarray:
    h, w = data.shape[:2]
    s = math.sqrt(MAX_METRIC_PIXELS / (h * w))
    if s >= 1:
        return data
    return cv2.resize(data, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "∞" if math.isinf(value) else f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _analysis_rows(before: np.ndarray, after: np.ndarray, blur_scale: float, notes: list[str],
                   ctx: RunContext) -> list[tuple[str, str, str]]:
    """Rows from the core's photo analysis (noise, blur, exposure, JPEG blocking)."""
    from app.core.metrics.analysis import analyze_array as analyze

    a = analyze(before, blur_scale=blur_scale)
    ctx.check_cancelled()
    b = analyze(after, blur_scale=blur_scale)
    rows = [
        ("Noise σ (/255)", _fmt(a.noise.sigma255), _fmt(b.noise.sigma255)),
        ("Blur: edge σ (px, full size)", _fmt(a.blur.sigma), _fmt(b.blur.sigma)),
        ("Mean luma (/255)", _fmt(a.exposure.mean_luma), _fmt(b.exposure.mean_luma)),
        ("EV to mid-grey", f"{a.exposure.ev_to_mid + 0.0:+.1f}", f"{b.exposure.ev_to_mid + 0.0:+.1f}"),
        ("Clipped dark / bright %", f"{a.exposure.clipped_dark:.1%} / {a.exposure.clipped_bright:.1%}",
         f"{b.exposure.clipped_dark:.1%} / {b.exposure.clipped_bright:.1%}"),
        ("JPEG blockiness", _fmt(a.jpeg.blockiness), _fmt(b.jpeg.blockiness)),
    ]
    notes.append("Before: " + ("; ".join(a.findings()) or "looks clean and well exposed") + ".")
    notes.append("After: " + ("; ".join(b.findings()) or "looks clean and well exposed") + ".")
    return rows


def quality_report(before: Image, after: Image, reference: Image | None, ctx: RunContext,
                   *, blur_scale: float = 1.0) -> QualityReport:
    """Analysis and no-reference scores of before/after; PSNR/SSIM against ``reference`` if given.

    Args:
        blur_scale: full-resolution pixels per pixel of ``before`` (blur is reported at full size).
    """
    rep = QualityReport()
    b, a = _small(before.data), _small(after.data)
    if a.shape != b.shape:
        a = cv2.resize(a, (b.shape[1], b.shape[0]), interpolation=cv2.INTER_AREA).reshape(b.shape)
    b, a = np.clip(b, 0, 1), np.clip(a, 0, 1)
    # The analysis sees the pixels as given (it crops big images itself): on a downscaled copy a sharp
    # photo's edges read ~0.7 px wide, times the scale = a false "blurred, 3 px" (issue 20).
    fb, fa = before.data, after.data
    if fa.shape != fb.shape:
        fb, fa, blur_scale = b, a, blur_scale * before.width / b.shape[1]
    try:
        rep.rows += _analysis_rows(np.clip(fb, 0, 1), np.clip(fa, 0, 1), blur_scale, rep.notes, ctx)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - one metric failing must not hide the others
        rep.notes.append(f"analysis failed: {exc}")
    ctx.progress(0.3, "quality: NIQE")
    ctx.check_cancelled()
    from app.core.metrics.niqe import niqe

    try:
        rep.rows.append(("NIQE (lower is better)", _fmt(niqe(b)), _fmt(niqe(a))))
    except Exception as exc:  # noqa: BLE001 - e.g. the pristine model file is missing
        rep.rows.append(("NIQE (lower is better)", "—", "—"))
        rep.notes.append(f"NIQE: {exc}")
    ctx.progress(0.7, "quality: reference")
    ctx.check_cancelled()
    if reference is not None:
        ref = cv2.resize(reference.data, (b.shape[1], b.shape[0]), interpolation=cv2.INTER_AREA)
        ref = np.clip(ref.reshape(b.shape), 0, 1)
        from app.core.metrics.psnr import psnr
        from app.core.metrics.ssim import ssim

        for label, f in (("PSNR vs reference (dB)", psnr), ("SSIM vs reference", ssim)):
            rep.rows.append((label, _fmt(f(b, ref)), _fmt(f(a, ref))))
        if reference.width * b.shape[0] != reference.height * b.shape[1]:
            rep.notes.append("the reference has a different aspect ratio; it was stretched to match")
    ctx.progress(1.0, "quality done")
    return rep
