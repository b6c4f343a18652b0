"""The one background-job abstraction of the GUI.

A :class:`Worker` owns one ``QThread`` with an executor ``QObject`` moved onto it, so every job
submitted to the same worker runs serialized (torch work never runs on two threads at once).
Jobs are plain callables ``fn(ctx: RunContext) -> result`` (core functions, no Qt), wrapped in a
:class:`Job` whose signals are always emitted in the GUI thread:

* ``progressed(float, str)`` -- fraction in [0, 1] and a short text, throttled to ~30 Hz;
* ``resulted(object)`` -- the return value;
* ``failed(str)`` -- a one-line message (the traceback goes to the log);
* ``cancelled()`` -- the job was cancelled (before or while running);
* ``finished()`` -- always last, whatever happened.

Jobs carry a *group* ("preview", "export", ...). Submitting with ``supersede=True`` drops the
pending job of the same group and cancels the running one, so the latest request wins. The
worker thread never touches widgets: results travel back through a queued signal.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.core.context import Cancelled, RunContext

log = logging.getLogger("photorestore.gui")

_LIVE: weakref.WeakSet[Worker] = weakref.WeakSet()
_ids = itertools.count(1)


def live_workers() -> list[Worker]:
    """Workers not yet garbage collected (tests check their threads have stopped)."""
    return list(_LIVE)


def error_message(exc: BaseException) -> str:
    """A one-line, user-readable message for an exception."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, MemoryError):
        return "Out of memory: try a smaller tile size or close other photos."
    return text or type(exc).__name__


class Job(QObject):
    """One unit of background work and its GUI-thread signals.

    Attributes:
        name: shown in the job bar ("Preview", "Export photo.jpg").
        group: jobs of a group supersede each other.
        state: "pending", "running", "done", "failed" or "cancelled".
    """

    progressed = Signal(float, str)
    resulted = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()
    started = Signal()

    def __init__(self, fn: Callable[[RunContext], Any], *, name: str, group: str,
                 device: str = "auto", tile: int | None = None,
                 priority: int = 0) -> None:
        super().__init__()
        self.id = next(_ids)
        self.fn = fn
        self.name = name
        self.group = group
        self.device = device
        self.tile = tile
        self.priority = priority
        self.cancel_event = threading.Event()
        self.state = "pending"
        self.fraction = 0.0
        self.text = ""
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.result: Any = None
        self.error = ""

    def cancel(self) -> None:
        """Ask the job to stop; a running job stops at its next cancellation check."""
        self.cancel_event.set()

    @property
    def done(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.monotonic()) - self.started_at

    def eta(self) -> float | None:
        """Seconds remaining, extrapolated from progress so far (None until it is meaningful)."""
        if self.started_at is None or self.fraction < 0.03 or self.elapsed < 0.3:
            return None
        return self.elapsed * (1.0 - self.fraction) / self.fraction


class _Executor(QObject):
    """Lives on the worker thread; pops jobs and runs them one at a time."""

    event = Signal(object, str, object)  # (job, kind, payload), emitted from the worker thread

    def __init__(self, take: Callable[[], Job | None]) -> None:
        super().__init__()
        self._take = take

    @Slot()
    def drain(self) -> None:
        while (job := self._take()) is not None:
            self._run(job)

    def _run(self, job: Job) -> None:
        if job.cancel_event.is_set():
            self.event.emit(job, "cancelled", None)
            return
        self.event.emit(job, "started", time.monotonic())
        last = [0.0]

        def on_progress(fraction: float, text: str) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.033 or fraction >= 1.0:
                last[0] = now
                self.event.emit(job, "progressed", (fraction, text))

        ctx = RunContext(on_progress, job.cancel_event, device=job.device, tile=job.tile)
        try:
            result = job.fn(ctx)
        except Cancelled:
            self.event.emit(job, "cancelled", None)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message, never a crash
            log.exception("job %r failed", job.name)
            self.event.emit(job, "failed", error_message(exc))
        else:
            if job.cancel_event.is_set():
                self.event.emit(job, "cancelled", None)
            else:
                self.event.emit(job, "resulted", (result, ctx.warnings))


