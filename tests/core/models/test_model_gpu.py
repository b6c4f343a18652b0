"""CUDA paths: half precision, free memory, device choice (run with ``pytest -m gpu``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.core.infer.device import pick_device
from app.core.infer.memory import free_memory_bytes
from app.core.models.registry import load_model
from app.core.models.testing import temporary_model

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_auto_picks_cuda_and_reports_free_memory(monkeypatch):
    monkeypatch.delenv("PHOTORESTORE_DEVICE", raising=False)
    dev = pick_device("auto")
    assert dev.type == "cuda" and dev.index is not None
    assert 0 < free_memory_bytes(dev) <= torch.cuda.get_device_properties(dev).total_memory


def test_half_precision_matches_cpu(tmp_path):
    with temporary_model(tmp_path, "tiny_gpu") as desc:
        gpu, cpu = load_model(desc.id, "cuda"), load_model(desc.id, "cpu")
        assert gpu.dtype == torch.float16 and next(gpu.module.parameters()).is_cuda
        img = np.random.default_rng(0).random((300, 260, 3), dtype=np.float32)
        np.testing.assert_allclose(gpu(img, tile=128), cpu(img, tile=128), atol=5e-3)


def test_full_precision_when_half_is_not_ok(tmp_path):
    with temporary_model(tmp_path, "tiny_fp32", half_ok=False) as desc:
        assert load_model(desc.id, "cuda").dtype == torch.float32
