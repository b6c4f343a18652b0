"""Executors on one machine: in this process, or ``--jobs N`` worker processes.

An executor runs the plan's jobs through :func:`~app.core.batch.jobs.run_job` and reports each to the
:class:`~app.core.batch.session.BatchRun`; it stops when ``cancel`` is set, with every job either finished,
cancelled (nothing written) or never started. A cluster executor has the same one method, ``execute``.

Worker processes are started with ``spawn`` (a fork of a process holding torch threads or a CUDA context
is unsafe), keep their models loaded between photos (the registry's per-process cache: loaded once per
worker, not per photo), ignore Ctrl-C (the coordinator owns cancellation and tells them through a shared
event) and stop on their own if the coordinator dies (``kill -9``): they finish or abandon the photo in
hand cleanly and exit.
"""

from __future__ import annotations

import collections
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any, Protocol

from app.core.batch.devices import WorkerSpec
from app.core.batch.jobs import CANCELLED, FAILED, Job, JobResult, run_job
from app.core.batch.plan import for_retry
from app.core.batch.session import BatchRun
from app.core.context import RunContext

#: a photo whose worker process died this many times is recorded failed (a crashing decoder, say)
MAX_ATTEMPTS = 2


class Executor(Protocol):
    def execute(self, jobs: list[Job], run: BatchRun, cancel: threading.Event) -> None: ...


class SerialExecutor:
    """In this process, one photo after another (``run`` without ``--jobs``; the GUI's order of work)."""

    def __init__(self, device: str = "auto", backend: str = "auto") -> None:
        self.device, self.backend = device, backend

    def execute(self, jobs: list[Job], run: BatchRun, cancel: threading.Event) -> None:
        for job in jobs:
            if cancel.is_set():
                return
            run.job_started(job, worker=f"{os.getpid()}:{self.device}")
            ctx = RunContext(lambda f, t, j=job.id: run.job_progress(j, f, t), cancel, device=self.device,
                             backend=self.backend, tile=job.tile)
            run.job_finished(job, replace(run_job(job, ctx), worker=f"{os.getpid()}:{self.device}"))


# -- worker process side -------------------------------------------------------------------------------
_STATE: dict[str, Any] = {}


def _watch_parent(parent: int, cancel: Any, busy: threading.Event) -> None:
    """Coordinator gone (killed): cancel, let the photo in hand end cleanly (no partial file), exit."""
    while os.getppid() == parent:
        time.sleep(0.5)
    cancel.set()
    deadline = time.monotonic() + 60
    while busy.is_set() and time.monotonic() < deadline:
        time.sleep(0.1)
    os._exit(0)


def _init_worker(specs: Any, cancel: Any, progress: Any, backend: str, parent: int) -> None:
    spec: WorkerSpec = specs.get()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the coordinator decides
    os.environ["PHOTORESTORE_THREADS"] = str(spec.threads)  # read by configure_cpu_threads (torch and ONNX runtimes)
    from app.core.infer.device import configure_cpu_threads

    configure_cpu_threads(spec.threads)
    busy = threading.Event()
    _STATE.update(spec=spec, cancel=cancel, progress=progress, backend=backend, busy=busy)
    threading.Thread(target=_watch_parent, args=(parent, cancel, busy), daemon=True).start()


def _work(job: Job) -> JobResult:
    """Run one job in a worker (picklable by name: the pool sends only the job)."""
    spec, queue, busy = _STATE["spec"], _STATE["progress"], _STATE["busy"]
    last = [0.0]

    def progress(fraction: float, text: str) -> None:
        now = time.monotonic()
        if now - last[0] > 0.25:  # a few messages a second, not one per tile row
            last[0] = now
            queue.put((job.id, fraction, text))

    busy.set()
    try:
        queue.put((job.id, 0.0, "started"))
        ctx = RunContext(progress, _STATE["cancel"], device=spec.device, backend=_STATE["backend"], tile=job.tile)
        return replace(run_job(job, ctx), worker=f"{os.getpid()}:{spec.device}")
    finally:
        busy.clear()


class ProcessExecutor:
    """``--jobs N``: N worker processes, each on its :class:`~app.core.batch.devices.WorkerSpec`."""

    def __init__(self, workers: list[WorkerSpec], backend: str = "auto") -> None:
        if not workers:
            raise ValueError("at least one worker")
        self.workers, self.backend = workers, backend

    def _pool(self, mp: Any, cancel: Any, progress: Any) -> ProcessPoolExecutor:
        specs = mp.Queue()
        for spec in self.workers:
            specs.put(spec)
        return ProcessPoolExecutor(len(self.workers), mp_context=mp, initializer=_init_worker,
                                   initargs=(specs, cancel, progress, self.backend, os.getpid()))

    def execute(self, jobs: list[Job], run: BatchRun, cancel: threading.Event) -> None:
        import multiprocessing

        mp = multiprocessing.get_context("spawn")
        shared_cancel, progress = mp.Event(), mp.Queue()
        todo = collections.deque(jobs)
        attempts: collections.Counter[str] = collections.Counter()
        inflight: dict[Any, Job] = {}
        pool = self._pool(mp, shared_cancel, progress)
        try:
            while todo or inflight:
                if cancel.is_set():
                    shared_cancel.set()
                    todo.clear()  # never started: stay pending in the manifest
                # as many in flight as workers: a job marked running is running
                while todo and len(inflight) < len(self.workers):
                    job = todo.popleft()
                    run.job_started(job, worker="pool")
                    inflight[pool.submit(_work, job)] = job
                finished, _ = wait(list(inflight), timeout=0.2, return_when=FIRST_COMPLETED)
                self._drain(progress, run)
                broken = False
                for fut in finished:
                    job = inflight.pop(fut)
                    try:
                        run.job_finished(job, fut.result())
                    except BrokenProcessPool:
                        broken = True
                        attempts[job.id] += 1
                        if cancel.is_set():  # e.g. Ctrl-C reached a worker still starting: not the photo's fault
                            run.job_finished(job, JobResult(job.id, CANCELLED))
                        elif attempts[job.id] >= MAX_ATTEMPTS:
                            run.job_finished(job, JobResult(job.id, FAILED,
                                                            error="the worker process died while processing it"))
                        else:
                            todo.appendleft(for_retry(job))  # perhaps another photo's crash: once more
                if broken and not cancel.is_set():
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = self._pool(mp, shared_cancel, progress)
        finally:
            if cancel.is_set():
                shared_cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            self._drain(progress, run)

    @staticmethod
    def _drain(queue: Any, run: BatchRun) -> None:
        import queue as queue_mod

        while True:
            try:
                job_id, fraction, text = queue.get_nowait()
            except (queue_mod.Empty, OSError, ValueError):
                return
            run.job_progress(job_id, fraction, text)
