"""Inference plumbing shared by every model: device choice, memory, tiled execution."""

from app.core.infer.device import DeviceUnavailableError, configure_cpu_threads, pick_device
from app.core.infer.memory import auto_tile_size, free_memory_bytes, is_oom_error
from app.core.infer.tiling import NotEnoughMemoryError, apply_hwc, plan_tiles, tiled_apply

__all__ = [
    "DeviceUnavailableError", "NotEnoughMemoryError", "apply_hwc", "auto_tile_size", "configure_cpu_threads",
    "free_memory_bytes", "is_oom_error", "pick_device", "plan_tiles", "tiled_apply",
]
