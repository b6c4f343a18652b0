"""Tiles one at a time on all threads vs several at once on OpenVINO's streams, same process, alternated.

    python bench/tile_streams.py [--model cycleisp_raw_denoise] [--mp 24] [--repeats 3] [--tile N]

The RAW denoiser's input for the issue-23 photo (the Canon 30D mosaic tiled to ``--mp`` megapixels, packed
with its noise planes, as the op builds it); another model gets a packed or RGB crop of the same sensor data.
Each repeat runs the model's ``run_tensor`` twice, once with the runner's streams switched off (``depth`` 1:
the tiles in turn, each on all threads, the LATENCY hint) and once with them (the tiler's default where the
tiles split evenly: ``streams`` tiles at once, one thread each, the THROUGHPUT hint). Prints the wall and
process CPU seconds of each run with the load average, and how far the two outputs are apart (max abs
difference, PSNR over the value range). The tile plan is the model's own policy unless ``--tile``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _input(model, mp: float):
    import torch
    from denoise_raw_e2e import RAW

    from app.core.io import load_image
    from app.core.ops.denoise import DenoiseParams, raw_input

    src = load_image(RAW, raw_as="bayer")
    d = src.data[..., 0]
    w = int((mp * 1e6 * 3 / 2) ** 0.5) // 4 * 4
    h = int(mp * 1e6 / w) // 4 * 4
    src = src.with_data(np.tile(d, (-(-h // d.shape[0]), -(-w // d.shape[1])))[:h, :w, None])
    x, _ = raw_input(src, DenoiseParams(mode="raw"))
    c = model.descriptor.in_channels
    if c != x.shape[1]:  # another model: the packed planes (or three of them) as its input
        x = x[:, :c] if c <= 8 else torch.cat([x] * (-(-c // 8)), 1)[:, :c]
    return x


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cycleisp_raw_denoise")
    ap.add_argument("--mp", type=float, default=24.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tile", type=int, default=None)
    a = ap.parse_args(argv)
    from app.core.infer.tiling import plan_tiles
    from app.core.models.registry import load_model

    model = load_model(a.model, "cpu", backend="openvino")
    if model.runner is None or not hasattr(model.runner, "session"):
        raise SystemExit(f"{a.model} has no OpenVINO runner here")
    x = _input(model, a.mp)
    d = model.descriptor
    tile = d.tile_for("cpu", a.tile, runtime=True)
    plan = plan_tiles(x.shape[-2], x.shape[-1], tile or max(x.shape[-2:]), d.overlap, d.size_multiple)
    streams = model.runner.streams
    print(f"{a.model}: input {tuple(x.shape)}, {plan.count} tiles of {plan.tile_w}x{plan.tile_h}, "
          f"precision {model.precision()}, {streams} streams")
    outs, times = {}, {"one at a time": [], "streams": []}
    for r in range(a.repeats):
        for label, depth in (("one at a time", 1), ("streams", streams)):
            model.runner.streams = depth  # tile_fn reads it: depth 1 = the tiles in turn
            load = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), _cpu()
            outs[label] = model.run_tensor(x, tile=a.tile)
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            times[label].append(wall)
            print(f"  {r}: {label:14s} {wall:6.2f} s wall, {cpu:6.2f} s CPU (load average {load:.1f})", flush=True)
    model.runner.streams = streams
    one, many = outs["one at a time"].numpy(), outs["streams"].numpy()
    lo, hi = d.value_range or (0.0, 1.0)
    diff = float(np.abs(one - many).max())
    mse = float(np.mean((one.astype(np.float64) - many) ** 2))
    psnr = 10 * np.log10((hi - lo) ** 2 / mse) if mse > 0 else float("inf")
    print(f"best: one at a time {min(times['one at a time']):.2f} s, streams {min(times['streams']):.2f} s; "
          f"outputs: max abs diff {diff:.2e}, PSNR {psnr:.1f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
