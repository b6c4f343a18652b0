"""ONNX exports of shipped models for the fast CPU backends, verified against torch before they are listed.

:func:`export_onnx` traces the verified torch model (opset 18, dynamic height and width), runs the export
on every backend installed here in float32 and bfloat16 on the caller's inputs (real photos: see
``python -m app.train.export_onnx``), and only then writes ``<id>-<sha8>.onnx`` and the manifest's
``onnx`` table. Drift fails loudly (:class:`OnnxDriftError`): nothing is written.

The measured bf16 PSNR sets the model's precision policy (docs/performance.md): bfloat16 for full-size
renders only at >= :data:`BF16_FULL_DB` against float32, for previews at >= :data:`BF16_PREVIEW_DB`.
The tracing itself (``torch.onnx``) is app.train's (:func:`app.train.export_onnx.trace_to_onnx`): the
installer leaves ``torch.onnx`` out, and the app never exports at run time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.core.fsutil import atomic_write
from app.core.models.manifest import models_dir as _models_dir
from app.core.models.manifest import read_manifest, update_manifest

log = logging.getLogger("photorestore")

OPSET = 18
#: float32 export vs torch: the runtimes reorder sums, nothing more (measured ~1e-6 .. 3e-5 max abs).
MAX_ABS_DIFF_F32 = 1e-3
MIN_PSNR_F32 = 80.0
BF16_FULL_DB = 50.0
BF16_PREVIEW_DB = 40.0
#: Models whose runs go through the tiler (the ones a fast backend speeds up). Not exported: kind_adjustment
#: and ptg_degradation_prior (ops call parts of the torch module on a coarse grid: milliseconds) and
#: cycleisp_learned_isp (training data synthesis only; its reflect padding of a traced size does not export).
EXPORTED = ("cycleisp_raw_denoise", "cycleisp_srgb_denoise", "deblurgan_fast", "kind_decomposition",
            "kind_restoration", "ptg_refine_deblur", "ptg_refine_denoise", "ptg_refine_lowlight")


class OnnxDriftError(RuntimeError):
    """The ONNX export does not reproduce the torch model within tolerance."""


@dataclasses.dataclass
class Comparison:
    backend: str
    precision: str
    max_abs_diff: float
    psnr: float


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def _seen(y: np.ndarray, linear: bool) -> np.ndarray:
    """What the PSNR is taken on: sRGB-encoded for linear-light outputs (RAW), where a PSNR on the dark linear
    values would flatter an error the tone curve later magnifies in the shadows."""
    from app.core.isp.tone import linear_to_srgb_np

    return linear_to_srgb_np(np.clip(y, 0.0, 1.0)) if linear else y


def compare(model, onnx_bytes: bytes, inputs: Sequence[np.ndarray], backends: Sequence[str]) -> list[Comparison]:
    """Run ``inputs`` (``(1, C, h, w)`` float32, h and w multiples of the size multiple) through the torch module
    and the export on each backend and precision; worst case over the inputs, output clamped like the app.
    The max abs diff is on the network's output; the PSNR on what is seen (see :func:`_seen`)."""
    from app.core.infer.backends import build_runner
    from app.core.infer.device import configure_cpu_threads

    low, high = model.descriptor.value_range or (-math.inf, math.inf)
    refs = []
    with torch.inference_mode():
        for x in inputs:
            refs.append(model.module.float()(torch.from_numpy(x)).clamp(low, high).numpy())
    linear = model.descriptor.input_space != "srgb"
    peak = 1.0 if model.descriptor.value_range is None or linear else high - low
    results = []
    for backend in backends:
        runner = build_runner(backend, onnx_bytes, configure_cpu_threads())
        for precision in ("f32", "bf16") if backend == "openvino" else ("f32",):
            diff, worst = 0.0, math.inf
            for x, ref in zip(inputs, refs):
                y = runner(torch.from_numpy(x), precision).clamp(low, high).numpy()
                if y.shape != ref.shape:
                    raise OnnxDriftError(f"{model.id}: {backend} returned {y.shape}, torch {ref.shape}")
                diff = max(diff, float(np.abs(y - ref).max()))
                worst = min(worst, psnr(_seen(y, linear), _seen(ref, linear), peak))
            results.append(Comparison(backend, precision, diff, worst))
    return results


