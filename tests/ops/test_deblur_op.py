"""The deblur op with a real (untrained, seeded) DeblurGAN-v2 generator registered for the test.

No trained weights are needed: the generator is built by the same catalog builder, given random weights
that make it far from the identity (scaled output head, random batch-norm statistics), exported with
verified hashes into a temporary models folder and registered under the op's model id.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from app.core.context import Cancelled, RunContext
from app.core.image import Image
from app.core.models.export import export_model
from app.core.models.registry import (
    ModelUnavailableError,
    get_descriptor,
    load_model,
    register,
    temporary_registry,
)
from app.core.models.testing import models_dir_env as models_folder
from app.core.models.weights import models_dir
from app.core.ops import get_op, make_params
from app.core.ops.deblur import MODEL_IDS, DeblurOp


def _scrambled_generator(model_id: str, seed: int = 0) -> torch.nn.Module:
    """The catalog's generator with weights that change the image a lot (so tiling errors would show)."""
    desc = get_descriptor(model_id)
    from app.core.models.catalog import MODELS

    builder = next(b for d, b in MODELS if d.id == model_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = builder(**desc.config)
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):  # non-trivial statistics: folding must honour them
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 2.0)
            for p in net.final.parameters():
                if not p.abs().any():  # the zero-initialised last layer (identity at init): randomise it
                    torch.nn.init.normal_(p, std=0.05)
                p.mul_(8.0)
    return net.eval()


