"""A tiny real model for tests of the registry, ops and the pipeline (never registered globally).

Example::

    from app.core.models.testing import temporary_model

    def test_my_op(tmp_path):
        with temporary_model(tmp_path, "tiny_denoise") as desc:   # registered + verified weights
            model = load_model(desc.id, "cpu")
            out = model(np.random.rand(40, 50, 3).astype(np.float32))

Everything is undone on exit: the registration, loaded-model cache and ``PHOTORESTORE_MODELS_DIR``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from app.core.models.descriptor import ModelDescriptor

TINY_ARCH = "tiny_conv"


class TinyConvNet(nn.Module):
    """``depth`` 3x3 convolutions (receptive-field radius ``depth``), residual by default.

    Args:
        in_channels: input channels ``C``.
        out_channels: output channels ``C'`` (the residual needs ``C' == C``).
        width: hidden channels.
        depth: number of convolutions (>= 1).
        residual: add the input to the output (starts near identity when weights are small).
        scale: integer upsampling factor via pixel shuffle (output ``H*scale``).
        cond_channels: trailing input channels that are conditioning maps (a RAW denoiser's variance);
            the residual then adds the first ``C - cond_channels`` input channels.

    Shape:
        ``(N, C, H, W) -> (N, C', H*scale, W*scale)``.
    """

    def __init__(self, *, in_channels: int = 3, out_channels: int = 3, width: int = 8, depth: int = 3,
                 residual: bool = True, scale: int = 1, cond_channels: int = 0) -> None:
        super().__init__()
        chans = [in_channels] + [width] * (depth - 1) + [out_channels * scale * scale]
        layers: list[nn.Module] = []
        for i in range(depth):
            layers.append(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1))
            if i < depth - 1:
                layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)
        self.shuffle = nn.PixelShuffle(scale) if scale > 1 else nn.Identity()
        self.residual = residual and in_channels - cond_channels == out_channels
        self.image_channels = in_channels - cond_channels
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.shuffle(self.body(x))
        if self.residual:
            x = x[:, : self.image_channels]
            y = y + (x if self.scale == 1 else nn.functional.interpolate(x, scale_factor=self.scale))
        return y


def build_tiny(**config: Any) -> TinyConvNet:
    return TinyConvNet(**config)


def tiny_descriptor(model_id: str = "tiny_test", **overrides: Any) -> ModelDescriptor:
    """A descriptor for :class:`TinyConvNet`; ``overrides`` replace descriptor fields."""
    base = ModelDescriptor(id=model_id, arch=TINY_ARCH, config={"width": 8, "depth": 3}, input_space="srgb",
                           in_channels=3, out_channels=3, overlap=16, description="tiny test network")
    return dataclasses.replace(base, **overrides)


@contextlib.contextmanager
def models_dir_env(directory: Path | str) -> Iterator[Path]:
    """``PHOTORESTORE_MODELS_DIR=directory`` for the duration (the previous value restored on exit)."""
    previous = os.environ.get("PHOTORESTORE_MODELS_DIR")
    os.environ["PHOTORESTORE_MODELS_DIR"] = str(directory)
    try:
        yield Path(directory)
    finally:
        if previous is None:
            os.environ.pop("PHOTORESTORE_MODELS_DIR", None)
        else:
            os.environ["PHOTORESTORE_MODELS_DIR"] = previous


@contextlib.contextmanager
def temporary_model(directory: Path, model_id: str = "tiny_test", *, seed: int = 0, export: bool = True,
                    **overrides: Any) -> Iterator[ModelDescriptor]:
    """Register a :class:`TinyConvNet` model and (by default) export seeded weights to ``directory``.

    Sets ``PHOTORESTORE_MODELS_DIR=directory`` for the duration; restores everything on exit.
    The weights are small random values, so the model is close to identity (residual).
    """
    from app.core.models.export import export_model
    from app.core.models.registry import register, temporary_registry

    desc = tiny_descriptor(model_id, **overrides)
    with models_dir_env(directory), temporary_registry():
        register(desc, build_tiny)
        if export:
            cfg = {"in_channels": desc.in_channels, "out_channels": desc.out_channels,
                   "scale": desc.scale, **desc.config}
            if desc.cond_channels:
                cfg["cond_channels"] = desc.cond_channels
            desc = dataclasses.replace(desc, config=cfg)
            register(desc, build_tiny, replace=True)
            with torch.random.fork_rng(devices=[]):  # seeded, without touching the caller's RNG
                torch.manual_seed(seed)
                net = build_tiny(**cfg)
            with torch.no_grad():
                for p in net.parameters():
                    p.mul_(0.1)
            export_model(model_id, net, arch=TINY_ARCH, config=cfg, descriptor=desc,
                         models_dir=Path(directory),
                         card={"licence": "CC0-1.0", "training_data": "none (random weights for tests)",
                               "description": "tiny test network"})
        yield desc
