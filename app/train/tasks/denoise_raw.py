"""``denoise_raw``: the CycleISP RAW denoiser on unprocessed clean photos with shot/read sensor noise.

Each clean sRGB crop is unprocessed by a random synthetic camera to packed RGGB linear RAW
(:func:`app.train.raw_pairs.make_raw_pair`: inverse tone curve, colour matrix, white balance, mosaic),
then heteroscedastic noise ``var = shot * x + read`` is added, quantised to a random ADC depth and
clipped at white. The network sees the noisy packed mosaic concatenated with the per-plane variance map
computed from the *noisy* values, exactly what the ``denoise`` op can compute at inference time from the
DNG NoiseProfile, the camera calibration or an estimate. The target is the clean packed mosaic.

Batches hold ``lq`` (noisy packed RAW, 4 channels, so the validation's identity baseline is meaningful),
``variance`` (4 channels) and ``gt`` (4 channels), all ``(B, 4, patch/2, patch/2)``.

``[degrade] develop_loss = true`` (Brooks et al. 2019, "Unprocessing images for learned raw denoising",
section 4): the prediction, the target and the noisy input are developed by each sample's own synthetic
camera (white balance, demosaic, colour matrix, sRGB curve, tone curve) before the loss and the
validation compare them. A linear-RAW loss weighs an error in the shadows as little as the same error in
the highlights, while development (the sRGB curve's slope near black is ~13x its slope at mid grey) makes
shadow errors the visible ones; the op is judged after development, so the net is trained there too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from app.core.isp.synthetic_camera import IspParams
from app.train.raw_pairs import make_raw_pair
from app.train.splits import Splits
from app.train.tasks.base import Task, build_mixture, by_preset, like_catalog

DEFAULT_MODEL_ID = "cycleisp_raw_denoise"


@dataclass
class PackedRawNoise:
    """Clean sRGB ``(H, W, 3)`` (H, W even) -> noisy packed RAW, clean packed RAW, info with ``variance``.

    Attributes:
        noise_models: noise model names drawn uniformly per sample (``"sidd"``, ``"dnd"``, ``"calibrated"``).
        bits: ADC depths to draw from.
    """

    noise_models: Sequence[str] = ("sidd", "dnd", "calibrated")
    bits: Sequence[int] = (12, 14)

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        if clean.shape[0] % 2 or clean.shape[1] % 2:
            raise ValueError(f"PackedRawNoise needs even crops, got {clean.shape[:2]}")
        model = self.noise_models[int(rng.integers(len(self.noise_models)))]
        pair = make_raw_pair(clean, rng, noise_model=model, bits=self.bits)
        return pair.noisy, pair.clean, {"variance": pair.variance, "isp_vec": isp_vector(pair.isp),
                                        **pair.metadata()}


def isp_vector(isp: IspParams) -> np.ndarray:
    """A camera as 13 floats (sRGB->camera matrix, R/B/global gains, tone-curve flag), so it batches."""
    return np.concatenate([np.asarray(isp.rgb_to_cam, np.float32).ravel(),
                           np.array([isp.red_gain, isp.blue_gain, isp.rgb_gain, float(isp.tone_curve)],
                                    np.float32)])


def isp_from_vector(v: torch.Tensor) -> IspParams:
    x = v.detach().double().cpu().numpy()
    return IspParams(x[:9].reshape(3, 3).astype(np.float32), float(x[9]), float(x[10]), float(x[11]),
                     bool(x[12] > 0.5))


def degradation(cfg: dict[str, Any]) -> PackedRawNoise:
    d = cfg["degrade"]
    models = d.get("noise_model", ["sidd", "dnd", "calibrated"])
    return PackedRawNoise(noise_models=(models,) if isinstance(models, str) else tuple(models),
                          bits=tuple(d.get("bits", (12, 14))))


def arch_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """``cycleisp.build`` keyword arguments: the net, the preset and any per-field overrides."""
    m = dict(cfg["model"])
    return {"net": "raw_denoiser", "config": m.pop("preset", "fast"), **m}


def build_model(cfg: dict[str, Any]) -> nn.Module:
    from app.core.nets import cycleisp

    return cycleisp.build(**arch_config(cfg))


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The net's single-tensor input: packed RGGB then its variance (what the op and registry feed).

    With ``isp_vec`` in the batch (``develop_loss``), prediction, target and input are developed first.
    """
    pred = model(torch.cat([batch["lq"], batch["variance"]], dim=1))
    if "isp_vec" not in batch:
        return pred
    from app.core.isp.synthetic_camera import process

    cams = [isp_from_vector(v) for v in batch["isp_vec"]]
    with torch.no_grad():
        batch["gt"] = process(batch["gt"].float(), cams)
        batch["lq"] = process(batch["lq"].float(), cams)
    return process(pred.float(), cams)


def _build_data(cfg: dict, splits: Splits, split: str):
    if cfg["data"]["patch"] % 2 or cfg["val"]["patch"] % 2:
        raise ValueError("denoise_raw patches must be even (whole 2x2 Bayer cells)")
    keep = ("variance", "isp_vec") if cfg["degrade"].get("develop_loss", False) else ("variance",)
    return build_mixture(cfg, splits, split, degrade=degradation(cfg), keep_info=keep)


TASK = Task(
    name="denoise_raw",
    build_model=build_model,
    arch=lambda cfg: ("cycleisp", arch_config(cfg)),
    build_data=_build_data,
    default_loss=[{"type": "l1"}],
    forward=forward,
    descriptor=like_catalog(by_preset("cycleisp_raw_denoise", arch_config), arch_config),
)
