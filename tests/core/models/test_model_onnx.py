"""ONNX exports and the fast CPU backends with a tiny model: export + verification, sha256 checks, fallbacks,
and the tiler's per-tile progress, cancellation and out-of-memory path through a runtime."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from app.core.context import Cancelled, RunContext
from app.core.infer import backends
from app.core.infer.backends import available_backends, resolve_backend
from app.core.models.export import export_model
from app.core.models.manifest import read_manifest, update_manifest
from app.core.models.onnx_export import OnnxDriftError, export_onnx
from app.core.models.registry import load_model, register
from app.core.models.testing import TINY_ARCH, TinyConvNet, build_tiny, tiny_descriptor
from app.train.export_onnx import trace_to_onnx

RUNTIMES = [b for b in available_backends() if b != "torch"]
pytestmark = pytest.mark.skipif(not RUNTIMES, reason="no ONNX runtime installed")
CONFIG = {"width": 8, "depth": 3}
CARD = {"description": "tiny", "training_data": [{"name": "synthetic", "licence": "CC0-1.0"}],
        "licence": "GPL-3.0-or-later", "command": "-", "iterations": 1, "wall_time_s": 1, "hardware": "cpu"}


def _photo_like(size=64, seed=0):
    g = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([yy, xx, (yy + xx) / 2]) + 0.05 * g.standard_normal((3, size, size))
    return np.clip(base, 0, 1).astype(np.float32)[None]


@pytest.fixture
def tiny(models_tmp):
    register(tiny_descriptor("tiny_onnx", config=CONFIG, overlap=8), build_tiny)
    torch.manual_seed(0)
    export_model("tiny_onnx", TinyConvNet(**CONFIG), arch=TINY_ARCH, config=CONFIG, card=CARD)
    path, results = export_onnx("tiny_onnx", [_photo_like()], trace=trace_to_onnx, backends=RUNTIMES)
    return models_tmp, path, results


def test_export_is_verified_listed_and_used(tiny, monkeypatch):
    directory, path, results = tiny
    entry = read_manifest()["tiny_onnx"]
    assert entry.onnx["file"] == path.name and path.is_file() and entry.onnx["weights_sha256"] == entry.sha256
    assert {r.backend for r in results} == set(RUNTIMES)
    assert all(r.max_abs_diff < 1e-4 for r in results if r.precision == "f32")
    assert entry.onnx["bf16"] in ("full", "preview", "no")
    x = _photo_like(96, seed=1)[0].transpose(1, 2, 0)
    ref = load_model("tiny_onnx", "cpu", backend="torch")(x, RunContext(), tile=48)
    monkeypatch.setenv("PHOTORESTORE_PRECISION", "f32")  # float32 is exact; bf16 follows the policy (below)
    for backend in RUNTIMES:
        model = load_model("tiny_onnx", "cpu", backend=backend)
        assert model.backend == backend
        out = model(x, RunContext(), tile=48)  # tiled through the runtime: same blend as torch
        assert np.abs(out - ref).max() < 1e-4, backend


def test_precision_policy(tiny, monkeypatch):
    monkeypatch.delenv("PHOTORESTORE_PRECISION", raising=False)
    model = load_model("tiny_onnx", "cpu", backend=RUNTIMES[0])
    for policy, expect in (("full", "bf16"), ("preview", "f32"), ("no", "f32")):  # previews = renders (WYSIWYG)
        model.bf16 = policy
        assert model.precision(RunContext()) == expect
    model.bf16 = "full"
    monkeypatch.setenv("PHOTORESTORE_PRECISION", "f32")
    assert model.precision(RunContext()) == "f32"


def test_drift_fails_loudly_and_writes_nothing(models_tmp):
    register(tiny_descriptor("tiny_drift", config=CONFIG), build_tiny)
    export_model("tiny_drift", TinyConvNet(**CONFIG), arch=TINY_ARCH, config=CONFIG, card=CARD)
    def other_weights(module, in_channels):  # an export of different weights = drift
        return trace_to_onnx(TinyConvNet(**CONFIG), in_channels)

    with pytest.raises(OnnxDriftError, match="differs from torch"):
        export_onnx("tiny_drift", [_photo_like()], trace=other_weights, backends=RUNTIMES)
    assert not list(models_tmp.glob("*.onnx")) and not read_manifest()["tiny_drift"].onnx


def test_corrupt_or_stale_export_falls_back_to_torch_with_a_warning(tiny):
    directory, path, _ = tiny
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    ctx = RunContext()
    assert load_model("tiny_onnx", "cpu", ctx=ctx, backend=RUNTIMES[0]).backend == "torch"
    assert any("corrupt" in w for w in ctx.warnings)
    entry = read_manifest()["tiny_onnx"]
    update_manifest(put=dataclasses.replace(entry, onnx={**entry.onnx, "weights_sha256": "0" * 64}))
    ctx = RunContext()
    assert load_model("tiny_onnx", "cpu", ctx=ctx, backend=RUNTIMES[0]).backend == "torch"
    assert any("other weights" in w for w in ctx.warnings)


def test_malformed_onnx_table_keeps_the_model_usable(tiny):
    entry = read_manifest()["tiny_onnx"]
    update_manifest(put=dataclasses.replace(entry, onnx={"file": "../x.onnx", "sha256": "zz"}))
    entry = read_manifest()["tiny_onnx"]
    assert entry.onnx_problem and not entry.problem
    assert load_model("tiny_onnx", "cpu", backend=RUNTIMES[0]).backend == "torch"


def test_progress_cancel_and_out_of_memory_per_tile(tiny):
    model = load_model("tiny_onnx", "cpu", backend=RUNTIMES[0])
    x = torch.from_numpy(_photo_like(128))
    seen = []
    model.run_tensor(x, RunContext(lambda f, text: seen.append(text)), tile=48)
    assert len([t for t in seen if t.startswith("tile")]) == 9  # 3 x 3 tiles of 48 px with overlap 8

    cancel = RunContext()
    calls = []
    real = model.runner._infer

    def cancel_after_two(arr, precision):
        calls.append(arr.shape)
        if len(calls) == 2:
            cancel.cancel()
        return real(arr, precision)

    model.runner._infer = cancel_after_two
    with pytest.raises(Cancelled):
        model.run_tensor(x, cancel, tile=48)
    assert len(calls) == 2

    def oom_above_32(arr, precision):  # the runtimes' allocation failure text
        if arr.shape[-1] > 32:
            raise RuntimeError("std::bad_alloc")
        return real(arr, precision)

    model.runner._infer = oom_above_32
    ctx = RunContext()
    out = model.run_tensor(x, ctx, tile=64)
    assert out.shape == (1, 3, 128, 128) and any("out of memory" in w for w in ctx.warnings)


def test_resolve_backend(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.delenv("PHOTORESTORE_BACKEND", raising=False)
    monkeypatch.setattr(backends, "FAST_ORDER", ("openvino", "onnxruntime"))
    assert resolve_backend("auto", cpu) == RUNTIMES[0] == ("openvino" if "openvino" in RUNTIMES else RUNTIMES[0])
    assert resolve_backend("torch", cpu) == "torch"
    ctx = RunContext()
    assert resolve_backend("openvino", torch.device("cuda", 0), ctx) == "torch" and ctx.warnings
    monkeypatch.setenv("PHOTORESTORE_BACKEND", "torch")
    assert resolve_backend("auto", cpu) == "torch"
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend("tensorrt", cpu)


def test_a_runtime_failure_falls_back_to_torch_for_the_model(tiny, monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_PRECISION", "f32")
    model = load_model("tiny_onnx", "cpu", backend=RUNTIMES[0])
    x = torch.from_numpy(_photo_like(80))
    ref = load_model("tiny_onnx", "cpu", backend="torch").run_tensor(x, tile=48)

    def broken(arr, precision):
        raise RuntimeError("shape inference failed")

    class BrokenSession:  # the streams' path (4 tiles: two at a time on OpenVINO)
        def start(self, t):
            raise RuntimeError("shape inference failed")

    model.runner._infer = broken
    model.runner.session = lambda precision: BrokenSession()
    ctx = RunContext()
    out = model.run_tensor(x, ctx, tile=48)
    assert torch.allclose(out, ref, atol=1e-5) and any("continuing on torch" in w for w in ctx.warnings)
    assert model.backend == "torch"


def test_tiles_on_streams_match_tiles_in_turn(tiny, monkeypatch):
    """OpenVINO's streams (two tiles at once, one thread each) give what one tile at a time gives; an odd tile
    count runs the tiles in turn (a last tile alone would run on one thread)."""
    if "openvino" not in RUNTIMES:
        pytest.skip("OpenVINO is not installed")
    monkeypatch.setenv("PHOTORESTORE_PRECISION", "f32")
    model = load_model("tiny_onnx", "cpu", backend="openvino")
    runner = model.runner
    x = torch.from_numpy(_photo_like(80))
    started = []
    session = runner.session
    monkeypatch.setattr(runner, "session", lambda precision: started.append(precision) or session(precision))
    outs = {}
    for streams in (1, 2):
        monkeypatch.setattr(runner, "streams", streams)
        outs[streams] = model.run_tensor(x, tile=48)  # 2 x 2 tiles
    assert started == ["f32"]  # only with two streams
    assert torch.allclose(outs[1], outs[2], atol=1e-6)
    model.run_tensor(x[..., :48, :], tile=48)  # 1 x 2 tiles: even, streams
    model.run_tensor(torch.cat([x, x[..., :30]], -1)[..., :48, :], tile=48)  # 1 x 3 tiles: odd, in turn
    assert len(started) == 2
