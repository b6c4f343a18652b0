"""Coalesced background re-renders of the preview (and of 1:1 detail crops).

Slider drags call :meth:`RenderScheduler.request` on every value change. The scheduler starts a
short timer on the first request (``throttle``) or restarts it on each one (``debounce``) and,
when it fires, submits a single render of the *latest* state to the worker; the new render
supersedes a pending one and cancels a running one. One exception keeps a drag visibly live: a
render that started less than ``patience_ms`` ago is allowed to finish (its result is shown)
and the latest state is rendered right after it, instead of cancelling it again and again;
a slow render (a model op at preview size) is still cancelled at once. Renders go through the
pipeline cache, so moving one parameter reruns only the stages after the one that reads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.context import RunContext
from app.core.image import Image
from app.core.pipeline import Pipeline, Step
from app.gui.imaging import Pyramid, pyramid_from_image
from app.gui.workers import Job, Worker


@dataclass(frozen=True)
class RenderRequest:
    """What to render: a source image (preview or crop), its cache key and the steps.

    Attributes:
        ref_scale: source pixels per full-resolution pixel (placement in the compare view).
        origin: top-left of the source in full-resolution pixels (detail crops).
    """

    source: Image
    key: str
    steps: tuple[Step, ...]
    ref_scale: float = 1.0
    origin: tuple[float, float] = (0.0, 0.0)


@dataclass
class RenderResult:
    request: RenderRequest
    image: Image
    pyramid: Pyramid
    seconds: float  # pipeline + display conversion, on the worker thread
    ran: list[str] = field(default_factory=list)  # stage labels computed (cache misses)
    pipeline_seconds: float = 0.0  # of which the ops (pipeline.run)


def render(pipeline: Pipeline, req: RenderRequest, ctx: RunContext) -> RenderResult:
    """Run ``req`` through ``pipeline`` (cached) and build its display pyramid."""
    t0 = time.perf_counter()
    before = dict(pipeline.cache.misses)
    image = pipeline.run(req.source, list(req.steps), ctx, source_key=req.key)
    t1 = time.perf_counter()
    ctx.check_cancelled()
    pyramid = pyramid_from_image(image, ref_scale=req.ref_scale, origin=req.origin)
    ran = sorted(k for k, v in pipeline.cache.misses.items() if v > before.get(k, 0))
    return RenderResult(req, image, pyramid, time.perf_counter() - t0, ran, t1 - t0)


class RenderScheduler(QObject):
    """Turns bursts of change notifications into few renders on a :class:`Worker`.

    Args:
        worker: the (torch-serializing) compute worker.
        pipeline: pipeline with the shared stage cache.
        make_request: returns the current :class:`RenderRequest`, or None when nothing to render.
        group: worker group ("preview", "detail"); renders of a group supersede each other.
        delay_ms: coalescing window.
        debounce: restart the window on every request (wait for quiet) instead of throttling.
        patience_ms: a running render younger than this finishes before the next one starts.
        device: callable returning the device the user chose.

    Signals:
        rendered(object): a :class:`RenderResult`, in the GUI thread.
        failed(str): one-line error.
        started(object): the :class:`Job` just submitted.
    """

    rendered = Signal(object)
    failed = Signal(str)
    started = Signal(object)

    def __init__(self, worker: Worker, pipeline: Pipeline,
                 make_request: Callable[[], RenderRequest | None], *,
                 group: str = "preview", delay_ms: int = 40, debounce: bool = False, patience_ms: int = 400,
                 device: Callable[[], str] = lambda: "auto", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker, self._pipeline, self._make = worker, pipeline, make_request
        self._group, self._device, self._debounce = group, device, debounce
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._fire)
        self._requested_at: float | None = None
        self._deferred = False
        self.patience_ms = patience_ms
        self.job: Job | None = None
        self.enabled = True
        #: (worker seconds, request-to-display seconds) of recent renders, newest last.
        self.timings: list[tuple[float, float]] = []

    @property
    def delay_ms(self) -> int:
        return self._timer.interval()

    def request(self) -> None:
        """Something changed: render soon (coalesced)."""
        if not self.enabled:
            return
        if self._requested_at is None:
            self._requested_at = time.perf_counter()
        if self._debounce or not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        self._requested_at = None
        self._deferred = False
        self._worker.cancel(self._group)

    def is_busy(self) -> bool:
        return self._timer.isActive() or self._deferred or (self.job is not None and not self.job.done)

    def _fire(self) -> None:
        job = self.job
        if job is not None and job.state == "running" and job.elapsed * 1000 < self.patience_ms:
            self._deferred = True  # let the young render finish; _job_finished renders the latest
            return
        self.render_now()

    def _job_finished(self, job: Job) -> None:
        if job is self.job and self._deferred:
            self._deferred = False
            self.render_now()

    def render_now(self) -> Job | None:
        """Submit a render of the current state right away (superseding any other)."""
        self._timer.stop()
        self._deferred = False
        req = self._make()
        asked = self._requested_at or time.perf_counter()
        self._requested_at = None
        if req is None:
            return None
        pipeline = self._pipeline
        job = self._worker.submit(lambda ctx: render(pipeline, req, ctx), name=self._group.capitalize(),
                                  group=self._group, device=self._device())
        job.resulted.connect(lambda result: self._on_result(result, asked))
        job.failed.connect(self.failed)
        job.finished.connect(lambda: self._job_finished(job))
        self.job = job
        self.started.emit(job)
        return job

    def _on_result(self, result: RenderResult, asked: float) -> None:
        self.timings.append((result.seconds, time.perf_counter() - asked))
        del self.timings[:-200]
        self.rendered.emit(result)

