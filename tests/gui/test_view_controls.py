"""Hold-to-see-original, zoom/mode actions, the loupe and 1:1 detail renders in the real window."""

from __future__ import annotations

from conftest import open_and_wait
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence


def test_backslash_hold_shows_the_original(qtbot, window, photo_png):
    open_and_wait(qtbot, window, photo_png)
    view = window.view
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Backslash)
    assert view._holding
    qtbot.keyRelease(view, Qt.Key.Key_Backslash)
    assert not view._holding
    # a text field keeps its backslash
    spin = window.ops_panel.cards["exposure"].controls["ev"].spin
    qtbot.keyPress(spin, Qt.Key.Key_Backslash)
    assert not view._holding


def test_view_actions_and_shortcuts(qtbot, window, photo_png):
    open_and_wait(qtbot, window, photo_png)
    a, view = window.actions_by_name, window.view
    assert a["fit"].shortcuts()[0] == QKeySequence("F")
    a["actual"].trigger()
    assert abs(view.zoom() - 1.0) < 1e-6 and not view.is_fit()
    assert window.zoom_label.text() == "100 %"
    a["fit"].trigger()
    assert view.is_fit() and window.zoom_label.text().startswith("Fit")
    a["mode_side"].trigger()
    assert view.mode == "side"
    view.set_mode("after")
    assert a["mode_after"].isChecked()
    a["loupe"].trigger()
    assert view.loupe
    qtbot.mouseMove(view, QPoint(200, 200))
    view.grab()  # paints the loupe without error


def test_zooming_in_renders_a_full_resolution_crop(qtbot, window, kdc_file):
    open_and_wait(qtbot, window, kdc_file)  # 768 px wide: its preview is full size -> no crop needed
    window.view.set_zoom(2.0)
    qtbot.wait(400)
    assert window.detail is None
    # a photo larger than the preview needs the 1:1 crop
    window.model.set_enabled("exposure", True)
    doc = window.doc
    half = doc.full.preview.data[::2, ::2]
    doc.full.preview = doc.full.preview.with_data(half)  # pretend the preview is half size
    doc.full.render_source = doc.full.preview
    window.previews.render_now()
    qtbot.waitUntil(lambda: window.last_render is not None
                    and window.last_render.request.source.width == doc.full.preview.width, timeout=30000)
    window.view.set_zoom(1.0, QPointF(100, 100))
    qtbot.waitUntil(lambda: window.detail is not None, timeout=30000)  # a crop of the RAW mosaic
    x0, y0 = window.detail.origin
    vis = window.view.visible_rect()
    assert x0 <= vis.left() + 1 and y0 <= vis.top() + 1
    assert window.detail.width >= min(vis.width(), doc.full_size[0] - x0) - 1
    assert len(window.view.after_layers()) == 2
