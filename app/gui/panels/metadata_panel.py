"""Metadata panel: file, size, camera, lens, ISO, exposure... from ``Metadata.summary()``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from app.core.image import Metadata


class MetadataPanel(QWidget):
    """A read-only form of the open photo's metadata."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(8, 8, 8, 8)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.fields: dict[str, str] = {}
        self.show_metadata(None, None, None)

    def show_metadata(self, path: str | None, meta: Metadata | None, size: tuple[int, int] | None,
                      *, decoding: bool = False) -> None:
        """Fill the form. ``size`` is (width, height) of the full photo, when known."""
        fields: dict[str, str] = {}
        if path:
            fields["File"] = Path(path).name
            fields["Folder"] = str(Path(path).parent)
        if size:
            w, h = size
            fields["Size"] = f"{w} × {h} px ({w * h / 1e6:.1f} MP)"
        elif decoding:
            fields["Size"] = "decoding…"
        if meta is not None:
            fields.update(meta.summary())
            if meta.bit_depth and "Bit depth" not in fields:
                fields["Bit depth"] = f"{meta.bit_depth}-bit"
        if not fields:
            fields["—"] = "No photo open"
        self.fields = fields
        while self.form.rowCount():
            self.form.removeRow(0)
        for key, value in fields.items():
            # zero-width spaces let long file names wrap at "_", "-", "/" instead of being cut
            shown = value.replace("_", "_\u200b").replace("-", "-\u200b").replace("/", "/\u200b")
            label = QLabel(shown)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            label.setToolTip(value)
            self.form.addRow(f"{key}:", label)
