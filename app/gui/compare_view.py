"""Before/after compare view: split with a draggable divider, side by side, or one of the two.

Both pictures are :class:`~app.gui.imaging.Pyramid` stacks in the same reference frame (the
full-resolution photo). Each paint draws only the visible region, from the pyramid level
closest to the zoom, so a 24-MP photo pans and zooms smoothly; a 1:1 detail render can be laid
over the preview where the user zooms in. Zoom and pan are shared by both panes (synced).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from app.gui.compare_overlay import ACCENT as _ACCENT
from app.gui.compare_overlay import draw_badge, draw_divider
from app.gui.imaging import Pyramid
from app.gui.view_geometry import Viewport

MODES = ("split", "side", "after", "before")
_BG = QColor(24, 24, 26)
_GRAB_PX = 8


class CompareView(QWidget):
    """The photo canvas.

    Signals:
        zoom_changed(float): effective zoom, device px per photo px (1.0 = 100 %).
        view_changed(): zoom, pan or size changed (detail renders listen, debounced).
        split_moved(float): divider position as a fraction of the width.
        mode_changed(str): one of ``MODES``.
    """

    zoom_changed = Signal(float)
    view_changed = Signal()
    split_moved = Signal(float)
    mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vp = Viewport()
        self._before: list[Pyramid] = []
        self._after: list[Pyramid] = []
        self._split = 0.5
        self._mode = "split"
        self._holding = False
        self._loupe = False
        self._drag: str | None = None
        self._last = QPointF()
        self._mouse: QPointF | None = None
        self.placeholder = "Open a photo — Ctrl+O, drag and drop, or File ▸ Open Recent"
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(240, 180)

    # -- content ------------------------------------------------------------------------------------
    def set_reference_size(self, width: float, height: float) -> None:
        self._vp.resize_reference(width, height)
        self._changed()

    def set_before(self, pyramids: list[Pyramid]) -> None:
        self._before = list(pyramids)
        self.update()

    def set_after(self, pyramids: list[Pyramid]) -> None:
        self._after = list(pyramids)
        self.update()

    def clear(self) -> None:
        self._before, self._after = [], []
        self.update()

    def after_layers(self) -> list[Pyramid]:
        return list(self._after)

    def before_layers(self) -> list[Pyramid]:
        return list(self._before)

    def set_overlay(self, pyramid: Pyramid | None) -> None:
        """A layer painted over the *after* picture only (the clipping warning); None removes it."""
        if pyramid is None and getattr(self, "_overlay", None) is None:
            return
        self._overlay = pyramid
        self.update()

    def reference_size(self) -> tuple[float, float]:
        return self._vp.ref_w, self._vp.ref_h

    @property
    def has_image(self) -> bool:
        return bool(self._before)

    # -- view state ----------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown compare mode {mode!r}")
        if mode != self._mode:
            self._mode = mode
            self.mode_changed.emit(mode)
            self._changed()

    @property
    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, float(fraction)))
        self.split_moved.emit(self._split)
        self.update()

    def hold_original(self, on: bool) -> None:
        """Show the unprocessed photo while ``on`` (press-and-hold)."""
        if on != self._holding:
            self._holding = on
            self.update()

    def set_loupe(self, on: bool) -> None:
        self._loupe = bool(on)
        self.update()

    @property
    def loupe(self) -> bool:
        return self._loupe

    def zoom(self) -> float:
        return self._vp.effective_zoom(self._panes()[0][0])

    def is_fit(self) -> bool:
        return self._vp.zoom is None

    def fit(self) -> None:
        self._vp.zoom = None
        self._changed()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        pane = self._pane_at(anchor) if anchor is not None else self._panes()[0][0]
        self._vp.dpr = self.devicePixelRatioF()
        self._vp.set_zoom(pane, zoom, anchor)
        self._changed()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.zoom() * factor, anchor)

    def actual_size(self) -> None:
        """100 %: one photo pixel per physical screen pixel."""
        self.set_zoom(1.0)

    def visible_rect(self) -> QRectF:
        """Visible part of the photo, in full-resolution pixels (for 1:1 detail renders)."""
        return self._vp.visible_ref(self._panes()[0][0])

    def pan_by(self, dx: float, dy: float) -> None:
        self._vp.pan(self._panes()[0][0], dx, dy)
        self._changed()

    # -- geometry -----------------------------------------------------------------------------------
    def _panes(self) -> list[tuple[QRectF, str]]:
        r = QRectF(self.rect())
        if self._mode == "side" and not self._holding:
            half = r.width() / 2
            return [(QRectF(r.left(), r.top(), half - 1, r.height()), "before"),
                    (QRectF(r.left() + half + 1, r.top(), half - 1, r.height()), "after")]
        if self._holding:
            return [(r, "before")]
        return [(r, self._mode)]

    def _pane_at(self, pos: QPointF) -> QRectF:
        for pane, _ in self._panes():
            if pane.contains(pos):
                return pane
        return self._panes()[0][0]

    def _divider_x(self) -> float:
        return self.width() * self._split

    def _near_divider(self, pos: QPointF) -> bool:
        return self._mode == "split" and not self._holding and abs(pos.x() - self._divider_x()) <= _GRAB_PX

    def _changed(self) -> None:
        self._vp.dpr = self.devicePixelRatioF()
        self.update()
        self.zoom_changed.emit(self.zoom())
        self.view_changed.emit()

    # -- painting -----------------------------------------------------------------------------------
    def _layers(self, which: str) -> list[Pyramid]:
        if which == "after" and self._after:
            overlay = getattr(self, "_overlay", None)
            return self._after + ([overlay] if overlay is not None else [])
        return self._before

    def _draw_layers(self, p: QPainter, vp: Viewport, pane: QRectF, layers: list[Pyramid]) -> None:
        vis = vp.visible_ref(pane)
        zoom = vp.effective_zoom(pane)
        s = vp.scale(pane)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom < 2.0)
        for pyr in layers:
            ox, oy = pyr.origin
            rw, rh = pyr.ref_size()
            cover = QRectF(ox, oy, rw, rh).intersected(vis)
            if cover.isEmpty():
                continue
            level, ls = pyr.pick(zoom)
            src = QRectF((cover.x() - ox) * ls, (cover.y() - oy) * ls,
                         cover.width() * ls, cover.height() * ls)
            tl = vp.to_widget(pane, cover.x(), cover.y())
            p.drawImage(QRectF(tl.x(), tl.y(), cover.width() * s, cover.height() * s), level.qimage, src)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), _BG)
        self._vp.dpr = self.devicePixelRatioF()
        if not self._before:
            p.setPen(QColor(150, 150, 155))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        for pane, which in self._panes():
            p.save()
            p.setClipRect(pane)
            if which == "split":
                x = self._divider_x()
                p.save()
                p.setClipRect(QRectF(pane.left(), pane.top(), x - pane.left(), pane.height()))
                self._draw_layers(p, self._vp, pane, self._layers("before"))
                p.restore()
                p.setClipRect(QRectF(x, pane.top(), pane.right() - x + 1, pane.height()))
                self._draw_layers(p, self._vp, pane, self._layers("after"))
            else:
                self._draw_layers(p, self._vp, pane, self._layers(which))
            p.restore()
        self._draw_chrome(p)
        if self._loupe and self._mouse is not None:
            self._draw_loupe(p, self._mouse)

    def _draw_chrome(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._holding:
            draw_badge(p, self.font(), "ORIGINAL", 10, 10)
            return
        panes = self._panes()
        if self._mode == "split":
            x = self._divider_x()
            draw_divider(p, x, self.height())
            if x > 80:
                draw_badge(p, self.font(), "BEFORE", 10, 10)
            if x < self.width() - 80:
                draw_badge(p, self.font(), "AFTER", self.width() - 10, 10, right=True)
        elif self._mode == "side":
            draw_badge(p, self.font(), "BEFORE", panes[0][0].left() + 10, 10)
            draw_badge(p, self.font(), "AFTER", panes[1][0].right() - 10, 10, right=True)
            p.setPen(QPen(QColor(70, 70, 75), 2))
            p.drawLine(QPointF(self.width() / 2, 0), QPointF(self.width() / 2, self.height()))
        else:
            draw_badge(p, self.font(), self._mode.upper(), 10, 10)

    def _draw_loupe(self, p: QPainter, pos: QPointF) -> None:
        """A round magnifier at 1:1 (or 2x the current zoom when already past 100 %)."""
        pane = self._pane_at(pos)
        which = next(w for r, w in self._panes() if r == pane)
        if which == "split":
            which = "before" if pos.x() < self._divider_x() else "after"
        anchor = self._vp.to_ref(pane, pos)
        radius = 110.0
        box = QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius)
        vp = Viewport(self._vp.ref_w, self._vp.ref_h, max(1.0, 2 * self.zoom()), anchor.x(), anchor.y(),
                      self._vp.dpr)
        path = QPainterPath()
        path.addEllipse(box)
        p.save()
        p.setClipPath(path)
        p.fillRect(box, _BG)
        self._draw_layers(p, vp, box, self._layers(which))
        p.restore()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(_ACCENT, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(box)
        # 1:1 while the view is at or below 100 %, else twice the view's zoom: say which.
        label = f"{which.upper()} 1:1" if abs(vp.zoom - 1.0) < 1e-3 else f"{which.upper()} 2× · {vp.zoom * 100:.0f} %"
        draw_badge(p, self.font(), label, box.center().x() - 40, box.bottom() - 26)

    # -- interaction ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position()
        self._drag = "divider" if self._near_divider(pos) else "pan"
        self._last = pos
        if self._drag == "pan":
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        self._mouse = pos
        if self._drag == "divider":
            self.set_split(pos.x() / max(1, self.width()))
        elif self._drag == "pan":
            d = pos - self._last
            self._last = pos
            self.pan_by(d.x(), d.y())
        else:
            near = self._near_divider(pos)
            self.setCursor(Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.OpenHandCursor)
        if self._loupe:
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self.is_fit():
            self.set_zoom(1.0, event.position())
        else:
            self.fit()

    def leaveEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self._mouse = None
        if self._loupe:
            self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120.0
        if steps and self._before:
            self.zoom_by(1.2 ** steps, event.position())
        event.accept()

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self._changed()
