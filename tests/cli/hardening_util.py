"""Helpers for the hardening tests (issue 22): the real entry point as a subprocess, odd files made in code."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from app.core.io.containers import EXIF_HEADER, jpeg_insert

REPO = Path(__file__).resolve().parents[2]


def io_testdata():
    """tests/core/io/io_testdata.py (the files-made-in-code builders), loaded by path."""
    spec = importlib.util.spec_from_file_location("io_testdata", REPO / "tests" / "core" / "io" / "io_testdata.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """``python -m app ARGS`` with this checkout first on the path (not an installed copy)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    env.update(kwargs.pop("env", {}))
    return subprocess.run([sys.executable, "-m", "app", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, **kwargs)


def jpeg(path: Path, value: int = 128, size: tuple[int, int] = (48, 32), exif_blob: bytes | None = None) -> Path:
    rng = np.random.default_rng(value)
    arr = np.clip(value + rng.normal(0, 20, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    data = buf.tobytes()
    if exif_blob is not None:
        data = jpeg_insert(data, [(0xE1, EXIF_HEADER + exif_blob)])
    path.write_bytes(data)
    return path


def exif_with_empty_orientation() -> bytes:
    """A little-endian EXIF block whose only tag, Orientation, has count 0 (no value at all)."""
    entry = struct.pack("<HHII", 0x0112, 3, 0, 0)
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + struct.pack("<I", 0)


def assert_clean_stderr(err: str) -> None:
    """No traceback, no object repr, no temporary name, no native library chatter."""
    assert "Traceback" not in err, err
    assert " object at 0x" not in err, err
    assert ".partial" not in err, err
    for noise in ("TIFF_Error", "libpng", "Corrupt JPEG", "Premature end", "[ WARN", "Warning:"):
        assert noise not in err, err
