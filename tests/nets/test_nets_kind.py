import pytest
import torch
import torch.nn.functional as F

from app.core.nets import kind


def _in_unit_interval(t: torch.Tensor) -> bool:
    return bool(((t > 0) & (t < 1)).all())


@pytest.mark.parametrize("config", ["fast", "full"])
@pytest.mark.parametrize("size", [(16, 24), (13, 19)])
def test_decomposition_shapes_and_ranges(config, size):
    model = kind.build("decomposition", config).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, *size))
    r, l_map = model.split(out)
    assert r.shape == (2, 3, *size) and l_map.shape == (2, 1, *size)
    assert _in_unit_interval(out)


@pytest.mark.parametrize("config", ["fast", "full"])
@pytest.mark.parametrize("attention", [False, True])
def test_restoration_shapes_odd_sizes(config, attention):
    model = kind.build("restoration", config, illumination_attention=attention).eval()
    h, w = (17, 23) if config == "fast" else (33, 18)  # full pads to 16: keep it small but non-aligned
    with torch.no_grad():
        out = model(torch.rand(1, 3, h, w), torch.rand(1, 1, h, w))
    assert out.shape == (1, 3, h, w) and _in_unit_interval(out)
    with pytest.raises(ValueError, match="illumination"):
        model(torch.rand(1, 3, h, w), torch.rand(1, 1, h, w + 1))


def test_single_tensor_forms_match_two_argument_forms():
    """The registry and tiler pass one tensor: cat(R, L) and cat(L, alpha map) must mean the same."""
    restoration = kind.build("restoration", "fast").eval()
    adjustment = kind.build("adjustment", "fast").eval()
    r, l_map = torch.rand(1, 3, 24, 24), torch.rand(1, 1, 24, 24)
    with torch.no_grad():
        for p in adjustment.parameters():
            p.normal_(0, 0.3)
        torch.testing.assert_close(restoration(torch.cat([r, l_map], 1)), restoration(r, l_map))
        stacked = torch.cat([l_map, torch.full_like(l_map, 2.5)], 1)
        torch.testing.assert_close(adjustment(stacked), adjustment(l_map, 2.5))
    with pytest.raises(ValueError):
        restoration(r)
    with pytest.raises(ValueError):
        adjustment(l_map)


@pytest.mark.parametrize("config", ["fast", "full"])
def test_adjustment_is_identity_at_init_and_shapes(config):
    """The curve head starts at zero, so an untrained net passes L through (structure, not training)."""
    model = kind.build("adjustment", config).eval()
    l_map = torch.rand(2, 1, 21, 30) * 0.98 + 0.01
    with torch.no_grad():
        out = model(l_map, torch.tensor([0.5, 4.0]))
    assert out.shape == l_map.shape
    torch.testing.assert_close(out, l_map, rtol=0, atol=1e-5)


def test_adjustment_split_path_matches_forward():
    """Preview path: coarse curve_params + apply_curve (with cached logit) equals forward()."""
    model = kind.build("adjustment", "fast").eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
        l_map = torch.rand(1, 1, 32, 48) * 0.9 + 0.05
        full = model(l_map, 3.0)
        params = model.curve_params(F.avg_pool2d(l_map, model.scale), 3.0)
        params = F.interpolate(params, size=l_map.shape[-2:], mode="bilinear", align_corners=False)
        split = model.apply_curve(l_map, params, logit=torch.logit(l_map, eps=1e-4))
    torch.testing.assert_close(split, full)
    assert not torch.allclose(full, l_map)  # the perturbed net really changes L


def test_adjustment_alpha_forms_agree_and_validate():
    model = kind.build("adjustment", "fast").eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
        l_map = torch.rand(2, 1, 16, 16)
        scalar = model(l_map, 2.0)
        per_image = model(l_map, torch.tensor([2.0, 2.0]))
        as_map = model(l_map, torch.full((2, 1, 16, 16), 2.0))
        other = model(l_map, 0.5)
    torch.testing.assert_close(per_image, scalar)
    torch.testing.assert_close(as_map, scalar)
    assert not torch.allclose(other, scalar)
    with pytest.raises(ValueError, match="alpha"):
        model(l_map, 0.0)


@pytest.mark.parametrize("net", ["decomposition", "restoration", "adjustment"])
def test_state_dict_roundtrip(net, roundtrip):
    size = (16, 16)
    inputs = {"decomposition": (torch.rand(1, 3, *size),),
              "restoration": (torch.rand(1, 3, *size), torch.rand(1, 1, *size)),
              "adjustment": (torch.rand(1, 1, *size), 2.0)}[net]
    roundtrip(kind.build(net, "fast"), kind.build(net, "fast"), *inputs)


def test_build_rejects_unknown_names():
    with pytest.raises(KeyError):
        kind.build("fusion")
