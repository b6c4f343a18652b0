"""Dialog-driven features of the main window: export, batch export, quality, recent files, help."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app import __version__
from app.core import workflow
from app.core.context import RunContext
from app.core.image import ColorSpace
from app.core.pipeline import Recipe
from app.core.workflow import AutoRecipe, ExportOptions, auto_recipe, export_file, export_image
from app.core.workflow.quality import QualityReport, quality_report
from app.gui.actions import SHORTCUTS
from app.gui.batch_dialog import BatchDialog
from app.gui.export_dialog import ExportDialog
from app.gui.workers import Job

if TYPE_CHECKING:
    from app.core.image import Image
    from app.gui.main_window import MainWindow


class WindowDialogsMixin:
    """Mixed into :class:`~app.gui.main_window.MainWindow` (``self`` is the window)."""

    # -- export --------------------------------------------------------------------------------------
    def export_options(self: MainWindow) -> ExportOptions:
        s = self.settings
        return ExportOptions(format=s.export_format, quality=s.export_quality,
                             keep_metadata=s.export_keep_metadata)

    def export_dialog(self: MainWindow) -> None:
        if self.doc is None:
            self.show_message("Open a photo first.", "info")
            return
        folder = self.settings.export_folder or str(Path(self.doc.path).parent)
        dlg = ExportDialog(self.doc.path, folder, self.export_options(), self.doc.full_size, self)
        if dlg.exec():
            self.export_to(dlg.target(), dlg.options())

    def export_to(self: MainWindow, target: str | Path, opts: ExportOptions) -> Job | None:
        """Process the open photo at full resolution and save it to ``target`` (in the worker)."""
        doc = self.doc
        if doc is None:
            return None
        target = Path(target)
        s = self.settings
        s.export_format, s.export_quality = opts.format, opts.quality
        s.export_keep_metadata = opts.keep_metadata
        s.export_folder = str(target.parent)
        steps = list(self.model.active_steps())
        if doc.full is not None:
            source = doc.full.source
            fn = lambda ctx: export_image(source, steps, target, opts, ctx, protect=(doc.path,))  # noqa: E731
        else:
            fn = lambda ctx: export_file(doc.path, steps, target, opts, ctx)  # noqa: E731
        job = self.compute.submit(fn, name=f"Exporting {target.name}", group="export", supersede=False,
                                  device=self.ops_panel.device_value())
        job.resulted.connect(lambda path: self._exported(str(path)))
        job.failed.connect(lambda msg: self.show_message(f"Export failed: {msg}", "error"))
        job.cancelled.connect(lambda: self.show_message("Export cancelled.", "info"))
        self.job_bar.track(job)
        return job

    def _exported(self: MainWindow, path: str) -> None:
        self.show_message(f"Exported {Path(path).name} to {Path(path).parent}", "info")
        self.exported.emit(path)

    def batch_dialog(self: MainWindow) -> BatchDialog:
        folder = str(Path(self.doc.path).parent) if self.doc is not None else self.settings.last_folder
        dlg = BatchDialog(self.compute, self.model.active_steps, self.export_options(), folder,
                          self.ops_panel.device_value, self)
        dlg.finished_all.connect(lambda ok, bad: self.show_message(
            "Batch export: " + "; ".join(line.removeprefix("batch: ") for line in dlg.summary_text.splitlines()),
            "error" if bad else "info"))
        dlg.show()
        return dlg

    # -- automatic recipe --------------------------------------------------------------------------
    def auto_recipe(self: MainWindow) -> Job | None:
        """Analyse the photo in the background and apply the recipe the core proposes (undoable)."""
        doc = self.doc
        if doc is None:
            self.show_message("Open a photo first.", "info")
            return None
        image = doc.full.source if doc.full is not None else doc.quick.image if doc.quick else None
        if image is None:
            return None

        job = self.io_worker.submit(lambda ctx: auto_recipe(image, doc.whole_plan()), name="Analysing photo",
                                    group="auto")
        job.resulted.connect(self._auto_planned)
        job.failed.connect(lambda msg: self.show_message(f"Auto recipe failed: {msg}", "error"))
        self.job_bar.track(job)
        return job

    def _auto_planned(self: MainWindow, auto: AutoRecipe) -> None:
        self.model.apply_recipe(Recipe(auto.steps, "Auto"), "Auto recipe")
        found = "; ".join(auto.findings) or "nothing to fix"
        what = auto.described() or "no restorations"
        self.show_message(f"Auto — found {found}. Applied {what}.", "info")

    # -- quality -------------------------------------------------------------------------------------
    def _setup_quality(self: MainWindow) -> None:
        self.reference: Image | None = None
        self.quality_timer = QTimer(self)
        self.quality_timer.setSingleShot(True)
        self.quality_timer.setInterval(1000)
        self.quality_timer.timeout.connect(self.measure_quality)
        self.quality_panel.analyse_requested.connect(self.measure_quality)
        self.quality_panel.reference_requested.connect(self.load_reference)
        self.quality_panel.reference_cleared.connect(self._clear_reference)

    def _quality_soon(self: MainWindow) -> None:
        if self.quality_dock.isVisible():
            self.quality_timer.start()

    def measure_quality(self: MainWindow) -> Job | None:
        if self.doc is None or self.last_render is None:
            return None
        doc, request = self.doc, self.last_render.request
        before, after, ref = request.source, self.last_render.image, self.reference

        def measure(ctx: RunContext) -> QualityReport:
            # Before is the same rendering as After without the recipe (a RAW op's reduced mosaic
            # developed as the preview develops it), so the columns differ only by the ops.
            b = before if before.space is ColorSpace.SRGB else workflow.render(before, [], ctx.sub(0, 0.2))
            # The verdict on the photo is Auto's and `analyze`'s: the whole photo at full size, once per photo.
            plan = doc.whole_plan()
            return quality_report(b, after, ref, ctx, whole=plan.analysis if plan is not None else None)

        # On the I/O thread (numpy, LibRaw and the small CPU degradation prior Auto runs on 16 crops of
        # 96 px; no restoration network), so it never delays an interactive render.
        job = self.io_worker.submit(measure, name="Measuring quality", group="quality", priority=-1)
        self.quality_panel.set_busy()
        # A report that lands after another photo was opened is dropped (the panel was cleared for it).
        job.resulted.connect(lambda r: self.quality_panel.show_report(r) if doc is self.doc else None)
        job.failed.connect(lambda msg: self.quality_panel.set_busy(msg) if doc is self.doc else None)
        return job

    def load_reference(self: MainWindow, path: str | None = None) -> Job | None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Reference photo (ground truth)",
                                                  self.settings.last_folder)
        if not path:
            return None
        from app.gui.document import load_full

        job = self.io_worker.submit(lambda ctx: load_full(path, ctx), name="Loading reference",
                                    group="reference")
        job.resulted.connect(lambda r: self._reference_loaded(Path(path).name, r.preview))
        job.failed.connect(lambda msg: self.show_message(f"Reference: {msg}", "error"))
        return job

    def _reference_loaded(self: MainWindow, name: str, image: Image) -> None:
        self.reference = image
        self.quality_panel.set_reference(name)
        self.measure_quality()

    def _clear_reference(self: MainWindow) -> None:
        self.reference = None
        self.quality_panel.set_reference("")
        self.measure_quality()

    # -- recent files and help -----------------------------------------------------------------------
    def _fill_recent(self: MainWindow) -> None:
        m = self.recent_menu
        m.clear()
        files = self.settings.recent_files()
        for i, path in enumerate(files):
            a = QAction(f"&{(i + 1) % 10}  {Path(path).name}", m)
            a.setToolTip(path)
            a.setEnabled(Path(path).is_file())
            a.triggered.connect(lambda _=False, p=path: self.open_photo(p))
            m.addAction(a)
        if not files:
            m.addAction("(none)").setEnabled(False)
        m.addSeparator()
        m.addAction("Clear list", self.settings.clear_recent)

    def show_shortcuts(self: MainWindow) -> None:
        rows = "".join(f"<tr><td><i>{sec}</i></td><td><b>{keys}</b></td><td>{what}</td></tr>"
                       for sec, keys, what in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table cellspacing=6>{rows}</table>")

    def show_about(self: MainWindow) -> None:
        from app.gui.logfile import log_file

        QMessageBox.about(self, "About PhotoRestore",
                          f"<b>PhotoRestore {__version__}</b><p>RAW and sRGB photo restoration: denoise, "
                          "deblur, low-light enhancement and refinement with models trained by this "
                          f"project.</p><p>Settings: {self.settings.file_name}<br>Log: {log_file()}</p>")
