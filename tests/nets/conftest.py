"""Helpers for the network tests: small tensors, seeded, CPU only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn


@pytest.fixture(autouse=True)
def _seed_and_single_thread() -> Iterator[None]:
    """Seed, and run these tiny tensors on one thread.

    Intra-op parallelism only adds barrier waits at these sizes, and on a shared CPU a descheduled worker
    thread stalls every op (measured 10-30x slower with 2 threads under load). Restored afterwards.
    """
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def roundtrip(tmp_path: Path) -> Callable[..., None]:
    """Save ``model`` to safetensors, load into ``fresh`` (differently initialised), compare outputs."""

    def check(model: nn.Module, fresh: nn.Module, *inputs: object) -> None:
        with torch.no_grad():
            # Perturb so zero-initialised layers (identity at init) cannot make the check vacuous.
            for p in model.parameters():
                p.add_(0.01 * torch.randn_like(p))
        model.eval()
        fresh.eval()
        path = tmp_path / "weights.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
        with torch.no_grad():
            before = model(*inputs)
            differs = _flat(fresh(*inputs))
        fresh.load_state_dict(load_file(str(path)), strict=True)
        with torch.no_grad():
            after = fresh(*inputs)
        for a, b, d in zip(_flat(before), _flat(after), differs):
            assert not torch.equal(a, d), "fresh model already matched; the round trip proves nothing"
            assert torch.equal(a, b)

    return check


def _flat(out: object) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        return [out[k] for k in sorted(out)]
    return list(out)
