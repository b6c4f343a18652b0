"""Atomic file writes shared by the manifest, model cards/weights, recipes and training checkpoints.

Image export keeps its own commit step in :mod:`app.core.io.export` because it must also refuse to
replace an existing file (hard-link commit) and name its partial files so stale ones can be found.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, fsync: bool = True) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success fsync and ``os.replace``.

    Readers never see half a file, and a crash leaves the old file or the new one. On an exception
    the temporary file is removed and ``path`` is untouched. The result gets the permissions a plain
    ``open()`` would give (mkstemp's 0600 would make shipped model files and shared recipes unreadable
    to other users once installed). ``fsync=False`` skips the flush to disk (caches that may be lost
    in a power cut but must not stall the caller; the rename still keeps readers from half a file).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *, fsync: bool = True) -> Path:
    """Write ``data`` (str is UTF-8 encoded) to ``path`` through :func:`atomic_writer`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, fsync=fsync) as fh:
        fh.write(raw)
    return Path(path)
