"""Distinct output names within one run (CLI ``run``, the GUI's batch export).

Two inputs can want the same output: ``a.jpg`` and ``a.png`` from one folder, or ``photo.jpg`` from three
folders. Checking only the disk is not enough (the first result does not exist yet when the second name is
chosen) and with "overwrite" a repeated name silently replaces the run's own earlier result. So every
candidate is checked against the names already claimed in the run.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

#: Longest file name most file systems accept (bytes); a long input name plus a tag must still fit.
NAME_MAX = 255


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))  # case-insensitive disks: A.jpg is a.jpg


def fit_stem(stem: str, ext: str, room: int = 20) -> str:
    """``stem`` shortened so ``stem + ext`` leaves ``room`` bytes for a tag under :data:`NAME_MAX`."""
    while len((stem + ext).encode("utf-8", "surrogateescape")) > NAME_MAX - room and len(stem) > 1:
        stem = stem[:-1]
    return stem


def claim_name(wanted: Path, tag: str, taken: set[str], *, avoid_existing: bool = False) -> Path:
    """``wanted``, else ``<stem>-<tag><ext>``, else ``<stem>-<tag>-2<ext>``...: the first candidate no earlier
    call claimed (and, with ``avoid_existing``, not on disk either). The result is added to ``taken``."""
    stem, ext = fit_stem(wanted.stem, wanted.suffix), wanted.suffix
    tagged = f"{stem}-{tag[:8] or '1'}"
    for name in itertools.chain((stem, tagged), (f"{tagged}-{n}" for n in itertools.count(2))):
        out = wanted.with_name(name + ext)
        if _key(out) not in taken and not (avoid_existing and os.path.lexists(out)):
            taken.add(_key(out))
            return out
    raise AssertionError("unreachable")  # pragma: no cover - the counter never ends
