"""``bench/acceptance.py`` end to end on one photo per set (the full run is a bench, not a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_acceptance_bench_prints_every_target(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "acceptance.py"), "--quick", "--limit", "1",
                          "--side", "128", "--confusion", "2", "--no-sheets", "--tasks", "denoise-raw,deblur",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "## Targets (issue 20)" in text and "targets met." in text
    for what in ("Auto on clean photos", "Auto on denoise-raw", "analysis confusion: dark", "deblur on clean"):
        assert what in text
    assert "## Targets (issue 20)" in (tmp_path / "acceptance.md").read_text()
