"""Preview and 1:1 detail rendering of the main window (mixed into :class:`MainWindow`).

The preview renders the recipe on the ~2-MP preview source after every change (coalesced by a
:class:`~app.gui.render_scheduler.RenderScheduler`); when the user zooms past the preview's
resolution, the visible region is rendered from the full-resolution photo (a 1:1 crop) and laid
over the preview in the compare view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

from app.core.workflow import detail_source, starts_on_mosaic
from app.gui.imaging import Pyramid
from app.gui.render_scheduler import RenderRequest, RenderResult
from app.gui.workers import Job

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

#: past this zoom (device px per full-resolution px, relative to the preview's scale) a 1:1 crop is rendered.
DETAIL_THRESHOLD = 1.15


class WindowRenderMixin:
    """Rendering behaviour of the main window (``self`` is the window)."""

    def _preview_request(self: MainWindow) -> RenderRequest | None:
        steps = tuple(self.model.active_steps())
        if self.doc is None or (src := self.doc.preview_source(steps)) is None:
            return None
        image, key = src
        full = self.doc.full_size
        # A RAW renders from a reduced mosaic (sensor orientation, oversampled); its result has the size of
        # the developed preview, so place it by that.
        shown = self.doc.full.preview if self.doc.full is not None else image
        scale = shown.width / full[0] if full else 1.0
        return RenderRequest(image, key, steps, ref_scale=scale)

    def _detail_request(self: MainWindow) -> RenderRequest | None:
        doc = self.doc
        if doc is None or doc.full is None:
            self._set_detail(None)
            return None
        scale = doc.full.preview.width / doc.full.developed.width
        if scale >= 0.999 or self.view.zoom() <= scale * DETAIL_THRESHOLD:  # the preview is detailed enough
            self._set_detail(None)
            return None
        r = self.view.visible_rect().adjusted(-16, -16, 16, 16).intersected(QRectF(0, 0, *doc.full_size))
        x0, y0, x1, y1 = int(r.left()), int(r.top()), int(r.right() + 0.999), int(r.bottom() + 0.999)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        # Full resolution only for the region on screen; a RAW's is a crop of the mosaic when the recipe
        # starts with a RAW op, else of its development (what the export starts from).
        steps = tuple(self.model.active_steps())
        on_mosaic = starts_on_mosaic(doc.full.source, steps)
        crop, origin = detail_source(doc.full.source if on_mosaic else doc.full.developed, (x0, y0, x1, y1))
        key = f"{doc.key}|crop|{x0},{y0},{x1},{y1}|{'mosaic' if on_mosaic else 'developed'}"
        return RenderRequest(crop, key, steps, ref_scale=1.0, origin=origin)

    def render_preview(self: MainWindow) -> None:
        self.previews.render_now()

    def set_live_preview(self: MainWindow, on: bool) -> None:
        self.previews.enabled = self.details.enabled = bool(on)
        if on:
            self.previews.request()

    def _render_started(self: MainWindow, job: Job) -> None:
        self.job_bar.track(job)
        if job.group == "preview":
            self.render_label.setText("rendering preview…")
            job.cancelled.connect(lambda: self._render_cancelled(job))

    def _render_cancelled(self: MainWindow, job: Job) -> None:
        if job is self.previews.job:  # cancelled by the user, not superseded by a newer render
            self.render_label.setText("preview cancelled — Ctrl+R renders it again")

    def _recipe_changed(self: MainWindow, *_: object) -> None:
        self.previews.request()

    def _preview_rendered(self: MainWindow, result: RenderResult) -> None:
        src = self.doc.preview_source(result.request.steps) if self.doc is not None else None
        if src is None or src[1] != result.request.key:
            return  # a render of a photo (or resolution) no longer shown
        self.last_render = result
        self.message_bar.clear("preview")  # a failed render's banner goes once the preview renders again
        self._set_detail(None)
        self.view.set_after([result.pyramid])
        ran = ", ".join(result.ran) or "cached"
        self.render_label.setText(f"preview {result.seconds * 1000:.0f} ms · ran: {ran}")
        self.ops_panel.refresh_costs()  # the render measured the ops that ran
        self.ops_panel.show_results(result.image.meta.extra, result.pyramid.levels[0].qimage)
        self.preview_rendered.emit(result)
        self.details.request()
        self._quality_soon()

    def _detail_rendered(self: MainWindow, result: RenderResult) -> None:
        if self.doc is None or not result.request.key.startswith(self.doc.key + "|crop|"):
            return
        if result.request.steps != tuple(self.model.active_steps()):
            return
        self._set_detail(result.pyramid)

    def _set_detail(self: MainWindow, pyramid: Pyramid | None) -> None:
        if pyramid is self.detail:
            return
        self.detail = pyramid
        if self.last_render is not None:
            base = self.view.after_layers()[:1] or [self.last_render.pyramid]
            self.view.set_after(base + ([pyramid] if pyramid is not None else []))
