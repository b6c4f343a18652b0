"""What ``photorestore compare A B`` and ``photorestore analyze FILE`` print, as plain dicts.

``compare`` scores an image against a reference (PSNR, SSIM; no-reference NIQE of both);
``analyze`` runs the photo analysis, NIQE and the Auto recipe. Both accept a path, an
:class:`~app.core.image.Image` or an array, and return JSON-serialisable dicts; ``format_*``
turn them into the text the CLI prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.core.metrics.analysis_text import format_analysis
from app.core.metrics.estimators import linear_to_srgb
from app.core.metrics.jpeg_quality import jpeg_quality_from_file  # noqa: F401 - part of this API
from app.core.metrics.psnr import finite_psnr, mse, psnr
from app.core.metrics.recipe_auto import format_recipe
from app.core.metrics.ssim import ssim


# IJG libjpeg base luminance table (quality 50), used to read a JPEG's quality off its tables.
def _load(x: Any, raw_as: str = "srgb") -> tuple[Any, str | None]:
    """``(Image or array, path or None)``; paths decode through :mod:`app.core.io` (RAW developed
    unless ``raw_as`` says otherwise)."""
    if isinstance(x, (str, Path)):
        from app.core.io import load_image

        return load_image(x, raw_as=raw_as), str(x)
    return x, None


def to_srgb_array(x: Any) -> np.ndarray:
    """float32 ``(H, W, 3)`` sRGB in [0, 1] from a path, an Image (sRGB/linear) or an array."""
    img, _ = _load(x)
    data = getattr(img, "data", img)
    space = getattr(getattr(img, "space", None), "value", "srgb")
    if space == "bayer":
        from app.core.io import develop

        data, space = develop(img).data, "srgb"
    a = np.asarray(data)
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        a = a.astype(np.float32) / 65535.0
    a = a.astype(np.float32)
    if space == "linear":
        a = linear_to_srgb(a).astype(np.float32)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return a[..., :3]


def compare(a: Any, b: Any, *, crop_border: int = 0, with_niqe: bool = True) -> dict[str, Any]:
    """Full-reference comparison of ``a`` against the reference ``b``.

    Args:
        a: image under test: path, Image or array (sRGB; uint8/uint16/float).
        b: reference, same size.
        crop_border: pixels ignored on each side (PSNR and SSIM).
        with_niqe: also report the no-reference NIQE of both (needs >= 192 px each way).

    Returns:
        ``{"size": [w, h], "psnr": dB (None = identical), "ssim": mean RGB SSIM, "ssim_luma": SSIM
        of BT.601 luma, "mse": on [0, 1] values, "max_abs_diff": 0-255 scale, "niqe_a", "niqe_b"}``.

    Raises:
        ValueError: if the sizes differ (the message gives both).
    """
    x, y = to_srgb_array(a), to_srgb_array(b)
    if x.shape != y.shape:
        raise ValueError(f"sizes differ: A is {x.shape[1]}x{x.shape[0]}, B is {y.shape[1]}x{y.shape[0]}; "
                         "compare needs images of the same size")
    if crop_border:
        x = x[crop_border:-crop_border, crop_border:-crop_border]
        y = y[crop_border:-crop_border, crop_border:-crop_border]
    p = psnr(x, y)
    out: dict[str, Any] = {
        "size": [int(x.shape[1]), int(x.shape[0])],
        "psnr": None if math.isinf(p) else round(finite_psnr(p), 4),
        "ssim": round(ssim(x, y), 6),
        "ssim_luma": round(ssim(x, y, luma=True), 6),
        "mse": float(mse(x, y)),
        "max_abs_diff": round(float(np.max(np.abs(x - y))) * 255.0, 3),
    }
    if with_niqe:
        out["niqe_a"], out["niqe_b"] = _niqe_or_none(x), _niqe_or_none(y)
    return out


def _niqe_or_none(x: np.ndarray) -> float | None:
    from app.core.metrics.niqe import niqe

    try:
        return round(niqe(x), 4)
    except (ValueError, FileNotFoundError):
        return None


def format_compare(d: dict[str, Any], names: tuple[str, str] = ("A", "B")) -> str:
    """Text for ``photorestore compare`` (``names``: what to call the two images)."""
    p = "identical (inf)" if d["psnr"] is None else f"{d['psnr']:.2f} dB"
    lines = [f"Size          {d['size'][0]} x {d['size'][1]}",
             f"PSNR          {p}",
             f"SSIM          {d['ssim']:.4f} (RGB mean), {d['ssim_luma']:.4f} (luma)",
             f"Max |diff|    {d['max_abs_diff']:.1f} / 255"]
    if "niqe_a" in d:
        fmt = [f"{v:.2f}" if v is not None else "n/a (too small)" for v in (d["niqe_a"], d["niqe_b"])]
        lines.append(f"NIQE          {names[0]} {fmt[0]}, {names[1]} {fmt[1]} (lower = more natural)")
    return "\n".join(lines)


def analyze(x: Any, planner: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Analysis, NIQE and the Auto recipe of a path, Image or sRGB array.

    Args:
        x: a path, :class:`~app.core.image.Image` or sRGB array.
        planner: ``(image, path=...) -> AutoPlan``; the CLI passes the app's Auto
            (:func:`app.core.workflow.auto.plan_auto`, which knows the op registry); default
            :func:`~app.core.metrics.auto.auto_plan` with every op counted as available.

    Returns:
        ``{"file", "analysis": Analysis.to_dict(), "niqe", "prior", "denoiser_noise" (the sRGB denoiser's
        noise reading, :mod:`app.core.metrics.noise_reading`), "recipe": [{"op", "params", "reason"}],
        "metadata": {label: text}}``; JPEG files also get ``analysis.jpeg.quality`` from their tables.
    """
    from app.core.metrics.auto import auto_plan

    # The same image ``run --op auto`` plans from (a RAW as its mosaic; auto_plan develops it).
    img, path = _load(x, raw_as="auto")
    plan = (planner or auto_plan)(img, path=path)
    a, steps = plan.analysis, plan.steps
    meta = getattr(img, "meta", None)
    srgb = to_srgb_array(img)  # a RAW is developed for NIQE and the prior, as auto_plan did
    from app.core.metrics.noise_reading import srgb_noise_reading
    from app.core.metrics.prior import degradation_probabilities

    return {"file": path, "analysis": a.to_dict(), "niqe": _niqe_or_none(srgb),
            "prior": degradation_probabilities(srgb), "denoiser_noise": srgb_noise_reading(srgb),
            "recipe": [{"op": s.op_id, "params": s.params, "reason": s.reason} for s in steps],
            "metadata": meta.summary() if meta is not None and hasattr(meta, "summary") else {}}


def format_analyze(report: dict[str, Any]) -> str:
    """Text for ``photorestore analyze``."""
    from app.core.metrics.recipe_auto import RecipeStep

    lines = [f"File          {report['file']}"] if report.get("file") else []
    lines += [f"{k:13s} {v}" for k, v in report.get("metadata", {}).items()]
    lines.append(format_analysis(report["analysis"]))
    niqe = report.get("niqe")
    lines.append(f"NIQE          {niqe:.2f} (lower = more natural; our model)" if niqe is not None
                 else "NIQE          n/a")
    if "denoiser_noise" in report:
        from app.core.metrics.noise_reading import format_reading

        lines.append(format_reading(report["denoiser_noise"]))
    if "prior" in report:
        from app.core.metrics.prior import format_probabilities

        lines.append(format_probabilities(report["prior"]))
    lines.append(format_recipe([RecipeStep(s["op"], s["params"], s["reason"]) for s in report["recipe"]]))
    return "\n".join(lines)
