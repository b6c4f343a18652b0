"""Planning a batch: which photos, which of them are already done, and where each result goes.

Planning happens once, in the coordinating process, before any photo is processed; it decodes nothing
(Auto is expanded per photo by :func:`~app.core.batch.jobs.run_job`). Against the output folder's manifest:

* an entry ``done`` with the same input (path, size, mtime) and recipe hash whose output is still there is
  skipped;
* an entry ``running`` or ``pending`` (an interrupted run) or ``failed`` is redone, to the output name it
  had claimed; a ``running`` one whose output is there, written by this app after the job started (the run
  was killed between the atomic save and the manifest line) is recorded done instead of redone;
* a changed input or a changed recipe is a new job with a new output name: nothing is overwritten unless
  the user asked for ``overwrite`` (then it replaces the previous result for that input).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core.batch.jobs import DONE, RUNNING, Job, job_id, recipe_hash
from app.core.batch.manifest import Manifest
from app.core.io.naming import claim_name
from app.core.io.provenance import written_by_photorestore
from app.core.workflow.export import ExportOptions, extension
from app.core.workflow.files import photos_in


@dataclass
class Plan:
    """Jobs to run, what was skipped and why."""

    jobs: list[Job] = field(default_factory=list)
    done_before: list[tuple[str, str]] = field(default_factory=list)  # (input, output) finished earlier
    ours: list[Path] = field(default_factory=list)  # found in folders but written by this app: not inputs

    @property
    def skipped(self) -> int:
        return len(self.done_before)


def _walk(folder: Path, recursive: bool, exclude: Path | None) -> list[Path]:
    if not recursive:
        return photos_in(folder)
    found: list[Path] = []
    for root, dirs, _files in os.walk(folder):
        # hidden folders and the output folder (often inside the input folder) are not inputs
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")
                          and (exclude is None or Path(root, d).resolve() != exclude)), key=str.lower)
        found += photos_in(root)
    return found


def expand_inputs(inputs: Iterable[str | os.PathLike[str]], *, recursive: bool = False,
                  outdir: str | os.PathLike[str] | None = None) -> tuple[list[Path], list[Path]]:
    """Files and folders -> (photos, skipped exports of this app).

    A named file is taken as it is (even a missing one: its job fails with the reason). Folders give their
    photos (sorted; with ``recursive`` also those of sub-folders, hidden ones and ``outdir`` left out),
    without the files this app wrote (their ``Software`` tag), so a rerun never restores its own results.
    Duplicates are dropped.
    """
    exclude = Path(outdir).resolve() if outdir is not None else None
    photos: list[Path] = []
    ours: list[Path] = []
    seen: set[Path] = set()
    for item in map(Path, inputs):
        if item.is_dir():
            for p in _walk(item, recursive, exclude):
                (ours if written_by_photorestore(p) else photos).append(p)
        else:
            photos.append(item)
    unique = []
    for p in photos:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique, ours


def _default_format(src: Path) -> str:
    """What ``run`` writes without ``--format``: 16-bit TIFF for a RAW (by its content, as it opens), else JPEG."""
    from app.core.io.formats import detect

    try:
        return "tiff16" if detect(src) == "raw" else "jpg"
    except Exception:  # noqa: BLE001 - unreadable: the job fails when it opens the file, with the reason
        return "jpg"


def plan_batch(sources: Sequence[Path], outdir: str | os.PathLike[str], steps: Sequence[Any],
               options: ExportOptions, manifest: Manifest, *, format_choice: str | None = None,
               suffix: str = "", tile: int | None = None) -> Plan:
    """Jobs for ``sources`` into ``outdir`` (see the module docstring for what is skipped and redone).

    Args:
        sources: photos (from :func:`expand_inputs`).
        steps: pipeline Steps and/or ``"auto"``.
        options: quality, metadata and ``overwrite`` (its ``format`` is replaced per photo).
        format_choice: the user's format, or None for the default per photo (TIFF for RAW, else JPEG).
        suffix: added to the stem of each output (the GUI's ``_restored``; the CLI none).
        tile: the run's tile setting (part of the recipe hash).
    """
    outdir = Path(outdir).absolute()  # the manifest must not depend on the directory the run started in
    taken: set[str] = set()
    for out in manifest.outputs():
        claim_name(Path(out), "", taken)  # every output on record stays that job's
    # an output must never land on an input (outdir = the photos' folder, a.png -> a.jpg beside an input a.jpg):
    # each job protects its own source and any input its output would hit (not all inputs: a job is pickled
    # to its worker, and 200,000 paths in every job would be 200,000 squared)
    inputs = {os.path.normcase(str(p.resolve())) for p in sources if p.exists()}
    hashes: dict[str, str] = {}
    plan = Plan()
    for src in sources:
        source = str(src.resolve()) if src.exists() else str(src.absolute())
        try:
            st = os.stat(source)
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = -1, 0
        fmt = format_choice or _default_format(src)
        opts = replace(options, format=fmt)
        if fmt not in hashes:
            hashes[fmt] = recipe_hash(steps, opts, tile)
        recipe = hashes[fmt]
        jid = job_id(source, size, mtime, recipe)
        entry = manifest.get(jid)
        if entry and entry.get("status") == DONE and Path(entry.get("output", "")).is_file():
            plan.done_before.append((source, entry["output"]))
            continue
        if entry and entry.get("output"):
            out = Path(entry["output"])  # redo under the name it claimed; a result already there is this job's
            ours = out.is_file() and written_by_photorestore(out)
            if ours and entry.get("status") == RUNNING and out.stat().st_mtime >= entry.get("updated", 0) - 2:
                # written (atomically: whole) after the job started, but the run was killed before recording it
                manifest.update(jid, status=DONE, error="", note="result found after an interrupted run")
                plan.done_before.append((source, str(out)))
                continue
            overwrite = options.overwrite or ours
        else:
            previous = [e for e in manifest.for_input(source) if e.get("output")]
            if options.overwrite and previous and Path(previous[-1]["output"]).suffix == extension(fmt):
                out = Path(previous[-1]["output"])  # --overwrite: replace the previous result of this input
            else:
                wanted = outdir / f"{src.stem}{suffix}{extension(fmt)}"
                out = claim_name(wanted, src.suffix.lstrip(".").lower(), taken, avoid_existing=not options.overwrite)
            overwrite = options.overwrite
        hits = (str(out),) if os.path.normcase(str(out.resolve())) in inputs else ()
        plan.jobs.append(Job(jid, source, size, mtime, recipe, tuple(steps), replace(opts, overwrite=overwrite),
                             str(out), (source, *hits), tile))
    return plan


def for_retry(job: Job) -> Job:
    """``job`` to run again after its worker died: the output it claimed may already hold its result (saved,
    then the worker was lost before reporting), which this app wrote; the retry may replace it (same bytes)
    instead of failing with "already exists". A file there that this app did not write is still refused."""
    out = Path(job.output)
    if job.options.overwrite or not (out.is_file() and written_by_photorestore(out)):
        return job
    return replace(job, options=replace(job.options, overwrite=True))