@pytest.fixture(scope="module")
def fast_net(tmp_path_factory):
    """``deblurgan_fast`` registered (the catalog's descriptor and builder) with exported scrambled weights.

    Module-scoped: building, exporting (which also counts FLOPs) and loading once keeps the module cheap.
    """
    folder = tmp_path_factory.mktemp("models")
    with models_folder(folder), temporary_registry():
        desc = get_descriptor("deblurgan_fast")
        from app.core.models.catalog import MODELS

        register(desc, next(b for d, b in MODELS if d.id == desc.id), replace=True)
        net = _scrambled_generator(desc.id)
        export_model(desc.id, net, arch=desc.arch, config=desc.config, descriptor=desc, models_dir=folder,
                     card={"licence": "CC0-1.0", "training_data": "none (random weights for tests)",
                           "description": "untrained test weights"})
        yield net


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Edges, texture and smooth gradients: something for every scale of the FPN to react to."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w, y / h, 0.5 + 0.3 * np.sin(x / 7) * np.cos(y / 11)], axis=2)
    img[(x // 40 + y // 40) % 2 == 0] *= 0.6
    img += rng.normal(0, 0.02, img.shape).astype(np.float32)
    return np.clip(img, 0, 1).astype(np.float32)


def _run(params: dict, data: np.ndarray, ctx: RunContext | None = None) -> np.ndarray:
    """The op with ``params``; blur-aware mode off unless asked (these tests check the plain network)."""
    op = get_op("deblur")
    params = {"adaptive": False, **params}
    return op.run(Image(data), make_params(op.Params, params), ctx or RunContext(device="cpu")).data


@pytest.mark.usefixtures("datasets_dir")
def test_blur_aware_leaves_a_sharp_photo_and_clamps_overshoot(fast_net):
    """Blur-aware (the default): a sharp photo (measured) comes back unchanged without running the network;
    a clearly blurred one gets the network's result; a nearly sharp one a share of it, clamped towards the
    input's local 3x3 range."""
    import cv2

    from app.core.ops.deblur_guard import blur_need
    from app.train.splits import load_splits

    item = next(it for it in load_splits().items("urban100", "val") if it.key == "img_003_SRF_4_HR")
    img = cv2.cvtColor(cv2.imread(str(item.paths[0])), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    h, w = img.shape[:2]
    sharp = np.ascontiguousarray(img[(h - 256) // 2:][:256, (w - 256) // 2:][:, :256])  # a sharp city photo
    assert blur_need(sharp)[0] == 0.0
    op = get_op("deblur")
    out = op.run(Image(sharp), op.Params(), RunContext(device="cpu"))
    assert np.array_equal(out.data, sharp) and out.meta.extra["deblur"]["need"] == 0.0
    blurred = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    need = blur_need(blurred)[0]
    assert need == 1.0
    got = _run({"adaptive": True}, blurred)
    np.testing.assert_allclose(got, _run({}, blurred), atol=1e-5)  # need 1: the network's result, no clamp
    # A nearly sharp photo (need between 0 and 1): the clamp, relaxed by the need, and the blend by it.
    from app.core.ops import deblur_guard
    from app.core.ops.deblur import deblur_array

    model = load_model("deblurgan_fast", "cpu", directory=models_dir())
    slight, need = cv2.GaussianBlur(sharp, (0, 0), 0.6), 0.4
    got = deblur_array(model, slight, 1.0, RunContext(device="cpu"), need=need)
    plain = deblur_array(model, slight, 1.0, RunContext(device="cpu"))
    clamped = deblur_guard.clamp_to_neighbourhood(slight, plain.copy())
    expect = slight + need * (clamped + need * (plain - clamped) - slight)
    inside = (plain > 0) & (plain < 1)  # the op clamps to [0, 1] once, at the end
    np.testing.assert_allclose(got[inside], np.clip(expect, 0, 1)[inside], atol=1e-4)
    assert np.abs(got - slight).mean() > 1e-4


def test_registered_with_choices_and_model_ids():
    op = get_op("deblur")
    assert isinstance(op, DeblurOp)
    assert op.model_ids(make_params(op.Params, {"model": "quality"})) == ["deblurgan_quality"]
    with pytest.raises(ValueError, match="not one of"):
        make_params(op.Params, {"model": "huge"})
    for model_id in MODEL_IDS.values():  # the catalog entries the op relies on
        d = get_descriptor(model_id)
        assert d.size_multiple == 32 and d.overlap >= 128 and d.arch == "deblurgan"


def test_unavailable_with_reason_while_untrained(tmp_path):
    with models_folder(tmp_path):  # an empty models folder: no weights at all
        op = get_op("deblur")
        for model in MODEL_IDS:
            ok, why = op.availability(make_params(op.Params, {"model": model}))
            assert not ok
            assert MODEL_IDS[model] in why and "no trained weights" in why
        with pytest.raises(ModelUnavailableError, match="untrained"):
            _run({}, _photo(64, 64))


def test_only_the_exported_model_becomes_available(fast_net):
    op = get_op("deblur")
    assert op.availability(make_params(op.Params, {"model": "fast"})) == (True, "")
    ok, why = op.availability(make_params(op.Params, {"model": "quality"}))
    assert not ok and "deblurgan_quality" in why


def test_op_matches_the_plain_network(fast_net):
    """Folded batch norm, channels-last weights and the [0, 1] mapping change nothing but rounding."""
    data = _photo(150, 230)
    net = fast_net
    out = _run({}, data, RunContext(device="cpu", tile=1024))  # one tile
    with torch.no_grad():
        ref = net(torch.from_numpy(data.transpose(2, 0, 1).copy())[None]).clamp(0, 1)[0].permute(1, 2, 0)
    assert out.shape == data.shape
    assert np.abs(out - data).mean() > 0.02  # the scrambled net really changes the image
    np.testing.assert_allclose(out, ref.numpy(), atol=2e-4)


def test_tiling_is_exact_for_local_features(fast_net):
    """Untouched batch-norm statistics leave the deep pyramid nearly silent: what remains is local, and the
    descriptor's overlap (exact up to a 64-px radius) with 32-px tile alignment must reproduce it exactly."""
    data = _photo(600, 900, seed=1)
    whole = _run({}, data, RunContext(device="cpu", tile=1024))
    texts: list[str] = []
    tiled = _run({}, data, RunContext(lambda f, t: texts.append(t), device="cpu", tile=512))
    assert sum(t.startswith("tile ") for t in texts) == 6  # 2 x 3 tiles of 512 px
    assert np.abs(whole - data).mean() > 0.02
    assert np.abs(tiled - whole).max() < 1e-4


def test_tiling_error_is_small_when_every_scale_matters():
    """With batch norm calibrated on images, the 1/16 and 1/32 features dominate an untrained FPN (half its
    input gradient lies beyond 85 px): the worst case for tiling. At 1024-px tiles with the descriptor's
    overlap the blend keeps the difference to the untiled output a few percent of what the net changes."""
    from app.core.infer.tiling import tiled_apply
    from app.core.nets import deblurgan

    desc = get_descriptor("deblurgan_fast")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = deblurgan.build(**desc.config)
        last = [m for m in net.final.modules() if isinstance(m, torch.nn.Conv2d)][-1]
        torch.nn.init.kaiming_uniform_(last.weight, a=5**0.5)  # as PyTorch's default, not identity-at-init
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = None  # cumulative average over the calibration batches
                m.reset_running_stats()
        with torch.no_grad():
            net.train()
            for _ in range(3):
                net(torch.rand(2, 3, 128, 128))
    net.eval()
    x = torch.from_numpy(_photo(1024, 1536, seed=5).transpose(2, 0, 1).copy())[None]
    with torch.no_grad():
        whole = net(x)
        tiled = tiled_apply(net, x, tile=1024, overlap=desc.overlap, multiple=desc.size_multiple)
    diff, effect = (tiled - whole).abs().mean().item(), (whole - x).abs().mean().item()
    assert effect > 0.02
    assert diff < 2e-3 and diff < 0.05 * effect, (diff, effect)  # measured: 1.2e-3 vs 5.3e-2


def test_progress_per_tile_and_cancellation(fast_net):
    data = _photo(600, 900, seed=2)
    seen: list[tuple[float, str]] = []
    cancel = threading.Event()

    def progress(fraction: float, text: str) -> None:
        seen.append((fraction, text))
        if text == "tile 2/6":
            cancel.set()  # as the GUI's Cancel button would, between two tiles

    with pytest.raises(Cancelled):
        _run({}, data, RunContext(progress, cancel, device="cpu", tile=512))
    assert [t for _, t in seen if t.startswith("tile")] == ["tile 1/6", "tile 2/6"]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and 0 < fractions[-1] < 1


def test_strength_blends_and_grey_images(fast_net):
    data = _photo(96, 128, seed=3)
    full = _run({"strength": 1.0}, data)
    half = _run({"strength": 0.5}, data)
    assert np.array_equal(_run({"strength": 0.0}, data), data)
    grey = _run({}, data.mean(axis=2, keepdims=True))
    np.testing.assert_allclose(half, np.clip(0.5 * data + 0.5 * full, 0, 1), atol=1e-5)
    assert grey.shape == (96, 128, 1)


def test_loaded_model_is_prepared_once(fast_net):
    _run({}, _photo(64, 64))
    model = load_model("deblurgan_fast", "cpu", directory=models_dir())
    bns = [m for m in model.module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert model.module._photorestore_prepared and not bns  # folded, and the flag stops a second pass


def test_cancel_inside_a_single_tile_stops_within_a_layer(fast_net):
    """Issue 22 #10: one tile is the whole image, so a check between tiles is not enough."""
    from app.core.models.registry import load_model

    module = load_model("deblurgan_fast", "cpu").module
    leaves = [m for m in module.modules() if next(m.children(), None) is None]
    ran: list[int] = []
    cancel = threading.Event()
    handles = [m.register_forward_hook(lambda m, i, o, k=k: ran.append(k)) for k, m in enumerate(leaves)]
    handles.append(leaves[0].register_forward_hook(lambda *_: cancel.set()))  # Ctrl-C during the first layer
    try:
        with pytest.raises(Cancelled):
            _run({}, _photo(256, 384, seed=4), RunContext(None, cancel, device="cpu", tile=1024))
    finally:
        for h in handles:
            h.remove()
    assert ran == [0]  # nothing after the layer that was running
    cancel.clear()
    ran.clear()
    assert _run({"strength": 1.0}, _photo(64, 96)).shape == (64, 96, 3)  # the cached module still runs
