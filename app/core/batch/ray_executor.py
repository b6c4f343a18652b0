"""``--cluster``: the batch's photos on the workers of a Ray cluster, reported to the same :class:`BatchRun`.

The coordinator (this process: the CLI, the bench) keeps the plan, the manifest and the progress bar, as in
a local run; only :func:`~app.core.batch.jobs.run_job` moves, into one :class:`BatchWorker` actor per device
(:func:`~app.core.batch.cluster.plan_workers`). An actor keeps its models loaded between photos and gets one
photo at a time, so a photo marked ``running`` in the manifest is being processed.

Failures. A worker that dies (its process killed, its node gone, out of memory) fails the photo in hand
with a Ray error here; that photo goes back to the front of the queue, to any worker, and a replacement actor
is started for the lost one (where Ray finds room). Nothing is written twice and nothing is lost:

* the worker writes the output itself, atomically, with a commit that never replaces a file (the photo's
  output name was claimed for it alone at planning), and the coordinator records ``done`` only from the
  worker's answer, i.e. after the commit;
* a retried photo whose output is already there -- written by the lost worker after the photo was first
  handed out, with this app's ``Software`` tag -- is recorded done and not rewritten (the lost worker
  committed, then died before it could answer);
* a photo whose workers die :data:`MAX_ATTEMPTS` times (a file that crashes the decoder) is recorded failed;
* a partial file of a worker killed while saving (named with its pid) is removed when the run ends.
"""

from __future__ import annotations

import collections
import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.core.batch.cluster import (
    ClusterError,
    WorkerPlan,
    check_shared_paths,
    connect,
    import_ray,
    last_line,
    plan_workers,
    resolve_address,
)
from app.core.batch.jobs import DONE, FAILED, Job, JobResult, run_job
from app.core.batch.local import MAX_ATTEMPTS
from app.core.batch.session import BatchRun
from app.core.context import RunContext

#: a lost worker is replaced at most this many times (per device), so a node that keeps dying is given up
MAX_REPLACEMENTS = 3
#: seconds to wait for a worker to start when none is left running (models download nothing: this is Ray)
START_TIMEOUT = 300.0
#: how often the coordinator asks busy workers how far their photo is (the progress bar)
POLL_EVERY = 1.0
#: clocks of the nodes and of a file server differ a little: an output this much older still counts
CLOCK_SLACK = 5.0


def _megapixels(path: str) -> float:
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as im:
            return im.size[0] * im.size[1] / 1e6
    except Exception:  # noqa: BLE001 - only for the summary's MP figure
        return 0.0


def written_since(path: str, since: float) -> bool:
    """Is ``path`` a result of this app written at or after ``since`` (seconds since the epoch)?"""
    from app.core.io.provenance import written_by_photorestore

    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return False
    return mtime >= since - CLOCK_SLACK and written_by_photorestore(path)


def remove_partials_of(folders: list[str], pids: set[int]) -> list[Path]:
    """Delete the partial files (:func:`app.core.io.export.remove_stale_partials`' kind) that the lost workers
    ``pids`` left in ``folders`` when they were killed while saving. Run by the coordinator, which sees the
    output folder (it writes the manifest there), once the workers are gone."""
    from app.core.io.export import PARTIAL_RE

    removed: list[Path] = []
    for folder in folders if pids else ():
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                match = PARTIAL_RE.match(entry.name)
                if match and match.group(1) and int(match.group(1)) in pids:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
    return removed


