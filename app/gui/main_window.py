"""The main window: compare view in the centre, ops / metadata / quality docks, job bar below.

Behaviour lives in small collaborators: :class:`~app.gui.workers.Worker` (background jobs),
:class:`~app.gui.render_scheduler.RenderScheduler` (coalesced previews),
:class:`~app.gui.edit_model.EditModel` (recipe + undo), and the panels. Dialog-driven features
(export, batch, auto recipe, quality, help) are in :mod:`app.gui.window_dialogs`, preview and
1:1 detail rendering in :mod:`app.gui.window_render`.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.pipeline import Pipeline
from app.core.workflow import photos_in
from app.gui.actions import build_actions
from app.gui.compare_view import CompareView
from app.gui.document import Document, FullLoad, QuickLoad, load_full, load_quick
from app.gui.edit_model import EditModel
from app.gui.imaging import Pyramid
from app.gui.panels.histogram import install as install_histogram
from app.gui.panels.job_bar import JobBar
from app.gui.panels.message_bar import MessageBar
from app.gui.panels.metadata_panel import MetadataPanel
from app.gui.panels.ops_panel import OpsPanel
from app.gui.panels.quality_panel import QualityPanel
from app.gui.presets import Presets
from app.gui.render_scheduler import RenderResult, RenderScheduler
from app.gui.resources import OPEN_FILTER, icon_path
from app.gui.settings import Settings
from app.gui.sidecars import install as install_edits
from app.gui.window_dialogs import WindowDialogsMixin
from app.gui.window_render import DETAIL_THRESHOLD, WindowRenderMixin  # noqa: F401 - re-exported
from app.gui.workers import Worker

log = logging.getLogger("photorestore.gui")


class MainWindow(WindowRenderMixin, WindowDialogsMixin, QMainWindow):
    """PhotoRestore's window.

    Signals:
        photo_opened(str): the quick preview of a photo is on screen.
        photo_loaded(str): its full-resolution decode finished.
        open_failed(str): the photo could not be opened (message shown in the banner).
        preview_rendered(object): a :class:`RenderResult` was displayed.
    """

    photo_opened = Signal(str)
    photo_loaded = Signal(str)
    open_failed = Signal(str)
    preview_rendered = Signal(object)
    exported = Signal(str)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.setWindowTitle("PhotoRestore")
        self.setWindowIcon(QIcon(str(icon_path())))
        self.setAcceptDrops(True)
        self.io_worker = Worker("io", self)
        self.compute = Worker("compute", self)
        self.pipeline = Pipeline()
        self.model = EditModel(self)
        self.doc: Document | None = None
        self.last_render: RenderResult | None = None
        self.detail: Pyramid | None = None
        self.timings: dict[str, float] = {}
        self._opened_at = 0.0
        self._kept: Document | None = None

        self.view = CompareView()
        self.message_bar = MessageBar()
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.view, 1)
        self.setCentralWidget(central)
        self.message_bar.float_over(central)  # over the photo: a banner never pushes the image down

        self.ops_panel = OpsPanel(self.model, Presets())
        self.ops_panel.last_folder = self.settings.last_folder
        self.ops_panel.set_device(self.settings.device, self.settings.backend)
        self.metadata_panel = MetadataPanel()
        self.quality_panel = QualityPanel()
        self.ops_dock = self._dock("Restorations", "opsDock", self.ops_panel,
                                   Qt.DockWidgetArea.RightDockWidgetArea)
        meta_scroll = QScrollArea()
        meta_scroll.setWidgetResizable(True)
        meta_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        meta_scroll.setWidget(self.metadata_panel)
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        self.meta_dock = self._dock("Metadata", "metadataDock", meta_scroll, left)
        self.quality_dock = self._dock("Image quality", "qualityDock", self.quality_panel, left)

        self.job_bar = JobBar()
        self.render_label = QLabel()
        self.render_label.setObjectName("dimLabel")
        self.zoom_label = QLabel()
        self.statusBar().addWidget(self.job_bar)
        self.job_bar.cancelled_by_user.connect(lambda name: self.status_message(f"{name}: cancelled.", 6000))
        self.statusBar().addPermanentWidget(self.render_label)
        self.statusBar().addPermanentWidget(self.zoom_label)

        self.previews = RenderScheduler(self.compute, self.pipeline, self._preview_request, group="preview",
                                        delay_ms=40, device=self.ops_panel.device_value, parent=self)
        self.details = RenderScheduler(self.compute, self.pipeline, self._detail_request, group="detail",
                                       delay_ms=200, debounce=True, device=self.ops_panel.device_value,
                                       parent=self)
        for sched in (self.previews, self.details):
            sched.started.connect(self._render_started)
            sched.failed.connect(lambda msg: self.show_message(f"Preview failed: {msg}", "error", source="preview"))
        self.previews.rendered.connect(self._preview_rendered)
        self.details.rendered.connect(self._detail_rendered)

        self.actions_by_name = build_actions(self)
        self.edits = install_edits(self)  # per-photo recipes (sidecars), copy/paste edits
        self.histogram = install_histogram(self)  # histogram dock + clipping warning (J)
        for dock in (self.ops_dock, self.meta_dock, self.quality_dock):
            self.view_menu.addAction(dock.toggleViewAction())
        self.recent_menu.aboutToShow.connect(self._fill_recent)

        self.model.changed.connect(self._recipe_changed)
        self.ops_panel.device_changed.connect(self._device_changed)
        self.ops_panel.message.connect(self.show_message)
        self.ops_panel.auto_requested.connect(self.auto_recipe)
        self.view.zoom_changed.connect(self._zoom_changed)
        self.view.view_changed.connect(self.details.request)
        self._setup_quality()
        QApplication.instance().installEventFilter(self)
        self._restore_layout()
        self._devices_probed = False
        self.ops_panel.device_probe_requested.connect(self._check_devices)
        if "torch" in sys.modules:  # already paid for: probe right away
            QTimer.singleShot(0, self._check_devices)
        if self.ops_panel.backend_value() != "auto":  # a saved runtime choice (applying it imports torch)
            QTimer.singleShot(0, lambda: self._device_changed(self.ops_panel.device_value()))

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _restore_layout(self) -> None:
        geo, state = self.settings.window_state()
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            # Never larger than the screen: docks beyond its edge would be unreachable.
            avail = self.screen().availableGeometry()
            self.resize(min(1500, avail.width()), min(940, avail.height()))
        if state is not None:
            self.restoreState(state)
        else:
            self.resizeDocks([self.ops_dock, self.meta_dock], [380, 290], Qt.Orientation.Horizontal)
            self.resizeDocks([self.meta_dock, self.quality_dock], [340, 460], Qt.Orientation.Vertical)

    # -- opening photos ------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", self.settings.last_folder, OPEN_FILTER)
        if path:
            self.open_photo(path)

    def open_photo(self, path: str | Path) -> None:
        """Open ``path``: quick preview first, full decode in the background."""
        path = str(path)
        if not Path(path).is_file():
            self._open_error(path, "no such file" if not Path(path).exists() else "not a file")
            return
        self.io_worker.cancel()
        self.previews.cancel()
        self.details.cancel()
        if self.doc is not None and self.doc.full is not None:
            self._kept = self.doc  # shown again if this open fails
        self.edits.switch_to(path)  # the photo's own edits (sidecar), or none
        self.doc = doc = Document(path)
        self.detail, self.last_render = None, None
        self._opened_at = time.perf_counter()
        self.settings.add_recent(path)
        self.ops_panel.last_folder = str(Path(path).parent)
        self.setWindowTitle(f"{doc.name} — PhotoRestore")
        self.metadata_panel.show_metadata(path, None, None, decoding=True)
        self.quality_panel.clear(f"Loading {doc.name}…")  # never the previous photo's figures
        self.histogram.panel.clear()
        self.view.set_overlay(None)
        self.message_bar.hide()
        quick = self.io_worker.submit(lambda ctx: load_quick(path, ctx), name=f"Opening {doc.name}",
                                      group="quick")
        quick.resulted.connect(lambda r: self._quick_loaded(doc, r))
        quick.failed.connect(lambda msg: log.info("quick preview of %s unavailable: %s", path, msg))
        full = self.io_worker.submit(lambda ctx: load_full(path, ctx), name=f"Decoding {doc.name}",
                                     group="full")
        full.resulted.connect(lambda r: self._full_loaded(doc, r))
        full.failed.connect(lambda msg: self._open_error(path, msg))
        self.job_bar.track(full)

    def open_sibling(self, step: int) -> None:
        if self.doc is None:
            return
        here = Path(self.doc.path)
        files = photos_in(here.parent)
        if here in files and len(files) > 1:
            self.open_photo(files[(files.index(here) + step) % len(files)])

    def _open_error(self, path: str, msg: str) -> None:
        name = Path(path).name
        msg = msg.removeprefix(f"{name}: ")  # I/O errors already start with the name: say it once
        text = f"Cannot open {name}: {msg}"
        log.error(text)
        if self.doc is not None and self.doc.path == path and self.doc.quick is None:
            kept, self._kept = self._kept, None
            if kept is not None and kept.path != path:
                self._show_kept(kept)  # a failed open keeps the photo the user was working on
            else:
                self.doc = None
                self.edits.switch_to(None)
                self.quality_panel.clear("No photo open.")
                self.view.clear()
                self.metadata_panel.show_metadata(None, None, None)
                self.setWindowTitle("PhotoRestore")
        self.show_message(text, "error")
        self.open_failed.emit(text)

    def _show_kept(self, doc: Document) -> None:
        """Show ``doc`` (fully decoded) again, with its edits, after another photo failed to open."""
        self.doc, f = doc, doc.full
        self.edits.switch_to(doc.path)
        self.setWindowTitle(f"{doc.name} — PhotoRestore")
        w, h = f.developed.width, f.developed.height
        self.view.set_reference_size(w, h)
        self.view.set_before([f.pyramid])
        self.view.set_after([])
        self.view.fit()
        self.metadata_panel.show_metadata(doc.path, doc.meta, (w, h))
        # The preview's cost is the ops' cost on what the preview renders from (a RAW: the reduced mosaic).
        self.ops_panel.set_megapixels(f.source.width * f.source.height / 1e6,
                                      f.render_source.width * f.render_source.height / 1e6)
        self.quality_panel.clear("Measuring…")
        self.previews.request()

    def _quick_loaded(self, doc: Document, q: QuickLoad) -> None:
        if doc is not self.doc or doc.full is not None:
            return
        doc.quick, doc.meta = q, q.meta
        self.view.set_reference_size(q.image.width, q.image.height)
        self.view.set_before([q.pyramid])
        self.view.set_after([])
        self.view.fit()
        self.metadata_panel.show_metadata(doc.path, doc.meta, None, decoding=True)
        self.timings["open_to_preview"] = time.perf_counter() - self._opened_at
        self.photo_opened.emit(doc.path)
        self.previews.request()

    def _full_loaded(self, doc: Document, f: FullLoad) -> None:
        if doc is not self.doc:
            return
        first = doc.quick is None
        old_w = self.view.reference_size()[0]
        doc.full = f
        if f.source.meta.summary() or not doc.meta.summary():
            doc.meta = f.source.meta
        w, h = f.developed.width, f.developed.height
        self.view.set_reference_size(w, h)
        self.view.set_before([f.pyramid])
        if self.last_render is not None and not first:
            p = self.last_render.pyramid
            self.view.set_after([Pyramid(p.levels, ref_scale=p.ref_scale * old_w / w, origin=p.origin)])
        if first:
            self.view.fit()
            self.timings["open_to_preview"] = time.perf_counter() - self._opened_at
            self.photo_opened.emit(doc.path)
        self.timings["open_to_full"] = time.perf_counter() - self._opened_at
        self.metadata_panel.show_metadata(doc.path, doc.meta, (w, h))
        # The preview's cost is the ops' cost on what the preview renders from (a RAW: the reduced mosaic).
        self.ops_panel.set_megapixels(f.source.width * f.source.height / 1e6,
                                      f.render_source.width * f.render_source.height / 1e6)
        self.photo_loaded.emit(doc.path)
        self.previews.request()

    # -- misc ----------------------------------------------------------------------------------------
    def show_message(self, text: str, level: str = "info", source: str = "") -> None:
        (log.error if level == "error" else log.info)(text)
        self.message_bar.show_message(text, level, source=source)
        self.status_message(text, 8000)

    def status_message(self, text: str, timeout_ms: int = 8000) -> None:
        """A status-bar message cut to the room left of the preview/zoom labels (never drawn under them)."""
        bar = self.statusBar()
        room = bar.width() - sum(w.width() for w in (self.render_label, self.zoom_label) if w.isVisible()) - 48
        one_line = " ".join(text.split())
        bar.showMessage(bar.fontMetrics().elidedText(one_line, Qt.TextElideMode.ElideRight, max(room, 80)),
                        timeout_ms)

    def _zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(("Fit · " if self.view.is_fit() else "") + f"{zoom * 100:.0f} %")

    def _device_changed(self, device: str) -> None:
        self.settings.device = device.split("/")[0]
        backend = self.ops_panel.backend_value()
        self.settings.backend = backend
        if backend != "auto" or "app.core.infer.backends" in sys.modules:
            # The process default that every job's RunContext(backend="auto") resolves to: no job plumbing.
            from app.core.infer.backends import set_default_backend

            set_default_backend(backend)

    def _check_devices(self) -> None:
        """Grey out GPU choices this machine lacks (in the background: it imports torch)."""
        if self._devices_probed:
            return
        self._devices_probed = True

        def probe(ctx: object) -> dict[str, bool]:
            from importlib.util import find_spec

            from app.core.infer.device import cuda_available, mps_available

            # find_spec, not an import: OpenVINO takes a second to import, a stalled probe delays quitting.
            return {"cuda": cuda_available(), "mps": mps_available(),
                    **{f"cpu/{b}": find_spec(b) is not None for b in ("openvino", "onnxruntime")}}

        try:
            job = self.io_worker.submit(probe, name="Checking devices", group="devices", priority=-10)
        except RuntimeError:
            return
        job.resulted.connect(lambda r: [self.ops_panel.set_device_available(k, v) for k, v in r.items()])

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Hold backslash anywhere in the window (except text fields) to see the original."""
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(event, QKeyEvent):
            if (event.key() == Qt.Key.Key_Backslash and not event.isAutoRepeat()
                    and isinstance(obj, QWidget) and obj.window() is self
                    and not isinstance(obj, (QLineEdit, QAbstractSpinBox))):
                self.view.hold_original(event.type() == QEvent.Type.KeyPress)
                return True
        return super().eventFilter(obj, event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        for p in paths:
            files = photos_in(p) if p.is_dir() else [p]
            if files:
                self.open_photo(files[0])
                event.acceptProposedAction()
                return

    def shutdown(self) -> None:
        """Stop background work and wait for the worker threads (idempotent)."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        for sched in (self.previews, self.details):
            sched.enabled = False
            sched.cancel()
        self.quality_timer.stop()
        self.compute.shutdown()
        self.io_worker.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.edits.flush()
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.shutdown()
        super().closeEvent(event)
