"""Histogram panel (RGB + luminance, before/after, linear or log) and the clipping overlay (J).

Both follow the preview: after every displayed render the histograms are recomputed from display-sized
pyramid levels (:mod:`app.core.metrics.histogram`, a few ms), coalesced by a short timer so a slider
drag never waits on them. The clipping overlay paints crushed shadows blue and blown highlights red over
the *after* picture, as darktable and Lightroom do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QCheckBox, QDockWidget, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core.metrics.histogram import MAX_PIXELS, clipping_masks, rgb_histogram

if TYPE_CHECKING:
    from app.gui.imaging import Pyramid
    from app.gui.main_window import MainWindow

BINS = 128
_COLOURS = (QColor(230, 70, 70, 110), QColor(70, 200, 90, 110), QColor(80, 130, 240, 110))
SHADOW_RGBA = (40, 110, 255, 200)
HIGHLIGHT_RGBA = (255, 40, 40, 200)


def display_level(pyr: Pyramid, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The largest level of ``pyr`` with at most ``max_pixels`` pixels (the smallest if none is)."""
    for level in pyr.levels:
        if level.width * level.height <= max_pixels:
            return level.array
    return pyr.levels[-1].array


class HistogramPlot(QWidget):
    """Paints the after histogram (RGB filled, luminance line) and the before luminance (dashed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(220, 110)
        self.before: np.ndarray | None = None
        self.after: np.ndarray | None = None
        self.log_scale = False
        self.show_before = True
        self.show_after = True

    def _curve(self, counts: np.ndarray, peak: float, rect: QRectF) -> QPainterPath:
        v = np.log1p(counts.astype(np.float64)) if self.log_scale else counts.astype(np.float64)
        v = v / max(peak, 1e-9)
        path = QPainterPath(QPointF(rect.left(), rect.bottom()))
        n = len(v)
        for i, y in enumerate(v):
            path.lineTo(rect.left() + rect.width() * (i + 0.5) / n, rect.bottom() - min(y, 1.0) * rect.height())
        path.lineTo(rect.right(), rect.bottom())
        return path

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 24, 27))
        rect = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        p.setPen(QColor(60, 60, 66))
        for k in range(1, 4):  # quarter lines: shadows / midtones / highlights
            x = rect.left() + rect.width() * k / 4
            p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        pairs = ((self.after, self.show_after), (self.before, self.show_before))
        shown = [h for h, on in pairs if on and h is not None]
        if not shown:
            p.setPen(QColor(150, 150, 155))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No preview yet")
            return
        # One vertical scale for both, ignoring the end bins (clipped pixels would flatten the rest).
        f = np.log1p if self.log_scale else (lambda a: a.astype(np.float64))
        peak = max(float(f(h[:, 1:-1]).max()) for h in shown)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.show_after and self.after is not None:
            p.setPen(Qt.PenStyle.NoPen)
            for c in range(3):
                p.setBrush(_COLOURS[c])
                p.drawPath(self._curve(self.after[c], peak, rect))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(235, 235, 235), 1.2))
            p.drawPath(self._curve(self.after[3], peak, rect))
        if self.show_before and self.before is not None:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(200, 200, 120), 1.2, Qt.PenStyle.DashLine))
            p.drawPath(self._curve(self.before[3], peak, rect))


class HistogramPanel(QWidget):
    """The plot plus its switches and a clipping summary."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.plot = HistogramPlot()
        lay.addWidget(self.plot, 1)
        row = QHBoxLayout()
        self.after_box = QCheckBox("After")
        self.after_box.setToolTip("RGB (filled) and luminance (white line) of the processed preview")
        self.before_box = QCheckBox("Before")
        self.before_box.setToolTip("Luminance of the original (dashed line)")
        self.log_box = QCheckBox("Log")
        self.log_box.setToolTip("Logarithmic counts: shows the few pixels in deep shadows and highlights")
        for box, attr, on in ((self.after_box, "show_after", True), (self.before_box, "show_before", True),
                              (self.log_box, "log_scale", False)):
            box.setChecked(on)
            box.toggled.connect(lambda v, a=attr: (setattr(self.plot, a, bool(v)), self.plot.update()))
            row.addWidget(box)
        row.addStretch(1)
        lay.addLayout(row)
        self.clip_label = QLabel("")
        self.clip_label.setObjectName("dimLabel")
        lay.addWidget(self.clip_label)

    def set_pictures(self, before: np.ndarray | None, after: np.ndarray | None) -> None:
        """Recompute from display-sized uint8 pictures (None: leave that one out)."""
        self.plot.before = rgb_histogram(before, BINS) if before is not None else None
        self.plot.after = rgb_histogram(after, BINS) if after is not None else None
        if after is not None:
            sh, hi = clipping_masks(after)
            self.clip_label.setText(f"Clipped: shadows {sh.mean() * 100:.1f} % · highlights {hi.mean() * 100:.1f} %"
                                    "  (J shows them)")
        self.plot.update()

    def clear(self) -> None:
        self.plot.before = self.plot.after = None
        self.clip_label.setText("")
        self.plot.update()


