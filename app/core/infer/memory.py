"""Memory helpers for inference: free memory per device, OOM recognition, tile size budget.

Out-of-memory shows up differently per backend and allocator, so :func:`is_oom_error` is the
one place that knows the variants; tiling retries on exactly those and nothing else.
"""

from __future__ import annotations

import gc
import math

import psutil
import torch

#: Peak working memory per *input* pixel assumed when a model does not state its own, at
#: float32: ~64 feature channels x 4 bytes x ~8 live maps. Conservative on purpose: a tile
#: that is too small costs a little speed, one that is too big costs a retry.
DEFAULT_BYTES_PER_PIXEL = 2048

#: Largest tile edge chosen automatically. Beyond ~1024 px CPUs gain nothing per pixel and the
#: memory spike grows; GPUs amortise launch overhead better with bigger tiles.
TILE_CAP = {"cpu": 1024, "mps": 1024, "cuda": 2048}

#: Share of the free memory a tile may use. On the CPU the rest of the app (pipeline cache,
#: preview buffers, the GUI) lives in the same memory, so take less there.
MEMORY_FRACTION = {"cpu": 0.25, "mps": 0.35, "cuda": 0.6}

class NotEnoughMemoryError(RuntimeError):
    """Even the smallest tile does not fit in memory on the CPU (defined here, below tiling, so
    :func:`is_oom_error` can recognise it without importing tiling back)."""


_OOM_MESSAGES = (
    "out of memory",  # CUDA / HIP / MPS "MPS backend out of memory"
    "can't allocate memory",  # DefaultCPUAllocator: can't allocate memory: you tried to allocate ...
    "defaultcpuallocator",
    "not enough memory",  # Windows CPU allocator
    "cudnn_status_alloc_failed",
    "cublas_status_alloc_failed",
)


def is_oom_error(exc: BaseException) -> bool:
    """True if ``exc`` means "the device ran out of memory" (so a smaller tile may succeed).

    Recognises ``torch.OutOfMemoryError`` (``torch.cuda.OutOfMemoryError``), ``MemoryError``
    and ``RuntimeError`` whose message carries an allocator's out-of-memory text.
    """
    if isinstance(exc, NotEnoughMemoryError):  # our own final verdict; retrying it is pointless
        return False
    oom_type = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        return any(m in text for m in _OOM_MESSAGES)
    return False


def free_memory_bytes(device: torch.device | str) -> int:
    """Bytes that a new allocation on ``device`` can use right now (best effort).

    CPU: ``psutil.virtual_memory().available``. CUDA: driver-free memory plus what PyTorch's
    caching allocator holds but is not using (it can hand that out again). MPS: the
    recommended working set minus what the driver has allocated, when torch exposes it.
    """
    dev = torch.device(device)
    if dev.type == "cuda":
        free, _total = torch.cuda.mem_get_info(dev)
        cached = torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev)
        return int(free + max(cached, 0))
    if dev.type == "mps":
        mps = getattr(torch, "mps", None)
        try:
            return int(mps.recommended_max_memory() - mps.driver_allocated_memory())
        except (AttributeError, RuntimeError):
            pass  # older torch: fall through to system memory (MPS shares it anyway)
    return int(psutil.virtual_memory().available)


def release_memory(device: torch.device | str) -> None:
    """Return cached blocks to the driver after an OOM so the retry starts from a clean slate.

    On the CPU tensors are freed by reference counting as soon as the failed tile is dropped;
    a GPU's caching allocator needs ``empty_cache`` (after a ``gc`` pass for cyclic garbage).
    """
    dev = torch.device(device)
    if dev.type in ("cuda", "mps"):
        gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    elif dev.type == "mps":
        mps = getattr(torch, "mps", None)
        if mps is not None and hasattr(mps, "empty_cache"):
            mps.empty_cache()


def round_down(value: int, multiple: int) -> int:
    return max(multiple, (int(value) // multiple) * multiple)


def round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple)) * multiple


def auto_tile_size(
    device: torch.device | str,
    *,
    bytes_per_pixel: float | None = None,
    multiple: int = 1,
    min_tile: int = 64,
    free_bytes: int | None = None,
    cap: int | None = None,
) -> int:
    """Tile edge (input pixels) whose working memory fits the free memory budget.

    Args:
        device: where the tiles run.
        bytes_per_pixel: peak working bytes per input pixel of the tile, in the dtype the
            model runs in; default :data:`DEFAULT_BYTES_PER_PIXEL`.
        multiple: the result is a multiple of this (the model's size multiple).
        min_tile: lower bound (the tiler needs room for the overlap).
        free_bytes: override the measured free memory (tests, benchmarks).
        cap: largest edge (default :data:`TILE_CAP` of the device type; a model's descriptor may raise it).

    Returns:
        A square tile edge in ``[min_tile, TILE_CAP[device]]``, a multiple of ``multiple``.
    """
    dev = torch.device(device)
    bpp = float(bytes_per_pixel or DEFAULT_BYTES_PER_PIXEL)
    free = free_memory_bytes(dev) if free_bytes is None else int(free_bytes)
    budget = free * MEMORY_FRACTION.get(dev.type, 0.25)
    edge = int(math.sqrt(max(budget, 0.0) / bpp))
    edge = min(edge, cap or TILE_CAP.get(dev.type, 1024))
    return max(round_up(min_tile, multiple), round_down(edge, multiple))
