"""Chrome painted over the compare view: the divider handle and the BEFORE/AFTER badges."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen

ACCENT = QColor(230, 230, 230)


def draw_badge(p: QPainter, font: QFont, text: str, x: float, y: float, right: bool = False) -> None:
    """A small dark label at (x, y) (its right edge at x when ``right``)."""
    f = QFont(font)
    f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
    f.setBold(True)
    p.setFont(f)
    w = p.fontMetrics().horizontalAdvance(text) + 14
    h = p.fontMetrics().height() + 6
    r = QRectF(x - w if right else x, y, w, h)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(0, 0, 0, 150))
    p.drawRoundedRect(r, 4, 4)
    p.setPen(ACCENT)
    p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)


def draw_divider(p: QPainter, x: float, height: float) -> None:
    """The split line with a round grab handle and two arrows at mid height."""
    p.setPen(QPen(ACCENT, 1.5))
    p.drawLine(QPointF(x, 0), QPointF(x, height))
    c = QPointF(x, height / 2)
    p.setBrush(QColor(40, 40, 44, 220))
    p.drawEllipse(c, 13, 13)
    for sgn in (-1, 1):
        tri = QPainterPath(QPointF(c.x() + sgn * 3, c.y() - 5))
        tri.lineTo(QPointF(c.x() + sgn * 8, c.y()))
        tri.lineTo(QPointF(c.x() + sgn * 3, c.y() + 5))
        tri.closeSubpath()
        p.fillPath(tri, ACCENT)
