"""Registry, model states, loading, and LoadedModel's pad/tile/clamp/crop contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from app.core.context import RunContext
from app.core.models import registry
from app.core.models.export import export_model
from app.core.models.registry import (
    ModelUnavailableError,
    descriptors,
    load_model,
    model_state,
    register,
    temporary_registry,
    weights_sha256,
)
from app.core.models.testing import TINY_ARCH, TinyConvNet, build_tiny, temporary_model, tiny_descriptor

CARD = {"licence": "CC0-1.0", "training_data": "synthetic (CC0)"}


def test_register_is_explicit_and_temporary(models_tmp):
    before = [d.id for d in descriptors()]
    with temporary_registry():
        register(tiny_descriptor("temp_a"), build_tiny)
        with pytest.raises(ValueError, match="already registered"):
            register(tiny_descriptor("temp_a"), build_tiny)
        assert "temp_a" in [d.id for d in descriptors()]
    assert [d.id for d in descriptors()] == before


def test_states_of_unknown_untrained_and_mismatched(models_tmp):
    state = model_state("nobody")
    assert state.name == "missing" and "no model 'nobody' is registered" in state.message
    register(tiny_descriptor("tiny_a"), build_tiny)
    state = model_state("tiny_a")
    assert state.name == "untrained" and "no trained weights" in state.message
    with pytest.raises(ModelUnavailableError, match="tiny_a is untrained"):
        load_model("tiny_a", "cpu")
    export_model("tiny_b", TinyConvNet(width=8, depth=3), arch="other_arch", config={"width": 8}, card=CARD)
    register(tiny_descriptor("tiny_b"), build_tiny)
    state = model_state("tiny_b")
    assert state.name == "corrupt" and "architecture 'other_arch'" in state.message
    registry.unregister("tiny_b")
    assert model_state("tiny_b").name == "missing"  # in the manifest, but no code registers it


def test_broken_manifest_reports_corrupt(models_tmp):
    register(tiny_descriptor("tiny_a"), build_tiny)
    (models_tmp / "manifest.toml").write_text("[models.tiny_a\n")
    state = model_state("tiny_a")
    assert state.name == "corrupt" and "manifest unreadable" in state.message


def test_op_availability_uses_model_state(models_tmp):
    from app.core.ops.base import Op

    class NeedsModel(Op):
        id = "needs_model"
        label = "Needs model"

        @dataclasses.dataclass(frozen=True)
        class Params:
            pass

        def model_ids(self, params):
            return ["tiny_a"]

    register(tiny_descriptor("tiny_a"), build_tiny)
    usable, reason = NeedsModel().availability()
    assert not usable and reason.startswith("model tiny_a: no trained weights")


def test_load_model_is_cached_and_follows_reexports(tmp_path):
    with temporary_model(tmp_path, "tiny_a") as desc:
        m1 = load_model(desc.id, "cpu")
        assert load_model(desc.id, "cpu") is m1
        assert m1.module.training is False and m1.dtype == torch.float32 and len(m1.sha256) == 64
        cfg = dict(desc.config)
        export_model(desc.id, TinyConvNet(**cfg), arch=TINY_ARCH, config=cfg, card=CARD)  # retrained
        m2 = load_model(desc.id, "cpu")
        assert m2 is not m1 and m2.sha256 != m1.sha256
        assert weights_sha256(desc.id) == m2.sha256  # pipeline cache key follows the weights
    assert weights_sha256("nobody") == ""


def test_loaded_model_runs_numpy_images(tmp_path):
    with temporary_model(tmp_path, "tiny_a") as desc:
        model = load_model(desc.id, "cpu")
        img = np.random.default_rng(0).random((37, 45, 3), dtype=np.float32)
        seen = []
        ctx = RunContext(lambda f, t: seen.append(f))
        out = model(img, ctx, tile=32)
        assert out.shape == img.shape and out.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 1.0  # clamped to value_range
        with torch.no_grad():
            ref = model.module(torch.from_numpy(img.transpose(2, 0, 1).copy())[None]).clamp(0, 1)
        np.testing.assert_allclose(out, ref[0].permute(1, 2, 0).numpy(), atol=1e-4)
        assert seen[-1] == 1.0 and len(seen) > 1
        with pytest.raises(ValueError, match=r"expects \(N, 3, H, W\) srgb input"):
            model(img[:, :, :2])


def test_size_multiple_scale_and_unclamped_range(tmp_path):
    sizes = []

    def builder(**cfg):
        net = TinyConvNet(**cfg)
        net.register_forward_pre_hook(lambda m, args: sizes.append(tuple(args[0].shape[-2:])))
        return net

    with temporary_model(tmp_path, "tiny_up", in_channels=4, out_channels=3, input_space="bayer4",
                         size_multiple=8, scale=2, value_range=None) as desc:
        register(desc, builder, replace=True)
        model = load_model(desc.id, "cpu")
        out = model(np.full((13, 10, 4), 5.0, np.float32), tile=32)
        assert out.shape == (26, 20, 3)
        assert out.min() < 0.0 or out.max() > 1.0  # value_range=None: not clamped
        assert sizes and all(h % 8 == 0 and w % 8 == 0 for h, w in sizes)


def test_untileable_model_runs_whole(tmp_path):
    sizes = []
    with temporary_model(tmp_path, "tiny_global", tile_safe=False) as desc:
        model = load_model(desc.id, "cpu")
        model.module.register_forward_pre_hook(lambda m, args: sizes.append(tuple(args[0].shape[-2:])))
        model(np.zeros((70, 50, 3), np.float32), tile=32)
    assert sizes == [(70, 50)]


def test_weights_that_do_not_fit_are_corrupt(tmp_path):
    with temporary_model(tmp_path, "tiny_a") as desc:
        # the code now builds a wider net than the one exported
        register(dataclasses.replace(desc, config={**desc.config, "width": 16}),
                 lambda **cfg: TinyConvNet(**{**cfg, "width": 16}), replace=True)
        with pytest.raises(ModelUnavailableError, match="do not fit the registered architecture") as err:
            load_model(desc.id, "cpu")
        assert err.value.state == "corrupt"