class Worker(QObject):
    """A serial background executor on its own ``QThread``.

    Args:
        name: thread name (for logs and debuggers).
    """

    job_started = Signal(object)  # Job, emitted in the GUI thread when a job begins running
    _wake = Signal()

    def __init__(self, name: str = "worker", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: deque[Job] = deque()
        self._running: Job | None = None
        self._closed = False
        self.thread = QThread()
        self.thread.setObjectName(f"photorestore-{name}")
        self._executor = _Executor(self._take)
        self._executor.moveToThread(self.thread)
        self._wake.connect(self._executor.drain)
        self._executor.event.connect(self._dispatch)
        self.thread.start()
        _LIVE.add(self)

    # -- GUI-thread API -------------------------------------------------------------------------
    def submit(self, fn: Callable[[RunContext], Any], *, name: str = "", group: str = "default",
               supersede: bool = True, device: str = "auto", tile: int | None = None,
               priority: int = 0) -> Job:
        """Queue ``fn`` and return its :class:`Job` (connect to its signals right away).

        With ``supersede`` the pending job of ``group`` is dropped and the running one cancelled.
        Pending jobs run highest ``priority`` first (interactive renders jump a batch queue),
        in submission order among equals.
        """
        job = Job(fn, name=name or group, group=group, device=device, tile=tile,
                  priority=priority)
        dropped: list[Job] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("worker is shut down")
            if supersede:
                dropped = [j for j in self._pending if j.group == group]
                for j in dropped:
                    self._pending.remove(j)
                if self._running is not None and self._running.group == group:
                    self._running.cancel()
            self._pending.append(job)
        for j in dropped:
            self._finish(j, "cancelled", None)
        self._wake.emit()
        return job

    def cancel(self, group: str | None = None) -> None:
        """Cancel pending and running jobs (of ``group``, or all)."""
        with self._lock:
            dropped = [j for j in self._pending if group is None or j.group == group]
            for j in dropped:
                self._pending.remove(j)
            running = self._running
        if running is not None and (group is None or running.group == group):
            running.cancel()
        for j in dropped:
            self._finish(j, "cancelled", None)

    @property
    def running_job(self) -> Job | None:
        return self._running

    def is_idle(self) -> bool:
        with self._lock:
            return self._running is None and not self._pending

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything, stop the thread and wait for it. Returns True if it stopped."""
        with self._lock:
            self._closed = True
        self.cancel()
        self.thread.quit()
        stopped = self.thread.wait(timeout_ms)
        if not stopped:
            log.error("worker thread %s did not stop within %d ms", self.thread.objectName(), timeout_ms)
        return bool(stopped)

    # -- internals --------------------------------------------------------------------------------
    def _take(self) -> Job | None:
        """Called on the worker thread: next job to run (marks it running), or None."""
        with self._lock:
            self._running = None
            if not self._pending:
                return None
            job = max(self._pending, key=lambda j: j.priority)  # first of the highest priority
            self._pending.remove(job)
            self._running = job
            return job

    @Slot(object, str, object)
    def _dispatch(self, job: Job, kind: str, payload: Any) -> None:
        if kind == "started":
            job.state = "running"
            job.started_at = payload
            job.started.emit()
            self.job_started.emit(job)
        elif kind == "progressed":
            job.fraction, job.text = float(payload[0]), str(payload[1])
            job.progressed.emit(job.fraction, job.text)
        else:
            self._finish(job, kind, payload)

    def _finish(self, job: Job, kind: str, payload: Any) -> None:
        if job.done:
            return
        job.ended_at = time.monotonic()
        if kind == "resulted":
            job.state = "done"
            job.result, warnings = payload
            for w in warnings:
                log.warning("%s: %s", job.name, w)
            job.resulted.emit(job.result)
        elif kind == "failed":
            job.state = "failed"
            job.error = str(payload)
            job.failed.emit(job.error)
        else:
            job.state = "cancelled"
            job.cancelled.emit()
        job.finished.emit()
