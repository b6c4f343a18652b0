"""Core tests run single-threaded: their tensors are small, and on a shared 2-core machine
OpenMP barriers between two busy threads make small convolutions ~10x slower."""

from __future__ import annotations

import pytest
import torch

from app.core.infer.device import configure_cpu_threads


@pytest.fixture(autouse=True)
def _one_torch_thread():
    configure_cpu_threads()  # consume the one-time setting first, so it cannot undo ours mid-test
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
