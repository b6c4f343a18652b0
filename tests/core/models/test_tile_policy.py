"""Tile policy is a model fact (issue 21): the descriptor, not the op, says how a net is tiled."""

from __future__ import annotations

from app.core.models.registry import get_descriptor


def test_denoisers_use_their_measured_cpu_tile_and_respect_the_user():
    d = get_descriptor("cycleisp_raw_denoise")
    assert d.tile_for("cpu", None) == 384
    assert d.tile_for("cuda", None) is None  # free memory decides on a GPU
    assert d.tile_for("cpu", 256) == 256  # the user's choice wins
    assert d.tile_for("cpu", None, runtime=True) == 1536  # OpenVINO / ONNX Runtime: bigger tiles, less overlap
    assert get_descriptor("cycleisp_srgb_denoise").tile_for("cpu", None, runtime=True) == 1024
    assert d.tile_for("cpu", 256, runtime=True) == 256
    assert get_descriptor("kind_restoration").tile_for("cpu", None, runtime=True) is None  # free memory decides


def test_deblur_may_use_big_tiles_and_refiners_have_a_floor():
    d = get_descriptor("deblurgan_fast")
    big = d.tile_for("cpu", None, free_bytes=64 << 30)
    assert big == 2048  # above the tiler's 1024-px CPU cap: the FPN wants context
    assert d.tile_for("cpu", None, free_bytes=64 << 20) % 32 == 0
    assert get_descriptor("ptg_refine_denoise").tile_for("cpu", 128) == 512
