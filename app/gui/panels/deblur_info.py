"""What the shake and defocus ops found, shown in their op cards, plus the shake op's region picker.

The ops record their findings in ``meta.extra`` (the estimated kernel, the defocus radius, and why they
left a photo alone); the main window passes each rendered preview here. The kernel is the one estimated
on the *preview*, i.e. at preview scale. "Pick region…" opens the preview in a dialog where a dragged
rectangle becomes the op's ``region`` parameter (fractions of the frame, so it holds at full size).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRubberBand,
    QVBoxLayout,
    QWidget,
)

KERNEL_PX = 72  # the kernel's on-screen size


def kernel_pixmap(kernel: np.ndarray, size: int = KERNEL_PX) -> QPixmap:
    """A kernel as a white-on-black image scaled (nearest) to ``size`` px, brightest tap = white."""
    k = np.asarray(kernel, np.float32)
    u8 = np.ascontiguousarray((255 * k / max(float(k.max()), 1e-12)).clip(0, 255).astype(np.uint8))
    img = QImage(u8.data, u8.shape[1], u8.shape[0], u8.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(img).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.FastTransformation)


def summary_text(op_id: str, info: dict) -> str:
    if not info:
        return "not run yet"
    if op_id == "shake":
        text = f"kernel {info.get('kernel_size')} px, radius {info.get('spread')} px"
    else:
        text = f"{info.get('shape')} radius {info.get('radius')} px"
        if "radius_max" in info:
            text += f" (map {info['radius_min']}–{info['radius_max']})"
    reason = info.get("reason", "")
    reason = reason if len(reason) <= 40 else reason[:39] + "…"
    return text + ("" if info.get("applied") else f"\nunchanged: {reason}")


class RegionDialog(QDialog):
    """The preview with a rubber band: the dragged rectangle as "x0,y0,x1,y1" fractions."""

    def __init__(self, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shake reduction: drag over a detailed area")
        self.label = QLabel()
        self.label.setPixmap(QPixmap.fromImage(image).scaled(QSize(720, 540), Qt.AspectRatioMode.KeepAspectRatio,
                                                             Qt.TransformationMode.SmoothTransformation))
        self.label.setFixedSize(self.label.pixmap().size())
        self.band = QRubberBand(QRubberBand.Shape.Rectangle, self.label)
        self._origin = QPoint()
        self.rect = QRect()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        lay.addWidget(buttons)
        self.label.installEventFilter(self)

    def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
        t = ev.type()
        if t == ev.Type.MouseButtonPress:
            self._origin = ev.position().toPoint()
            self.band.setGeometry(QRect(self._origin, QSize()))
            self.band.show()
        elif t == ev.Type.MouseMove and self.band.isVisible():
            self.set_rect(QRect(self._origin, ev.position().toPoint()).normalized())
        return super().eventFilter(obj, ev)

    def set_rect(self, rect: QRect) -> None:
        self.rect = rect.intersected(self.label.rect())
        self.band.setGeometry(self.rect)

    def region_text(self) -> str:
        w, h = self.label.width(), self.label.height()
        r = self.rect
        if r.width() < 8 or r.height() < 8:
            return ""
        return (f"{r.left() / w:.3f},{r.top() / h:.3f},{min(1.0, (r.right() + 1) / w):.3f},"
                f"{min(1.0, (r.bottom() + 1) / h):.3f}")


class DeblurInfo(QWidget):
    """Kernel image (shake), radius text, and for shake the region picker; ``region_picked(str)``."""

    region_picked = Signal(str)

    def __init__(self, op_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.op_id = op_id
        self.image: QImage | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.kernel = QLabel()
        self.kernel.setObjectName("shakeKernel")
        self.kernel.setFixedSize(KERNEL_PX, KERNEL_PX)
        self.kernel.setStyleSheet("background: black;")
        self.kernel.setVisible(op_id == "shake")
        lay.addWidget(self.kernel)
        col = QVBoxLayout()
        # no word wrap: a wrapping label's height-for-width is not propagated by the scrolling ops panel,
        # which then squeezes the card; summary_text breaks its own lines
        self.text = QLabel(summary_text(op_id, {}))
        col.addWidget(self.text)
        if op_id == "shake":
            self.pick = QPushButton("Pick region…")
            self.pick.setToolTip("Drag a rectangle over a detailed, unclipped area to estimate the kernel from")
            self.pick.clicked.connect(self.pick_region)
            self.pick.setEnabled(False)
            col.addWidget(self.pick)
        lay.addLayout(col, 1)
        self.setMinimumHeight(KERNEL_PX if op_id == "shake" else 0)

    def show_result(self, info: dict, image: QImage | None = None) -> None:
        self.text.setText(summary_text(self.op_id, info))
        self.text.setToolTip(info.get("reason", ""))
        if self.op_id == "shake" and info.get("kernel"):
            self.kernel.setPixmap(kernel_pixmap(np.array(info["kernel"], np.float32)))
        if image is not None:
            self.image = image
            if self.op_id == "shake":
                self.pick.setEnabled(True)

    def pick_region(self) -> None:
        if self.image is None:
            return
        dlg = RegionDialog(self.image, self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.region_picked.emit(dlg.region_text())
