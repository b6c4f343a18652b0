"""End-to-end op speed: what a user waits for, through the op's own code path (tiling, blending, clamping).

Deblur section (issue 6 targets, fast config on the CPU: a 1280x720 frame <= 1.5 s, a 24-MP photo <= 60 s):
for each DeblurGAN-v2 configuration, the generator -- same architecture as the catalog's ``deblurgan_*``
entries, *untrained* weights, since no trained ones may exist yet and speed does not depend on the weight
values -- runs through :func:`app.core.ops.deblur.deblur_array` (batch-norm folding, channels-last,
the op's tile choice and overlap). It times a 1280x720 frame (median of ``--repeats`` after a warm-up)
and extrapolates a 6000x4000 photo from one tile of the size the op's tile plan uses there, times the
number of tiles (overlap included; per-pixel cost grows with the tile: on the dev CPU 1.5 cpu-s/MP at
720p, 2.0 at 2048 px); ``--run-24mp`` also runs the 24-MP photo for real (minutes on a CPU).

Denoise section (issue 4: seconds per megapixel for both configurations and both modes): the ``denoise`` op
(tiling, noise map, blend) on a ``--denoise-mp`` crop of the real Canon 30D RAW tiled to size, RAW route on the
mosaic and sRGB route on its demosaic, ``fast`` and ``full``, each in a fresh child process
(``bench/denoise_memory.py``; shipped weights where verified, else random ones: speed does not depend on them).
The 24-MP RAW end to end through the CLI is ``bench/denoise_raw_e2e.py``.

    python bench/speed.py [--configs fast quality] [--threads 2] [--device cpu|cuda] [--repeats 3] [--run-24mp]
                          [--denoise-mp 1] [--denoise-configs fast full] [--skip-deblur | --skip-denoise]

The CPU may be shared: the load average is printed, and process CPU seconds (all threads) next to wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.context import RunContext  # noqa: E402
from app.core.infer.device import pick_device  # noqa: E402
from app.core.infer.tiling import plan_tiles  # noqa: E402
from app.core.models.registry import LoadedModel, get_descriptor, load_model, model_state  # noqa: E402
from app.core.models.stats import count_flops_per_pixel, count_params  # noqa: E402
from app.core.ops.deblur import MODEL_IDS, deblur_array  # noqa: E402
from app.core.ops.refine import REFINERS  # noqa: E402

TARGETS = {"fast": (1.5, 60.0)}  # seconds: 1280x720 frame, 24-MP photo (CPU, issue 6)
FRAME, PHOTO = (720, 1280), (4000, 6000)


def _generator(config: str, device: torch.device) -> tuple[LoadedModel, str]:
    """The shipped generator (its manifest may change the architecture, e.g. ``full_skip``), else the
    catalog's with seeded random weights, wrapped as the registry would load it; and which of the two."""
    from app.core.models.weights import ModelUnavailableError
    from app.core.nets import deblurgan

    try:
        return load_model(MODEL_IDS[config], device), "trained"
    except ModelUnavailableError:
        pass
    desc = get_descriptor(MODEL_IDS[config])
    torch.manual_seed(0)
    module = deblurgan.build(**desc.config).eval().requires_grad_(False).to(device)
    return LoadedModel(desc, module, device, "untrained", torch.float32, Path(tempfile.gettempdir())), "untrained"


def _timed(fn, repeats: int) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu


