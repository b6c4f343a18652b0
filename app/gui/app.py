"""GUI entry point: ``run_gui(paths)`` creates the application, the window, and opens the photo."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QWidget

from app import __version__
from app.gui.logfile import log_file  # noqa: F401 - re-exported (tests, setup_logging)
from app.gui.resources import icon_path, sample_photo
from app.gui.settings import APPLICATION, ORGANIZATION
from app.gui.theme import apply_dark_theme

log = logging.getLogger("photorestore.gui")


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The ``QApplication`` (existing one reused), with high-DPI policy, names, icon and theme."""
    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125 %, 150 %) are used as-is: no rounding blur on photos.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(icon_path())))
    apply_dark_theme(app)
    return app  # type: ignore[return-value]


def setup_logging() -> None:
    """Log to stderr and to a small rotating file (see :func:`log_file`)."""
    root = logging.getLogger()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format=fmt._fmt)
    path = log_file()
    if not any(isinstance(h, RotatingFileHandler) and h.baseFilename == str(path) for h in root.handlers):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
        except OSError as exc:
            log.warning("no log file: %s", exc)
            return
        handler.setFormatter(fmt)
        handler.setLevel(logging.INFO)
        root.addHandler(handler)


def run_gui(paths: list[str]) -> int:
    """Open the main window and run the event loop until it closes.

    Args:
        paths: photos given on the command line; the first is opened (the others are added to
            the recent files). With none, the bundled sample photo is opened.

    Returns:
        The process exit code.
    """
    app = create_application()
    setup_logging()
    from app.gui.main_window import MainWindow  # after QApplication: widgets need it

    window = MainWindow()
    for p in reversed(paths[1:]):
        window.settings.add_recent(p)
    window.show()
    first = paths[0] if paths else sample_photo()
    if first is not None:
        window.open_photo(str(first))
    else:
        log.info("no photo given and no bundled sample found")
    previous = close_on_signals(window)
    try:
        return int(app.exec())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def close_on_signals(window: QWidget) -> dict[int, object]:
    """SIGTERM and Ctrl-C close the window as its close button does: jobs are cancelled, the worker threads
    waited for (an export being written finishes or removes its partial file), settings and edits saved.

    Without this SIGTERM killed the process mid-write and Ctrl-C did nothing. Python runs signal handlers
    only between bytecodes, so a timer wakes the interpreter while Qt's event loop idles in C++.
    Returns the handlers it replaced.
    """
    from PySide6.QtCore import QTimer

    previous = {sig: signal.signal(sig, lambda *_: QTimer.singleShot(0, window.close))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return previous


def smoke_test_window(timeout_s: float = 30.0) -> float:
    """Open the main window on the bundled sample, wait for its decode, close it (``--selftest``).

    Settings go to a throw-away INI file so a self-test never changes the user's.

    Returns:
        Seconds from creating the application to the window being visible.

    Raises:
        RuntimeError: the window did not show, the sample did not load in ``timeout_s`` or opening failed.
    """
    import tempfile
    import time

    from PySide6.QtCore import QEventLoop, QTimer

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("PHOTORESTORE_SETTINGS", str(Path(tmp) / "selftest.ini"))
        app = create_application()
        from app.gui.main_window import MainWindow

        window = MainWindow()
        window.show()
        app.processEvents()
        if not window.isVisible():
            raise RuntimeError("the main window did not become visible")
        visible_s = time.monotonic() - t0
        loop = QEventLoop()
        outcome: list[str] = []
        window.photo_loaded.connect(lambda _p: (outcome.append("ok"), loop.quit()))
        window.open_failed.connect(lambda msg: (outcome.append(f"failed: {msg}"), loop.quit()))
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        sample = sample_photo()
        if sample is None:
            raise RuntimeError("no bundled sample photo")
        window.open_photo(str(sample))
        if not outcome:
            loop.exec()
        window.close()
        app.processEvents()
        if outcome != ["ok"]:
            raise RuntimeError(outcome[0] if outcome else f"the sample did not load in {timeout_s:g} s")
    return visible_s


if __name__ == "__main__":  # pragma: no cover - manual runs
    raise SystemExit(run_gui(sys.argv[1:]))
