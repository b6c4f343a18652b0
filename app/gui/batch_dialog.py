"""Batch export: apply the current recipe to every photo of a folder, as a queue with progress.

The batch engine of ``photorestore run`` (app.core.batch) plans it: the same inputs (exports of this app
left out), the same manifest in the output folder (so a batch started again, from here or the command
line, skips what is done and redoes what was interrupted), the same per-photo function and the same
summary. Each photo is one job on the compute worker (group "batch", queued, not superseding), so the
queue shows per-file state, a failing file does not stop the others, Cancel stops the queue, and
interactive previews still jump ahead (higher priority). Originals are never overwritten.
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

from app.core.batch import (
    CANCELLED,
    DONE,
    BatchRun,
    JobResult,
    Manifest,
    ManifestError,
    expand_inputs,
    plan_batch,
    run_job,
)
from app.core.batch import Job as BatchJob
from app.core.ops import get_op
from app.core.pipeline import Step
from app.core.workflow import ExportOptions
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
        self.run: BatchRun | None = None
        self.summary_text = ""
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
        self.summary_label = QLabel()  # the run's summary, as `photorestore run` prints it
        self.summary_label.setObjectName("batchSummary")
        self.summary_label.setWordWrap(True)
        lay.addWidget(self.summary_label)
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
        self.files, ours = expand_inputs([folder], outdir=self.output_edit.text().strip() or None) \
            if folder.is_dir() else ([], [])
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
        try:
            manifest = Manifest.load(out_dir)
        except ManifestError as exc:
            self.summary_label.setText(str(exc))
            return
        # the plan: what the output folder's manifest says is done (same photo, same recipe) is skipped
        plan = plan_batch(self.files, out_dir, list(self._steps()), opts, manifest, format_choice=opts.format,
                          suffix="_restored")
        self.run = BatchRun(plan, manifest)
        self.jobs, self.ok_count, self.fail_count = [], 0, 0
        self.summary_label.clear()
        rows = {str(p.resolve()): r for r, p in enumerate(self.files)}
        for source, output in plan.done_before:
            self._status(rows[source], f"skipped: done earlier ({Path(output).name})")
        for bj in plan.jobs:
            r = rows.get(bj.source, 0)
            job = self._worker.submit(lambda ctx, b=bj: run_job(b, ctx), name=f"Export {bj.name}", group="batch",
                                      supersede=False, device=self._device())
            job.started.connect(lambda r=r, b=bj: self._started(r, b))
            job.progressed.connect(lambda f, t, r=r: self._status(r, f"{f * 100:.0f} % {t}"))
            job.progressed.connect(lambda *_: self._update_progress())
            job.resulted.connect(lambda res, r=r, b=bj: self._done(r, b, res))
            job.failed.connect(lambda msg, r=r, b=bj: self._done(r, b, JobResult(b.id, "failed", error=msg)))
            job.cancelled.connect(lambda r=r, b=bj: self._done(r, b, JobResult(b.id, CANCELLED)))
            job.finished.connect(self._update_progress)
            self.jobs.append(job)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(bool(self.jobs))
        if not self.jobs:
            self._finish()

    def cancel(self) -> None:
        for job in self.jobs:
            job.cancel()
        self._worker.cancel("batch")

    def _status(self, row: int, text: str) -> None:
        item = self.table.item(row, 1)
        if item is not None:
            item.setText(text)
            item.setToolTip(text)

    def _started(self, row: int, job: BatchJob) -> None:
        self._status(row, "processing…")
        if self.run is not None:
            self.run.job_started(job, "gui")

    def _done(self, row: int, job: BatchJob, result: JobResult) -> None:
        if self.run is not None:
            self.run.job_finished(job, result)  # the manifest: done/failed, or pending again if cancelled
        if result.status == DONE:
            self.ok_count += 1
            self._status(row, f"saved {Path(job.output).name}")
        elif result.status == CANCELLED:
            self._status(row, "cancelled")
        else:
            self.fail_count += 1
            self._status(row, f"failed: {result.error}")

    def _update_progress(self) -> None:
        done = sum(j.done for j in self.jobs)
        running = next((j for j in self.jobs if j.state == "running"), None)
        frac = (done + (running.fraction if running else 0.0)) / max(1, len(self.jobs))
        self.progress.setValue(round(frac * 1000))
        if self.jobs and done == len(self.jobs) and self.run is not None:
            self._finish()

    def _finish(self) -> None:
        summary = self.run.close()
        self.run = None
        self.summary_text = "\n".join(summary.lines())
        self.summary_label.setText(self.summary_text)
        self.progress.setValue(1000)
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.finished_all.emit(self.ok_count, self.fail_count)

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self.strip.cancel()
        if any(not j.done for j in self.jobs):
            self.cancel()
        super().closeEvent(event)
