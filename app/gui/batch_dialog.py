"""Batch export: apply the current recipe to every photo of a folder, as a queue with progress.

Each photo is one job on the compute worker (group "batch", queued, not superseding), so the
queue shows per-file state, a failing file does not stop the others, Cancel stops the queue,
and interactive previews still jump ahead (higher priority). Originals are never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.io.naming import claim_name
from app.core.io.provenance import written_by_photorestore
from app.core.ops import get_op
from app.core.pipeline import Step
from app.core.workflow import ExportOptions, export_file, output_path, photos_in
from app.gui.export_dialog import ExportOptionsWidget
from app.gui.thumb_strip import ThumbStrip
from app.gui.workers import Job, Worker


class BatchDialog(QDialog):
    """Non-modal queue of exports.

    Signals:
        finished_all(int, int): (succeeded, failed) when the queue is done.
    """

    finished_all = Signal(int, int)

    def __init__(self, worker: Worker, steps: Callable[[], Sequence[Step]], opts: ExportOptions, folder: str,
                 device: Callable[[], str] = lambda: "auto", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch export")
        self.setObjectName("batchDialog")
        self._worker, self._steps, self._device = worker, steps, device
        self.jobs: list[Job] = []
        self.files: list[Path] = []
        self.ok_count = self.fail_count = 0
        lay = QVBoxLayout(self)
        self.input_edit, row = self._folder_row("Photos in", folder, self._pick_input)
        lay.addLayout(row)
        self.output_edit, row = self._folder_row("Save to", str(Path(folder) / "restored"), self._pick_output)
        lay.addLayout(row)
        self.options_widget = ExportOptionsWidget(opts)
        lay.addWidget(self.options_widget)
        self.recipe_label = QLabel()
        self.recipe_label.setWordWrap(True)
        lay.addWidget(self.recipe_label)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Photo", "Status"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay.addWidget(self.table, 1)
        self.strip = ThumbStrip(worker)  # what the queue will process, before Start
        lay.addWidget(self.strip)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        lay.addWidget(self.progress)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel queue")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, close):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.input_edit.textChanged.connect(self.scan)
        self.resize(760, 680)
        self.scan()

    def _folder_row(self, label: str, value: str, pick: Callable[[], None]) -> tuple[QLineEdit, QHBoxLayout]:
        row = QHBoxLayout()
        edit = QLineEdit(value)
        b = QPushButton("Browse…")
        b.clicked.connect(pick)
        row.addWidget(QLabel(label))
        row.addWidget(edit, 1)
        row.addWidget(b)
        return edit, row

    def _pick_input(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Folder of photos", self.input_edit.text())
        if d:
            self.input_edit.setText(d)
            self.output_edit.setText(str(Path(d) / "restored"))

    def _pick_output(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Save exports to", self.output_edit.text())
        if d:
            self.output_edit.setText(d)

    def scan(self) -> None:
        """List the photos of the input folder; files this app wrote (its Software tag) are skipped."""
        folder = Path(self.input_edit.text().strip())
        found = photos_in(folder) if folder.is_dir() else []
        ours = [p for p in found if written_by_photorestore(p)]
        self.files = [p for p in found if p not in ours]
        self.skipped = ours
        self.table.setRowCount(len(self.files) + len(ours))
        for r, p in enumerate(self.files + ours):
            self.table.setItem(r, 0, QTableWidgetItem(p.name))
            status = QTableWidgetItem("waiting" if r < len(self.files) else "skipped: written by PhotoRestore")
            self.table.setItem(r, 1, status)
        self.strip.set_files(self.files)
        steps = list(self._steps())
        names = ", ".join(get_op(s.op_id).label for s in steps) or "no restorations (plain conversion)"
        skipped = f" ({len(ours)} skipped: exports of this app)" if ours else ""
        self.recipe_label.setText(f"{len(self.files)} photo(s){skipped}. Recipe: {names}.")
        self.start_button.setEnabled(bool(self.files))

    def start(self) -> None:
        out_dir = Path(self.output_edit.text().strip())
        out_dir.mkdir(parents=True, exist_ok=True)
        opts = self.options_widget.options()
        steps = list(self._steps())
        self.jobs, self.ok_count, self.fail_count = [], 0, 0
        taken: set[str] = set()  # a.jpg and a.png must not both become a_restored.jpg (nor replace each other)
        for r, src in enumerate(self.files):
            out = claim_name(output_path(src, out_dir, opts), src.suffix.lstrip(".").lower(), taken,
                             avoid_existing=not opts.overwrite)
            job = self._worker.submit(lambda ctx, s=src, o=out: export_file(s, steps, o, opts, ctx),
                                      name=f"Export {src.name}", group="batch", supersede=False,
                                      device=self._device())
            job.started.connect(lambda r=r: self._status(r, "processing…"))
            job.progressed.connect(lambda f, t, r=r: self._status(r, f"{f * 100:.0f} % {t}"))
            job.progressed.connect(lambda *_: self._update_progress())
            job.resulted.connect(lambda path, r=r: self._done(r, f"saved {Path(path).name}", True))
            job.failed.connect(lambda msg, r=r: self._done(r, f"failed: {msg}", False))
            job.cancelled.connect(lambda r=r: self._status(r, "cancelled"))
            job.finished.connect(self._update_progress)
            self.jobs.append(job)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def cancel(self) -> None:
        for job in self.jobs:
            job.cancel()
        self._worker.cancel("batch")

    def _status(self, row: int, text: str) -> None:
        item = self.table.item(row, 1)
        if item is not None:
            item.setText(text)
            item.setToolTip(text)

    def _done(self, row: int, text: str, ok: bool) -> None:
        self._status(row, text)
        if ok:
            self.ok_count += 1
        else:
            self.fail_count += 1

    def _update_progress(self) -> None:
        done = sum(j.done for j in self.jobs)
        running = next((j for j in self.jobs if j.state == "running"), None)
        frac = (done + (running.fraction if running else 0.0)) / max(1, len(self.jobs))
        self.progress.setValue(round(frac * 1000))
        if self.jobs and done == len(self.jobs):
            self.start_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self.finished_all.emit(self.ok_count, self.fail_count)

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self.strip.cancel()
        if any(not j.done for j in self.jobs):
            self.cancel()
        super().closeEvent(event)