class BatchWorker:
    """A Ray actor's body (``ray.remote`` wraps it in the executor; no Ray import here).

    Threaded (``max_concurrency=2``): :meth:`process` runs the photo while :meth:`poll` and :meth:`stop`
    answer the coordinator.
    """

    def __init__(self, device: str, threads: int, backend: str) -> None:
        os.environ["PHOTORESTORE_THREADS"] = str(threads)  # the runtimes' thread count: this actor's CPUs
        from app.core.infer.device import configure_cpu_threads

        configure_cpu_threads(threads)
        self.device, self.backend = device, backend
        self.cancel = threading.Event()
        self.current: tuple[str, float, str] = ("", 0.0, "")
        self.label = f"{socket.gethostname()}:{os.getpid()}:{device}"

    def ready(self) -> dict[str, Any]:
        from app import __version__

        return {"version": __version__, "label": self.label, "pid": os.getpid()}

    def process(self, job: Job, retry_since: float | None = None) -> JobResult:
        """Run one photo; ``retry_since``: the photo was handed to a worker that was lost, at that time."""
        note = "note: written by a worker that was lost before it reported; kept, not written again"
        if retry_since is not None and written_since(job.output, retry_since):
            return JobResult(job.id, DONE, megapixels=_megapixels(job.output), messages=(note,), worker=self.label)
        self.current = (job.id, 0.0, f"{job.name} on {self.label}")

        def progress(fraction: float, text: str) -> None:
            self.current = (job.id, fraction, text)

        ctx = RunContext(progress, self.cancel, device=self.device, backend=self.backend, tile=job.tile)
        try:
            result = run_job(job, ctx)
        finally:
            self.current = ("", 0.0, "")
        if result.status == FAILED and retry_since is not None and written_since(job.output, retry_since):
            # the lost worker was only unreachable, and committed while this one ran: its file stays
            result = JobResult(job.id, DONE, result.seconds, result.megapixels, messages=(note,))
        return replace(result, worker=self.label)

    def poll(self) -> tuple[str, float, str]:
        return self.current

    def stop(self) -> None:
        self.cancel.set()


@dataclass
class _Slot:
    """One device's worker: its plan, the live actor (or the one starting), and how often it was replaced."""

    plan: WorkerPlan
    actor: Any = None
    replaced: int = 0
    pid: int = 0  # of the live actor's process (its partial files carry it)


