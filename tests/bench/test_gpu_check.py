"""bench/gpu_check.sh's CPU-only parts (the out-of-memory path, the GUI worker; all parts with -m slow)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(parts: list[str], mp: str, timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "GPU_CHECK_DEVICE": "cpu", "GPU_CHECK_MP": mp, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(ROOT / "bench/gpu_check.sh"), "--part", *parts], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_gpu_check_cpu_parts():
    res = _run(["oom", "gui"], "0.1", 280)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "[oom] ok" in res.stdout and "[gui] ok" in res.stdout and "all parts passed" in res.stdout


@pytest.mark.slow
def test_gpu_check_every_part_on_the_cpu():
    res = _run(["selftest", "ops", "oom", "autocast", "gui"], "0.3", 1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
