"""Device selection (cuda > mps > cpu) and one-time CPU thread settings.

Policy for an explicit request that cannot be met (``"cuda"`` on a machine without CUDA, or
``"cuda:3"`` on a one-GPU machine): **fall back to the CPU and warn** through
``ctx.warn`` (or the ``photorestore`` logger when there is no context). A recipe or setting
saved on a GPU workstation must still run on a laptop, and the warning tells the user why it
is slower. Pass ``strict=True`` to get :class:`DeviceUnavailableError` instead (for a CLI
that wants to fail fast, or for tests).

``PHOTORESTORE_DEVICE`` (e.g. ``cpu``) overrides what ``"auto"`` resolves to, so CI and
benchmarks can pin a device without touching settings.
"""

from __future__ import annotations

import logging
import os
import threading

import psutil
import torch

from app.core.context import RunContext
from app.core.infer.memory import free_memory_bytes, is_oom_error, release_memory

__all__ = [
    "DEVICE_CHOICES", "DeviceUnavailableError", "configure_cpu_threads", "cpu_thread_count", "device_label",
    "free_memory_bytes", "is_oom_error", "pick_device", "release_memory",
]

log = logging.getLogger("photorestore")

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
_EXPECTED = "auto, cpu, cuda, cuda:N, mps"
_threads_lock = threading.Lock()
_threads_configured: int | None = None


class DeviceUnavailableError(RuntimeError):
    """An explicitly requested device does not exist here (only raised with ``strict=True``)."""


def cuda_available() -> bool:
    return torch.cuda.is_available()


def mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _auto_device() -> torch.device:
    if cuda_available():
        return torch.device("cuda", torch.cuda.current_device())
    if mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_device(
    pref: str | torch.device | None = "auto",
    *,
    ctx: RunContext | None = None,
    strict: bool = False,
) -> torch.device:
    """Resolve a user preference to a usable ``torch.device``.

    Args:
        pref: ``"auto"`` (or None), ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or a
            ``torch.device``. Case and surrounding spaces are ignored.
        ctx: where to report a fallback; the logger is used without one.
        strict: raise :class:`DeviceUnavailableError` instead of falling back to the CPU.

    Returns:
        The device to run on. CPU results also get the thread settings applied once.

    Raises:
        ValueError: ``pref`` names no known device kind.
        DeviceUnavailableError: with ``strict=True``, when the requested device is absent.
    """
    if isinstance(pref, torch.device):
        dev = pref
    else:
        name = (pref or "auto").strip().lower()
        if name == "auto":
            name = os.environ.get("PHOTORESTORE_DEVICE", "auto").strip().lower() or "auto"
        if name == "auto":
            dev = _auto_device()
        else:
            try:
                dev = torch.device(name)
            except RuntimeError:
                raise ValueError(f"unknown device {pref!r}; expected one of {_EXPECTED}") from None
            if dev.type not in ("cpu", "cuda", "mps"):
                raise ValueError(f"unsupported device {pref!r}; expected one of {_EXPECTED}")
    reason = _unavailable_reason(dev)
    if reason:
        if strict:
            raise DeviceUnavailableError(reason)
        message = f"{reason}; running on the CPU instead"
        if ctx is not None:
            ctx.warn(message)
        else:
            log.warning(message)
        dev = torch.device("cpu")
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    if dev.type == "cpu":
        configure_cpu_threads()
    return dev


def _unavailable_reason(dev: torch.device) -> str:
    if dev.type == "cuda":
        if not cuda_available():
            return "CUDA was requested but no CUDA GPU (or CUDA-enabled PyTorch build) is available"
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            return f"CUDA device {dev.index} was requested but only {torch.cuda.device_count()} GPU(s) exist"
    if dev.type == "mps" and not mps_available():
        return "Apple MPS was requested but is not available on this machine"
    return ""


def cpu_thread_count() -> int:
    """Threads worth using for intra-op CPU parallelism.

    Physical cores (hyper-threads slow convolutions down more than they help), limited by the
    process's CPU affinity (containers, ``taskset``), unless ``OMP_NUM_THREADS`` or
    ``PHOTORESTORE_THREADS`` says otherwise.
    """
    for var in ("PHOTORESTORE_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS/Windows have no sched_getaffinity
        allowed = os.cpu_count() or physical
    return max(1, min(physical, allowed))


def configure_cpu_threads(threads: int | None = None) -> int:
    """Set torch's intra-op thread count once per process (later calls are no-ops).

    Args:
        threads: explicit count; default :func:`cpu_thread_count`.

    Returns:
        The thread count in effect.
    """
    global _threads_configured
    with _threads_lock:
        if _threads_configured is None:
            n = threads or cpu_thread_count()
            if torch.get_num_threads() != n:
                torch.set_num_threads(n)
            _threads_configured = n
            log.debug("torch CPU threads: %d", n)
        return _threads_configured


def device_label(dev: torch.device) -> str:
    """Short human description for logs, warnings and model cards."""
    if dev.type == "cuda":
        return f"{dev} ({torch.cuda.get_device_name(dev)})"
    if dev.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return str(dev)
