"""Builds the frozen app and the Linux installers, then runs the smoke test (frozen --selftest, the
.deb unpacked into a scratch root and run from there). Minutes of work, so not in the default suite:

    python -m pytest -m packaging tests/packaging
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import REPO  # tests/packaging/conftest.py

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux installers build on Linux"),
]


@pytest.fixture(scope="module")
def built():
    for tool in ("dpkg-deb", "strip", "readelf"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed")
    res = subprocess.run(
        ["bash", str(REPO / "packaging" / "build.sh")], cwd=REPO, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return REPO / "packaging" / "dist"


def test_frozen_selftest_and_deb_install(built):
    res = subprocess.run(
        ["bash", str(REPO / "packaging" / "smoke_test.sh"), "--runs", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    summary = (built / "smoke-summary.txt").read_text()
    assert "ok   frozen --selftest" in summary and "ok   installed --selftest" in summary
    assert summary.count("selftest: OK") == 2


def test_sizes_within_budget(built):
    """Issue 9's budget for the CPU edition: <= 1.2 GB unpacked, <= 450 MB compressed."""
    summary = (built / "build-summary.txt").read_text()
    sizes = {
        line.split(":")[0]: int(line.split(":")[1].split("MB")[0])
        for line in summary.splitlines()
        if line.startswith(("onedir:", "tar.gz:", "deb:"))
    }
    assert sizes["onedir"] <= 1200
    assert sizes["tar.gz"] <= 450 and sizes["deb"] <= 450
