"""Every shipped ONNX export gives the torch model's result on every installed backend, within the precision
policy (float32: max abs diff <= 1e-3; bfloat16: >= 50 dB where allowed for full-size renders, >= 40 dB where
allowed for previews), on real photo crops nobody trained on (``app.train.export_onnx.photo_inputs``)."""

from __future__ import annotations

import pytest

from app.core.infer.backends import available_backends
from app.core.models.manifest import read_manifest
from app.core.models.onnx_export import BF16_FULL_DB, BF16_PREVIEW_DB, EXPORTED, MAX_ABS_DIFF_F32, compare
from app.core.models.registry import load_model
from app.core.models.weights import load_onnx

RUNTIMES = [b for b in available_backends() if b != "torch"]
pytestmark = pytest.mark.skipif(not RUNTIMES, reason="no ONNX runtime installed")


@pytest.mark.parametrize("model_id", EXPORTED)
def test_shipped_export_matches_torch_within_policy(model_id):
    from app.train.export_onnx import photo_inputs
    from app.train.sources import datasets_root

    if not (datasets_root() / "demo").is_dir():
        pytest.skip("../shared/datasets is not here")
    entry = read_manifest()[model_id]
    assert entry.onnx, f"{model_id} has no ONNX export: run python -m app.train.export_onnx {model_id}"
    data = load_onnx(entry)  # the sha256 check the app does
    model = load_model(model_id, "cpu", backend="torch")
    inputs = photo_inputs(model_id, size=128)
    assert inputs
    for r in compare(model, data, inputs[:2], RUNTIMES):
        if r.precision == "f32":
            assert r.max_abs_diff <= MAX_ABS_DIFF_F32, r
        elif entry.onnx["bf16"] == "full":
            assert r.psnr >= BF16_FULL_DB, r
        elif entry.onnx["bf16"] == "preview":
            assert r.psnr >= BF16_PREVIEW_DB, r