def bf16_policy(results: Sequence[Comparison]) -> tuple[str, float | None]:
    """("full" | "preview" | "no", the bf16 PSNR) from the measured comparisons."""
    db = next((r.psnr for r in results if r.precision == "bf16"), None)
    if db is None:
        return "no", None
    return ("full" if db >= BF16_FULL_DB else "preview" if db >= BF16_PREVIEW_DB else "no"), db


def export_onnx(model_id: str, inputs: Sequence[np.ndarray], *, trace: Callable[[torch.nn.Module, int], bytes],
                directory: Path | None = None,
                backends: Sequence[str] | None = None) -> tuple[Path, list[Comparison]]:
    """Export ``model_id``'s verified weights to ONNX, check it, write it and list it in the manifest.

    Args:
        model_id: a verified model in ``directory``.
        trace: ``trace(module, in_channels) -> ONNX bytes`` (:func:`app.train.export_onnx.trace_to_onnx`:
            ``torch.onnx`` lives in app.train, which the installer leaves out).
        inputs: real-photo inputs in the model's input space, ``(1, C, h, w)`` float32.
        directory: models directory (default: the app's).
        backends: runtimes to check on (default: every installed one; at least one is needed).

    Returns:
        (path of the ``.onnx`` file, the comparisons).

    Raises:
        OnnxDriftError: a float32 run differs from torch by more than :data:`MAX_ABS_DIFF_F32` or is below
            :data:`MIN_PSNR_F32` dB; nothing is written.
    """
    from app.core.infer.backends import available_backends
    from app.core.models.registry import load_model

    directory = Path(directory) if directory is not None else _models_dir()
    backends = list(backends) if backends is not None else [b for b in available_backends() if b != "torch"]
    if not backends:
        raise RuntimeError("no ONNX runtime (openvino, onnxruntime) is installed to verify the export with")
    model = load_model(model_id, "cpu", directory=directory, backend="torch")
    data = trace(model.module, model.descriptor.in_channels)
    # Also an odd multiple of the size multiple, not square: a size-dependent branch the tracer froze (a pad
    # skipped at the traced size) shows up there, not at the traced 256 px.
    m = model.descriptor.size_multiple
    inputs = list(inputs) + [x[..., :x.shape[-2] - 3 * m, :x.shape[-1] - 5 * m] for x in inputs
                             if min(x.shape[-2:]) > 8 * m]
    results = compare(model, data, inputs, backends)
    for r in results:
        if r.precision == "f32" and (r.max_abs_diff > MAX_ABS_DIFF_F32 or r.psnr < MIN_PSNR_F32):
            raise OnnxDriftError(f"{model_id}: the ONNX export on {r.backend} differs from torch: max abs diff "
                                 f"{r.max_abs_diff:.2e} (limit {MAX_ABS_DIFF_F32:.0e}), PSNR {r.psnr:.1f} dB "
                                 f"(limit {MIN_PSNR_F32:.0f} dB); not exported")
    policy, db = bf16_policy(results)
    sha = hashlib.sha256(data).hexdigest()
    path = directory / f"{model_id}-{sha[:8]}.onnx"
    atomic_write(path, data)
    entry = read_manifest(directory)[model_id]
    old = entry.onnx.get("file")
    f32 = [r for r in results if r.precision == "f32"]
    table: dict[str, Any] = {
        "file": path.name, "sha256": sha, "opset": OPSET, "bf16": policy,
        "weights_sha256": entry.sha256, "photos": len(inputs),
        "max_abs_diff_f32": float(f"{max(r.max_abs_diff for r in f32):.3g}"),
        "psnr_f32": round(min(r.psnr for r in f32), 1),
    }
    if db is not None:
        table["psnr_bf16"] = round(db, 1)
    update_manifest(directory, put=dataclasses.replace(entry, onnx=table, onnx_problem=""))
    if old and old != path.name:
        (directory / old).unlink(missing_ok=True)
    log.info("%s: %s (%s)", model_id, path.name, ", ".join(
        f"{r.backend} {r.precision}: {r.max_abs_diff:.1e} max, {r.psnr:.1f} dB" for r in results))
    return path, results
