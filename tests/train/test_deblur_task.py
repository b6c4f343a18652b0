"""The deblur task: GAN training step (generator + double-scale discriminator), checkpoint/resume, export.

Runs the real task (DeblurGAN-v2 fast generator, RaGAN-LS discriminator, VGG16 perceptual loss with the
HED weights) for 4 steps on 64-px patches of GoPro frame averages and synthetically shaken LIVE1 photos.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from app.core.nets.vgg import default_weights_path
from app.train import checkpoint as ckpt_io
from app.train.config import load_config
from app.train.gan import Adversary
from app.train.runner import Runner
from app.train.tasks.deblur import MildNoise, degradation

pytestmark = pytest.mark.usefixtures("datasets_dir")
needs_vgg = pytest.mark.skipif(not default_weights_path().is_file(),
                               reason="VGG16/HED weights missing (../shared/datasets/scripts/get_vgg16_hed.sh)")

SMALL = {
    "threads": 1,
    "data": {"patch": 64, "batch": 2, "num_workers": 0, "cache_mb": 256, "clean_max_side": 512,
             "fetch_wallpapers": False, "epoch_length": 16,
             "sources": [{"name": "gopro", "weight": 1.0, "max_side": 640}, {"name": "live1", "weight": 1.0}]},
    "val": {"every": 4, "count": 4, "patch": 64, "batch": 4,
            "sources": [{"name": "gopro", "weight": 1.0, "max_side": 640}, {"name": "live1", "weight": 1.0}]},
    "train": {"steps": 4, "warmup": 0, "checkpoint_steps": 2, "log_every": 1, "init_from": "",
              "gan": {"weight": 0.01, "start_step": 2}},
}


def _runner(run_dir) -> Runner:
    return Runner(load_config("deblur_fast", SMALL), device="cpu", run_dir=run_dir, command="pytest")


def _clone(state: dict) -> dict:
    return {k: v.clone() for k, v in state.items()}


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """4 steps in one go (2 content-only, then 2 with the discriminator), with the initial weights."""
    if not default_weights_path().is_file():
        pytest.skip("VGG16/HED weights missing")
    runner = _runner(tmp_path_factory.mktemp("deblur_straight"))
    initial = {"g": _clone(runner.model.state_dict()), "d": _clone(runner.adversary.disc.state_dict())}
    assert runner.train(max_steps=2) == "max_steps"
    at_two = _clone(runner.adversary.disc.state_dict())
    assert runner.train() == "done"
    return runner, initial, at_two


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@needs_vgg
def test_gan_step_trains_generator_then_discriminator(straight):
    runner, initial, at_two = straight
    assert _equal(at_two, initial["d"])  # content-only before start_step: D untouched
    assert not _equal(runner.adversary.disc.state_dict(), initial["d"])
    assert not _equal(runner.model.state_dict(), initial["g"])
    log = [json.loads(line) for line in (runner.run_dir / "log.jsonl").read_text().splitlines()]
    train = {r["step"]: r for r in log if r["kind"] == "train"}
    assert set(train[1]["terms"]) == {"mse", "perceptual"}
    for step in (3, 4):
        terms = train[step]["terms"]
        assert {"mse", "perceptual", "d_loss", "adversarial"} <= set(terms)
        assert all(np.isfinite(v) for v in terms.values())
        content = 0.5 * terms["mse"] + 0.006 * terms["perceptual"]
        assert train[step]["loss"] == pytest.approx(content + 0.01 * terms["adversarial"], rel=1e-4)
    val = [r for r in log if r["kind"] == "val"]
    assert [r["step"] for r in val] == [4] and set(val[0]["by_source"]) == {"gopro", "live1"}


@needs_vgg
def test_checkpoint_holds_both_nets_and_resumes_bit_exactly(straight, tmp_path):
    reference, _, _ = straight
    first = _runner(tmp_path)
    first.train(max_steps=3)  # stop inside the GAN phase
    ck = ckpt_io.load(ckpt_io.latest_path(tmp_path))
    assert {"discriminator", "d_optimizer", "d_scheduler"} <= set(ck) and ck["step"] == 3
    del first
    second = _runner(tmp_path)
    second.load(ckpt_io.latest_path(tmp_path))
    assert second.train() == "done"
    assert _equal(second.model.state_dict(), reference.model.state_dict())
    assert _equal(second.adversary.disc.state_dict(), reference.adversary.disc.state_dict())
    ref_opt, got_opt = reference.adversary.optimizer.state_dict(), second.adversary.optimizer.state_dict()
    assert all(torch.equal(ref_opt["state"][i]["exp_avg"], got_opt["state"][i]["exp_avg"]) for i in ref_opt["state"])
    assert second.adversary.scheduler.last_epoch == reference.adversary.scheduler.last_epoch == 4


@needs_vgg
def test_exported_generator_runs_in_the_deblur_op(straight, tmp_path, monkeypatch):
    from app.core.context import RunContext
    from app.core.image import Image
    from app.core.models.registry import model_state, temporary_registry
    from app.core.ops import get_op, make_params
    from app.train.exporting import export_run

    runner, _, _ = straight
    monkeypatch.setenv("PHOTORESTORE_MODELS_DIR", str(tmp_path))
    with temporary_registry():
        export_run(runner, models_dir=tmp_path)
        assert model_state("deblurgan_fast").ok
        card = (tmp_path / "deblurgan_fast.md").read_text()
        assert "INCOMPLETE: exported at step 4" not in card  # the run's configured steps are 4: complete
        op = get_op("deblur")
        img = np.random.default_rng(0).random((70, 90, 3), dtype=np.float32)
        out = op.run(Image(img), make_params(op.Params, {}), RunContext(device="cpu")).data
        with torch.no_grad():
            ref = runner.model.eval()(torch.from_numpy(img.transpose(2, 0, 1).copy())[None])[0]
        np.testing.assert_allclose(out, ref.permute(1, 2, 0).clamp(0, 1).numpy(), atol=2e-4)


def test_a_plain_checkpoint_cannot_feed_a_discriminator():
    disc = torch.nn.Conv2d(3, 1, 3)
    cfg = {"train": {"lr": 1e-4, "betas": [0.9, 0.999]}}
    with pytest.raises(ValueError, match="no discriminator"):
        Adversary(cfg, disc, lambda s: 1.0).load({"model": {}})
    with pytest.raises(ValueError, match="unknown"):
        Adversary({"train": {**cfg["train"], "gan": {"wieght": 1}}}, disc, lambda s: 1.0)


def test_shake_and_noise_synthesis():
    assert degradation(load_config("deblur_fast")).margin == 18  # half the 32-px longest path + border
    deg = degradation(load_config("deblur_fast", {"degrade": {"blur_length": [16.0, 32.0]}}))
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:96, 0:96]
    clean = np.repeat(((x // 6 + y // 6) % 2 * 0.6 + 0.2)[..., None], 3, axis=2).astype(np.float32)
    a, target, _ = deg(clean, np.random.default_rng(7))
    b, _, _ = deg(clean, np.random.default_rng(7))
    assert np.array_equal(a, b) and np.array_equal(target, clean)  # seeded; the target stays clean
    grad = lambda im: np.abs(np.diff(im, axis=1)).mean()  # noqa: E731
    assert grad(a) < 0.8 * grad(clean)  # blurred: edges spread out
    flat = np.full((256, 256, 3), 0.5, np.float32)
    noisy, _, info = MildNoise(sigma_range=(3.0, 3.0))(flat, rng)
    assert noisy.std() * 255 == pytest.approx(3.0, rel=0.15)  # sigma at mid grey, 8-bit quantised
    assert info["sigma"] == pytest.approx(3.0)


@needs_vgg
def test_perceptual_loss_scale_and_the_small_extract(tmp_path):
    from app.train.losses import build_loss
    from app.train.perceptual import main as pack_vgg

    loss = build_loss([{"type": "perceptual", "layer": "conv3_3"}])
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 3, 48, 48, generator=g), torch.rand(1, 3, 48, 48, generator=g)
    assert loss(a, a).item() == 0.0
    value = loss(a, b).item()
    assert value > 0
    half = build_loss([{"type": "perceptual", "layer": "conv3_3", "feature_scale": 2 * 57.63}])
    assert half(a, b).item() == pytest.approx(value / 4, rel=1e-3)  # features / scale, squared
    extract = tmp_path / "vgg16_conv3.safetensors"  # what travels to a lent GPU instead of the 59-MB h5
    assert pack_vgg(["--pack", str(extract)]) == 0 and extract.stat().st_size < 8 * 2**20
    small = build_loss([{"type": "perceptual", "layer": "conv3_3", "weights": str(extract)}])
    assert small(a, b).item() == value




@pytest.fixture
def plain_export(monkeypatch):
    """init_from's source: a trained-looking fast generator without the full-resolution skip."""
    from types import SimpleNamespace

    import app.core.models.registry as registry
    from app.core.nets import deblurgan

    torch.manual_seed(1)
    plain = deblurgan.build("generator", "fast", unit_range=True)
    for m in plain.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, 0.0, 0.05)
    monkeypatch.setattr(registry, "load_model", lambda model_id, device="auto", **kw: SimpleNamespace(module=plain))
    return plain.state_dict()


