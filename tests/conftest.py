"""Shared fixtures. Data comes from ../shared/datasets (never copied into the repo) or is made in code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep tests on the 2 CPU cores predictable and away from any user config.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Measured op costs (app.core.pipeline.costs) go to a per-session file, not the user's cache.
if "PHOTORESTORE_COST_BOOK" not in os.environ:
    import tempfile

    os.environ["PHOTORESTORE_COST_BOOK"] = str(Path(tempfile.mkdtemp(prefix="photorestore-costs-")) / "costs.json")

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("PHOTORESTORE_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    if not DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    return DATASETS


@pytest.fixture(scope="session")
def raw_dir(datasets_dir: Path) -> Path:
    return datasets_dir / "raw"
