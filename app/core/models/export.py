"""Export trained weights: ``<id>-<sha8>.safetensors`` + ``<id>.md`` card + manifest entry.

Order makes every crash point safe: the new weight file and card are written (atomically)
first, then the manifest entry is switched to them in one atomic replace, and only then is
the previous weight file of the same id deleted. A reader sees either the old model or the
new one, never a manifest pointing at a missing file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from torch import nn

import app
from app.core.models import manifest as _manifest
from app.core.models.card import render_card, training_data_text
from app.core.models.descriptor import ModelDescriptor, check_model_id
from app.core.models.manifest import ManifestEntry, atomic_write, toml_value, update_manifest
from app.core.models.stats import count_flops_per_pixel, count_params

log = logging.getLogger("photorestore")


def _state_dict(weights: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    sd = weights.state_dict() if isinstance(weights, nn.Module) else dict(weights)
    out = {}
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"state dict entry {k!r} is a {type(v).__name__}, not a tensor")
        # clone(): safetensors refuses tensors sharing storage (tied weights, views)
        out[k] = v.detach().to("cpu").contiguous().clone()
    return out


def _descriptor_for(model_id: str) -> ModelDescriptor | None:
    from app.core.models.registry import ModelUnavailableError, get_descriptor

    with contextlib.suppress(ModelUnavailableError):
        return get_descriptor(model_id)
    return None


def _measure(module: nn.Module, descriptor: ModelDescriptor | None, card: dict[str, Any]) -> None:
    """Fill ``params`` / ``flops_per_pixel`` in the card when the caller did not."""
    card.setdefault("params", count_params(module))
    if card.get("flops_per_pixel") is None:
        channels = descriptor.in_channels if descriptor else next(
            (m.in_channels for m in module.modules() if isinstance(m, nn.Conv2d)), None)
        if channels is None:
            return
        # Big enough for every downsampling level, small enough to count quickly (FPNs: multiple 32 -> 256 px).
        multiple = descriptor.size_multiple if descriptor and descriptor.size_multiple > 1 else 1
        side = max(64, 8 * multiple)
        try:
            card["flops_per_pixel"] = count_flops_per_pixel(module, (1, channels, side, side))
        except Exception as exc:  # noqa: BLE001 - a card without FLOPs beats a failed export
            log.warning("could not count FLOPs of %s: %s", type(module).__name__, exc)


def export_model(
    model_id: str,
    weights: nn.Module | Mapping[str, torch.Tensor],
    *,
    arch: str,
    config: Mapping[str, Any],
    card: Mapping[str, Any],
    licence: str | None = None,
    training_data: str | None = None,
    metrics: Mapping[str, float] | None = None,
    descriptor: ModelDescriptor | None = None,
    trained: bool = True,
    models_dir: Path | None = None,
    created: _dt.datetime | None = None,
) -> Path:
    """Write a model's weights, card and manifest entry; replace any previous export of ``model_id``.

    Args:
        model_id: registered model id (also valid for ids registered later).
        weights: the trained module or its state dict (tensors are saved in their dtype).
        arch: architecture name; must equal the registered descriptor's ``arch``.
        config: builder keyword arguments that rebuild the module (TOML-serialisable).
        card: model card facts -- ``description``, ``training_data`` (with licences),
            ``licence``, ``command``, ``iterations``, ``wall_time_s``, ``hardware``, ``metrics``,
            ``params``, ``flops_per_pixel``, ``notes`` (see :mod:`app.core.models.card`);
            ``params``/``flops_per_pixel`` are measured when ``weights`` is a module.
        licence: licence of the weights (default ``card["licence"]``).
        training_data: one-line data summary for the manifest (default from ``card``).
        metrics: validation metrics for the manifest (default ``card["metrics"]``).
        descriptor: for the card's input/output facts (default: the registered one, if any).
        trained: False exports a placeholder that reports ``untrained``.
        models_dir: target directory (default :func:`app.core.models.manifest.models_dir`).
        created: export time (default now, UTC).

    Returns:
        Path of the written ``.safetensors`` file.

    Raises:
        ValueError: invalid id, architecture mismatch, missing licence or training data, or a
            config/metric value TOML cannot hold. Nothing is written in that case.
    """
    check_model_id(model_id)
    card = dict(card)
    descriptor = descriptor or _descriptor_for(model_id)
    if descriptor is not None and descriptor.arch != arch:
        raise ValueError(f"model {model_id} is registered as {descriptor.arch!r}, not {arch!r}")
    licence = licence or card.get("licence") or ""
    training_data = training_data or training_data_text(card.get("training_data"))
    if not licence or not training_data:
        raise ValueError(f"model {model_id}: a licence and the training data (with their licences) "
                         "are required")
    metrics = dict(metrics if metrics is not None else card.get("metrics") or {})
    config = dict(config)
    try:
        toml_value(config), toml_value(metrics)  # fail before writing anything
    except TypeError as exc:
        raise ValueError(f"model {model_id}: config and metrics must be TOML values: {exc}") from None
    card.setdefault("metrics", metrics)
    if isinstance(weights, nn.Module):
        _measure(weights, descriptor, card)

    stamp = (created or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
    created_text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    tensors = _state_dict(weights)
    meta = {"format": "pt", "photorestore.id": model_id, "photorestore.architecture": arch,
            "photorestore.config": json.dumps(config, sort_keys=True), "photorestore.created": created_text,
            "photorestore.version": app.__version__}
    data = safetensors.torch.save(tensors, metadata=meta)
    sha = hashlib.sha256(data).hexdigest()

    directory = Path(models_dir) if models_dir is not None else _manifest.models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    weights_path = directory / f"{model_id}-{sha[:8]}.safetensors"
    card_name = f"{model_id}.md"
    atomic_write(weights_path, data)
    atomic_write(directory / card_name, render_card(
        model_id, arch=arch, config=config, file=weights_path.name, sha256=sha, created=created_text,
        licence=licence, card=card, descriptor=descriptor))
    entry = ManifestEntry(id=model_id, file=weights_path.name, sha256=sha, architecture=arch, config=config,
                          licence=licence, training_data=training_data, card=card_name, trained=trained,
                          metrics=metrics, created=created_text)
    old = update_manifest(directory, put=entry)
    if old is not None and old.file and old.file != weights_path.name:
        with contextlib.suppress(FileNotFoundError):
            (directory / old.file).unlink()
    log.info("exported %s -> %s", model_id, weights_path)
    return weights_path
