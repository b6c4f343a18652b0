"""What PTG's degradation prior sees in a photo: class probabilities of ``ptg_degradation_prior``.

The encoder was pretrained on 96-px crops at full resolution (downscaling would hide noise and JPEG
blocks), so a photo is scored on a grid of up to 16 such crops and the probabilities are averaged. Shown
by ``photorestore analyze`` next to the hand-made estimators. Auto uses one figure of it,
:func:`blur_probability`, to tell mild camera shake from a sharp photo (``analysis.PRIOR_BLUR``).
"""

from __future__ import annotations

import numpy as np

MODEL_ID = "ptg_degradation_prior"
CROP = 96


def degradation_probabilities(srgb: np.ndarray, grid: int = 4) -> dict[str, float] | None:
    """``{class: probability}`` for an ``(H, W, 3)`` float sRGB array; None while the prior is not verified
    or the image is smaller than one crop."""
    from app.core.models.registry import model_state

    h, w = srgb.shape[:2]
    if not model_state(MODEL_ID).ok or min(h, w) < CROP or srgb.ndim != 3 or srgb.shape[2] < 3:
        return None
    import torch

    from app.core.models.registry import load_model
    from app.core.nets.ptg import DEGRADATION_CLASSES

    ys = np.linspace(0, h - CROP, grid).astype(int)
    xs = np.linspace(0, w - CROP, grid).astype(int)
    crops = np.stack([srgb[y:y + CROP, x:x + CROP, :3] for y in ys for x in xs])
    net = load_model(MODEL_ID, "cpu", backend="torch").module
    with torch.inference_mode():
        logits = net.logits(torch.from_numpy(np.ascontiguousarray(crops.transpose(0, 3, 1, 2), np.float32)))
    probs = torch.softmax(logits.float(), dim=1).mean(0)
    return {c: float(p) for c, p in zip(DEGRADATION_CLASSES, probs)}


def blur_probability(srgb: np.ndarray) -> float | None:
    """``blur_short + blur_long`` of :func:`degradation_probabilities` (None: prior unavailable, grey or tiny)."""
    probs = degradation_probabilities(srgb)
    return None if probs is None else probs["blur_short"] + probs["blur_long"]


def format_probabilities(probs: dict[str, float] | None, top: int = 3) -> str:
    if probs is None:
        return "Prior         n/a (ptg_degradation_prior not available)"
    best = sorted(probs.items(), key=lambda kv: -kv[1])[:top]
    return "Prior         " + ", ".join(f"{k} {v:.0%}" for k, v in best) + " (PTG degradation prior)"