def bench_deblur(configs: list[str], device: torch.device, repeats: int, run_photo: bool) -> None:
    print(f"\n== deblur (DeblurGAN-v2 generator; speed does not depend on the weights, so an untrained "
          f"config runs with random ones) on {device}")
    header = (f"{'config':8s} {'params':>10s} {'GFLOP/MP':>9s} {'tile':>5s} {'720p med':>9s} {'720p min':>9s} "
              f"{'cpu-s':>7s} {'s/MP':>6s} {'24MP tiles':>10s} {'24MP est':>9s} {'cpu-est':>9s} {'24MP run':>9s}"
              "  target (wall / cpu-s)")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    frame = rng.random((*FRAME, 3), dtype=np.float32)
    for config in configs:
        model, kind = _generator(config, device)
        params = count_params(model.module)
        flops = count_flops_per_pixel(model.module, (1, 3, 256, 256))
        d = model.descriptor
        tile = d.tile_for(torch.device(device).type, None)  # the tile the op runs with (descriptor policy)
        ctx = RunContext(device=str(device))
        deblur_array(model, frame[:256, :256], 1.0, ctx)  # warm-up (also folds batch norm once)
        wall, cpu = _timed(lambda m=model, c=ctx: deblur_array(m, frame, 1.0, c), repeats)
        med, cpu_med = statistics.median(wall), statistics.median(cpu)
        # One tile of the 24-MP plan's size (an image of exactly that size is a single tile), times the count.
        plan = plan_tiles(*PHOTO, tile, d.overlap, d.size_multiple)
        one = rng.random((plan.tile_h, plan.tile_w, 3), dtype=np.float32)
        tile_wall, tile_cpu = _timed(lambda m=model, p=one, c=ctx: deblur_array(m, p, 1.0, c), 1)
        estimate, cpu_estimate = tile_wall[0] * plan.count, tile_cpu[0] * plan.count
        real = "-"
        if run_photo:
            photo = rng.random((*PHOTO, 3), dtype=np.float32)
            w, c = _timed(lambda m=model, p=photo, c=ctx: deblur_array(m, p, 1.0, c), 1)
            real = f"{w[0]:.0f}s/{c[0]:.0f}c"
            del photo
        target = TARGETS.get(config) if device.type == "cpu" else None
        verdict = ""
        if target:
            ok = lambda v, limit: "OK" if v <= limit else "MISS"  # noqa: E731
            verdict = (f"720p <= {target[0]} s: {ok(med, target[0])} / {ok(cpu_med, target[0])}, 24MP <= "
                       f"{target[1]:.0f} s: {ok(estimate, target[1])} / {ok(cpu_estimate, target[1])}")
        name = config if kind == "trained" else f"{config}*"
        print(f"{name:8s} {params:10,d} {flops / 1e3:9.1f} {tile:5d} {med:8.3f}s {min(wall):8.3f}s "
              f"{cpu_med:6.2f}s {med / (FRAME[0] * FRAME[1] / 1e6):6.2f} {plan.count:10d} "
              f"{estimate:8.1f}s {cpu_estimate:8.1f}s {real:>9s}  {verdict}", flush=True)
        if kind == "trained" and model_state(REFINERS["deblur"]).ok:  # the refine switch, 720p only
            rw, rc = _timed(lambda m=model, c=ctx: deblur_array(m, frame, 1.0, c, refine=True), repeats)
            print(f"{'+refine':8s} {'':10s} {'':9s} {'':5s} {statistics.median(rw):8.3f}s {min(rw):8.3f}s "
                  f"{statistics.median(rc):6.2f}s  (generator then {REFINERS['deblur']})", flush=True)
    print("*: no trained weights, timed with random ones (same architecture as the catalog's).\n"
          "cpu-s: process CPU seconds, all threads; on a shared machine (load above the core count) it is what\n"
          "the frame costs on an idle core with --threads 1. 24MP est / cpu-est: one tile of the 24-MP plan x the\n"
          "tile count (overlap included). 24MP run: wall s / cpu s of the real photo (--run-24mp).")


def bench_denoise(configs: list[str], threads: int, mp: float) -> None:
    from denoise_memory import run_child

    print(f"\n== denoise (CycleISP, through the op) on cpu, {mp:g}-MP input, {threads} thread(s)")
    header = (f"{'mode':5s} {'config':7s} {'weights':15s} {'tiles':>5s} {'wall s':>7s} {'s/MP':>7s} "
              f"{'24MP est':>9s} {'peak RSS':>9s}")
    print(header)
    print("-" * len(header))
    for mode in ("raw", "srgb"):
        for config in configs:
            try:
                r = run_child(mp, mode, config, threads)
            except RuntimeError as exc:
                print(f"{mode:5s} {config:7s} failed: {str(exc)[-300:]}")
                continue
            print(f"{mode:5s} {config:7s} {r['weights']:15s} {r['tiles']:5d} {r['seconds']:7.1f} "
                  f"{r['s_per_mp']:7.2f} {r['s_per_mp'] * 24:8.0f}s {r['peak_rss_gb']:7.2f}GB", flush=True)
    print("s/MP: per pixel of the photo (RAW: per sensor pixel). 24MP est = s/MP x 24 (network time only; the\n"
          "end-to-end figure with decode, development and export is bench/denoise_raw_e2e.py).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(MODEL_IDS), choices=list(MODEL_IDS))
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the target CPU has 2 cores)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run-24mp", action="store_true", help="also run a 6000x4000 photo (slow on a CPU)")
    parser.add_argument("--denoise-mp", type=float, default=1.0, help="input size of the denoise section")
    parser.add_argument("--denoise-configs", nargs="+", default=["fast", "full"], choices=["fast", "full"])
    parser.add_argument("--skip-deblur", action="store_true")
    parser.add_argument("--skip-denoise", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    print(f"torch {torch.__version__}, {args.threads} threads, load average at start {os.getloadavg()[0]:.1f}")
    if not args.skip_deblur:
        bench_deblur(args.configs, device, args.repeats, args.run_24mp)
    if not args.skip_denoise and device.type == "cpu":
        bench_denoise(args.denoise_configs, args.threads, args.denoise_mp)
    print(f"(load average at end {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
