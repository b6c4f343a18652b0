"""Will this image fit in memory? Estimated from the header, before a single pixel is decoded.

:data:`~app.core.io.formats.MAX_PIXELS` stops decompression bombs, but a legitimate 361-MP PNG (351 KB
of zeros) passes it and then needs over 5 GB: fine on a big machine, an out-of-memory kill on an 8 GB
laptop, worse inside the GUI. So the decoders compare a peak estimate with the memory actually
available and refuse with a clear message when it does not fit.

Estimate per pixel: the decoder's own samples, the float32 RGB image (12 bytes), and one float32 working
copy for the first op or the export (12 bytes). Available memory is the smallest of what the OS reports
free (psutil), what an address-space limit (``ulimit -v``) leaves, and what a cgroup (container) limit
leaves.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import psutil

from app.core.io.errors import DecodeError

FLOAT_RGB = 12  # bytes per pixel of a float32 RGB image
GB = 1e9


def _cgroup_room() -> float:
    """Bytes left under a cgroup v2 memory limit, or inf without one."""
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            return float(int(limit) - used)
    return float("inf")


def _rlimit_room() -> float:
    """Address space left under RLIMIT_AS (``ulimit -v``), or inf without one (or off POSIX)."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return float("inf")
    if soft == resource.RLIM_INFINITY:
        return float("inf")
    return float(soft - psutil.Process(os.getpid()).memory_info().vms)


def available_memory() -> float:
    """Bytes this process can still allocate, as far as we can tell."""
    return min(float(psutil.virtual_memory().available), _rlimit_room(), _cgroup_room())


def peak_bytes(width: int, height: int, sample_bytes: float, *, working_copy: bool = True) -> float:
    """Peak estimate for decoding a ``width`` x ``height`` image stored with ``sample_bytes`` per pixel."""
    per_pixel = sample_bytes + FLOAT_RGB + (FLOAT_RGB if working_copy else 0)
    return float(width) * float(height) * per_pixel


def check_fits(path: Path | str | None, width: int, height: int, sample_bytes: float,
               *, working_copy: bool = True) -> None:
    """Raise :class:`DecodeError` when decoding (and processing) this image would not fit in memory."""
    need = peak_bytes(width, height, sample_bytes, working_copy=working_copy)
    room = available_memory()
    if need > room:
        raise DecodeError(path, f"image too large for the memory available: {width}x{height} "
                                f"({width * height / 1e6:.0f} megapixels) needs about {need / GB:.1f} GB, "
                                f"{max(room, 0) / GB:.1f} GB is free; close other programs or use a smaller copy")
