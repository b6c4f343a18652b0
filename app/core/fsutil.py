"""The one atomic writer: image exports, the manifest, model cards/weights, recipes and checkpoints.

A file is written to a temporary beside its destination, flushed to disk and moved into place in one
step, so readers never see half a file. :func:`atomic_path` serves writers that need a file name (image
encoders; the export names its partial files so stale ones can be found), :func:`atomic_writer` those
that take a file object, and :func:`commit` is the last step of both, with or without replacing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_beside(path: Path) -> Path:
    # mkstemp's 0600 would make shipped model files and shared recipes unreadable to other users once
    # installed: give the file what a plain open() would.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(tmp)


def commit(tmp: str | os.PathLike[str], path: str | os.PathLike[str], *, overwrite: bool = True,
           fsync: bool = True) -> None:
    """Move the finished temporary ``tmp`` to ``path`` in one step (``tmp`` is gone afterwards).

    ``overwrite=False`` commits with a hard link, which cannot clobber a file that appeared meanwhile,
    and raises :class:`FileExistsError` instead; where the file system has no hard links (FAT, some
    network shares) it falls back to checking first. ``fsync=False`` skips the flush to disk (caches
    that may be lost in a power cut but must not stall the caller).
    """
    tmp, path = Path(tmp), Path(path)
    if fsync:
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except OSError as exc:  # FileExistsError (EEXIST) is not in the list below: raised as it is
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, None):
            raise
        if path.exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = True, fsync: bool = True,
                temp: Callable[[Path], Path] | None = None) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path`` to write to; on success :func:`commit` it.

    On an exception (the writer's, or :class:`FileExistsError` from a refused commit) the temporary is
    removed and ``path`` is untouched. ``temp`` makes the temporary (default: a hidden ``.<name>.*.tmp``
    with the permissions a plain ``open()`` would give).
    """
    path = Path(path)
    tmp = (temp or _temp_beside)(path)
    try:
        yield tmp
        commit(tmp, path, overwrite=overwrite, fsync=fsync)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, fsync: bool = True) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success it replaces ``path``
    (:func:`atomic_path`): readers never see half a file, a crash leaves the old file or the new one."""
    with atomic_path(path, fsync=fsync) as tmp, open(tmp, "wb") as fh:
        yield fh


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *, fsync: bool = True) -> Path:
    """Write ``data`` (str is UTF-8 encoded) to ``path`` through :func:`atomic_writer`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, fsync=fsync) as fh:
        fh.write(raw)
    return Path(path)
