"""``deblur``: DeblurGAN-v2 motion deblurring (FPN generator + double-scale RaGAN-LS discriminator).

Data: real blur from GoPro frame averaging (:class:`app.train.datasets.BlurFrames`) mixed with synthetic
camera shake on the clean photos (random trajectory kernels in linear light, :class:`MotionBlur`), then
mild sensor-like noise, 8-bit quantisation and sometimes JPEG. The target stays the *clean* photo, so the
network learns to leave noise alone (or remove it), never to sharpen it. Validation is by scene (the
recorded split): the held-out GoPro frames and synthetic shake on held-out clean photos.

Loss (DeblurGAN-v2): ``0.5 * MSE + 0.006 * perceptual(VGG16 conv3_3) + 0.01 * RaGAN-LS`` -- the first two
are the config's ``loss`` list, the adversarial weight is ``[train.gan] weight`` (see :mod:`app.train.gan`).
The generator works on ``[0, 1]`` images (``unit_range``), like every other model of the app.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.train.splits import Splits
from app.train.tasks.base import Task, build_mixture, like_catalog

#: Tile overlap for the FPN, as in the catalog: exact for a receptive-field radius up to overlap // 4 = 64 px,
#: smoothly blended beyond (the 1/32-scale features see further; app/core/ops/deblur.py uses big tiles).
OVERLAP = 256


@dataclass
class MildNoise:
    """Signal-dependent Gaussian noise on sRGB values, then 8-bit quantisation; target = input.

    ``sigma(x)^2 = sigma_mid^2 * (shot * x / 0.5 + (1 - shot))``: ``sigma_mid`` (8-bit units at mid grey)
    is drawn uniformly from ``sigma_range``, the shot-noise share ``shot`` from [0, 1]. Mild by design:
    enough that sharpening noise is penalised, not a denoising task.
    """

    sigma_range: tuple[float, float] = (0.0, 4.0)

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        sigma = rng.uniform(*self.sigma_range) / 255.0
        shot = rng.uniform(0.0, 1.0)
        var = np.float32(sigma**2) * (np.float32(shot / 0.5) * clean + np.float32(1.0 - shot))
        noisy = clean + np.sqrt(np.maximum(var, 0)) * rng.standard_normal(clean.shape, dtype=np.float32)
        out = np.round(np.clip(noisy, 0.0, 1.0) * 255.0) / np.float32(255.0)
        return out.astype(np.float32), np.asarray(clean, np.float32), {"sigma": sigma * 255.0, "shot": shot}


def degradation(cfg: dict[str, Any]):
    """Camera shake -> mild noise -> maybe JPEG, from the config's ``[degrade]`` table.

    Keys: ``blur_length`` (px, log-uniform), ``blur_curvature``, ``noise_sigma`` (8-bit units at mid grey),
    ``jpeg_p``, ``jpeg_quality``. The result has a ``margin`` (half the longest kernel) so clean crops are
    taken larger and centre-cropped after blurring: no patch edge is blurred against reflected pixels.
    """
    from app.train.degrade import Compose, Jpeg, MotionBlur, RandomApply

    d = cfg["degrade"]
    length = tuple(float(v) for v in d.get("blur_length", (4.0, 32.0)))
    stages = [MotionBlur(length_range=length, curvature_range=tuple(d.get("blur_curvature", (0.0, 1.0)))),
              MildNoise(sigma_range=tuple(d.get("noise_sigma", (0.0, 4.0))))]
    if d.get("jpeg_p", 0.0):
        stages.append(RandomApply(Jpeg(quality_range=tuple(d.get("jpeg_quality", (80, 95)))), p=float(d["jpeg_p"])))
    deg = Compose(stages)
    deg.margin = math.ceil(length[1] / 2) + 2  # a kernel of a path of length L is at most L + 3 px wide
    return deg


def arch_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """``deblurgan.build`` kwargs of the generator: preset, ``unit_range`` and any overrides."""
    m = dict(cfg["model"])
    m.pop("discriminator", None)
    return {"net": "generator", "config": m.pop("preset", "fast"), "unit_range": True, **m}


def build_model(cfg: dict[str, Any]):
    from app.core.nets import deblurgan

    return deblurgan.build(**arch_config(cfg))


def build_discriminator(cfg: dict[str, Any]):
    """The double-scale discriminator of the preset, with ``[model.discriminator]`` overrides."""
    from app.core.nets import deblurgan

    preset = cfg["model"].get("preset", "fast")
    return deblurgan.build("discriminator", preset, **cfg["model"].get("discriminator", {}))


def _build_data(cfg: dict, splits: Splits, split: str):
    return build_mixture(cfg, splits, split, degrade=degradation(cfg))


TASK = Task(
    name="deblur",
    build_model=build_model,
    arch=lambda cfg: ("deblurgan", arch_config(cfg)),
    build_data=_build_data,
    default_loss=[{"type": "mse", "weight": 0.5}, {"type": "perceptual", "weight": 0.006, "layer": "conv3_3"}],
    descriptor=like_catalog("deblurgan_fast", arch_config),
    build_discriminator=build_discriminator,
)
