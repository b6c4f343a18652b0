"""Opening photos in the real main window: RAW quick preview + full decode, errors, recent files."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import open_and_wait
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent


def test_open_raw_shows_preview_then_full_decode(qtbot, window, kdc_file):
    t0 = time.perf_counter()
    with qtbot.waitSignals([window.photo_opened, window.photo_loaded], timeout=30000, order="strict"):
        window.open_photo(kdc_file)
    assert time.perf_counter() - t0 < 30
    doc = window.doc
    assert doc.full is not None and doc.full.source.space.value == "bayer"
    assert window.view.has_image
    w, h = doc.full_size
    assert (w, h) == (doc.full.developed.width, doc.full.developed.height)
    fields = window.metadata_panel.fields
    assert "Kodak" in fields.get("Camera", "")
    assert fields["Size"].startswith(f"{w} × {h}")
    assert window.settings.recent_files()[0] == str(Path(kdc_file).resolve())
    # the first interactive preview render follows on its own
    qtbot.waitUntil(lambda: window.last_render is not None, timeout=10000)


def test_open_cr2_preview_comes_before_full_decode(qtbot, window, cr2_file):
    with qtbot.waitSignal(window.photo_opened, timeout=30000):
        window.open_photo(cr2_file)
    assert window.doc.quick is not None and window.doc.full is None  # the fast path came first
    preview_s = window.timings["open_to_preview"]
    with qtbot.waitSignal(window.photo_loaded, timeout=120000):
        pass
    # Then the first render of the RAW's preview (its reduced mosaic through the pipeline) finishes.
    with qtbot.waitSignal(window.preview_rendered, timeout=180000):
        pass
    assert window.timings["open_to_full"] >= preview_s
    print(f"\nCR2 open-to-preview {preview_s:.2f} s, open-to-full {window.timings['open_to_full']:.2f} s")


def test_corrupt_file_shows_a_message_and_no_crash(qtbot, window, tmp_path, photo_png):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    with qtbot.waitSignal(window.open_failed, timeout=20000) as blocker:
        window.open_photo(bad)
    assert "broken.jpg" in blocker.args[0]
    assert window.message_bar.isVisible() and window.message_bar.level == "error"
    assert "broken.jpg" in window.message_bar.text and "\n" not in window.message_bar.text
    assert window.doc is None
    # the window still works afterwards
    open_and_wait(qtbot, window, photo_png)
    assert window.doc is not None and window.view.has_image


def test_missing_file_message(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.open_failed, timeout=5000):
        window.open_photo(tmp_path / "nope.CR2")
    assert "nope.CR2" in window.message_bar.text


def test_drop_a_file_opens_it(qtbot, window, photo_png):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_png))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.photo_loaded, timeout=20000):
        window.dropEvent(event)
    assert window.doc.path == str(photo_png)
