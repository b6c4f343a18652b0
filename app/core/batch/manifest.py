"""The batch manifest: what was asked of each photo of an output folder, and how far it got.

``<outdir>/photorestore-batch.json`` holds one entry per job (input path, size, mtime, recipe hash,
output path, status, seconds, megapixels, error). Only the coordinating process writes it.

Why a journal beside it: rewriting the whole JSON after every state change costs O(entries) per change,
which is fine for 3,000 RAWs and hopeless for 200,000 scans. So every change is appended at once, as one
JSON line, to ``photorestore-batch.journal`` (an appended line survives the process being killed: it is in
the kernel's page cache), and the JSON itself is rewritten atomically (:func:`~app.core.fsutil.atomic_write`)
at most every few seconds and when the run ends. :meth:`Manifest.load` replays the journal over the JSON, so
the state read back is exact to the last change even after ``kill -9``; it then folds the journal in.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from app.core.fsutil import atomic_write

MANIFEST_NAME = "photorestore-batch.json"
JOURNAL_NAME = "photorestore-batch.journal"
FORMAT = "photorestore-batch"
VERSION = 1
#: longest the JSON may lag the journal while a run goes on (seconds)
SNAPSHOT_EVERY = 5.0

#: the fields of an entry (``id`` is :func:`app.core.batch.jobs.job_id`)
FIELDS = ("id", "input", "size", "mtime_ns", "recipe", "output", "status", "seconds", "megapixels", "error",
          "steps", "worker", "updated", "note")


class ManifestError(ValueError):
    """The manifest file exists but cannot be read as one (the message says which file and why)."""


class Manifest:
    """The entries of one output folder, keyed by job id (several per input: one per recipe or version of
    the file; the older ones keep their outputs on record)."""

    def __init__(self, folder: str | os.PathLike[str], entries: dict[str, dict[str, Any]] | None = None) -> None:
        self.folder = Path(folder)
        self.entries: dict[str, dict[str, Any]] = entries or {}
        self._journal = None
        self._snapshot_at = 0.0
        self._snapshot_cost = 0.0

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST_NAME

    @property
    def journal_path(self) -> Path:
        return self.folder / JOURNAL_NAME

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Manifest:
        """The folder's manifest (empty when there is none), with the journal of an unfinished run replayed.

        Raises:
            ManifestError: the JSON is not a manifest (edited by hand, another program's file).
        """
        m = cls(folder)
        if m.path.exists():
            try:
                data = json.loads(m.path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ManifestError(f"{m.path}: cannot read the batch manifest ({exc}); move it away to start "
                                    "the folder's record afresh") from None
            if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("jobs"), list):
                raise ManifestError(f"{m.path}: not a PhotoRestore batch manifest; move it away or choose "
                                    "another output folder")
            m.entries = {e["id"]: e for e in data["jobs"] if isinstance(e, dict) and "id" in e}
        m._replay()
        return m

    def _replay(self) -> None:
        try:
            text = self.journal_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a power loss: that change is lost, the job is simply redone
            if isinstance(entry, dict) and "id" in entry:
                self.entries[entry["id"]] = entry

    # -- queries -------------------------------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any] | None:
        return self.entries.get(job_id)

    def for_input(self, source: str) -> list[dict[str, Any]]:
        """Entries of ``source``, most recently updated last."""
        return sorted((e for e in self.entries.values() if e.get("input") == source), key=lambda e: e.get("updated", 0))

    def outputs(self) -> set[str]:
        return {e["output"] for e in self.entries.values() if e.get("output")}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.entries.values():
            out[e.get("status", "")] = out.get(e.get("status", ""), 0) + 1
        return out

    # -- changes (coordinator only) ------------------------------------------------------------------
    def update(self, job_id: str, **fields: Any) -> dict[str, Any]:
        """Set ``fields`` on the entry (created if new) and journal the change at once."""
        entry = self.entries.setdefault(job_id, {"id": job_id})
        entry.update({"updated": time.time(), **fields})
        if self._journal is None:
            self._journal = open(self.journal_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        self._journal.write(json.dumps(entry, sort_keys=True) + "\n")
        self._journal.flush()  # into the kernel: survives the process being killed
        # a big manifest takes a while to write: never spend more than ~5 % of the run on snapshots
        if time.monotonic() - self._snapshot_at > max(SNAPSHOT_EVERY, 20 * self._snapshot_cost):
            self.save()
        return entry

    def save(self) -> Path:
        """Write the JSON atomically and fold the journal into it (a crash in between only replays twice)."""
        t0 = time.monotonic()
        data = {"format": FORMAT, "version": VERSION,
                "jobs": sorted(self.entries.values(), key=lambda e: (e.get("input", ""), e.get("updated", 0)))}
        atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True))
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.journal_path)
        self._snapshot_at = time.monotonic()
        self._snapshot_cost = self._snapshot_at - t0
        return self.path

    def close(self) -> None:
        """Final save (end of run, cancel)."""
        self.save()
