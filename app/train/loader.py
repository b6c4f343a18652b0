"""The resumable training loader and the fixed validation batches.

:class:`ResumableSampler` yields ``(epoch, index)`` keys that the samplers of
:mod:`app.train.datasets` turn into samples deterministically, so the loader can start at any step
of a run and deliver the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from app.train.datasets import Key, MixedDataset


class ResumableSampler(Sampler):
    """Endless ``(epoch, index)`` keys: a fresh permutation per epoch, seeded by ``(seed, epoch)``.

    Args:
        length: samples per epoch (``len(dataset)``).
        seed: run seed.
        start: global sample number to start from (``step * batch`` when resuming).
    """

    def __init__(self, length: int, *, seed: int = 0, start: int = 0) -> None:
        self.length, self.seed, self.start = int(length), int(seed), int(start)

    def __iter__(self) -> Iterator[Key]:
        g = self.start
        epoch, perm = -1, None
        while True:
            e, pos = divmod(g, self.length)
            if e != epoch:
                epoch, perm = e, np.random.default_rng([self.seed & 0xFFFFFFFF, e]).permutation(self.length)
            yield epoch, int(perm[pos])
            g += 1


def _worker_init(_: int) -> None:
    # The main process owns both cores for the model; a loader worker must not spawn thread pools.
    torch.set_num_threads(1)


def single_threaded_opencv() -> None:
    """Make OpenCV sequential in this process (and in processes forked from it).

    Call before forking loader workers: ``cv2.setNumThreads`` *inside* a forked child deadlocks when
    the parent had started OpenCV's thread pool (the child inherits the pool's state, not its threads).
    On 2 cores the model wants both anyway.
    """
    if cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)


def build_loader(dataset: Dataset, *, batch: int, seed: int = 0, start_step: int = 0, num_workers: int = 0,
                 pin_memory: bool = False) -> DataLoader:
    """An endless, resumable training loader starting at ``start_step`` (batches already consumed)."""
    sampler = ResumableSampler(len(dataset), seed=seed, start=start_step * batch)
    single_threaded_opencv()
    extra = ({"persistent_workers": True, "prefetch_factor": 4, "worker_init_fn": _worker_init}
             if num_workers else {})
    return DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=num_workers,
                      pin_memory=pin_memory, **extra)


def _batches(samples: list[dict[str, torch.Tensor]], batch: int) -> list[dict[str, torch.Tensor]]:
    return [{k: torch.stack([s[k] for s in samples[i : i + batch]]) for k in samples[0]}
            for i in range(0, len(samples), batch)]


def materialize(dataset: Dataset, count: int | None = None, *,
                batch: int = 8) -> list[dict[str, torch.Tensor]]:
    """A fixed list of batches (validation): samples ``(0, 0) .. (0, count - 1)``, computed once."""
    count = min(count or len(dataset), len(dataset))
    return _batches([dataset[(0, i)] for i in range(count)], batch)


def materialize_by_source(dataset: Dataset, *, batch: int = 8) -> dict[str, list[dict[str, torch.Tensor]]]:
    """Validation batches grouped by source (``name``, or ``name#k`` for a repeated source), so a mixed
    validation set reports each source's score; a plain dataset is one group called ``all``."""
    if not isinstance(dataset, MixedDataset):
        return {"all": materialize(dataset, batch=batch)}
    out: dict[str, list[dict[str, torch.Tensor]]] = {}
    for k in range(len(dataset.parts)):
        name = dataset.sources[k] if k < len(dataset.sources) else f"part{k}"
        key = name if name not in out else f"{name}#{k}"
        out[key] = _batches([dataset[(0, i)] for i in range(dataset.starts[k], dataset.starts[k + 1])], batch)
    return out
