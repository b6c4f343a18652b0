"""``photorestore analyze``'s reading of the noise the sRGB denoiser finds (issue 27: noise level awareness).

The same reading as the denoise op's sRGB route (:mod:`app.core.measure.denoise_level`: the network's change
in flat areas), on a central window of ``WINDOW`` px so that analysing a big photo costs well under a second
of network time on a CPU. Reported next to the hand-made estimators: it is the level the *Luminance* slider
acts on, and says whether the noise looks processed (phone-like) or is colour speckle.
"""

from __future__ import annotations

import numpy as np

MODEL_ID = "cycleisp_srgb_denoise"
WINDOW = 512


def srgb_noise_reading(srgb: np.ndarray) -> dict | None:
    """``NoiseLevel.to_dict()`` of an ``(H, W, 3)`` float sRGB array, or None while the sRGB denoiser is not
    available or the image is too small to read."""
    from app.core.models.registry import model_state

    if srgb.ndim != 3 or srgb.shape[2] < 3 or not model_state(MODEL_ID).ok:
        return None
    import torch

    from app.core.measure.denoise_level import measure_change
    from app.core.models.registry import load_model

    h, w = srgb.shape[:2]
    y0, x0 = max(0, (h - WINDOW) // 2), max(0, (w - WINDOW) // 2)
    win = np.ascontiguousarray(np.clip(srgb[y0:y0 + WINDOW, x0:x0 + WINDOW, :3], 0.0, 1.0), np.float32)
    den = load_model(MODEL_ID, "cpu").run_tensor(torch.from_numpy(win.transpose(2, 0, 1).copy())[None])
    level = measure_change(win, den[0].permute(1, 2, 0).numpy())
    return None if level is None else level.to_dict()


def format_reading(reading: dict | None) -> str:
    if reading is None:
        return f"Denoiser      n/a ({MODEL_ID} not available, or the photo is too small)"
    shadows = (f", {reading['shadow_ratio']:.1f}x as strong in the shadows"
               if reading.get("shadow_ratio") is not None else "")
    return (f"Denoiser      grain {reading['luma255']:.1f}/255, colour noise {reading['colour255']:.1f}/255 "
            f"(what the sRGB denoiser removes from flat areas; Luminance s leaves about (1 - s) of the grain): "
            f"{reading['kind']}; neighbour correlation {reading['lag1']:.2f}{shadows}")
