"""Stale and overlapping text: the quality panel never shows another photo's figures, status messages
stay clear of the preview label, banners float over the photo, the loupe says what it shows, and
Esc leaves "cancelled" in the status bar."""

from __future__ import annotations

import shutil

from conftest import open_and_wait
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QTableWidgetItem

from app.core.workflow.quality import QualityReport


def test_quality_panel_cleared_while_a_photo_loads_and_after_a_failed_open(qtbot, window, photo_png, tmp_path):
    open_and_wait(qtbot, window, photo_png)
    panel = window.quality_panel
    panel.show_report(QualityReport(rows=[("Noise", "1.0", "0.5")], notes=[]))
    assert panel.table.rowCount() == 1
    other = tmp_path / "other.png"
    shutil.copy(photo_png, other)
    window.open_photo(other)
    assert panel.table.rowCount() == 0 and "other.png" in panel.status.text()  # at once, not on arrival
    qtbot.waitUntil(lambda: window.doc.full is not None, timeout=30000)
    panel.table.setRowCount(1)
    panel.table.setItem(0, 0, QTableWidgetItem("stale"))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 nope")
    with qtbot.waitSignal(window.open_failed, timeout=20000):
        window.open_photo(bad)
    assert panel.table.rowCount() == 0  # cleared; the kept photo is measured afresh
    assert window.doc.path == str(other)


def test_long_status_message_is_cut_before_the_preview_label(qtbot, window, photo_png):
    open_and_wait(qtbot, window, photo_png)
    assert window.render_label.text().startswith("preview")
    window.show_message("Auto — found " + "noise sigma 3.1/255, " * 40 + "end.", "info")
    bar = window.statusBar()
    shown = bar.currentMessage()
    assert shown.endswith("…") and not shown.endswith("end.")
    room = bar.width() - window.render_label.width() - window.zoom_label.width()
    assert bar.fontMetrics().horizontalAdvance(shown) < room


def test_banner_floats_over_the_photo(qtbot, window, photo_png):
    open_and_wait(qtbot, window, photo_png)
    top, height = window.view.geometry().top(), window.view.height()
    window.show_message("Cannot open x.jpg: broken", "error")
    qtbot.waitUntil(window.message_bar.isVisible, timeout=2000)
    assert (window.view.geometry().top(), window.view.height()) == (top, height)
    bar = window.message_bar
    assert bar.parentWidget() is window.centralWidget() and bar.width() == window.centralWidget().width()
    window.resize(window.width() - 100, window.height())
    qtbot.waitUntil(lambda: bar.width() == window.centralWidget().width(), timeout=2000)


def test_loupe_action_and_badge_say_the_magnification(qtbot, window, photo_png):
    open_and_wait(qtbot, window, photo_png)
    tip = window.actions_by_name["loupe"].toolTip()
    assert "1:1 magnifier" not in window.actions_by_name["loupe"].text() and "1:1" in tip and "2×" in tip
    from app.gui import compare_view

    labels: list[str] = []
    real = compare_view.draw_badge
    compare_view.draw_badge = lambda p, f, label, *a, **k: (labels.append(label), real(p, f, label, *a, **k))
    try:
        window.view.actual_size()
        window.view.set_loupe(True)
        window.view._mouse = QPointF(window.view.width() / 2, window.view.height() / 2)
        window.view.repaint()
        zoom = window.view.zoom()
        assert any(("2×" in lab) if zoom > 0.999 else lab.endswith("1:1") for lab in labels), labels
        window.view.fit()
        labels.clear()
        window.view.repaint()
        assert any(lab.endswith("1:1") for lab in labels), labels
    finally:
        compare_view.draw_badge = real
        window.view.set_loupe(False)


def test_esc_says_cancelled(qtbot, test_ops, window, photo_png):
    window.model.sync_ops()
    open_and_wait(qtbot, window, photo_png)
    window.model.set_param("test_slow", "seconds", 5.0)
    window.model.set_enabled("test_slow", True)
    qtbot.waitUntil(lambda: window.previews.job is not None and window.previews.job.state == "running"
                    and window.job_bar.current is not None, timeout=10000)
    window.actions_by_name["cancel"].trigger()
    qtbot.waitUntil(lambda: "cancelled" in window.statusBar().currentMessage(), timeout=5000)
