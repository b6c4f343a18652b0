"""Auto through the real entry point: one plan for ``analyze`` and ``run --op auto`` (issue 20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CR2 = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "raw" / "bayer" / \
    "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=240)


def _cr2() -> Path:
    for p in (CR2, Path("/work/shared/datasets/raw/bayer") / CR2.name):
        if p.is_file():
            return p
    pytest.skip("Canon 30D CR2 not in ../shared/datasets")


def test_daylight_cr2_needs_nothing_in_analyze_and_run(tmp_path):
    # A well-exposed, sharp f/22 daylight landscape: judged on its development, not the linear mosaic
    # (which read 2.2 EV dark and 1.7 px blurred, so run --op auto used to brighten and deblur it).
    cr2 = _cr2()
    an = _cli("analyze", str(cr2), cwd=tmp_path)
    assert an.returncode == 0, an.stderr
    assert "Auto recipe   nothing to do" in an.stdout
    assert "Findings      none" in an.stdout
    run = _cli("run", str(cr2), "-o", str(tmp_path / "out"), "--op", "auto", "--format", "jpg",
               cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "auto: nothing to restore" in run.stderr
    assert "lowlight" not in run.stderr and "deblur" not in run.stderr
    assert (tmp_path / "out" / f"{cr2.stem}.jpg").is_file()
