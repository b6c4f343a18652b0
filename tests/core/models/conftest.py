"""Fixtures of the model-registry tests (single-threaded torch: tests/core/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def models_tmp(tmp_path, monkeypatch):
    """An empty models directory (via PHOTORESTORE_MODELS_DIR) and a registry restored afterwards."""
    from app.core.models.registry import temporary_registry

    directory = tmp_path / "models"
    directory.mkdir()
    monkeypatch.setenv("PHOTORESTORE_MODELS_DIR", str(directory))
    with temporary_registry():
        yield directory
