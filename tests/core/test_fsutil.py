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
