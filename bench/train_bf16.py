"""``python -m app.train --bf16`` measured: steps/s and validation after the same steps, float32 vs bfloat16 autocast.

    python bench/train_bf16.py [--configs denoise_srgb deblur_fast kind_decompose] [--steps 30] [--threads 1]

Per config, two runs from the same seed (same initial weights, same batches) in this process, one after the
other: float32, then ``--bf16``. Prints the mean compute seconds per step (data loading excluded) and PSNR/SSIM
on ``--val-count`` validation patches after ``--steps`` steps (validation in float32 for both). Short runs
measure speed and show whether bf16 learns the same in the first steps; they say nothing about a full training.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(config: str, bf16: bool, steps: int, threads: int, val_count: int) -> tuple[float, dict]:
    from app.train.config import load_config
    from app.train.runner import Runner

    cfg = load_config(config, {"threads": threads, "data": {"num_workers": 0}, "val": {"count": val_count}})
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(cfg, device="cpu", run_dir=tmp, bf16=bf16)
        batches = iter(_loader(runner))
        runner.train_step(runner._to_device(next(batches)))  # warm-up (oneDNN primitive creation)
        compute = 0.0
        for _ in range(steps):
            batch = runner._to_device(next(batches))
            t0 = time.perf_counter()
            runner.train_step(batch)
            compute += time.perf_counter() - t0
        metrics = runner.validate()
    return compute / steps, metrics


def _loader(runner):
    from app.train.loader import build_loader

    cfg = runner.cfg
    return build_loader(runner.train_set, batch=cfg["data"]["batch"], seed=cfg["seed"], start_step=0, num_workers=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=["denoise_srgb", "deblur_fast", "kind_decompose"])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--val-count", type=int, default=16)
    a = ap.parse_args(argv)
    print(f"{a.steps} steps after 1 warm-up, {a.threads} thread(s), validation on {a.val_count} patches (float32); "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'config':18s} {'f32 s/step':>11s} {'bf16 s/step':>12s} {'speed-up':>9s} {'f32 val PSNR/SSIM':>19s} "
          f"{'bf16 val PSNR/SSIM':>19s}")
    for config in a.configs:
        (s32, m32), (s16, m16) = (run(config, flag, a.steps, a.threads, a.val_count) for flag in (False, True))
        print(f"{config:18s} {s32:11.3f} {s16:12.3f} {s32 / s16:8.2f}x {m32['psnr']:10.2f}/{m32['ssim']:.4f} "
              f"{m16['psnr']:11.2f}/{m16['ssim']:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