def clipping_overlay(pyr: Pyramid) -> Pyramid:
    """A one-level layer over ``pyr``'s picture: shadows blue, highlights red, transparent elsewhere."""
    from app.gui.imaging import Level, Pyramid

    u8 = pyr.levels[0].array
    sh, hi = clipping_masks(u8)
    rgba = np.zeros((*u8.shape[:2], 4), np.uint8)
    rgba[sh] = SHADOW_RGBA
    rgba[hi] = HIGHLIGHT_RGBA
    img = QImage(rgba.data, rgba.shape[1], rgba.shape[0], rgba.strides[0], QImage.Format.Format_RGBA8888)
    return Pyramid([Level(img.copy(), rgba)], ref_scale=pyr.ref_scale, origin=pyr.origin, tag={"clipping": True})


class HistogramController:
    """Feeds the panel after each preview render and keeps the clipping overlay in the view."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.panel = HistogramPanel()
        self.clipping = False
        self._pending = False
        self._timer = QTimer(win)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self.refresh)
        win.preview_rendered.connect(lambda _r: self._timer.start())

    def refresh(self) -> None:
        win = self.win
        render = win.last_render
        if win.doc is None or render is None:
            self.panel.clear()
            win.view.set_overlay(None)
            return
        after = display_level(render.pyramid)
        before_layers = win.view.before_layers()
        before = display_level(before_layers[0]) if before_layers else None
        if self.panel.isVisible():
            self.panel.set_pictures(before, after)
        if self.clipping:
            win.view.set_overlay(clipping_overlay(render.pyramid))
        else:
            win.view.set_overlay(None)

    def set_clipping(self, on: bool) -> None:
        self.clipping = bool(on)
        self.refresh()


def install(win: MainWindow) -> HistogramController:
    """The Histogram dock (left, above the metadata) and View ▸ Clipping warning (J)."""
    from app.gui.actions import _act

    ctl = HistogramController(win)
    dock = QDockWidget("Histogram", win)
    dock.setObjectName("histogramDock")
    dock.setWidget(ctl.panel)
    win.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    win.splitDockWidget(dock, win.meta_dock, Qt.Orientation.Vertical)
    dock.visibilityChanged.connect(lambda on: ctl.refresh() if on else None)
    win.histogram_dock = dock
    act = _act(win, "Clipping warning", ctl.set_clipping, "J",
               "Show crushed shadows (blue) and blown highlights (red) over the processed picture",
               checkable=True, section="View")
    win.actions_by_name["clipping"] = act
    view_menu = next((a.menu() for a in win.menuBar().actions() if a.text() == "&View"), None)
    if view_menu is not None:
        view_menu.insertAction(win.view_menu.menuAction(), act)
    win.view_menu.addAction(dock.toggleViewAction())
    return ctl
