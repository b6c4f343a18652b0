"""Compare view: the divider splits before/after, panes stay in sync, zoom keeps the cursor point."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QImage

from app.gui.compare_view import CompareView
from app.gui.imaging import build_pyramid
from app.gui.view_geometry import Viewport


def _flat(value: int, w: int = 3000, h: int = 2000) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def _mean(img: QImage, x0: int, x1: int) -> float:
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    arr = arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3)
    h = img.height()
    return float(arr[h // 4: 3 * h // 4, x0:x1].mean())


@pytest.fixture
def view(qtbot):
    v = CompareView()
    qtbot.addWidget(v)
    v.resize(800, 500)
    v.set_reference_size(3000, 2000)
    v.set_before([build_pyramid(_flat(40))])
    v.set_after([build_pyramid(_flat(200))])
    v.show()
    qtbot.waitExposed(v)
    return v


def test_split_halves_differ_and_follow_the_divider(qtbot, view):
    img = view.grab().toImage()
    w = img.width()
    assert _mean(img, 40, w // 2 - 40) < 60 < 180 < _mean(img, w // 2 + 40, w - 40)
    # Drag the divider from the middle to 80 % of the width with the mouse.
    y = view.height() // 2
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(view.width() // 2, y))
    for x in range(view.width() // 2, int(view.width() * 0.8), 40):
        qtbot.mouseMove(view, QPoint(x, y))
    qtbot.mouseMove(view, QPoint(int(view.width() * 0.8), y))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(int(view.width() * 0.8), y))
    assert view.split == pytest.approx(0.8, abs=0.01)
    img = view.grab().toImage()
    w = img.width()
    assert _mean(img, w // 2 + 20, int(w * 0.78)) < 60  # now "before" up to the divider
    assert _mean(img, int(w * 0.82), w - 20) > 180


def test_hold_original_and_modes(qtbot, view):
    view.hold_original(True)
    img = view.grab().toImage()
    assert _mean(img, img.width() // 2 + 40, img.width() - 40) < 60
    view.hold_original(False)
    view.set_mode("after")
    img = view.grab().toImage()
    assert _mean(img, 40, img.width() - 40) > 180
    view.set_mode("side")
    img = view.grab().toImage()
    w = img.width()
    assert _mean(img, 40, w // 2 - 40) < 60 < 180 < _mean(img, w // 2 + 40, w - 40)


def test_wheel_zoom_keeps_the_point_under_the_cursor():
    vp = Viewport(3000, 2000)
    pane = QRectF(0, 0, 800, 500)
    anchor = QPointF(600, 120)
    before = vp.to_ref(pane, anchor)
    vp.set_zoom(pane, 1.0, anchor)
    after = vp.to_ref(pane, anchor)
    assert (after.x(), after.y()) == pytest.approx((before.x(), before.y()), abs=0.5)
    vp.pan(pane, 100, 0)
    assert vp.to_ref(pane, anchor).x() == pytest.approx(after.x() - 100, abs=0.5)


def test_high_dpi_100_percent_is_one_photo_pixel_per_device_pixel():
    vp = Viewport(3000, 2000, zoom=1.0, cx=1500, cy=1000, dpr=2.0)
    pane = QRectF(0, 0, 800, 500)
    assert vp.scale(pane) == pytest.approx(0.5)  # logical px per photo px
    r = vp.visible_ref(pane)
    assert r.width() == pytest.approx(1600) and r.height() == pytest.approx(1000)


def test_pyramid_picks_the_level_nearest_the_zoom():
    pyr = build_pyramid(_flat(1, 4000, 3000))
    assert len(pyr.levels) >= 4
    level, scale = pyr.pick(0.3)
    assert scale >= 0.3 and scale < 0.6
    assert level.width == pytest.approx(4000 * scale, abs=1)

