"""Fixtures for the packaging tests: the rules module the PyInstaller spec uses, loaded by path
(packaging/ is not a package: a folder named ``packaging`` must not shadow the PyPI module)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"


def load_packaging_module(name: str):
    spec = importlib.util.spec_from_file_location(f"photorestore_packaging_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def rules():
    return load_packaging_module("bundle_rules")


@pytest.fixture(scope="session")
def file_types():
    return load_packaging_module("file_types")
