""""Auto": turn an :class:`~app.core.metrics.analysis.Analysis` into an ordered recipe of ops.

Rules, in the order the steps run:

1. **Low light first.** A dark photo (``Analysis.is_dark``) gets ``lowlight`` with its automatic ratio
   (fitted on the illumination map: a median 0.20 stop from SICE's reference exposures on validation,
   where the key-to-mid-grey gain 2 ** ev_to_mid is 1.58 stops off; docs/lowlight.md). KinD-style
   low-light models restore the reflectance *including its noise*, so no separate denoise step is
   added after a model low-light step: a denoiser trained on normally exposed noise would see
   noise that KinD already treated. Without the model, the classical fallback is ``exposure`` (EV
   in linear light) and, because brightening amplifies the noise it cannot remove, an NLM step
   whose strength is the measured noise scaled by the sRGB gain.
2. **Denoise before deblur.** Deblurring amplifies noise and deblurring models are trained on
   noise-free blur, so a noisy photo is denoised first (``denoise`` model, else ``nlm_denoise``
   with h from the measured sigma).
3. **Deblur last** when edges are wider than a clean photo's (``is_blurred``) or the blur is
   directional (camera shake): ``deblur`` model, else ``unsharp`` with the radius set to the
   measured edge sigma and a threshold above the remaining noise.
4. A clean, well-exposed photo gets an empty recipe.
5. **JPEG artefacts before everything** (``Analysis.is_blocky``): ``dejpeg`` runs first, told the file's
   quality (quantisation tables), else the one its pixels' DCT quantisation lattice gives, else one estimated
   from the 8x8 blocking (:func:`quality_from_blockiness`),
   because brightening and sharpening would amplify the blocks. Without the model it is only reported.

Model ops are used only where the caller says they are available (the app: registered *and* weights
usable, ``Op.availability``); the app also filters params to the fields the op's ``Params`` declares
and clamps them to their ranges, so a recipe always loads (``app.core.workflow.auto``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from app.core.metrics.analysis import NOISY_COARSE255, NOISY_SIGMA255, Analysis

#: Largest low-light gain proposed (a KinD ratio above this mostly amplifies noise).
MAX_LOWLIGHT_RATIO = 16.0
#: OpenCV NLM h (0-255 scale) per unit of estimated noise sigma (0-255). A sweep on 6 train-split
#: photos with AWGN 5-30/255 put the PSNR optimum at 0.5 (low noise) to 0.7 (high noise).
NLM_H_PER_SIGMA = 0.6


class RecipeStep(NamedTuple):
    op_id: str
    params: dict[str, Any]
    reason: str


#: Blocking ratio -> JPEG quality, the medians measured on train-split photos (analysis.BLOCKY_RATIO's note:
#: q70 1.16, q50 1.32, q30 1.50; jpeg_blockiness's docstring: about 2.4 at q10).
_BLOCKINESS_TO_QUALITY = ((1.16, 1.32, 1.50, 2.4), (70.0, 50.0, 30.0, 10.0))


def quality_from_blockiness(ratio: float) -> int:
    """A rough JPEG quality for an image without quantisation tables, from its 8x8 blocking ratio."""
    return int(round(float(np.interp(ratio, *_BLOCKINESS_TO_QUALITY))))


def _dejpeg_step(analysis: Analysis) -> RecipeStep:
    j = analysis.jpeg
    if j.quality is not None:
        q, where = int(j.quality), "from the file"
    elif j.estimated_quality is not None:
        q, where = int(round(j.estimated_quality)), "from the pixels' quantisation lattice"
    else:
        q, where = quality_from_blockiness(j.blockiness), f"estimated from blocking ratio {j.blockiness:.2f}"
    return RecipeStep("dejpeg", {"quality": q}, f"JPEG blocking: quality {q} ({where}); first, as brightening "
                                                "and sharpening would amplify the blocks")


def plan_recipe(analysis: Analysis, *, available: Callable[[str], bool] | None = None,
                fit: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None) -> list[RecipeStep]:
    """The recipe with a one-line reason per step.

    Metrics know nothing of the op registry (``app.core.ops`` measures with metrics, so the reverse
    import would be a cycle): which ops can run and what their params accept come from the caller,
    :func:`app.core.workflow.auto.plan_auto` in the app.

    Args:
        analysis: result of :func:`~app.core.metrics.analysis.analyze_image`.
        available: ``op_id -> bool`` (registered and weights usable); default: every op.
        fit: ``(op_id, params) -> params`` the op accepts (clamped to its ranges); default: as proposed.

    Returns:
        Steps in run order; empty for a photo that needs nothing.
    """
    usable = available or (lambda op_id: True)
    fit = fit or (lambda op_id, params: dict(params))
    steps: list[RecipeStep] = []
    if analysis.is_blocky and usable("dejpeg"):
        steps.append(_dejpeg_step(analysis))
    # Whether to denoise: the texture-robust pixel-to-pixel figure. How hard: the per-pixel figure that
    # also counts blotchy (demosaiced) noise, which a denoiser's strength refers to.
    n = analysis.noise
    sigma = float(np.nanmax([n.sigma255, n.coarse255]) if analysis.is_noisy else n.sigma255)
    sigma = 0.0 if not np.isfinite(sigma) else sigma
    noisy = analysis.is_noisy
    if analysis.is_dark:
        ev = float(analysis.exposure.ev_to_mid)
        ratio = float(min(2.0**ev, MAX_LOWLIGHT_RATIO))
        if usable("lowlight"):
            steps.append(RecipeStep("lowlight", {"auto_ratio": True},
                                    f"dark: key needs {ev:.1f} EV; the op's automatic ratio; "
                                    "the model also restores the noise"))
            noisy = False
        else:
            ev_used = float(np.log2(ratio))
            steps.append(RecipeStep("exposure", {"ev": round(ev_used, 2)},
                                    f"dark: +{ev_used:.1f} EV (no low-light model)"))
            # sRGB slope grows roughly as gain^(1/2.2) in the shadows: the noise the NLM will face.
            sigma_after = sigma * 2.0 ** (ev_used / 2.2)
            if sigma_after >= 2.0:
                sigma, noisy = sigma_after, True
    if noisy:
        what = f"noise sigma {sigma:.1f}/255"
        flat = n.sigma255 >= NOISY_SIGMA255 or n.coarse255 >= NOISY_COARSE255
        if analysis.is_noisy and not analysis.is_dark and not flat:  # found by the NLM figure alone
            what = f"mild grain under the JPEG ({n.method255:.1f}/255 that a gentle NLM removes)"
        if usable("denoise"):
            steps.append(RecipeStep("denoise", {}, what))
        else:
            h = float(np.clip(NLM_H_PER_SIGMA * sigma, 1.0, 30.0))
            steps.append(RecipeStep("nlm_denoise", {"strength": round(h, 1), "color_strength": round(h, 1)},
                                    f"noise sigma {sigma:.1f}/255 (no denoise model: NLM)"))
    if analysis.is_blurred:
        b = analysis.blur
        kind = f"edge sigma {b.sigma:.1f}"
        if analysis.is_motion_blurred:
            kind = f"motion ~{b.motion_length:.0f} px"
        if usable("deblur"):
            steps.append(RecipeStep("deblur", {}, f"blur: {kind}; last, as deblurring amplifies noise"))
        else:
            radius = float(np.clip(b.sigma if np.isfinite(b.sigma) else 1.5, 0.8, 5.0))
            # Residual noise after a denoise step is small; otherwise keep the mask above the noise.
            thr = 0.0 if any(s.op_id in ("denoise", "nlm_denoise") for s in steps) else 2.0 * sigma / 255.0
            params = {"amount": 1.0, "radius": round(radius, 2), "threshold": round(thr, 3)}
            steps.append(RecipeStep("unsharp", params, f"blur: {kind} (no deblur model: unsharp mask)"))
    return [RecipeStep(s.op_id, fit(s.op_id, s.params), s.reason) for s in steps]


def propose_recipe(analysis: Analysis, *, available: Callable[[str], bool] | None = None,
                   fit: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
                   ) -> list[tuple[str, dict[str, Any]]]:
    """``[(op_id, params), ...]`` in run order (see the module docstring for the rules)."""
    return [(s.op_id, s.params) for s in plan_recipe(analysis, available=available, fit=fit)]


def format_recipe(steps: list[RecipeStep]) -> str:
    """Human-readable recipe, one step per line (``photorestore analyze``)."""
    if not steps:
        return "Auto recipe   nothing to do"
    lines = []
    for i, s in enumerate(steps, 1):
        params = ", ".join(f"{k}={v}" for k, v in s.params.items())
        lines.append(f"{'Auto recipe' if i == 1 else '':13s} {i}. {s.op_id}({params})  - {s.reason}")
    return "\n".join(lines)
