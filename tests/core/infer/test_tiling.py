"""Tiled inference: exactness, seams, padding, scale, progress, cancellation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from app.core.context import Cancelled, RunContext
from app.core.infer.tiling import _axis_weights, apply_hwc, plan_tiles, tiled_apply
from app.core.models.testing import TinyConvNet
from app.core.nets.blocks import pad_to_multiple


def conv_net(depth: int, cin: int = 3, cout: int = 3, width: int = 8, seed: int = 0) -> nn.Module:
    """``depth`` zero-padded 3x3 convs: receptive-field radius ``depth``."""
    torch.manual_seed(seed)
    chans = [cin] + [width] * (depth - 1) + [cout]
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Conv2d(chans[i], chans[i + 1], 3, padding=1), nn.Tanh()]
    return nn.Sequential(*layers[:-1]).eval()


def untiled(fn, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return fn(x)


@pytest.mark.parametrize(("depth", "overlap", "tile", "size"), [
    (4, 16, 40, (97, 83)),   # r=4 <= 16 // 4, odd sizes, 3x3 tiles with a clamped last one
    (5, 32, 72, (150, 131)),  # receptive field 11 < overlap 32
])
def test_tiled_equals_untiled_everywhere(depth, overlap, tile, size):
    net = conv_net(depth)
    x = torch.rand(1, 3, *size)
    plan = plan_tiles(*size, tile, overlap)
    assert plan.count >= 6  # really tiled
    out = tiled_apply(net, x, tile=tile, overlap=overlap, device="cpu")
    ref = untiled(net, x)
    assert out.shape == ref.shape and out.dtype == torch.float32
    # Border tiles see the real image border, as the untiled run does: exact at the borders too.
    assert (out - ref).abs().max().item() < 1e-4


def test_weights_partition_unity_and_are_smooth():
    plan = plan_tiles(300, 300, 96, overlap=32)
    weights = _axis_weights(300, plan.ys, plan.tile_h, plan.margin, plan.blend, 1)
    total = torch.zeros(300)
    for y0, w in zip(plan.ys, weights):
        total[y0:y0 + plan.tile_h] += w
        assert w.diff().abs().max().item() < 0.2  # a 16 px raised-cosine ramp, no step
    assert torch.allclose(total, torch.ones(300), atol=1e-6)


def seam_ratio(out: torch.Tensor, border: int) -> float:
    """Largest step over the typical step, per direction, away from the image borders."""
    img = out[0, 0, border:-border, border:-border]
    return max((s.max() / s.median()).item() for s in (img.diff(dim=1).abs(), img.diff(dim=0).abs()))


def test_no_visible_seam_where_tiles_disagree():
    # A smooth ramp through an identity-ish but non-local function (adds a tenth of the tile
    # mean): neighbouring tiles disagree by ~1e-2, as a deep net's tiles do near their edges.
    h = w = 160
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    ramp = ((yy + 2 * xx) / (3.0 * w)).float()[None, None]

    def fn(t):
        return t + 0.1 * t.mean()

    blended = tiled_apply(fn, ramp, tile=64, overlap=32, device="cpu")
    hard = tiled_apply(fn, ramp, tile=64, overlap=0, device="cpu")  # abutting tiles: what a seam looks like
    assert seam_ratio(hard, 4) > 2.5  # the metric sees seams...
    assert seam_ratio(blended, 4) < 1.6  # ...and the blend leaves none: steps stay close to the ramp's own


def test_size_multiple_pads_with_reflection_and_crops():
    net = conv_net(3)
    seen = []

    def fn(t):
        seen.append(tuple(t.shape[-2:]))
        assert t.shape[-2] % 32 == 0 and t.shape[-1] % 32 == 0
        return net(t)

    x = torch.rand(1, 3, 70, 45)
    out = tiled_apply(fn, x, tile=64, overlap=16, multiple=32, device="cpu")
    ref = untiled(net, pad_to_multiple(x, 32)[0])[..., :70, :45]
    assert out.shape == (1, 3, 70, 45)
    assert (out - ref).abs().max().item() < 1e-4
    assert len(seen) > 1


def test_offsets_are_aligned_to_the_multiple():
    plan = plan_tiles(101, 67, tile=40, overlap=6, multiple=2)  # e.g. a Bayer mosaic
    assert all(y % 2 == 0 for y in plan.ys) and all(x % 2 == 0 for x in plan.xs)
    assert plan.tile_h % 2 == 0 and plan.ys[-1] + plan.tile_h == 102


@pytest.mark.parametrize(("cin", "cout"), [(3, 3), (4, 3)])
def test_scale_two_and_channel_change(cin, cout):
    torch.manual_seed(1)
    net = TinyConvNet(in_channels=cin, out_channels=cout, depth=3, scale=2).eval()
    x = torch.rand(1, cin, 53, 61)
    out = tiled_apply(net, x, tile=32, overlap=16, scale=2, device="cpu")
    ref = untiled(net, x)
    assert out.shape == (1, cout, 106, 122)
    assert (out - ref).abs().max().item() < 1e-4


@pytest.mark.parametrize(("size", "multiple"), [((5, 7), 1), ((5, 7), 8), ((1, 1), 4), ((2, 3), 16)])
def test_tiny_images(size, multiple):
    net = conv_net(2)
    x = torch.rand(1, 3, *size)
    out = tiled_apply(net, x, overlap=16, multiple=multiple, device="cpu")  # tile from free memory
    ref = untiled(net, pad_to_multiple(x, multiple)[0])[..., :size[0], :size[1]]
    assert out.shape == (1, 3, *size)
    assert (out - ref).abs().max().item() < 1e-5


def test_progress_per_tile_is_monotone_and_ends_at_one():
    seen = []
    ctx = RunContext(lambda f, text: seen.append((f, text)))
    plan = plan_tiles(90, 90, 40, 16)
    tiled_apply(lambda t: t * 2, torch.rand(1, 1, 90, 90), tile=40, overlap=16, ctx=ctx.sub(0.5, 1.0))
    fractions = [f for f, _ in seen]
    assert len(fractions) == plan.count
    assert fractions == sorted(fractions) and fractions[0] > 0.5 and fractions[-1] == 1.0
    assert seen[-1][1] == f"tile {plan.count}/{plan.count}"


def test_cancellation_stops_between_tiles():
    calls = []
    ctx = RunContext()

    def fn(t):
        calls.append(1)
        if len(calls) == 2:
            ctx.cancel()  # as if the user pressed Cancel during the 2nd tile
        return t

    with pytest.raises(Cancelled):
        tiled_apply(fn, torch.rand(1, 1, 120, 120), tile=40, overlap=16, ctx=ctx)
    assert len(calls) == 2  # the running tile finished, no further tile started


def test_input_is_never_modified_even_by_in_place_functions():
    x = torch.rand(1, 3, 30, 30)
    before = x.clone()
    out = tiled_apply(lambda t: t.mul_(3), x, tile=30, overlap=4)
    assert torch.equal(x, before)
    assert torch.allclose(out, before * 3)


def test_result_can_be_edited_in_place_after_inference_mode():
    with torch.inference_mode():
        out = tiled_apply(lambda t: t, torch.rand(1, 1, 20, 20), overlap=4)
    out.mul_(2)  # would raise for an inference tensor


def test_wrong_output_size_is_a_clear_error():
    with pytest.raises(ValueError, match=r"expected \(1, C', 80, 80\) with scale=2"):
        tiled_apply(lambda t: t, torch.rand(1, 1, 40, 40), scale=2, overlap=4)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        tiled_apply(lambda t: t, torch.rand(3, 40, 40))


def test_apply_hwc_numpy_round_trip():
    img = np.random.default_rng(0).random((33, 21, 3), dtype=np.float32)
    out = apply_hwc(lambda t: t.flip(1), img, overlap=8)
    assert out.shape == (33, 21, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, img[:, :, ::-1])
    gray = apply_hwc(lambda t: torch.cat([t, t], 1), img[:, :, 0], overlap=8)
    assert gray.shape == (33, 21, 2)
