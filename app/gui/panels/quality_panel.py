"""Image-quality panel: analysis and no-reference scores for before/after, PSNR/SSIM with a reference."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.workflow.quality import QualityReport


class QualityPanel(QWidget):
    """Shows a :class:`~app.core.workflow.quality.QualityReport`.

    Signals:
        analyse_requested(): the user asked for a fresh report.
        reference_requested(): the user wants to pick a reference photo.
        reference_cleared()
    """

    analyse_requested = Signal()
    reference_requested = Signal()
    reference_cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("qualityTable")
        self.table.setHorizontalHeaderLabels(["Measure", "Before", "After"])
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        lay.addWidget(self.table, 1)
        self.status = QLabel("Open a photo to see its quality figures.")
        self.status.setWordWrap(True)
        self.status.setObjectName("dimLabel")
        lay.addWidget(self.status)
        row = QHBoxLayout()
        for text, sig in (("Analyse", self.analyse_requested), ("Reference…", self.reference_requested),
                          ("Clear reference", self.reference_cleared)):
            b = QPushButton(text)
            b.clicked.connect(sig.emit)
            row.addWidget(b)
        lay.addLayout(row)
        self.reference_name = ""

    def clear(self, text: str = "Open a photo to see its quality figures.") -> None:
        """Drop every figure (another photo is loading, or none is open) and say why."""
        self.table.setRowCount(0)
        self.status.setText(text)

    def set_busy(self, text: str = "Measuring…") -> None:
        self.status.setText(text)

    def set_reference(self, name: str) -> None:
        self.reference_name = name
        self.status.setText(f"Reference: {name}" if name else "No reference loaded.")

    def show_report(self, report: QualityReport) -> None:
        self.table.setRowCount(len(report.rows))
        for r, row in enumerate(report.rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeRowsToContents()
        ref = f"Reference: {self.reference_name}. " if self.reference_name else ""
        self.status.setText(ref + " ".join(report.notes) + " Measured on the preview.")
