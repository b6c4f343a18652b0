"""Fixtures shared by the op tests."""

import pytest

from app.core.ops.registry import get_op


@pytest.fixture(scope="module")
def lowlight_op():
    """The low-light op with its shipped weights (skips where they are not on disk)."""
    op = get_op("lowlight")
    ok, why = op.availability()
    if not ok:
        pytest.skip(f"no shipped low-light weights: {why}")
    return op
