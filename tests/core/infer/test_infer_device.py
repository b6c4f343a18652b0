"""Device choice, thread settings, free memory and out-of-memory recognition."""

from __future__ import annotations

import psutil
import pytest
import torch

from app.core.context import RunContext
from app.core.infer import device as devmod
from app.core.infer.device import DeviceUnavailableError, pick_device
from app.core.infer.memory import auto_tile_size, free_memory_bytes, is_oom_error
from app.core.infer.tiling import NotEnoughMemoryError

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


def test_cpu_is_always_available():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(" CPU ") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("PHOTORESTORE_DEVICE", raising=False)
    monkeypatch.setattr(devmod, "cuda_available", lambda: False)
    monkeypatch.setattr(devmod, "mps_available", lambda: True)
    assert pick_device("auto").type == "mps"
    monkeypatch.setattr(devmod, "mps_available", lambda: False)
    assert pick_device(None) == torch.device("cpu")


def test_env_overrides_auto(monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_DEVICE", "cpu")
    monkeypatch.setattr(devmod, "mps_available", lambda: True)
    assert pick_device("auto") == torch.device("cpu")


@no_cuda
def test_missing_cuda_falls_back_to_cpu_with_a_warning():
    ctx = RunContext()
    assert pick_device("cuda", ctx=ctx) == torch.device("cpu")
    assert len(ctx.warnings) == 1 and "CUDA" in ctx.warnings[0] and "CPU" in ctx.warnings[0]


@no_cuda
def test_strict_raises_for_missing_cuda():
    with pytest.raises(DeviceUnavailableError, match="CUDA"):
        pick_device("cuda:0", strict=True)


def test_unknown_device_name_is_a_clear_error():
    with pytest.raises(ValueError, match="expected one of auto, cpu, cuda"):
        pick_device("tpu")
    with pytest.raises(ValueError, match="unsupported device"):
        pick_device("meta")


def test_cpu_threads(monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_THREADS", "3")
    assert devmod.cpu_thread_count() == 3
    monkeypatch.delenv("PHOTORESTORE_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert 1 <= devmod.cpu_thread_count() <= (psutil.cpu_count(logical=True) or 1)
    monkeypatch.setattr(devmod, "_threads_configured", None)  # as in a fresh process
    assert devmod.configure_cpu_threads(3) == 3
    assert torch.get_num_threads() == 3
    assert devmod.configure_cpu_threads(5) == 3  # only the first call takes effect
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("exc", [
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 bytes."),
    RuntimeError("MPS backend out of memory (MPS allocated: 1.2 GB)"),
    RuntimeError("CUDA error: out of memory"),
    MemoryError(),
])
def test_oom_errors_are_recognised(exc):
    assert is_oom_error(exc)


@pytest.mark.parametrize("exc", [
    RuntimeError("Given groups=1, weight of size [8, 3, 3, 3], expected input to have 3 channels"),
    ValueError("out of memory"),  # not a RuntimeError: a bug of ours, not the allocator
    NotEnoughMemoryError("not enough memory ... even in 32 px tiles"),
    KeyboardInterrupt(),
])
def test_other_errors_are_not_oom(exc):
    assert not is_oom_error(exc)


def test_free_memory_on_cpu_is_the_available_ram():
    free = free_memory_bytes("cpu")
    assert free > 0
    assert abs(free - psutil.virtual_memory().available) < 0.2 * psutil.virtual_memory().total


def test_auto_tile_size_follows_free_memory():
    gib = 1 << 30
    # 1 GiB free, 25 % budget on CPU, 1024 B/px -> sqrt(262144) = 512 px
    assert auto_tile_size("cpu", bytes_per_pixel=1024, free_bytes=gib) == 512
    assert auto_tile_size("cpu", bytes_per_pixel=1024, free_bytes=gib, multiple=48) == 480
    assert auto_tile_size("cpu", bytes_per_pixel=16, free_bytes=64 * gib) == 1024  # CPU cap
    assert auto_tile_size("cuda", bytes_per_pixel=16, free_bytes=64 * gib) == 2048  # GPU cap
    assert auto_tile_size("cpu", bytes_per_pixel=1e9, free_bytes=gib, min_tile=100, multiple=32) == 128
    assert auto_tile_size("cpu") >= 64  # measured free memory, default bytes per pixel
