"""Which device and how many CPU threads each worker process of ``--jobs N`` gets.

Pure logic (no torch here: the caller passes the GPU and core counts), so the multi-GPU path is tested on
machines without a GPU. The rules:

* CUDA (asked for, or ``auto`` on a machine with GPUs): one worker per GPU by default; with ``--jobs N``
  worker ``i`` gets GPU ``i mod G`` (more workers than GPUs share them: useful when decoding and saving,
  on the CPU, are a large part of each photo). The CPU threads are split between the workers.
* CPU: ``N`` workers (default 1), each with ``cores // N`` threads (at least 1), so ``N`` workers never
  run more threads than there are cores (oversubscribed convolutions get slower, not faster).
* MPS (one Apple GPU): like CUDA with G = 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerSpec:
    """One worker: the torch device string it runs on and its intra-op CPU thread count."""

    device: str
    threads: int


def wanted_device(device: str) -> str:
    """``device`` with ``auto`` resolved by ``PHOTORESTORE_DEVICE`` where set (as :func:`pick_device` does)."""
    name = (device or "auto").strip().lower()
    if name == "auto":
        name = os.environ.get("PHOTORESTORE_DEVICE", "auto").strip().lower() or "auto"
    return name


def plan_workers(jobs: int | None, device: str, *, gpus: int, cores: int, mps: bool = False) -> list[WorkerSpec]:
    """The workers for ``jobs`` processes (None: one per GPU, else 1) on ``device``.

    Args:
        jobs: ``--jobs``; None for the default.
        device: "auto", "cpu", "cuda", "cuda:N" or "mps".
        gpus: CUDA GPUs visible here (``torch.cuda.device_count()``).
        cores: CPU threads worth using (:func:`app.core.infer.device.cpu_thread_count`).
        mps: whether Apple MPS is available (used by "auto" when there is no CUDA GPU).
    """
    if jobs is not None and jobs < 1:
        raise ValueError(f"--jobs must be 1 or more, got {jobs}")
    name = wanted_device(device)
    if name.startswith("cuda:"):  # one named GPU: every worker on it
        devices = [name]
    elif name in ("cuda", "auto") and gpus > 0:
        devices = [f"cuda:{i}" for i in range(gpus)]
    elif name == "mps" or (name == "auto" and mps):
        devices = ["mps"]
    else:
        devices = ["cpu"]  # also "cuda" without a GPU: each worker's pick_device warns and falls back
    n = jobs if jobs is not None else (len(devices) if devices[0] != "cpu" else 1)
    threads = max(1, cores // n)
    return [WorkerSpec(devices[i % len(devices)], threads) for i in range(n)]
