"""Atomic writes leave normal permissions: installed model files and recipes must be readable by all."""

from __future__ import annotations

import os
import stat

from app.core.fsutil import atomic_write
from app.core.pipeline import Recipe


def test_atomic_write_uses_umask_permissions_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "w.bin", b"abc")
        recipe = Recipe([], "x").save(tmp_path / "r.json")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"abc"
    for p in (path, recipe):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_commit_without_overwrite_never_clobbers_a_file_that_appeared_meanwhile(tmp_path):
    import pytest

    from app.core.fsutil import atomic_path

    dest = tmp_path / "out.jpg"
    with pytest.raises(FileExistsError):
        with atomic_path(dest, overwrite=False) as tmp:
            tmp.write_bytes(b"new")
            dest.write_bytes(b"someone else's")  # e.g. a second export of the same name
    assert dest.read_bytes() == b"someone else's"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jpg"]  # the temporary is gone too


def test_a_failed_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    import pytest

    from app.core.fsutil import atomic_writer

    dest = tmp_path / "manifest.toml"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_writer(dest) as fh:
            fh.write(b"half")
            raise RuntimeError("disk went away")
    assert dest.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["manifest.toml"]


def test_without_hard_links_a_commit_still_refuses_an_existing_file(tmp_path, monkeypatch):
    import errno

    import pytest

    from app.core import fsutil

    def no_links(*_a):  # FAT, some network shares
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(fsutil.os, "link", no_links)
    dest, tmp = tmp_path / "a.png", tmp_path / ".a.tmp"
    tmp.write_bytes(b"x")
    fsutil.commit(tmp, dest, overwrite=False)
    assert dest.read_bytes() == b"x" and not tmp.exists()
    tmp.write_bytes(b"y")
    with pytest.raises(FileExistsError):
        fsutil.commit(tmp, dest, overwrite=False)
    assert dest.read_bytes() == b"x"
