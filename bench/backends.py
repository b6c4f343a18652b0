"""CPU inference backends side by side (issue 23): s/MP per model x backend x precision, torch beside each.

    python bench/backends.py [--size 512] [--repeats 3] [--models ID ...] [--e2e] [--threads N]

Part 1, in one process: every model with an ONNX export runs one ``--size`` px input (one tile) through
torch as the app runs it (float32, channels-last, ``inference_mode``), ONNX Runtime float32, OpenVINO
float32 and OpenVINO bfloat16; best of ``--repeats`` after a warm-up (the runtimes' first call compiles).
Each row prints s/MP, the speed-up over torch, the max abs difference and the PSNR against torch float32,
and what the precision policy allows (manifest ``onnx.bf16``).

Part 2 (``--e2e``), the issue's targets, torch and the default backend in the same run:
- 24-MP RAW denoise and 24-MP low light through ``photorestore run`` in a child process (process start,
  decode and export included; the RAW is bench/denoise_raw_e2e.py's tiled Canon 30D DNG, the low-light
  photo a real SCI demo shot tiled to 6000x4000);
- a 1280x720 GoPro frame through the deblur op (fast model), warm, in-process, median of ``--repeats``;
- the illumination slider on a 2-MP preview (bench/slider_latency.py, median of 30 ratio changes).

Timings on a shared machine are noisy: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGETS = {"raw": 12.0, "lowlight": 15.0, "deblur": 0.3}  # seconds, issue 23


def _best(fn, repeats: int) -> tuple[float, object]:
    out = fn()  # warm-up: compiles the runtime's graph for this shape
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def bench_models(ids: list[str], size: int, repeats: int) -> None:
    import torch

    from app.core.infer.backends import available_backends, build_runner
    from app.core.infer.device import configure_cpu_threads
    from app.core.models.onnx_export import psnr
    from app.core.models.registry import load_model
    from app.core.models.weights import load_onnx, lookup

    threads = configure_cpu_threads()
    runtimes = [b for b in ("onnxruntime", "openvino") if b in available_backends()]
    mp = size * size / 1e6
    print(f"one {size}x{size} tile, {threads} threads, best of {repeats}; s/MP (x torch) | max abs diff | PSNR vs "
          f"torch f32")
    short = {"onnxruntime": "ORT", "openvino": "OpenVINO"}
    print(f"{'model':24s} {'torch f32':>10s} " + " ".join(f"{short[b] + ' ' + p:>30s}" for b in runtimes
                                                         for p in (("f32", "bf16") if b == "openvino" else ("f32",))))
    for model_id in ids:
        entry, _ = lookup(model_id)
        model = load_model(model_id, "cpu", backend="torch")
        d = model.descriptor
        x = torch.rand(1, d.in_channels, size, size, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1
        with torch.inference_mode():
            xc = x.contiguous(memory_format=torch.channels_last)
            t_torch, ref = _best(lambda m=model.module, xc=xc: m(xc), repeats)
        ref = ref.float().contiguous().numpy()
        cells = []
        for backend in runtimes:
            runner = build_runner(backend, load_onnx(entry), threads)
            for prec in ("f32", "bf16") if backend == "openvino" else ("f32",):
                t, y = _best(lambda r=runner, x=x, p=prec: r(x, p), repeats)
                y = y.numpy()
                cells.append(f"{t / mp:6.3f} ({t_torch / t:4.2f}x) {np.abs(y - ref).max():7.1e} "
                             f"{min(psnr(y, ref), 999):5.1f}")
        print(f"{model_id:24s} {t_torch / mp:10.3f} " + " ".join(f"{c:>30s}" for c in cells) +
              f"   policy bf16={entry.onnx.get('bf16', '-')}", flush=True)


def _cli(args: list[str], backend: str) -> float:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "app", *args, "--backend", backend], capture_output=True,
                         text=True, cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    if res.returncode != 0:
        raise SystemExit(f"photorestore {' '.join(args)} failed:\n{res.stderr[-2000:]}")
    return time.perf_counter() - t0


def _lowlight_photo(path: Path) -> None:
    import cv2

    from app.train.sources import datasets_root

    src = cv2.imread(str(datasets_root() / "demo/lowlight_sci_mit/difficult/2015_02154.jpg"), cv2.IMREAD_COLOR)
    reps = (-(-4000 // src.shape[0]), -(-6000 // src.shape[1]), 1)
    cv2.imwrite(str(path), np.tile(src, reps)[:4000, :6000], [cv2.IMWRITE_JPEG_QUALITY, 95])


def _deblur_720p(backend: str, repeats: int) -> float:
    import cv2

    from app.core.context import RunContext
    from app.core.models.registry import load_model
    from app.core.ops.deblur import deblur_array
    from app.train.sources import datasets_root

    frame = sorted((datasets_root() / "blur/gopro_GOPR0477_frames").glob("*"))[0]
    rgb = cv2.cvtColor(cv2.imread(str(frame)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    model = load_model("deblurgan_fast", "cpu", backend=backend)
    deblur_array(model, rgb, 1.0, RunContext())  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        deblur_array(model, rgb, 1.0, RunContext())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _slider(backend: str) -> float:
    res = subprocess.run([sys.executable, str(ROOT / "bench/slider_latency.py"), "--mp", "2", "--values", "30"],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PHOTORESTORE_BACKEND": backend})
    m = re.search(r"median\s*[=:]?\s*([\d.]+)\s*ms", res.stdout)
    if res.returncode != 0 or not m:
        raise SystemExit(f"slider_latency failed:\n{res.stdout[-1500:]}{res.stderr[-1500:]}")
    return float(m.group(1))


def bench_e2e(repeats: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import torch
    from denoise_raw_e2e import make_dng

    from app.core.infer.backends import resolve_backend

    fast = resolve_backend("auto", torch.device("cpu"))
    print(f"\nend to end: torch vs {fast} (the default), load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dng, jpg = work / "raw24.dng", work / "dark24.jpg"
        print(f"  RAW input: {make_dng(dng, 24.0)}")
        _lowlight_photo(jpg)
        rows = [("24-MP RAW denoise (CLI)", "raw", [str(dng), "--op", "denoise:mode=raw", "--format", "tiff16"]),
                ("24-MP low light (CLI)", "lowlight", [str(jpg), "--op", "lowlight", "--format", "jpg"])]
        for name, key, args in rows:
            times = {b: _cli(["run", *args, "-o", str(work / b), "--device", "cpu", "--overwrite"], b)
                     for b in ("torch", fast)}
            verdict = "OK" if times[fast] <= TARGETS[key] else "NOT MET"
            print(f"  {name:30s} torch {times['torch']:6.1f} s   {fast} {times[fast]:6.1f} s  "
                  f"({times['torch'] / times[fast]:.2f}x)  target <= {TARGETS[key]:.0f} s: {verdict}", flush=True)
    times = {b: _deblur_720p(b, repeats) for b in ("torch", fast)}
    verdict = "OK" if times[fast] <= TARGETS["deblur"] else "NOT MET"
    print(f"  {'1280x720 deblur, fast (op)':30s} torch {times['torch']:6.2f} s   {fast} {times[fast]:6.2f} s  "
          f"({times['torch'] / times[fast]:.2f}x)  target <= {TARGETS['deblur']} s: {verdict}", flush=True)
    times = {b: _slider(b) for b in ("torch", fast)}
    print(f"  {'slider, 2-MP preview, median':30s} torch {times['torch']:6.1f} ms  {fast} {times[fast]:6.1f} ms "
          "(target: unchanged or better; the slider reruns adjust + fuse only, no network)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--e2e", action="store_true", help="also the end-to-end targets (minutes)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: physical cores)")
    a = ap.parse_args(argv)
    if a.threads:
        os.environ["PHOTORESTORE_THREADS"] = str(a.threads)
    from app.core.models.onnx_export import EXPORTED

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared machines: compare ratios)")
    bench_models(a.models or list(EXPORTED), a.size, a.repeats)
    if a.e2e:
        bench_e2e(a.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
