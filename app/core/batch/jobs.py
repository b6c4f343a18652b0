"""One photo of a batch: the job (plain, picklable data) and :func:`run_job`, the one function every executor
(in-process, ``--jobs`` worker processes, a cluster) calls, so a photo's output is the same bytes wherever
it ran.

A :class:`Job` holds everything the photo's result depends on (source, steps with ``auto`` still
unexpanded, export options, destination) and nothing about where it runs; where it runs (device, backend,
cancellation, progress) comes in the :class:`~app.core.context.RunContext`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.context import Cancelled, RunContext
from app.core.workflow.export import ExportOptions

# statuses of a job in the manifest and in a result
PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"


@dataclass(frozen=True)
class Job:
    """One photo to process.

    Attributes:
        id: stable identity: hash of (source, size, mtime_ns, recipe); the manifest's key.
        source: absolute input path.
        size, mtime_ns: the input as planned (a changed file is another job).
        recipe: :func:`recipe_hash` of the steps and export options.
        steps: pipeline Steps, or the string ``"auto"`` (expanded per photo by :func:`run_job`).
        options: export options; ``options.overwrite`` is True only where this job may replace an existing
            file (the user's ``--overwrite``, or a result of this same job that an interrupted run wrote
            before it could record it).
        output: destination path (claimed at planning: no two jobs of a folder share one).
        protect: paths that must never be written (the run's inputs).
        tile: tile edge or None (from free memory).
    """

    id: str
    source: str
    size: int
    mtime_ns: int
    recipe: str
    steps: tuple[Any, ...]
    options: ExportOptions
    output: str
    protect: tuple[str, ...] = ()
    tile: int | None = None

    @property
    def name(self) -> str:
        return Path(self.source).name


@dataclass(frozen=True)
class JobResult:
    """What :func:`run_job` returns (plain data: it crosses process and machine boundaries).

    Attributes:
        status: :data:`DONE`, :data:`FAILED` or :data:`CANCELLED`.
        seconds: wall time of the job (decode, ops, save).
        megapixels: the decoded photo's size (0 when it could not be decoded).
        error: one line, the reason (failed only).
        messages: notes for the user, each ``"note: ..."`` or ``"auto: ..."``.
        kind: the DNG kind written (``--format dng``), else "".
        steps: the steps that ran (``auto`` expanded), as ``op_id`` strings.
    """

    job_id: str
    status: str
    seconds: float = 0.0
    megapixels: float = 0.0
    error: str = ""
    messages: tuple[str, ...] = ()
    kind: str = ""
    steps: tuple[str, ...] = ()
    worker: str = ""


def _step_payload(step: Any) -> Any:
    from app.core.ops.registry import get_op
    from app.core.pipeline.costs import weights_tokens
    from app.core.workflow.auto import AUTO

    if step == AUTO:
        from app import __version__

        return {"op": AUTO, "app": __version__}  # Auto's decisions are the app's: a new version may decide anew
    op = get_op(step.op_id)
    return {"op": step.op_id, "version": op.version, "enabled": step.enabled,
            "params": dataclasses.asdict(step.params), "weights": weights_tokens(op, step.params)}


def recipe_hash(steps: Sequence[Any], options: ExportOptions, tile: int | None = None) -> str:
    """A stable hash of everything besides the input that decides the output's bytes: each step's op,
    version, params and model weights (sha256), and the export options (not ``overwrite``). The tile size
    is included: tiles change the last bits of some models' results."""
    payload = {"steps": [_step_payload(s) for s in steps], "format": options.format, "quality": options.quality,
               "keep_metadata": options.keep_metadata, "tile": tile}
    if options.compress and options.format.startswith("tiff"):  # only then: older records stay valid
        payload["compress"] = True
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def job_id(source: str, size: int, mtime_ns: int, recipe: str) -> str:
    return hashlib.sha256(f"{source}\0{size}\0{mtime_ns}\0{recipe}".encode()).hexdigest()[:16]


def _error_line(exc: BaseException) -> str:
    """The reason, one line, as ``photorestore run`` has always printed it (after ``name: error:``)."""
    from app.core.io import ImageIOError
    from app.core.models.weights import ModelUnavailableError
    from app.core.pipeline import OpUnavailableError, RecipeError

    if isinstance(exc, ImageIOError):
        return str(getattr(exc, "reason", None) or exc)
    if isinstance(exc, (OpUnavailableError, ModelUnavailableError, RecipeError, ValueError)):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory (try a smaller --tile)"
    return f"{type(exc).__name__}: {exc}"


def run_job(job: Job, ctx: RunContext) -> JobResult:
    """Open ``job.source``, expand Auto for it, run the steps at full size and save ``job.output``.

    Never raises for a bad photo: the failure is the result (a batch goes on). Cancellation (``ctx``'s
    event) returns a :data:`CANCELLED` result with nothing written (saves are atomic).
    """
    from app.core.workflow import dng_kind_for, expand_auto, export_image, open_photo

    t0 = time.perf_counter()
    notes: list[str] = []
    mp = 0.0
    try:
        ctx.progress(0.0, f"Decoding {job.name}")
        image = open_photo(job.source)  # the one RAW policy: a mosaic where there is one
        mp = image.data.shape[0] * image.data.shape[1] / 1e6
        notes += [f"note: {n}" for n in (image.meta.extra.get("notes", ()) if image.meta else ())]
        ctx.check_cancelled()
        steps, reasons = expand_auto(list(job.steps), image)
        notes += reasons
        # DNG: a JPEG is refused here in one line; which DNG is decided from the plan, before any work
        kind = dng_kind_for(image, steps) if job.options.format == "dng" else ""
        export_image(image, steps, Path(job.output), job.options, ctx.sub(0.1, 1.0), protect=job.protect)
        del image
        notes += [f"note: {w}" for w in ctx.warnings]
        return JobResult(job.id, DONE, time.perf_counter() - t0, mp, messages=tuple(notes), kind=kind,
                         steps=tuple(s.op_id for s in steps))
    except Cancelled:
        return JobResult(job.id, CANCELLED, time.perf_counter() - t0, mp, messages=tuple(notes))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch (MemoryError too)
        return JobResult(job.id, FAILED, time.perf_counter() - t0, mp, error=_error_line(exc),
                         messages=tuple(notes))
