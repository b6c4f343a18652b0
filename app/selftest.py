"""`photorestore --selftest`: decode -> every available op -> export on a tiny bundled image.

Runs headless (also inside the frozen app) and, when Qt is importable, opens the main window
offscreen and closes it, so an installer that lost a plugin or a model file fails loudly.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def resources_dir() -> Path:
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) / "resources" if base else Path(__file__).resolve().parents[1] / "resources"


def selftest(*, gui: bool = True) -> int:
    from app.core.context import RunContext
    from app.core.io import load_image, save_image
    from app.core.models.registry import ModelUnavailableError
    from app.core.ops import all_ops
    from app.core.pipeline import Pipeline, Step

    t0 = time.monotonic()
    sample = resources_dir() / "samples" / "tiny.png"
    image = load_image(sample)
    ran, skipped = [], []
    pipeline = Pipeline()
    for op in all_ops():
        ok, why = op.availability()
        if not ok:
            skipped.append(f"{op.id} ({why})")
            continue
        try:
            out = pipeline.run(image, [Step(op.id, op.default_params())], RunContext())
        except ModelUnavailableError as exc:  # usable for other inputs only (e.g. RAW-only denoise)
            skipped.append(f"{op.id} ({exc})")
            continue
        if out.data.shape[:2] != image.data.shape[:2] or not (out.data == out.data).all():
            print(f"selftest: {op.id} returned a bad image", file=sys.stderr)
            return 1
        ran.append(op.id)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("jpg", "png16", "tiff16"):
            dest = save_image(out, Path(tmp) / f"selftest.{fmt}", format=fmt)
            back = load_image(dest)
            if back.data.shape != out.data.shape:
                print(f"selftest: {fmt} export did not round-trip", file=sys.stderr)
                return 1
    print(f"selftest: ran {', '.join(ran)}; skipped {', '.join(skipped) or 'none'}")
    broken = _broken_models()
    if broken:
        # A listed model whose file is missing or fails its sha256 is a broken install, not "untrained".
        print(f"selftest: broken model files: {'; '.join(broken)}", file=sys.stderr)
        return 1
    code = _backend_check()
    if code:
        return code
    if gui:
        code = _gui_smoke()
        if code:
            return code
    print(f"selftest: OK in {time.monotonic() - t0:.1f} s")
    return 0


def _broken_models() -> list[str]:
    from app.core.models.registry import descriptors, model_state

    out = []
    for d in descriptors():
        state = model_state(d.id)
        if state.name in ("missing", "corrupt"):
            out.append(f"{d.id}: {state.message}")
    return out


def _backend_check() -> int:
    """Every ONNX export loads on the fast CPU backend and matches torch in float32 on a small input.

    In the frozen app a missing runtime is a failure (the installer must bundle it); from a source checkout
    without one it is reported, and the models run on torch."""
    import numpy as np
    import torch

    from app.core.infer.backends import available_backends
    from app.core.models.registry import descriptors, load_model, model_state
    from app.core.models.weights import lookup

    # The bundled runtime, default or not (``auto`` is torch for now: docs/performance.md).
    backend = next((b for b in ("openvino", "onnxruntime") if b in available_backends()), "torch")
    if backend == "torch":
        print("selftest: fast CPU backend: none installed, models run on torch",
              file=sys.stderr if getattr(sys, "frozen", False) else sys.stdout)
        return 1 if getattr(sys, "frozen", False) else 0
    checked = []
    for d in descriptors():
        entry, _ = lookup(d.id)
        if entry is None or not entry.onnx or not model_state(d.id).ok:
            continue
        model = load_model(d.id, "cpu", backend=backend)
        if model.runner is None:
            print(f"selftest: {d.id}: the {backend} backend did not load its ONNX export", file=sys.stderr)
            return 1
        side = max(64, d.size_multiple * 2)
        x = torch.rand(1, d.in_channels, side, side, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            ref = model.module(x.contiguous(memory_format=torch.channels_last)).float().numpy()
        diff = float(np.abs(model.runner(x, "f32").numpy() - ref).max())
        if not diff <= 1e-3:
            print(f"selftest: {d.id}: {backend} differs from torch by {diff:.2e}", file=sys.stderr)
            return 1
        checked.append(d.id)
    print(f"selftest: {backend} backend: {len(checked)} ONNX models match torch ({', '.join(checked)})")
    return 0


def _gui_smoke() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "")
    if not os.environ["QT_QPA_PLATFORM"]:
        del os.environ["QT_QPA_PLATFORM"]
    try:
        from app.gui.app import smoke_test_window
    except ImportError as exc:
        print(f"selftest: GUI not importable: {exc}", file=sys.stderr)
        return 1
    try:
        seconds = smoke_test_window()
    except RuntimeError as exc:
        print(f"selftest: GUI failed: {exc}", file=sys.stderr)
        return 1
    print(f"selftest: main window shown and closed ({seconds * 1000:.0f} ms to visible)")
    return 0