class RayExecutor:
    """Runs jobs on a Ray cluster (``--cluster``); the same ``execute`` as the local executors.

    Args:
        cluster: ``ray://HOST:PORT``, ``HOST:PORT``, ``auto`` (``RAY_ADDRESS``) or ``local``.
        device: "auto", "cpu" or "cuda" (see :func:`~app.core.batch.cluster.plan_workers`).
        backend: the inference backend each worker uses ("auto", "torch", ...).
    """

    def __init__(self, cluster: str = "auto", device: str = "auto", backend: str = "auto") -> None:
        import_ray()  # the extra missing or the address malformed: said before anything is planned or written
        resolve_address(cluster)
        self.cluster, self.device, self.backend = cluster, device, backend
        self.workers: list[str] = []  # labels of the workers that started (for the CLI and tests)
        self.lost = 0  # workers lost during the run
        self.startup_s = 0.0  # from execute() to the first worker ready: connect, path check, actor start
        self.lost_pids: set[int] = set()  # processes of the lost workers

    def execute(self, jobs: list[Job], run: BatchRun, cancel: threading.Event) -> None:
        if not jobs:
            return
        self._t0 = time.monotonic()
        outdirs = sorted({str(Path(j.output).parent) for j in jobs})
        ray = connect(self.cluster)
        try:
            plans = plan_workers(ray.nodes(), self.device)
            check_shared_paths(ray, plans, [j.source for j in jobs], outdirs)
            self._loop(ray, [_Slot(p) for p in plans], jobs, run, cancel)
        finally:
            ray.shutdown()
            remove_partials_of(outdirs, self.lost_pids)

    def _start(self, ray: Any, slot: _Slot, starting: dict[Any, _Slot]) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        p = slot.plan
        # soft: a replacement whose node is gone may start on another node with room
        actor = ray.remote(BatchWorker).options(
            num_cpus=p.num_cpus, num_gpus=p.num_gpus, max_concurrency=2, max_restarts=0, max_task_retries=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(p.node_id, soft=True),
        ).remote(p.device, max(1, p.num_cpus), self.backend)
        slot.actor = actor
        starting[actor.ready.remote()] = slot

    def _lose(self, ray: Any, slot: _Slot, starting: dict[Any, _Slot]) -> None:
        self.lost += 1
        if slot.pid:
            self.lost_pids.add(slot.pid)
            slot.pid = 0
        with contextlib.suppress(Exception):
            ray.kill(slot.actor, no_restart=True)  # an unreachable (not dead) actor must not come back
        if slot.replaced < MAX_REPLACEMENTS:
            slot.replaced += 1
            self._start(ray, slot, starting)

    def _loop(self, ray: Any, slots: list[_Slot], jobs: list[Job], run: BatchRun, cancel: threading.Event) -> None:
        from app import __version__

        todo = collections.deque(jobs)
        attempts: collections.Counter[str] = collections.Counter()
        handed: dict[str, float] = {}  # job id -> when first handed to a worker (time.time)
        starting: dict[Any, _Slot] = {}
        inflight: dict[Any, tuple[Job, _Slot]] = {}
        polls: dict[Any, str] = {}
        idle: list[_Slot] = []
        for slot in slots:
            self._start(ray, slot, starting)
        stalled, last_poll, stopping = None, 0.0, False
        try:
            while todo or inflight:
                if cancel.is_set():
                    todo.clear()  # never handed out (or put back after a lost worker): stays pending
                    if not stopping:
                        stopping = True
                        for _job, slot in inflight.values():
                            slot.actor.stop.remote()
                while todo and idle:
                    slot, job = idle.pop(), todo.popleft()
                    since = handed.setdefault(job.id, time.time())
                    run.job_started(job, worker=slot.plan.label)
                    inflight[slot.actor.process.remote(job, since if attempts[job.id] else None)] = (job, slot)
                if todo and not inflight and not idle:
                    if not starting:
                        raise ClusterError(f"every Ray worker was lost; {len(todo)} photos not processed "
                                           "(they stay pending: run the same command again to resume)")
                    stalled = stalled or time.monotonic()
                    if time.monotonic() - stalled > START_TIMEOUT:
                        raise ClusterError(f"no Ray worker could start in {START_TIMEOUT:.0f} s (the cluster's "
                                           "CPUs/GPUs taken by other work?)")
                else:
                    stalled = None
                if time.monotonic() - last_poll > POLL_EVERY:
                    last_poll = time.monotonic()
                    for _job, slot in inflight.values():
                        polls[slot.actor.poll.remote()] = slot.plan.label
                refs = [*inflight, *starting, *polls]
                ready, _ = ray.wait(refs, num_returns=1, timeout=0.5)
                if ready:  # everything that is ready now, not just the first
                    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
                for ref in ready:
                    if ref in polls:
                        polls.pop(ref)
                        with contextlib.suppress(Exception):
                            job_id, fraction, text = ray.get(ref)
                            if job_id:
                                run.job_progress(job_id, fraction, text)
                    elif ref in starting:
                        slot = starting.pop(ref)
                        try:
                            info = ray.get(ref)
                        except ray.exceptions.RayError:
                            self._lose(ray, slot, starting)
                            continue
                        if info["version"] != __version__:
                            raise ClusterError(f"node {slot.plan.node} runs photorestore {info['version']}, "
                                               f"this machine {__version__}: install the same version everywhere")
                        self.workers.append(info["label"])
                        slot.pid = int(info["pid"])
                        self.startup_s = self.startup_s or time.monotonic() - self._t0
                        idle.append(slot)
                    else:
                        job, slot = inflight.pop(ref)
                        self._finish(ray, ref, job, slot, run, todo, attempts, idle, starting)
        finally:
            for slot in slots:
                with contextlib.suppress(Exception):
                    ray.kill(slot.actor, no_restart=True)

    def _finish(self, ray: Any, ref: Any, job: Job, slot: _Slot, run: BatchRun, todo: collections.deque[Job],
                attempts: collections.Counter[str], idle: list[_Slot], starting: dict[Any, _Slot]) -> None:
        try:
            result = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # our code raised in the worker (run_job itself never does)
            idle.append(slot)
            run.job_finished(job, JobResult(job.id, FAILED, error=last_line(exc),
                                            worker=slot.plan.label))
            return
        except ray.exceptions.RayError as exc:  # the worker died or became unreachable
            attempts[job.id] += 1
            self._lose(ray, slot, starting)
            if attempts[job.id] >= MAX_ATTEMPTS:
                run.job_finished(job, JobResult(job.id, FAILED, worker=slot.plan.label,
                                                error=f"its Ray worker was lost {attempts[job.id]} times "
                                                f"({type(exc).__name__})"))
            else:
                todo.appendleft(job)  # perhaps not this photo's fault: once more, on whichever worker is free
            return
        idle.append(slot)
        run.job_finished(job, result)
