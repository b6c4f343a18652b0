"""The quality report of a result: analysis (noise, blur, exposure, blocking), NIQE, and PSNR/SSIM against
a reference; the GUI's quality panel shows it, tests and scripts can call it the same way.

One metric failing is reported in the notes instead of failing the whole report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from app.core.context import Cancelled, RunContext
from app.core.image import Image

if TYPE_CHECKING:
    from app.core.metrics.analysis import Analysis

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


def _analysis_rows(before: np.ndarray, after: np.ndarray, blur_label: str, notes: list[str], findings: bool,
                   ctx: RunContext) -> list[tuple[str, str, str]]:
    """Rows from the core's photo analysis (noise, blur, exposure, JPEG blocking) of the pixels as given."""
    from app.core.metrics.analysis import analyze_array as analyze

    a = analyze(before)
    ctx.check_cancelled()
    b = analyze(after)
    rows = [
        ("Noise σ (/255)", _fmt(a.noise.sigma255), _fmt(b.noise.sigma255)),
        (blur_label, _fmt(a.blur.sigma), _fmt(b.blur.sigma)),
        ("Mean luma (/255)", _fmt(a.exposure.mean_luma), _fmt(b.exposure.mean_luma)),
        ("EV to mid-grey", f"{a.exposure.ev_to_mid + 0.0:+.1f}", f"{b.exposure.ev_to_mid + 0.0:+.1f}"),
        ("Clipped dark / bright %", f"{a.exposure.clipped_dark:.1%} / {a.exposure.clipped_bright:.1%}",
         f"{b.exposure.clipped_dark:.1%} / {b.exposure.clipped_bright:.1%}"),
        ("JPEG blockiness", _fmt(a.jpeg.blockiness), _fmt(b.jpeg.blockiness)),
    ]
    if findings:
        notes.append("Before: " + ("; ".join(a.findings()) or "looks clean and well exposed") + ".")
        notes.append("After: " + ("; ".join(b.findings()) or "looks clean and well exposed") + ".")
    return rows


def quality_report(before: Image, after: Image, reference: Image | None, ctx: RunContext,
                   *, whole: Analysis | None = None) -> QualityReport:
    """Analysis and no-reference scores of before/after; PSNR/SSIM against ``reference`` if given.

    Args:
        before, after: the same rendering without and with the recipe, at the same size (the preview).
        whole: the analysis of the whole photo at full size, i.e. ``plan_auto(photo).analysis`` (what
            Auto and ``photorestore analyze`` see): its findings are the report's verdict on the photo.
            When ``before`` is smaller than the photo, Before/After are compared figure by figure only:
            findings on a scaled-down copy would disagree with the whole photo's (a sharp photo's edges
            read ~0.8 px wide at any scale, so scaled back up they read as blur: the sharp f/22 CR2 was
            "blurred, 2.4 px" at 0.34 scale; noise reads lower), so none are drawn from it.
    """
    rep = QualityReport()
    b, a = _small(before.data), _small(after.data)
    if a.shape != b.shape:
        a = cv2.resize(a, (b.shape[1], b.shape[0]), interpolation=cv2.INTER_AREA).reshape(b.shape)
    b, a = np.clip(b, 0, 1), np.clip(a, 0, 1)
    fb, fa = before.data, after.data
    if fa.shape != fb.shape:
        fb, fa = b, a
    full_size = whole is None or whole.width <= fb.shape[1]
    blur_label = "Blur: edge σ (px)" if full_size else f"Blur: edge σ (px at {fb.shape[1]} px wide)"
    if whole is not None:
        rep.notes.append("Whole photo (as Auto and photorestore analyze see it): "
                         + ("; ".join(whole.findings()) or "looks clean and well exposed") + ".")
    if not full_size:
        rep.notes.append(f"Before/After figures are measured on a {fb.shape[1]}-px copy (blur and noise "
                         "read lower there than at full size).")
    try:
        rep.rows += _analysis_rows(np.clip(fb, 0, 1), np.clip(fa, 0, 1), blur_label, rep.notes, full_size, ctx)
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
