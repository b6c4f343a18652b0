"""RunContext: progress, cancellation and run settings passed to every long core function.

Core code reports progress as a fraction of *its own* work; ``sub(a, b)`` maps a child's
[0, 1] onto the parent's [a, b], so nested steps (op -> stage -> tile) compose without
knowing about each other. Cancellation is cooperative: call ``check_cancelled()`` between
tiles; it raises :class:`Cancelled`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("photorestore")

ProgressCallback = Callable[[float, str], None]


#: Tile edges a user may ask for (px): below 16 no model has room for its overlap, above 32768 one
#: float32 RGB tile alone is 12 GB. ``None`` means "from free memory".
TILE_RANGE = (16, 32768)


def check_tile(tile: object) -> int | None:
    """``tile`` as an int edge in :data:`TILE_RANGE`, or None; anything else is a ValueError (0 is not "auto")."""
    if tile is None:
        return None
    if isinstance(tile, bool) or not isinstance(tile, int) or not TILE_RANGE[0] <= tile <= TILE_RANGE[1]:
        raise ValueError(f"tile size must be a whole number of pixels from {TILE_RANGE[0]} to {TILE_RANGE[1]} "
                         f"(or left out for automatic), got {tile!r}")
    return tile


class Cancelled(Exception):
    """Raised inside a run when the user cancelled it."""


class RunContext:
    """Progress/cancel plumbing plus the user's device and tiling choices.

    Args:
        on_progress: called with (fraction in [0, 1], text) from the working thread.
        cancel_event: shared flag; setting it makes the next ``check_cancelled`` raise.
        device: "auto", "cpu", "cuda" or "mps".
        backend: "auto", "torch", "openvino" or "onnxruntime" (app/core/infer/backends.py; CPU only).
        tile: tile edge in pixels, or None to choose from free memory.
    """

    def __init__(
        self,
        on_progress: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
        *,
        device: str = "auto",
        backend: str = "auto",
        tile: int | None = None,
        _span: tuple[float, float] = (0.0, 1.0),
        _root: RunContext | None = None,
    ) -> None:
        self._on_progress = on_progress
        self.cancel_event = cancel_event if cancel_event is not None else threading.Event()
        self.device = device
        self.backend = backend
        self.tile = check_tile(tile)
        self._span = _span
        self._root = _root or self
        self.warnings: list[str] = [] if _root is None else _root.warnings
        self.started = time.monotonic()
        self.last_fraction = 0.0

    def progress(self, fraction: float, text: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        a, b = self._span
        value = a + (b - a) * fraction
        root = self._root
        root.last_fraction = max(root.last_fraction, value)
        if root._on_progress is not None:
            root._on_progress(root.last_fraction, text)

    def sub(self, start: float, end: float) -> RunContext:
        a, b = self._span
        child = RunContext(
            self._root._on_progress,
            self.cancel_event,
            device=self.device,
            backend=self.backend,
            tile=self.tile,
            _span=(a + (b - a) * start, a + (b - a) * end),
            _root=self._root,
        )
        return child

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled("cancelled by the user")

    def warn(self, message: str) -> None:
        """Record a non-fatal note the UI/CLI shows after the run (e.g. a fallback taken)."""
        log.warning(message)
        self.warnings.append(message)
