"""Tiling overhead: a small conv net on a 2048x2048 image, untiled vs tiled at several tile sizes.

Usage::

    python bench/tiling_speed.py [--size 2048] [--device cpu] [--threads N] [--repeat 2]

Prints seconds, megapixels per second and the ratio to the untiled run for each setting. The
overhead has two parts: recomputed overlap (``(tile / (tile - overlap))^2 - 1`` more pixels)
and per-tile cost (copies, blending, the CPU float32 accumulation buffer).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.infer.device import pick_device  # noqa: E402
from app.core.infer.tiling import plan_tiles, tiled_apply  # noqa: E402
from app.core.models.stats import count_flops_per_pixel  # noqa: E402
from app.core.models.testing import TinyConvNet  # noqa: E402


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as configured)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    args = ap.parse_args()

    dev = pick_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = TinyConvNet(width=args.width, depth=args.depth).eval().to(dev)
    x = torch.rand(1, 3, args.size, args.size)
    mp = args.size * args.size / 1e6
    flops = count_flops_per_pixel(net, (1, 3, 64, 64))
    print(f"device {dev}, threads {torch.get_num_threads()}, image {args.size}x{args.size} ({mp:.1f} MP), "
          f"net width {args.width} depth {args.depth} ({flops / 1e3:.1f} kFLOP/px)")

    def untiled() -> None:
        with torch.inference_mode():
            net(x.to(dev)).cpu()

    untiled()  # warm-up (allocator, oneDNN kernels)
    base = best_of(untiled, args.repeat)
    print(f"{'setting':<28}{'tiles':>6}{'seconds':>10}{'MP/s':>8}{'vs untiled':>12}")
    print(f"{'untiled':<28}{1:>6}{base:>10.2f}{mp / base:>8.2f}{1.0:>12.2f}")
    for tile, overlap in ((1024, 32), (512, 32), (512, 16), (256, 32), (None, 32)):
        plan = plan_tiles(args.size, args.size, tile or 1024, overlap)

        def run(tile=tile, overlap=overlap) -> None:
            with torch.inference_mode():
                tiled_apply(net, x, tile=tile, overlap=overlap, device=dev)

        secs = best_of(run, args.repeat)
        name = f"tile {tile or 'auto'}, overlap {overlap}"
        count = plan.count if tile else "auto"
        print(f"{name:<28}{count:>6}{secs:>10.2f}{mp / secs:>8.2f}{secs / base:>12.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB (includes the untiled run)")


if __name__ == "__main__":
    main()
