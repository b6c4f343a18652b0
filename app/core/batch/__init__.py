"""Batches at archive scale: planning against a manifest (resume), one per-photo function, executors.

* :mod:`.plan` -- inputs (files, folders, ``recursive``) -> jobs; what is done already is skipped;
* :mod:`.manifest` -- ``<outdir>/photorestore-batch.json`` (+ its journal), written by the coordinator;
* :mod:`.jobs` -- :class:`Job`, :class:`JobResult` and :func:`run_job`, the one function every executor
  runs per photo (so results are the same bytes wherever a photo ran);
* :mod:`.session` -- :class:`BatchRun` (the coordinator: manifest, progress, :class:`Summary`);
* :mod:`.devices` -- worker devices and CPU threads for ``--jobs``;
* :mod:`.local` -- :class:`SerialExecutor` and :class:`ProcessExecutor` (``--jobs N``).

See ``docs/batch.md``.
"""

from app.core.batch.devices import WorkerSpec, plan_workers
from app.core.batch.jobs import CANCELLED, DONE, FAILED, PENDING, RUNNING, Job, JobResult, recipe_hash, run_job
from app.core.batch.manifest import MANIFEST_NAME, Manifest, ManifestError
from app.core.batch.plan import Plan, expand_inputs, for_retry, plan_batch
from app.core.batch.session import BatchRun, Summary

__all__ = [
    "CANCELLED", "DONE", "FAILED", "MANIFEST_NAME", "PENDING", "RUNNING", "BatchRun", "Job", "JobResult",
    "Manifest", "ManifestError", "Plan", "Summary", "WorkerSpec", "expand_inputs", "for_retry", "plan_batch",
    "plan_workers", "recipe_hash", "run_job",
]
