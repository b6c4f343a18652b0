"""Issue 22 #9: tile sizes are checked where the run settings are made, not silently clamped later."""

from __future__ import annotations

import pytest

from app.core.context import TILE_RANGE, RunContext, check_tile


@pytest.mark.parametrize("bad", [0, -5, 1, 2**63, 1.5, "512", True])
def test_bad_tile_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="tile size"):
        RunContext(tile=bad)


def test_good_tile_sizes_pass():
    assert RunContext().tile is None
    assert check_tile(TILE_RANGE[0]) == TILE_RANGE[0] and RunContext(tile=512).sub(0, 1).tile == 512
