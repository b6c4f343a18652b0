"""A horizontal strip of small thumbnails (batch export shows what it is about to process).

Thumbnails come from :func:`app.core.io.load_preview` (a RAW's embedded JPEG, a reduced raster decode) in
low-priority background jobs, one per file, so a folder of RAWs never blocks the dialog; a file whose
preview cannot be read keeps a grey tile with its name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from app.gui.workers import Worker

SIDE = 96


def _thumbnail(path: Path, ctx: object) -> np.ndarray | None:
    from app.core.image import ColorSpace
    from app.core.io import load_preview
    from app.gui.imaging import to_display_u8

    img = load_preview(path, max_side=SIDE * 2)
    if img.space is not ColorSpace.SRGB:
        return None  # a RAW without an embedded preview: developing it is not worth a thumbnail
    return np.ascontiguousarray(to_display_u8(img.data))


class ThumbStrip(QListWidget):
    """``set_files(paths)`` fills the strip; thumbnails arrive as their jobs finish."""

    def __init__(self, worker: Worker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbStrip")
        self._worker = worker
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(SIDE, SIDE))
        self.setGridSize(QSize(SIDE + 28, SIDE + 26))  # one caption line under each thumbnail
        self.setUniformItemSizes(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setFixedHeight(SIDE + 48)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.jobs: list = []
        self.loaded = 0

    def set_files(self, files: list[Path]) -> None:
        for job in self.jobs:
            job.cancel()
        self.clear()
        self.jobs, self.loaded = [], 0
        grey = QPixmap(SIDE, SIDE)
        grey.fill(QColor(60, 60, 64))
        for p in files:
            item = QListWidgetItem(QIcon(grey), p.name)
            item.setToolTip(str(p))
            self.addItem(item)
            job = self._worker.submit(lambda ctx, p=p: _thumbnail(p, ctx), name=f"Thumbnail {p.name}",
                                      group="thumbs", supersede=False, priority=-20)
            job.resulted.connect(lambda arr, it=item: self._show(it, arr))
            self.jobs.append(job)

    def _show(self, item: QListWidgetItem, arr: np.ndarray | None) -> None:
        if arr is None or self.row(item) < 0:
            return
        h, w = arr.shape[:2]
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()
        item.setIcon(QIcon(QPixmap.fromImage(img).scaled(SIDE, SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                                         Qt.TransformationMode.SmoothTransformation)))
        self.loaded += 1

    def cancel(self) -> None:
        for job in self.jobs:
            job.cancel()
