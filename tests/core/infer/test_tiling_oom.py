"""Out-of-memory handling of tiled inference, with simulated allocator failures."""

from __future__ import annotations

import pytest
import torch

from app.core.context import RunContext
from app.core.infer import tiling
from app.core.infer.tiling import NotEnoughMemoryError, tiled_apply

OOM_ERRORS = [
    lambda: torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.50 GiB"),
    lambda: RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 4294967296 B"),
    lambda: MemoryError(),
]


def limited(limit: int, make_error, calls: list):
    """An identity-ish function that 'runs out of memory' on tiles larger than ``limit`` px."""

    def fn(t):
        calls.append(tuple(t.shape[-2:]))
        if max(t.shape[-2:]) > limit:
            raise make_error()
        return t * 0.5 + 0.25

    return fn


@pytest.mark.parametrize("make_error", OOM_ERRORS)
def test_halves_the_tile_until_it_fits(make_error):
    calls: list = []
    ctx = RunContext()
    x = torch.rand(1, 3, 100, 90)
    out = tiled_apply(limited(40, make_error, calls), x, tile=256, overlap=16, ctx=ctx, device="cpu")
    assert torch.allclose(out, x * 0.5 + 0.25, atol=1e-6)
    sizes = [max(s) for s in calls]
    assert sizes[0] == 100 and 40 < sizes[1] <= 50 and max(sizes[2:]) <= 40  # whole image, half, fits
    assert len(ctx.warnings) == 1 and "out of memory" in ctx.warnings[0] and "32 px" in ctx.warnings[0]


def test_gives_up_with_a_clear_error_on_the_cpu():
    calls: list = []
    with pytest.raises(NotEnoughMemoryError, match="even in 32 px tiles on the CPU"):
        tiled_apply(limited(8, MemoryError, calls), torch.rand(1, 1, 80, 80), tile=80, overlap=16,
                    device="cpu")
    assert max(calls[-1]) == 32  # tried down to the minimum tile (2 x overlap)


def test_other_errors_are_not_retried():
    calls = []

    def fn(t):
        calls.append(1)
        raise RuntimeError("Given groups=1, weight of size [8, 3, 3, 3], expected input to have 3 channels")

    with pytest.raises(RuntimeError, match="expected input to have 3 channels"):
        tiled_apply(fn, torch.rand(1, 4, 64, 64), tile=32, overlap=8)
    assert calls == [1]


def test_gpu_oom_at_minimum_falls_back_to_cpu(monkeypatch):
    # Stand in for a GPU with the "meta" device (tensors without storage, available everywhere).
    monkeypatch.setattr(tiling, "pick_device", lambda *a, **k: torch.device("meta"))
    calls: list = []
    rebound: list = []

    def gpu_fn(t):
        calls.append(t.device.type)
        raise torch.OutOfMemoryError("CUDA out of memory")

    def cpu_fn(t):
        calls.append(t.device.type)
        return t + 1

    def rebind(dev):
        rebound.append(dev)
        return cpu_fn

    ctx = RunContext()
    x = torch.rand(1, 2, 70, 70)
    out = tiled_apply(gpu_fn, x, tile=64, overlap=16, ctx=ctx, dtype=torch.float16, rebind=rebind)
    assert torch.allclose(out, x + 1)
    assert rebound == [torch.device("cpu")]
    assert calls.count("meta") == 2 and calls[-1] == "cpu"  # 64 px, then the 32 px minimum, then CPU
    assert any("continuing on the CPU" in w for w in ctx.warnings)


def test_module_is_copied_to_the_cpu_by_default(monkeypatch):
    monkeypatch.setattr(tiling, "pick_device", lambda *a, **k: torch.device("meta"))
    net = torch.nn.Conv2d(1, 1, 1, bias=False)
    torch.nn.init.constant_(net.weight, 2.0)

    class GpuOnly(torch.nn.Module):  # OOMs on the fake GPU, works once moved to the CPU
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, t):
            if t.device.type == "meta":
                raise torch.OutOfMemoryError("CUDA out of memory")
            return self.net(t)

    x = torch.rand(1, 1, 40, 40)
    out = tiled_apply(GpuOnly(), x, tile=40, overlap=16, ctx=RunContext())
    assert torch.allclose(out, 2 * x)
