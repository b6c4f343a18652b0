"""Checkpoint dicts (BasicSR style) written atomically, and the RNG state they carry.

A checkpoint is one ``torch.save`` dict::

    {"format": 1, "step": int, "model": state_dict, "optimizer": ..., "scheduler": ..., "scaler": ...,
     "rng": {"torch", "cuda", "numpy", "python"}, "config": dict, "config_hash": str,
     "wall_time": float (training seconds over all sessions), "best": {"metric", "value", "step"},
     "sessions": [{"start_step", "end_step", "seconds", "device", "hardware", "command"}, ...]}

Everything in it is a tensor or a plain Python value (the numpy RNG state is stored as a tensor), so it
loads with ``torch.load(weights_only=True)``: opening a checkpoint never executes pickled code.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.core.fsutil import atomic_writer

FORMAT = 1
LATEST = "latest.pth"
BEST = "best.pth"


def rng_state() -> dict[str, Any]:
    """Global RNG states of torch (CPU and every CUDA device), numpy and Python's ``random``."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned (CUDA states only where the devices exist)."""
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file in the same folder, fsync, then rename over ``path``.

    A crash or a killed session (``--max-minutes`` on a lent GPU) leaves either the old file or the new
    one, never a truncated checkpoint.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as fh:
        torch.save(obj, fh)
    return path


def load(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint onto the CPU (the runner moves state to its device).

    Raises:
        FileNotFoundError: no checkpoint there.
        ValueError: a checkpoint of an unknown format.
    """
    ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    if ckpt.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {ckpt.get('format')!r}, expected {FORMAT}")
    return ckpt


def latest_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / LATEST
