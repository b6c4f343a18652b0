"""Export shipped models to ONNX, verified on real photos: ``python -m app.train.export_onnx [ID ...] [--all]``.

The one-off command for weights exported before the fast CPU backends existed, and the step
``python -m app.train CONFIG --export`` runs after writing new weights. Inputs are real photos nobody
trained on (the demo folder's low-light, blurry and noisy shots, two camera RAW files), cropped to
``--size`` px, in each model's input space: a refiner gets (photo, the upstream net's output), the KinD
restoration net (R, L) from the decomposition net. See :mod:`app.core.models.onnx_export` for the checks.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from app.core.models.onnx_export import EXPORTED, OPSET, OnnxDriftError, export_onnx
from app.train.sources import datasets_root

SRGB_PHOTOS = ("demo/lowlight_sci_mit/easy/0018.png", "demo/nafnet_demo/noisy.png",
               "demo/srn_testing_set/07.png", "demo/deblurganv2_test_img/000027.png")
LOWLIGHT_PHOTOS = ("demo/lowlight_sci_mit/easy/0018.png", "demo/lowlight_sci_mit/easy/0528.png")
RAW_PHOTOS = ("raw/bayer/*MagicLantern*.dng", "raw/bayer/*.CR2")
UPSTREAM = {"ptg_refine_denoise": "cycleisp_srgb_denoise", "ptg_refine_deblur": "deblurgan_fast",
            "ptg_refine_lowlight": "kind_decomposition"}


def _crop(chw: np.ndarray, size: int) -> np.ndarray:
    h, w = chw.shape[-2:]
    s = min(size, h, w) // 32 * 32
    y, x = (h - s) // 2, (w - s) // 2
    return np.ascontiguousarray(chw[..., y:y + s, x:x + s])[None].astype(np.float32)


def _srgb(names, size: int) -> list[np.ndarray]:
    from app.core.io.loader import load_image

    out = []
    for name in names:
        data = load_image(datasets_root() / name).data[..., :3]
        out.append(_crop(data.transpose(2, 0, 1), size))
    return out


def _raw(size: int) -> list[np.ndarray]:
    from app.core.io.loader import load_image
    from app.core.ops.denoise import DenoiseParams, raw_input

    out = []
    for pattern in RAW_PHOTOS:
        path = next(iter(sorted(datasets_root().glob(pattern))), None)
        if path is not None:
            x, _noise = raw_input(load_image(path), DenoiseParams())
            out.append(_crop(x[0].numpy(), size))
    return out


def _torch_out(model_id: str, x: np.ndarray) -> np.ndarray:
    from app.core.models.registry import load_model

    with torch.inference_mode():
        return load_model(model_id, "cpu", backend="torch").module(torch.from_numpy(x)).clamp(0, 1).numpy()


def _jpeg_with_quality(x: np.ndarray, quality: int) -> np.ndarray:
    """A ``(1, 3, h, w)`` photo saved as a JPEG at ``quality``, plus the net's quality map (``dejpeg``)."""
    from app.train.tasks.dejpeg import jpeg_roundtrip

    u8 = np.round(np.clip(x[0].transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)
    lq = jpeg_roundtrip(u8, quality).astype(np.float32).transpose(2, 0, 1)[None] / 255
    return np.concatenate([lq, np.full_like(lq[:, :1], quality / 100)], axis=1)


def photo_inputs(model_id: str, size: int = 512) -> list[np.ndarray]:
    """Real-photo inputs for ``model_id`` in its input space, ``(1, C, s, s)`` float32."""
    if model_id == "cycleisp_raw_denoise":
        return _raw(size)
    if model_id == "kind_restoration":
        return [_torch_out("kind_decomposition", x) for x in _srgb(LOWLIGHT_PHOTOS, size)]
    if model_id == "dejpeg_fast":
        return [_jpeg_with_quality(x, q) for x, q in zip(_srgb(SRGB_PHOTOS, size), (20, 30, 40, 95))]
    if model_id in UPSTREAM:
        upstream = UPSTREAM[model_id]
        return [np.concatenate([x, _torch_out(upstream, x)[:, :3]], axis=1) for x in _srgb(SRGB_PHOTOS[:2], size)]
    return _srgb(SRGB_PHOTOS, size)


def trace_to_onnx(module: torch.nn.Module, in_channels: int, sample: int = 256) -> bytes:
    """The module as ONNX bytes: input ``x`` ``(1, C, h, w)``, output ``y``, h and w dynamic."""
    module = module.float().eval().to(memory_format=torch.contiguous_format)
    x = torch.rand(1, in_channels, sample, sample, generator=torch.Generator().manual_seed(0))
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer warnings about python ints: the checks below are the proof
        torch.onnx.export(module, (x,), buf, dynamo=False, opset_version=OPSET, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {2: "h", 3: "w"}, "y": {2: "oh", 3: "ow"}})
    return buf.getvalue()



def export_ids(model_ids, size: int = 512, directory: Path | None = None) -> int:
    """Export each id; prints one line per backend and precision. Returns the number of failures."""
    failures = 0
    for model_id in model_ids:
        try:
            path, results = export_onnx(model_id, photo_inputs(model_id, size), trace=trace_to_onnx,
                                        directory=directory)
        except OnnxDriftError as exc:
            print(f"FAILED {exc}", file=sys.stderr)
            failures += 1
            continue
        print(f"{model_id}: {path.name}")
        for r in results:
            print(f"  {r.backend:12s} {r.precision:5s} max abs diff {r.max_abs_diff:.2e}  PSNR {r.psnr:6.1f} dB")
    return failures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.train.export_onnx", description=__doc__.splitlines()[0])
    p.add_argument("ids", nargs="*", help=f"model ids (default with --all: {', '.join(EXPORTED)})")
    p.add_argument("--all", action="store_true", help="every model the fast backends run")
    p.add_argument("--size", type=int, default=512, help="photo crop edge in px (default 512)")
    p.add_argument("--models-dir", type=Path, default=None)
    args = p.parse_args(argv)
    ids = list(EXPORTED) if args.all else args.ids
    if not ids:
        p.error("name model ids or pass --all")
    logging.basicConfig(level=logging.WARNING)
    return 1 if export_ids(ids, args.size, args.models_dir) else 0


if __name__ == "__main__":
    raise SystemExit(main())