def test_full_skip_run_starts_from_weights_without_the_skip(tmp_path, plain_export):
    """deblur_fast_fullskip: init_from loads a generator without the skip; init_new leaves only the skip fresh."""
    from app.train.config import merge

    cfg = load_config("deblur_fast_fullskip", {"threads": 1, "data": SMALL["data"], "val": SMALL["val"]})
    run = Runner(cfg, device="cpu", run_dir=tmp_path / "a")
    state = run.model.state_dict()
    assert all(torch.equal(v, state[k]) for k, v in plain_export.items())
    assert not run.model.full_lateral[-1][-1][0].weight.any()
    with pytest.raises(ValueError, match="does not fit"):
        Runner(merge(cfg, {"train": {"init_new": []}}), device="cpu", run_dir=tmp_path / "b")


def test_loading_the_init_weights_keeps_the_runs_thread_count(tmp_path):
    """--threads 1 must survive init_from: the registry configures threads on first use."""
    import app.core.infer.device as device_mod
    from app.core.models.registry import clear_loaded

    cfg = load_config("deblur_fast_fullskip", {"threads": 1, "data": SMALL["data"], "val": SMALL["val"]})
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    device_mod._threads_configured = None  # as in a fresh `python -m app.train` process
    clear_loaded()
    try:
        Runner(cfg, device="cpu", run_dir=tmp_path)
        assert torch.get_num_threads() == 1
    finally:
        device_mod._threads_configured = None
        torch.set_num_threads(before)
