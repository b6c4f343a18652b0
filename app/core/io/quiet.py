"""Keep native decoders' chatter off the terminal: libjpeg, libpng, libtiff (via OpenCV) and LibRaw
write warnings for damaged files straight to file descriptor 2, bypassing Python. Our own one-line
:class:`~app.core.io.errors.ImageIOError` already says what is wrong; their lines (sometimes with our
temporary paths in them) only confused users. Captured text goes to the log at INFO (``-v`` shows it).

The redirection is process-wide, so it is reference-counted: decodes on several threads share one
capture, and fd 2 comes back when the last one ends. Anything else written to stderr meanwhile (another
thread's message) is logged too, not lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator

import cv2

log = logging.getLogger("photorestore")
_lock = threading.Lock()
_depth = 0
_saved_fd: int | None = None
_capture = None

with contextlib.suppress(Exception):  # OpenCV's own logger (TIFF_Error, imdecode warnings)
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
# Pillow warns ("Corrupt EXIF data", "Truncated File Read") and tifffile logs at WARNING about damaged
# files; the decode's result or its DecodeError says what matters. Process-wide filters, set once:
# warnings.catch_warnings() per decode would not be thread-safe.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL(\..*)?$")
logging.getLogger("tifffile").setLevel(logging.ERROR)


def _start() -> None:
    global _saved_fd, _capture
    try:
        sys.stderr.flush()
        capture = tempfile.TemporaryFile()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
    except (OSError, ValueError, AttributeError):  # no fd 2 (pythonw), or an exotic stderr: stay as is
        return
    _saved_fd, _capture = saved, capture


def _stop() -> None:
    global _saved_fd, _capture
    if _saved_fd is None or _capture is None:
        return
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os.dup2(_saved_fd, 2)
    os.close(_saved_fd)
    _capture.seek(0)
    text = _capture.read(64 * 1024).decode("utf-8", "replace").strip()
    _capture.close()
    _saved_fd, _capture = None, None
    if text:
        log.info("decoder messages: %s", " | ".join(text.splitlines()[:20]))


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Capture fd 2 for the duration of a decode."""
    global _depth
    with _lock:
        if _depth == 0:
            _start()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _stop()
