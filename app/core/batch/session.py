"""The coordinator's side of a batch: manifest updates, aggregated progress and the summary.

Every executor (in-process, worker processes, a cluster) reports to one :class:`BatchRun` from the
coordinating process: :meth:`~BatchRun.job_started` when a photo is handed to a worker,
:meth:`~BatchRun.job_progress` as it goes, :meth:`~BatchRun.job_finished` with its
:class:`~app.core.batch.jobs.JobResult`. The BatchRun is the manifest's only writer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.core.batch.jobs import CANCELLED, DONE, FAILED, PENDING, RUNNING, Job, JobResult
from app.core.batch.manifest import Manifest
from app.core.batch.plan import Plan


@dataclass(frozen=True)
class Summary:
    """The end of a batch, for the CLI's last lines and the GUI's message."""

    done: int
    skipped: int
    failed: int
    not_processed: int  # cancelled, or never started because the run was stopped
    seconds: float  # wall time of the run
    megapixels: float  # of the photos done in this run
    job_seconds: float  # summed over the photos done (all workers)

    @property
    def seconds_per_mp(self) -> float:
        """Wall seconds per megapixel done: the throughput the user waits for (all workers together)."""
        return self.seconds / self.megapixels if self.megapixels else 0.0

    @property
    def photos_per_minute(self) -> float:
        return 60.0 * self.done / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        parts = [f"{self.done} done", f"{self.skipped} skipped (done earlier)", f"{self.failed} failed"]
        if self.not_processed:
            parts.append(f"{self.not_processed} not processed")
        speed = (f"; {self.seconds_per_mp:.2f} s/MP, {self.photos_per_minute:.1f} photos/min"
                 if self.megapixels else "")
        return [f"batch: {', '.join(parts)}", f"batch: {self.seconds:.1f} s, {self.megapixels:.1f} MP{speed}"]


class BatchRun:
    """State of one run: thread-safe (executors may call from a result thread).

    Args:
        plan: from :func:`~app.core.batch.plan.plan_batch`.
        manifest: the output folder's manifest (the plan's jobs are recorded ``pending`` at once).
        on_result: called with (job, result) after each photo (printing, the GUI's table).
        on_progress: called with (overall fraction, text) as photos progress.
    """

    def __init__(self, plan: Plan, manifest: Manifest, *,
                 on_result: Callable[[Job, JobResult], None] | None = None,
                 on_progress: Callable[[float, str], None] | None = None) -> None:
        self.plan, self.manifest = plan, manifest
        self.jobs = {j.id: j for j in plan.jobs}
        self.results: dict[str, JobResult] = {}
        self._fractions: dict[str, float] = {}
        self._lock = threading.Lock()
        self._on_result, self._on_progress = on_result, on_progress
        self.started = time.monotonic()
        self.first_work_at: float | None = None  # when a worker first reported (start-up cost of the executor)
        for job in plan.jobs:
            manifest.entries[job.id] = {"id": job.id, "input": job.source, "size": job.size,
                                        "mtime_ns": job.mtime_ns, "recipe": job.recipe, "output": job.output,
                                        "status": PENDING, "seconds": 0.0, "megapixels": 0.0, "error": "",
                                        "steps": [], "worker": "", "updated": time.time()}
        manifest.save()  # one write for the whole plan, not one journal line per photo

    def job_started(self, job: Job, worker: str = "") -> None:
        with self._lock:
            self.manifest.update(job.id, status=RUNNING, worker=worker)
            self._fractions[job.id] = 0.0

    def job_progress(self, job_id: str, fraction: float, text: str = "") -> None:
        with self._lock:
            if job_id not in self._fractions:
                return
            if self.first_work_at is None:
                self.first_work_at = time.monotonic()
            self._fractions[job_id] = fraction
            total = (len(self.results) + sum(self._fractions.values())) / max(1, len(self.jobs))
        if self._on_progress is not None:
            self._on_progress(total, text or f"{len(self.results)}/{len(self.jobs)}")

    def job_finished(self, job: Job, result: JobResult) -> None:
        with self._lock:
            self._fractions.pop(job.id, None)
            if result.status == CANCELLED:  # not finished: pending again, redone by the next run
                self.manifest.update(job.id, status=PENDING, worker="")
            else:
                self.results[job.id] = result
                self.manifest.update(job.id, status=result.status, seconds=round(result.seconds, 3),
                                     megapixels=round(result.megapixels, 3), error=result.error,
                                     steps=list(result.steps), worker=result.worker)
        if self._on_result is not None:
            self._on_result(job, result)
        self.job_progress_done()

    def job_progress_done(self) -> None:
        if self._on_progress is not None:
            with self._lock:
                total = (len(self.results) + sum(self._fractions.values())) / max(1, len(self.jobs))
            self._on_progress(total, f"{len(self.results)}/{len(self.jobs)}")

    def summary(self) -> Summary:
        with self._lock:
            done = [r for r in self.results.values() if r.status == DONE]
            failed = sum(r.status == FAILED for r in self.results.values())
            return Summary(len(done), self.plan.skipped, failed, len(self.jobs) - len(self.results),
                           time.monotonic() - self.started, sum(r.megapixels for r in done),
                           sum(r.seconds for r in done))

    def close(self) -> Summary:
        """Save the manifest (jobs still ``running`` -- a worker lost -- stay so: redone next time)."""
        with self._lock:
            self.manifest.close()
        return self.summary()
