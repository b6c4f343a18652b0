"""Zoom/pan arithmetic of the compare view, kept free of painting so it is easy to test.

Coordinates: *reference* pixels are full-resolution photo pixels; *logical* pixels are Qt
widget coordinates; *device* pixels are logical x devicePixelRatio. ``zoom`` is device pixels
per reference pixel, so 100 % means one photo pixel per physical screen pixel (high-DPI correct).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF

MIN_ZOOM = 0.02
MAX_ZOOM = 32.0


@dataclass
class Viewport:
    """Shared zoom and centre of every pane (panes stay in sync by construction).

    Attributes:
        ref_w, ref_h: size of the photo in reference pixels.
        zoom: device px per reference px, or None for "fit to pane".
        cx, cy: reference point shown at the pane centre.
        dpr: device pixel ratio of the widget.
    """

    ref_w: float = 1.0
    ref_h: float = 1.0
    zoom: float | None = None
    cx: float = 0.5
    cy: float = 0.5
    dpr: float = 1.0

    def fit_zoom(self, pane: QRectF) -> float:
        """Device px per ref px that fits the whole photo in ``pane`` (with a small margin)."""
        if pane.width() <= 1 or pane.height() <= 1:
            return 1.0
        s = min((pane.width() - 8) / self.ref_w, (pane.height() - 8) / self.ref_h)
        return max(MIN_ZOOM, s * self.dpr)

    def effective_zoom(self, pane: QRectF) -> float:
        return self.fit_zoom(pane) if self.zoom is None else self.zoom

    def scale(self, pane: QRectF) -> float:
        """Logical px per reference px."""
        return self.effective_zoom(pane) / self.dpr

    def center(self) -> tuple[float, float]:
        if self.zoom is None:
            return self.ref_w / 2, self.ref_h / 2
        return self.cx, self.cy

    def to_widget(self, pane: QRectF, rx: float, ry: float) -> QPointF:
        s = self.scale(pane)
        cx, cy = self.center()
        return QPointF(pane.center().x() + (rx - cx) * s, pane.center().y() + (ry - cy) * s)

    def to_ref(self, pane: QRectF, p: QPointF) -> QPointF:
        s = self.scale(pane)
        cx, cy = self.center()
        return QPointF(cx + (p.x() - pane.center().x()) / s, cy + (p.y() - pane.center().y()) / s)

    def image_rect(self, pane: QRectF) -> QRectF:
        """Where the whole photo lands in widget coordinates."""
        tl = self.to_widget(pane, 0, 0)
        s = self.scale(pane)
        return QRectF(tl.x(), tl.y(), self.ref_w * s, self.ref_h * s)

    def visible_ref(self, pane: QRectF) -> QRectF:
        """The part of the photo visible in ``pane``, in reference pixels (clipped to the photo)."""
        a = self.to_ref(pane, pane.topLeft())
        b = self.to_ref(pane, pane.bottomRight())
        return QRectF(a, b).intersected(QRectF(0, 0, self.ref_w, self.ref_h))

    def set_zoom(self, pane: QRectF, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom so the reference point under ``anchor`` (widget coords) stays put."""
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        anchor = anchor if anchor is not None else pane.center()
        before = self.to_ref(pane, anchor)
        self.cx, self.cy = self.center()
        self.zoom = zoom
        after = self.to_ref(pane, anchor)
        self.cx += before.x() - after.x()
        self.cy += before.y() - after.y()
        self.clamp(pane)

    def pan(self, pane: QRectF, dx: float, dy: float) -> None:
        """Move the photo by (dx, dy) logical pixels."""
        s = self.scale(pane)
        if self.zoom is None:
            self.cx, self.cy = self.center()
            self.zoom = self.fit_zoom(pane)
        self.cx -= dx / s
        self.cy -= dy / s
        self.clamp(pane)

    def clamp(self, pane: QRectF) -> None:
        """Keep the photo from leaving the pane entirely; centre it on an axis where it fits."""
        s = self.scale(pane)
        half_w, half_h = pane.width() / (2 * s), pane.height() / (2 * s)
        self.cx = _clamp_axis(self.cx, half_w, self.ref_w)
        self.cy = _clamp_axis(self.cy, half_h, self.ref_h)

    def resize_reference(self, w: float, h: float) -> None:
        """The photo's reference size changed (quick preview -> full decode): keep the same view."""
        if w <= 0 or h <= 0:
            return
        f = w / self.ref_w if self.ref_w > 0 else 1.0
        if self.zoom is not None:
            self.zoom = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom / f))
            self.cx *= f
            self.cy *= h / self.ref_h if self.ref_h > 0 else 1.0
        self.ref_w, self.ref_h = float(w), float(h)


def _clamp_axis(c: float, half: float, size: float) -> float:
    """Centre coordinate on one axis: centred if the photo fits, else kept inside the photo."""
    return size / 2 if half * 2 >= size else min(max(c, half), size - half)
