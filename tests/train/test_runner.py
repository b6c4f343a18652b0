"""The runner on the tiny task: learns, resumes bit-exactly, stops on time, exports a verified model."""

from __future__ import annotations

import json

import pytest
import safetensors.torch
import torch

from app.train import checkpoint as ckpt_io
from app.train.__main__ import main
from app.train.config import load_config, merge
from app.train.evaluate import combine_metrics, evaluate
from app.train.exporting import weights_licence
from app.train.runner import Runner
from app.train.tasks.tiny_test import TASK, build

# Reads ../shared/datasets (skipped where it is absent).
pytestmark = pytest.mark.usefixtures("datasets_dir")


def _runner(run_dir, **overrides) -> Runner:
    return Runner(load_config("tiny_test", overrides), device="cpu", run_dir=run_dir, command="pytest")


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """50 steps in one go, plus the validation PSNR of the initial weights."""
    runner = _runner(tmp_path_factory.mktemp("straight"))
    groups = runner.val_batches().values()
    initial = combine_metrics([evaluate(runner.model, batches, TASK.forward) for batches in groups])
    assert runner.train() == "done"
    return runner, initial


def _log(run_dir, kind):
    return [r for r in map(json.loads, (run_dir / "log.jsonl").read_text().splitlines()) if r["kind"] == kind]


def test_tiny_model_trains_50_steps_and_improves(straight):
    runner, initial = straight
    assert runner.step == 50
    train = _log(runner.run_dir, "train")
    assert [r["step"] for r in train] == [10, 20, 30, 40, 50]
    assert train[-1]["loss"] < train[0]["loss"]
    val = _log(runner.run_dir, "val")
    assert [r["step"] for r in val] == [25, 50]
    assert val[-1]["psnr"] > initial["psnr"] + 0.5
    assert val[-1]["psnr"] > val[-1]["input_psnr"]  # better than returning the noisy input
    assert (runner.run_dir / "val.csv").read_text().count("\n") == 3
    assert ckpt_io.load(runner.run_dir / ckpt_io.BEST)["step"] == runner.best["step"]


def test_resume_is_bit_exact(straight, tmp_path):
    reference, _ = straight
    first = _runner(tmp_path)
    assert first.train(max_steps=25) == "max_steps"
    del first
    second = _runner(tmp_path)
    second.load(ckpt_io.latest_path(tmp_path))
    assert second.step == 25
    assert second.train() == "done"
    ref_sd, got_sd = reference.model.state_dict(), second.model.state_dict()
    assert all(torch.equal(ref_sd[k], got_sd[k]) for k in ref_sd)
    ref_opt, got_opt = reference.optimizer.state_dict()["state"], second.optimizer.state_dict()["state"]
    assert all(torch.equal(ref_opt[i]["exp_avg_sq"], got_opt[i]["exp_avg_sq"]) for i in ref_opt)
    # Log windows align except around the break (the first session also logs at its last step, 25).
    def losses(run_dir):
        return {r["step"]: r["loss"] for r in _log(run_dir, "train") if r["step"] in (10, 20, 40, 50)}

    assert losses(tmp_path) == losses(reference.run_dir)
    assert len(ckpt_io.load(ckpt_io.latest_path(tmp_path))["sessions"]) == 2


def test_resume_refuses_a_changed_config(straight, tmp_path):
    runner, _ = straight
    other = _runner(tmp_path, train={"lr": 1e-4})
    with pytest.raises(ValueError, match="different config"):
        other.load(ckpt_io.latest_path(runner.run_dir))


def test_time_limit_stops_with_a_checkpoint(tmp_path):
    runner = _runner(tmp_path)
    assert runner.train(max_minutes=1e-6) == "time_limit"
    saved = ckpt_io.load(ckpt_io.latest_path(tmp_path))
    assert saved["step"] == runner.step == 1
    assert saved["sessions"][0]["end_step"] == 1


def test_zero_minutes_trains_no_step(tmp_path):
    # `--max-minutes 0 --export` is the documented "export what the checkpoint holds" (dejpeg.toml).
    runner = _runner(tmp_path)
    assert runner.train(max_minutes=0) == "time_limit"
    assert runner.step == 0
    assert not ckpt_io.latest_path(tmp_path).exists()


def test_export_writes_weights_card_and_a_verified_manifest_entry(straight, tmp_path):
    from app.core.models.registry import model_state, register, temporary_registry
    from app.train.exporting import export_run

    runner, _ = straight
    with temporary_registry():
        register(TASK.descriptor(runner.cfg, "tiny_test"), build)
        path = export_run(runner, models_dir=tmp_path)
        state = model_state("tiny_test", tmp_path)
    assert state.name == "verified", state.message
    assert path.parent == tmp_path and path.name.startswith("tiny_test-")
    weights = safetensors.torch.load_file(path)
    assert all(torch.equal(weights[k], v) for k, v in runner.model.state_dict().items())
    card = (tmp_path / "tiny_test.md").read_text()
    for fact in ("live1", "Iterations: 50", "`pytest`", "psnr", "Parameters", "FLOPs per output pixel",
                 "Hardware", "Training config"):
        assert fact in card
    assert "[models.tiny_test]" in (tmp_path / "manifest.toml").read_text()


def test_non_commercial_sources_restrict_the_weights_licence():
    cfg = load_config("tiny_test")
    assert weights_licence(cfg, ["live1"]) == "GPL-3.0-or-later"
    restricted = weights_licence(merge(cfg, {"export": {"licence": "MIT"}}), ["live1", "polyu", "sice"])
    assert restricted.startswith("MIT; NON-COMMERCIAL") and "polyu, sice" in restricted


def test_cli_refuses_to_overwrite_and_resumes(tmp_path, capsys):
    args = ["tiny_test", "--device", "cpu", "--run-dir", str(tmp_path)]
    assert main([*args, "--max-steps", "3"]) == 0
    assert main([*args, "--max-steps", "5"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "--resume", "--max-steps", "5"]) == 0
    saved = ckpt_io.load(ckpt_io.latest_path(tmp_path))
    assert saved["step"] == 5 and "--resume" in saved["sessions"][-1]["command"]


def test_init_from_a_safetensors_file(tmp_path):
    """A compact resume point (float16 state dict in a file) starts a fresh run from those weights."""
    source = _runner(tmp_path / "a").model
    with torch.no_grad():
        for p in source.parameters():
            p.add_(0.1 * torch.randn_like(p))
    path = tmp_path / "resume.safetensors"
    safetensors.torch.save_file({k: v.half().contiguous() for k, v in source.state_dict().items()}, str(path))
    started = _runner(tmp_path / "b", train={"init_from": str(path)}).model
    for (name, a), b in zip(source.state_dict().items(), started.state_dict().values()):
        assert torch.equal(a.half().float(), b), name
