"""GUI test fixtures: isolated settings, test ops, a real main window, and a no-dangling-threads check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from gui_fake_ops import SlowOp, TestLowlightOp  # noqa: E402
from PySide6.QtCore import QThreadPool  # noqa: E402

from app.core.ops.registry import register_op, unregister_op  # noqa: E402
from app.gui.workers import live_workers  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own settings file (never the user's), and its photo edits go to that isolated
    data folder, never beside the photos (tests open the shared datasets' photos)."""
    path = tmp_path_factory.mktemp("settings") / "photorestore.ini"
    monkeypatch.setenv("PHOTORESTORE_SETTINGS", str(path))
    monkeypatch.setenv("PHOTORESTORE_SIDECARS", "data")
    return path


@pytest.fixture(autouse=True)
def no_dangling_threads(qapp: object) -> Iterator[None]:
    """After each test every worker thread has stopped and the global thread pool is idle."""
    yield
    running = [w.thread.objectName() for w in live_workers() if w.thread.isRunning()]
    for w in live_workers():
        w.shutdown(2000)
    assert not running, f"worker threads still running after the test: {running}"
    pool = QThreadPool.globalInstance()
    assert pool.waitForDone(2000), "QThreadPool still busy after the test"
    assert pool.activeThreadCount() == 0


@pytest.fixture
def test_ops() -> Iterator[None]:
    """Register the cheap 4-stage low-light op and the slow cancellable op for one test."""
    register_op(TestLowlightOp())
    register_op(SlowOp())
    yield
    unregister_op(TestLowlightOp.id)
    unregister_op(SlowOp.id)


@pytest.fixture
def window(qtbot: object) -> Iterator[object]:
    from app.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.resize(1200, 800)
    win.quality_dock.hide()  # its automatic NIQE only adds CPU load; test_quality shows it
    win.show()
    yield win
    win.close()


@pytest.fixture(scope="session")
def photo_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1800x1200 (2.2 MP) synthetic photo: gradients, edges and texture, dark-ish."""
    h, w = 1200, 1800
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w, y / h, 0.5 + 0.5 * np.sin(x / 37.0) * np.cos(y / 23.0)], axis=2) * 0.45
    img[300:900, 600:1200] += 0.25
    rng = np.random.default_rng(0)
    img += rng.normal(0, 0.02, img.shape).astype(np.float32)
    u8 = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("photos") / "synthetic.png"
    cv2.imwrite(str(path), cv2.cvtColor(u8, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="session")
def kdc_file(raw_dir: Path) -> Path:
    p = raw_dir / "bayer" / "rawpy-test_RAW_KODAK_DC50.KDC"
    if not p.is_file():
        pytest.skip("KDC test RAW missing")
    return p


@pytest.fixture(scope="session")
def cr2_file(raw_dir: Path) -> Path:
    p = raw_dir / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
    if not p.is_file():
        pytest.skip("CR2 test RAW missing")
    return p


def open_and_wait(qtbot: object, win: object, path: Path, timeout: int = 30000) -> None:
    """Open ``path`` in ``win`` and wait for the full decode and the first preview render."""
    with qtbot.waitSignal(win.photo_loaded, timeout=timeout):  # type: ignore[attr-defined]
        win.open_photo(path)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: win.last_render is not None  # type: ignore[attr-defined]
                    and win.last_render.request.key == win.doc.preview_source(win.model.active_steps())[1],  # type: ignore[attr-defined]
                    timeout=timeout)
