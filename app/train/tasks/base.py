"""What a training task provides, and the data mixture builder the tasks share.

A :class:`Task` ties a config's ``task`` name to its model builder, its data (train / validation
samplers over the recorded split) and its default loss. Model families plug in by adding a module to
``app/train/tasks/`` and a line to the registry in ``__init__.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from app.core.models.descriptor import ModelDescriptor
from app.train.datasets import (
    BlurFrames,
    CleanPatches,
    Degradation,
    ExposurePairs,
    MixedDataset,
    PairPatches,
    PatchDataset,
)
from app.train.frozen import frozen_model  # noqa: F401 - re-exported for the tasks
from app.train.sources import SOURCES, ensure_wallpapers
from app.train.splits import Splits

log = logging.getLogger("photorestore.train")

#: Validation crops use their own seed so every run of a task is scored on the same patches.
VAL_SEED = 20240601


def default_forward(model: nn.Module, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """``model(batch["lq"])``: the prediction compared with ``batch["gt"]``."""
    return model(batch["lq"])


@dataclass(frozen=True)
class Task:
    """A trainable task.

    Attributes:
        name: the config's ``task`` value.
        build_model: ``cfg -> nn.Module`` (fresh weights; the runner seeds torch first).
        arch: ``cfg -> (architecture, builder kwargs)`` as written to the manifest.
        build_data: ``(cfg, splits, split) -> Dataset`` for ``split`` in {"train", "val"}.
        default_loss: loss spec used when the config's ``loss`` is empty.
        forward: ``(model, batch) -> prediction`` matching ``batch["gt"]``.
        descriptor: ``(cfg, model_id) -> ModelDescriptor`` used for the model card when the id is not
            registered in ``app/core/models/catalog.py`` (an experiment's own id); a task of a shipped
            family uses :func:`like_catalog`, so the family's facts are declared once, in the catalog.
        build_discriminator: ``cfg -> nn.Module`` for GAN tasks: the runner then also trains this
            discriminator adversarially (:mod:`app.train.gan`); None: plain supervised training.
        losses: task-specific loss types the config's ``loss`` may name, next to the shared ones.
    """

    name: str
    build_model: Callable[[dict], nn.Module]
    arch: Callable[[dict], tuple[str, dict[str, Any]]]
    build_data: Callable[[dict, Splits, str], torch.utils.data.Dataset]
    default_loss: Sequence[Mapping[str, Any]] = field(default_factory=lambda: [{"type": "l1"}])
    forward: Callable[[nn.Module, Mapping[str, torch.Tensor]], torch.Tensor] = default_forward
    descriptor: Callable[[dict, str], ModelDescriptor] | None = None
    build_discriminator: Callable[[dict], nn.Module] | None = None
    losses: Mapping[str, Callable[..., nn.Module]] = field(default_factory=dict)


def like_catalog(family: str | Callable[[dict], str], arch_config: Callable[[dict], dict[str, Any]]
                 ) -> Callable[[dict, str], ModelDescriptor]:
    """A :attr:`Task.descriptor` for experiments of a shipped family: the catalog's descriptor of
    ``family`` (a model id, or ``cfg -> model id``) with the experiment's id and builder kwargs, so
    channels, ranges and tile policy are never written twice."""
    import dataclasses

    from app.core.models.registry import get_descriptor

    def descriptor(cfg: dict, model_id: str) -> ModelDescriptor:
        base = get_descriptor(family(cfg) if callable(family) else family)
        return dataclasses.replace(base, id=model_id, config=arch_config(cfg))

    return descriptor


def by_preset(family: str, arch_config: Callable[[dict], dict[str, Any]]) -> Callable[[dict], str]:
    """``cfg -> model id`` for :func:`like_catalog`: ``family``, or ``family_full`` for the full preset
    (it has its own catalog entry: wider, so other tile facts)."""
    return lambda cfg: f"{family}_full" if arch_config(cfg).get("config") == "full" else family


def build_mixture(cfg: Mapping[str, Any], splits: Splits, split: str, *, degrade: Degradation | None = None,
                  keep_info: Sequence[str] = ()) -> MixedDataset:
    """Samplers for every ``data.sources`` entry of ``cfg``, mixed by weight.

    Clean sources are degraded with ``degrade``; pair sources (PolyU), exposure sequences (SICE) and
    GoPro frames give real pairs. Sources absent on this machine (the wallpapers without a fetch) are
    skipped with a warning; the names actually used are in the result's ``sources`` attribute.

    Args:
        cfg: the full run config.
        splits: the recorded split.
        split: ``"train"`` (random crops, augmentation, ``data.epoch_length`` samples) or ``"val"``
            (no augmentation, fixed seed, ``val.count`` samples of ``val.patch`` px, from ``val.sources``
            when given, else the training sources).
        degrade: degradation for clean sources.
        keep_info: degradation info keys to return.
    """
    data, train = cfg["data"], split == "train"
    # val.holdout > 0: validate on that share of the *training* scenes (held out of the fit) instead of the
    # validation split, which then stays unseen until the final bench (clean sources only).
    holdout = float(cfg["val"].get("holdout", 0.0))
    clean_split = ("train-fit" if train else "train-holdout") if holdout else split
    patch = data["patch"] if train else cfg["val"]["patch"]
    length = data["epoch_length"] if train else cfg["val"]["count"]
    parts: list[PatchDataset] = []
    weights: list[float] = []
    names: list[str] = []
    specs = cfg["val"]["sources"] if not train and cfg["val"].get("sources") else data["sources"]
    for salt, spec in enumerate(specs):
        spec = dict(spec)
        name, weight = spec.pop("name"), float(spec.pop("weight", 1.0))
        kind = SOURCES[name].kind
        common = {"patch": patch, "seed": cfg["seed"] if train else VAL_SEED, "salt": salt, "augment": train,
                  "cache_mb": data["cache_mb"]}
        if name == "wallpapers" and ensure_wallpapers(fetch=train and data["fetch_wallpapers"]) is None:
            continue
        if kind == "clean":
            ds: PatchDataset = CleanPatches(splits.items_holdout(name, clean_split, holdout), degrade=degrade,
                                            keep_info=keep_info, max_side=spec.pop("max_side", data["clean_max_side"]),
                                            **common)
        elif kind == "noise_pairs":
            ds = PairPatches(splits.items(name, split), **common)
        elif kind == "lowlight_sequences":
            ds = ExposurePairs(splits.items(name, split), **spec, **common)
        elif kind == "blur_frames":
            ds = BlurFrames(splits.gopro_frames(split), **spec, **common)
        else:  # pragma: no cover - SOURCES only holds the kinds above
            raise ValueError(f"unknown source kind {kind}")
        parts.append(ds)
        weights.append(weight)
        names.append(name)
    if not parts:
        raise ValueError(f"config {cfg['name']!r}: no data source available for {split}")
    mixed = MixedDataset(parts, weights, length)
    mixed.sources = names
    return mixed
