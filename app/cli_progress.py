"""A small terminal progress bar (stderr), quiet when stderr is not a terminal."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, label: str, *, width: int = 28, stream=None) -> None:
        self.label = label
        self.width = width
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._last_text = ""

    def __call__(self, fraction: float, text: str = "") -> None:
        if text:
            self._last_text = text
        now = time.monotonic()
        if not self.tty or (now - self._last_draw < 0.1 and fraction < 1.0):
            return
        self._last_draw = now
        filled = int(self.width * fraction)
        elapsed = now - self.start
        eta = f" ETA {elapsed / fraction - elapsed:4.0f}s" if 0.02 < fraction < 1 else ""
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label[:30]:30s} [{bar}] {fraction * 100:5.1f}%{eta} {self._last_text[:24]:24s}")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * (self.width + 100) + "\r")
            self.stream.flush()
