"""The GPU check (issue 23), driven by ``bench/gpu_check.sh``: everything a CUDA machine must prove, in one run.

    python bench/gpu_check.py [--device cuda] [--mp 24] [--part selftest ops oom autocast gui]

1. ``selftest``: ``photorestore --selftest`` with ``PHOTORESTORE_DEVICE`` set to the device.
2. ``ops``: every available op end to end on an ``--mp`` photo (a real photo tiled to the size; the RAW denoiser
   on bench/denoise_raw_e2e.py's tiled Canon 30D DNG), wall time each, output finite and in range.
3. ``oom``: the RAW-free sRGB denoiser under an artificially small device memory cap
   (``torch.cuda.set_per_process_memory_fraction``; on the CPU a tile function that raises MemoryError above
   128 px): it must finish, warn, and match the uncapped result.
4. ``autocast``: every model with weights, float16 and bfloat16 autocast against float32 on a real photo
   crop (PSNR; the descriptor's ``half_ok`` says whether the app uses fp16 on CUDA).
5. ``gui``: the GUI's :class:`~app.gui.workers.Worker` runs the denoise op on the device, offscreen.

With ``--device cpu --mp 0.3`` it is the CPU-only part that CI runs (tests/bench/test_gpu_check.py).
Exit status: 0 if every part passed. Timings are printed; nothing is asserted about speed.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
PARTS = ("selftest", "ops", "oom", "autocast", "gui")
PHOTO = "clean/sunhays80"


def _photo(mp: float) -> np.ndarray:
    import cv2

    from app.train.sources import datasets_root

    path = sorted((datasets_root() / PHOTO).glob("*"))[0]
    src = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    w = int((mp * 1e6 * 3 / 2) ** 0.5)
    h = int(mp * 1e6 / w)
    return np.ascontiguousarray(np.tile(src, (-(-h // src.shape[0]), -(-w // src.shape[1]), 1))[:h, :w])


def part_selftest(device: str, mp: float) -> bool:
    env = {**os.environ, "PHOTORESTORE_DEVICE": device, "QT_QPA_PLATFORM": "offscreen"}
    res = subprocess.run([sys.executable, "-m", "app", "--selftest"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    print("  " + "\n  ".join((res.stdout + res.stderr).strip().splitlines()[-6:]))
    return res.returncode == 0


def part_ops(device: str, mp: float) -> bool:
    from denoise_raw_e2e import make_dng

    from app.core.context import RunContext
    from app.core.image import ColorSpace, Image
    from app.core.io import load_image
    from app.core.ops import all_ops
    from app.core.pipeline import Pipeline, Step

    rgb = Image(_photo(mp), ColorSpace.SRGB)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        dng = Path(tmp) / "raw.dng"
        make_dng(dng, mp)
        raw = load_image(dng, raw_as="bayer")
        cases = [(op, rgb, op.default_params()) for op in all_ops()]
        cases += [(op, raw, op.Params(mode="raw")) for op in all_ops() if op.id == "denoise"]
        for op, image, params in cases:
            available, why = op.availability(params)
            if not available:
                print(f"  {op.id:12s} skipped: {why}")
                continue
            ctx = RunContext(device=device)
            t0 = time.perf_counter()
            try:
                out = Pipeline().run(image, [Step(op.id, params)], ctx, use_cache=False)
            except Exception as exc:  # noqa: BLE001 - reported per op, the check goes on
                print(f"  {op.id:12s} FAILED on {image.space.value}: {type(exc).__name__}: {exc}")
                ok = False
                continue
            seconds = time.perf_counter() - t0
            good = bool(np.isfinite(out.data).all())
            ok &= good
            warn = f"; warnings: {'; '.join(ctx.warnings)}" if ctx.warnings else ""
            print(f"  {op.id:12s} {image.space.value:6s} {image.width}x{image.height}: {seconds:7.2f} s"
                  f"{'' if good else ' NON-FINITE OUTPUT'}{warn}", flush=True)
    return ok


def part_oom(device: str, mp: float) -> bool:
    import torch

    from app.core.context import RunContext
    from app.core.models.registry import clear_loaded, load_model

    x = _photo(min(mp, 2.0))
    clear_loaded()
    model = load_model("cycleisp_srgb_denoise", device, backend="torch")
    ref = model(x, RunContext(device=device))
    ctx = RunContext(device=device)
    if model.device.type == "cuda":
        torch.cuda.empty_cache()
        total = torch.cuda.get_device_properties(model.device).total_memory
        fraction = max(256 * 2**20 / total, 0.001)  # ~256 MB for everything
        torch.cuda.set_per_process_memory_fraction(fraction, model.device)
        try:
            out = model(x, ctx, tile=2048)
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0, model.device)
    else:  # the CPU has no cap to set: a tile function that "runs out of memory" above 256 px
        real = model.tile_fn

        def capped(c=None, precision=None):
            fn = real(c, precision)
            return lambda t: (_ for _ in ()).throw(MemoryError("cap")) if t.shape[-1] > 256 else fn(t)

        model.tile_fn = capped
        try:
            out = model(x, ctx, tile=512)
        finally:
            del model.tile_fn
    from app.core.models.onnx_export import psnr

    db = psnr(out, ref)
    warned = any("memory" in w for w in ctx.warnings)
    print(f"  capped run finished; PSNR vs uncapped {db:.1f} dB (max abs diff {np.abs(out - ref).max():.2e}); "
          f"warnings: {ctx.warnings}")
    # Smaller tiles see less context (the channel attention pools per tile): close, not bit-equal.
    return warned and db >= 35.0


def part_autocast(device: str, mp: float) -> bool:
    import torch

    from app.core.models.onnx_export import psnr
    from app.core.models.registry import descriptors, load_model, model_state
    from app.train.export_onnx import photo_inputs

    dev = torch.device(device)
    dtypes = [torch.float16, torch.bfloat16] if dev.type == "cuda" else [torch.bfloat16]
    print(f"  {'model':24s} " + " ".join(f"{str(d).split('.')[1]:>10s}" for d in dtypes) + "  half_ok")
    for d in descriptors():
        if not model_state(d.id).ok or d.id not in _AUTOCAST_INPUTS:
            continue
        module = load_model(d.id, "cpu", backend="torch").module.float().to(dev)
        x = torch.from_numpy(photo_inputs(_AUTOCAST_INPUTS[d.id], 256)[0]).to(dev)
        with torch.inference_mode():
            ref = module(x).float().cpu().numpy()
            cells = []
            for dt in dtypes:
                with torch.autocast(dev.type, dtype=dt):
                    y = module(x).float().cpu().numpy()
                db = psnr(np.clip(y, 0, 1), np.clip(ref, 0, 1))
                cells.append(f"{db:8.1f}dB" if math.isfinite(db) else f"{'exact':>10s}")
        print(f"  {d.id:24s} " + " ".join(cells) + f"  {d.half_ok}", flush=True)
    return True


#: model -> the model whose real-photo inputs fit it (app.train.export_onnx.photo_inputs).
_AUTOCAST_INPUTS = {m: m for m in ("cycleisp_srgb_denoise", "cycleisp_raw_denoise", "deblurgan_fast",
                                   "kind_decomposition", "kind_restoration", "ptg_refine_denoise",
                                   "ptg_refine_deblur", "ptg_refine_lowlight")}


def part_gui(device: str, mp: float) -> bool:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.image import ColorSpace, Image
    from app.core.ops import get_op
    from app.gui.workers import Worker

    app = QApplication.instance() or QApplication([])
    image = Image(_photo(min(mp, 2.0)), ColorSpace.SRGB)
    op = get_op("denoise")
    worker = Worker("gpu-check")
    result: dict = {}
    loop = QEventLoop()
    job = worker.submit(lambda ctx: (op.run(image, op.default_params(), ctx), ctx.device, list(ctx.warnings)),
                        name="denoise", group="check", device=device)
    job.resulted.connect(lambda r: result.update(out=r))
    job.failed.connect(lambda m: result.update(error=m))
    job.finished.connect(loop.quit)
    QTimer.singleShot(300_000, loop.quit)
    t0 = time.perf_counter()
    loop.exec()
    worker.shutdown()
    app.processEvents()
    if "out" not in result:
        print(f"  worker job failed: {result.get('error', 'timed out')}")
        return False
    out, used, warnings = result["out"]
    print(f"  worker ran denoise on {used} ({image.width}x{image.height}) in {time.perf_counter() - t0:.2f} s; "
          f"warnings: {warnings}")
    return bool(np.isfinite(out.data).all()) and not any("instead" in w for w in warnings)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--mp", type=float, default=24.0)
    ap.add_argument("--part", nargs="*", choices=PARTS, default=list(PARTS))
    a = ap.parse_args(argv)
    import torch

    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here (torch.cuda.is_available() is False); use --device cpu for the "
              "CPU-only parts", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else "cpu"
    print(f"gpu_check on {a.device} ({name}), torch {torch.__version__}, {a.mp:g} MP")
    failed = []
    for part in a.part:
        t0 = time.perf_counter()
        print(f"[{part}]", flush=True)
        ok = globals()[f"part_{part}"](a.device, a.mp)
        print(f"[{part}] {'ok' if ok else 'FAILED'} in {time.perf_counter() - t0:.1f} s", flush=True)
        if not ok:
            failed.append(part)
    print(f"gpu_check: {'all parts passed' if not failed else 'FAILED: ' + ', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
