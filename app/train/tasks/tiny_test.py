"""``tiny_test``: a 3-layer residual denoiser on Gaussian noise, small enough to train in seconds.

It exercises the whole machinery (data, loop, checkpoint/resume, validation, export) without depending
on any model family or on the degradation synthesis, so the runner's tests stay fast and independent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from app.core.models.descriptor import ModelDescriptor
from app.train.splits import Splits
from app.train.tasks.base import Task, build_mixture


class TinyDenoiser(nn.Module):
    """Residual conv net: ``x + f(x)``.

    Args:
        channels: hidden width.
        layers: number of hidden 3x3 conv layers (>= 0).

    Shape:
        ``(B, 3, H, W)`` -> ``(B, 3, H, W)``, any ``H, W``.
    """

    def __init__(self, *, channels: int = 16, layers: int = 1) -> None:
        super().__init__()
        body: list[nn.Module] = [nn.Conv2d(3, channels, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(layers):
            body += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
        body.append(nn.Conv2d(channels, 3, 3, padding=1))
        self.body = nn.Sequential(*body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class GaussianNoise:
    """Additive white Gaussian noise with a random sigma (in 8-bit units), clipped to [0, 1].

    Args:
        sigma: inclusive range of the noise standard deviation, in 0-255 units.
    """

    def __init__(self, sigma: tuple[float, float] = (5.0, 50.0)) -> None:
        self.sigma = (float(sigma[0]), float(sigma[1]))

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        s = rng.uniform(*self.sigma) / 255.0
        noisy = clean + rng.standard_normal(clean.shape, dtype=np.float32) * np.float32(s)
        return np.clip(noisy, 0.0, 1.0), clean, {"sigma": s}


def _model_kwargs(cfg: dict) -> dict[str, Any]:
    return {"channels": int(cfg["model"].get("channels", 16)), "layers": int(cfg["model"].get("layers", 1))}


def _build_data(cfg: dict, splits: Splits, split: str):
    sigma = tuple(cfg["degrade"].get("sigma", (5.0, 50.0)))
    return build_mixture(cfg, splits, split, degrade=GaussianNoise(sigma))


def _descriptor(cfg: dict, model_id: str) -> ModelDescriptor:
    return ModelDescriptor(id=model_id, arch="tiny_test", config=_model_kwargs(cfg), input_space="srgb",
                           description="test-only tiny residual denoiser")


def build(**config: Any) -> TinyDenoiser:
    """Registry builder (tests register ``tiny_test`` with it; the app's catalog never does)."""
    return TinyDenoiser(**config)


TASK = Task(
    name="tiny_test",
    build_model=lambda cfg: TinyDenoiser(**_model_kwargs(cfg)),
    arch=lambda cfg: ("tiny_test", _model_kwargs(cfg)),
    build_data=_build_data,
    default_loss=[{"type": "l1"}],
    descriptor=_descriptor,
)
