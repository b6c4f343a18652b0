"""Training configs: TOML files in ``app/train/configs/`` merged over :data:`DEFAULTS`.

A config is a plain nested dict (it goes verbatim into checkpoints and model cards). Its hash covers
everything that changes the numbers a run produces; keys that only change *where* or *how often*
things happen (worker count, cache size, checkpoint cadence, threads) are left out, so they may be
changed between a run and its resume.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

CONFIG_DIR = Path(__file__).with_name("configs")

DEFAULTS: dict[str, Any] = {
    "name": "",  # default: the file stem
    "task": "",
    "seed": 0,
    "threads": 2,  # torch intra-op threads on CPU (the target machines have 2 cores)
    "model": {},  # task-specific builder arguments
    "data": {
        "patch": 64,
        "batch": 16,
        "epoch_length": 4000,  # samples per epoch (the sampler reshuffles each epoch)
        "num_workers": 0,  # 0 or 1 on a 2-core machine; see `python -m app.train.datasets --bench`
        "cache_mb": 1024,  # decoded-image cache per process
        "clean_max_side": 1600,  # clean photos are shrunk to this on decode
        "fetch_wallpapers": True,  # run the wallpaper script if the photos are missing (else skip them)
        "sources": [],  # [{name = "sunhays80", weight = 1.0}, ...]
    },
    "degrade": {},  # task-specific degradation options
    # sources: validate on these (default: data.sources); evaluation on NC data does not make weights NC.
    "val": {"every": 500, "count": 32, "patch": 128, "batch": 8, "sources": []},
    "train": {
        "steps": 1000,
        "lr": 2e-4,
        "optimizer": "adam",  # adam | adamw
        "betas": [0.9, 0.999],
        "weight_decay": 0.0,
        "scheduler": "cosine",  # cosine | constant | multistep
        "milestones": [],  # multistep: steps where lr *= gamma
        "gamma": 0.5,
        "min_lr": 1e-6,
        "warmup": 0,  # linear warm-up steps
        "grad_clip": 0.0,  # max grad norm; 0 disables
        "amp": "fp16",  # CUDA only: fp16 (with GradScaler) | bf16 | off; CPU always runs fp32
        "channels_last": "cuda",  # cuda | always | never
        "checkpoint_steps": 500,
        "checkpoint_minutes": 10.0,
        "log_every": 50,
        # start from an exported model's weights (a model id, registry-verified) or from a ".safetensors" file
        # (a path, relative to the repo root: a compact resume point of an unshipped run) instead of a fresh
        # init; e.g. fine-tuning with another loss. A resume still continues from the run's own checkpoint.
        "init_from": "",
        # parameter-name prefixes init_from may leave at their fresh init: modules the exported model lacks
        # (e.g. "full_lateral" when adding deblurgan's full-resolution skip to trained weights)
        "init_new": [],
    },
    "loss": [],  # [{type = "charbonnier", weight = 1.0}, ...]; empty: the task's default
    "export": {"model_id": "", "licence": "", "description": ""},
}

#: Dotted keys left out of the hash (they do not change the trained weights).
UNHASHED = ("threads", "data.num_workers", "data.cache_mb", "data.fetch_wallpapers", "train.checkpoint_steps",
            "train.checkpoint_minutes", "train.log_every", "export")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; ``override`` wins, lists are replaced, not concatenated."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_path(path: str | Path) -> Path:
    """A config file: the path as given, else ``configs/<name>`` (with or without ``.toml``)."""
    p = Path(path)
    for cand in (p, CONFIG_DIR / p, CONFIG_DIR / f"{p}.toml"):
        if cand.is_file():
            return cand
    raise FileNotFoundError(f"config {path!s} not found (looked in {CONFIG_DIR})")


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read a TOML config, merge it over the defaults, apply ``overrides`` and validate.

    Raises:
        FileNotFoundError: no such config.
        ValueError: no ``task``, or an unknown top-level key (typos should fail loudly).
    """
    p = resolve_path(path)
    raw = tomllib.loads(p.read_text())
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"{p}: unknown keys {sorted(unknown)}")
    cfg = merge(DEFAULTS, raw)
    if overrides:
        cfg = merge(cfg, overrides)
    cfg["name"] = cfg["name"] or p.stem
    if not cfg["task"]:
        raise ValueError(f"{p}: 'task' is required")
    if not isinstance(cfg["loss"], list):
        raise ValueError(f"{p}: 'loss' must be a list of tables, e.g. loss = [{{type = \"l1\"}}]")
    return cfg


def _drop(cfg: dict[str, Any], dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    node = cfg
    for key in parents:
        node = node.get(key, {})
    node.pop(leaf, None)


def config_hash(cfg: Mapping[str, Any]) -> str:
    """16 hex digits identifying everything in ``cfg`` that changes the trained weights."""
    trimmed = copy.deepcopy(dict(cfg))
    for key in UNHASHED:
        _drop(trimmed, key)
    return hashlib.sha256(json.dumps(trimmed, sort_keys=True, default=str).encode()).hexdigest()[:16]
