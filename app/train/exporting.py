"""The runner's export step: weights + model card + manifest entry, with the card filled from the run."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import torch

from app.core.models.export import export_model
from app.core.models.registry import ModelUnavailableError, get_descriptor
from app.train.sources import SOURCES

log = logging.getLogger("photorestore.train")


def _source(name: str, part: Any = None):
    """The :class:`~app.train.sources.Source` of a training part: the registry's, or one the sampler
    carries itself (a task-specific source such as the ISP task's RAW files, split its own way)."""
    if name in SOURCES:
        return SOURCES[name]
    src = getattr(part, "source", None)
    if src is None:
        raise KeyError(f"unknown data source {name!r}")
    return src


def training_data(runner) -> list[dict[str, Any]]:
    """One card row per source the run trained on: items in the train split, licence, NC flag."""
    rows = []
    for name, part in zip(runner.train_set.sources, runner.train_set.parts):
        src = _source(name, part)
        split = getattr(part, "split_note", "by-scene split app/train/splits.json")
        notes = f"{len(part.items)} train items ({src.kind}), {split}"
        if src.nc:
            notes = "NON-COMMERCIAL licence: the weights inherit it. " + notes
        rows.append({"name": name, "licence": src.licence, "notes": notes})
    return rows


def weights_licence(cfg: dict[str, Any], sources: list[str], parts: list[Any] | None = None) -> str:
    """The configured licence, restricted to non-commercial use when any training source is NC."""
    base = cfg["export"].get("licence") or "GPL-3.0-or-later"
    parts = parts if parts is not None else [None] * len(sources)
    nc = [s for s, part in zip(sources, parts) if _source(s, part).nc]
    if nc:
        return f"{base}; NON-COMMERCIAL use only (trained on non-commercial data: {', '.join(nc)})"
    return base


def card_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Flat metrics for the card and manifest: overall, the identity baseline, and per validation source."""
    out = {k: round(float(metrics[k]), 4) for k in ("psnr", "ssim", "input_psnr") if k in metrics}
    for source, m in metrics.get("by_source", {}).items():
        for k in ("psnr", "ssim", "input_psnr"):
            out[f"{k}_{source}"] = round(float(m[k]), 4)
    return out


def build_card(runner, metrics: dict[str, Any]) -> dict[str, Any]:
    """Model-card facts of a run (see :mod:`app.core.models.card`)."""
    cfg = runner.cfg
    sessions = runner.sessions
    commands = list(dict.fromkeys(s["command"] for s in sessions if s["command"]))
    hardware = list(dict.fromkeys(s["hardware"] for s in sessions))
    total = cfg["train"]["steps"]
    input_psnr = metrics.get("input_psnr", float("nan"))
    notes = [f"Config `{cfg['name']}` (hash {runner.hash}), task `{cfg['task']}`, seed {cfg['seed']}.",
             f"Validation: {metrics.get('count', 0)} fixed {cfg['val']['patch']}-px patches from the "
             f"by-scene validation split; input (identity) PSNR {input_psnr:.2f} dB.",
             f"Trained in {len(sessions)} session(s): " + ", ".join(
                 f"steps {s['start_step']}-{s['end_step']} on {s['device']} ({s['seconds'] / 60:.1f} min)"
                 for s in sessions) + "."]
    if runner.step < total:
        notes.append(f"INCOMPLETE: exported at step {runner.step} of the configured {total}.")
    if cfg["export"].get("notes"):
        notes.append(cfg["export"]["notes"])
    if runner.best.get("value") is not None:
        notes.append(f"Best validation PSNR during training: {runner.best['value']:.3f} dB at step "
                     f"{runner.best['step']} (the exported weights are the latest, scored above).")
    return {
        "description": cfg["export"].get("description", ""),
        "training_data": training_data(runner),
        "licence": weights_licence(cfg, runner.train_set.sources, runner.train_set.parts),
        "command": " ; ".join(commands),
        "iterations": runner.step,
        "wall_time_s": runner.wall_time,
        "hardware": "; ".join(hardware),
        "metrics": card_metrics(metrics),
        "notes": " ".join(notes) + "\n\nTraining config (merged over the defaults):\n\n```json\n"
                 + json.dumps(cfg, indent=1, sort_keys=True) + "\n```",
    }


def export_run(runner, *, models_dir: Path | None = None) -> Path:
    """Score the current weights on the validation split and export them.

    The model id is ``export.model_id`` (default: the config name). The card's metrics are measured on
    exactly the exported weights.

    Returns:
        Path of the written ``.safetensors`` file.
    """
    cfg = runner.cfg
    model_id = cfg["export"].get("model_id") or cfg["name"]
    arch, arch_config = runner.task.arch(cfg)
    metrics = runner.validate()
    try:
        descriptor = get_descriptor(model_id)
    except ModelUnavailableError:
        descriptor = runner.task.descriptor(cfg, model_id) if runner.task.descriptor else None
    card = build_card(runner, metrics)
    # A float32, contiguous CPU copy: what the app loads, and what FLOPs are counted on.
    module = copy.deepcopy(runner.model).to("cpu", torch.float32, memory_format=torch.contiguous_format)
    module.eval()
    return export_model(model_id, module, arch=arch, config=arch_config, card=card, licence=card["licence"],
                        metrics=card["metrics"], descriptor=descriptor, models_dir=models_dir)
