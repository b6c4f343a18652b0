"""Export dialog: format, bit depth, quality, metadata, destination.

The dialog only collects choices; the main window runs the full-resolution processing and the
save in the compute worker (progress in the status bar, Cancel works).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.io import RAW_EXTENSIONS
from app.core.workflow import FORMATS, ExportOptions


class ExportOptionsWidget(QWidget):
    """Format / bit depth / quality / metadata / overwrite controls (shared with batch export)."""

    def __init__(self, opts: ExportOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.kind = QComboBox()
        self.kind.setObjectName("formatCombo")
        for label in dict.fromkeys(label for label, *_ in FORMATS):
            self.kind.addItem(label)
        self.depth = QComboBox()
        self.depth.setObjectName("depthCombo")
        self.quality = QSpinBox()
        self.quality.setObjectName("qualitySpin")
        self.quality.setRange(1, 100)
        self.quality.setSuffix(" %")
        self.keep_metadata = QCheckBox("Keep camera metadata (EXIF) and embed the sRGB profile")
        self.overwrite = QCheckBox("Replace an existing output file (the original photo is never replaced)")
        form.addRow("Format", self.kind)
        form.addRow("Bit depth", self.depth)
        form.addRow("JPEG quality", self.quality)
        form.addRow("", self.keep_metadata)
        form.addRow("", self.overwrite)
        self.kind.currentTextChanged.connect(self._kind_changed)
        self.set_options(opts)

    def _kind_changed(self, label: str) -> None:
        current = self.depth.currentData()
        self.depth.blockSignals(True)
        self.depth.clear()
        for lab, fmt, _, bits in FORMATS:
            if lab == label:
                self.depth.addItem(f"{bits}-bit", fmt)
        i = self.depth.findData(current)
        self.depth.setCurrentIndex(max(0, i))
        self.depth.blockSignals(False)
        self.depth.setEnabled(self.depth.count() > 1)
        self.quality.setEnabled(label == "JPEG")

    def set_options(self, opts: ExportOptions) -> None:
        label = next((lab for lab, fmt, *_ in FORMATS if fmt == opts.format), "JPEG")
        self.kind.setCurrentText(label)
        self._kind_changed(label)
        self.depth.setCurrentIndex(max(0, self.depth.findData(opts.format)))
        self.quality.setValue(opts.quality)
        self.keep_metadata.setChecked(opts.keep_metadata)
        self.overwrite.setChecked(opts.overwrite)

    def options(self) -> ExportOptions:
        return ExportOptions(format=str(self.depth.currentData()), quality=self.quality.value(),
                             keep_metadata=self.keep_metadata.isChecked(),
                             overwrite=self.overwrite.isChecked())


class ExportDialog(QDialog):
    """Choose how and where to export the open photo.

    Args:
        source: the photo being exported (used for the default name, and never overwritten).
        folder: default destination folder.
        opts: initial options (from settings).
        size: (width, height) of the full-resolution photo, for the summary line.
    """

    def __init__(self, source: str, folder: str, opts: ExportOptions, size: tuple[int, int] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export photo")
        self.setObjectName("exportDialog")
        self.source = source
        lay = QVBoxLayout(self)
        info = Path(source).name
        if size:
            info += f" — {size[0]} × {size[1]} px, processed at full resolution"

        lay.addWidget(QLabel(info))
        self.options_widget = ExportOptionsWidget(opts)
        lay.addWidget(self.options_widget)
        dest = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("exportPath")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        dest.addWidget(QLabel("Save as"))
        dest.addWidget(self.path_edit, 1)
        dest.addWidget(browse)
        lay.addLayout(dest)
        self.warning = QLabel()
        self.warning.setObjectName("warningLabel")
        self.warning.setWordWrap(True)
        lay.addWidget(self.warning)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self._folder = folder
        self.options_widget.depth.currentIndexChanged.connect(self._retarget)
        self.options_widget.kind.currentTextChanged.connect(self._retarget)
        self.options_widget.kind.currentTextChanged.connect(self._check)
        self.options_widget.overwrite.toggled.connect(self._check)
        self.path_edit.textChanged.connect(self._check)
        self._retarget()
        self.resize(560, self.sizeHint().height())

    def _retarget(self) -> None:
        from app.core.workflow import output_path, unique_path

        opts = self.options_widget.options()
        current = self.path_edit.text().strip()
        folder = str(Path(current).parent) if current else self._folder
        self.path_edit.setText(str(unique_path(output_path(self.source, folder, opts))))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export as", self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    def _check(self) -> bool:
        path = Path(self.path_edit.text().strip())
        msg = ""
        if not path.name:
            msg = "Choose a file name."
        elif path.resolve() == Path(self.source).resolve():
            msg = "That is the original photo; it is never overwritten. Choose another name."
        elif path.exists() and not self.options_widget.overwrite.isChecked():
            msg = f"{path.name} exists; tick “Replace an existing output file” or choose another name."
        elif not path.parent.is_dir():
            msg = f"Folder {path.parent} does not exist."
        elif self.options().format == "dng" and Path(self.source).suffix.lower() not in RAW_EXTENSIONS:
            msg = "DNG (RAW) export needs a RAW photo; choose JPEG, PNG or TIFF for this one."
        self.warning.setText(msg)
        self.export_button.setEnabled(not msg)
        return not msg

    def _accept(self) -> None:
        if self._check():
            self.accept()

    def target(self) -> Path:
        return Path(self.path_edit.text().strip())

    def options(self) -> ExportOptions:
        return self.options_widget.options()
