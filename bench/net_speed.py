"""Per-network size and CPU speed, for the model cards.

For every net and configuration prints parameters, GFLOPs per megapixel (FLOP = 2 x MAC, convs and linear
layers; see ``app/core/nets/flops.py``) and wall-clock seconds per megapixel on the CPU:
``torch.inference_mode``, 2 threads, one 512x512 image (RAW nets: 512x512 sensor pixels, i.e. 256x256
packed), median of 3 runs after a warm-up. Nets run as inference would run them: eval mode, batch norm
folded, channels-last tensors. A second table checks the speed targets at their own sizes (DeblurGAN fast
on 1280x720, the KinD adjustment net on a 2-MP illumination map).

    python bench/net_speed.py [--configs fast full] [--nets srgb_denoiser kind.adjustment ...] [--repeats 3]

The CPU is shared: the load average is printed with the results, ``min`` next to the median, and the
process CPU seconds (all threads) as a load-independent measure of the work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.models.stats import count_params  # noqa: E402
from app.core.nets import cycleisp, deblurgan, kind  # noqa: E402
from app.core.nets.blocks import fold_batchnorm  # noqa: E402
from app.core.nets.flops import count_flops  # noqa: E402

Inputs = Callable[[int, int], tuple]


def _packed(h: int, w: int, channels: int = 4) -> torch.Tensor:
    return torch.rand(1, channels, h // 2, w // 2)


def _rgb(h: int, w: int) -> tuple:
    return (torch.rand(1, 3, h, w),)


def _signed_rgb(h: int, w: int) -> tuple:
    return (torch.rand(1, 3, h, w) * 2 - 1,)


#: name -> (family module, net, inputs for an h x w image, which pixels the per-MP figures count)
NETS: dict[str, tuple[object, str, Inputs, str]] = {
    "cycleisp.srgb_denoiser": (cycleisp, "srgb_denoiser", _rgb, "px"),
    "cycleisp.raw_denoiser": (cycleisp, "raw_denoiser", lambda h, w: (_packed(h, w), _packed(h, w) * 1e-3),
                              "sensor px"),
    "cycleisp.rgb2raw": (cycleisp, "rgb2raw", _rgb, "input px"),
    "cycleisp.raw2rgb": (cycleisp, "raw2rgb", lambda h, w: (_packed(h, w), *_rgb(h, w)), "output px"),
    "kind.decomposition": (kind, "decomposition", _rgb, "px"),
    "kind.restoration": (kind, "restoration", lambda h, w: (*_rgb(h, w), torch.rand(1, 1, h, w)), "px"),
    "kind.adjustment": (kind, "adjustment", lambda h, w: (torch.rand(1, 1, h, w), 2.0), "px"),
    "deblurgan.generator": (deblurgan, "generator", _signed_rgb, "px"),
}


def _prepare(family: object, net: str, config: str) -> torch.nn.Module:
    model = family.build(net, config).eval()
    fold_batchnorm(model)
    return model.to(memory_format=torch.channels_last)


def _channels_last(inputs: tuple) -> tuple:
    return tuple(t.contiguous(memory_format=torch.channels_last)
                 if isinstance(t, torch.Tensor) and t.ndim == 4 else t for t in inputs)


def time_model(model: torch.nn.Module, inputs: tuple, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of ``repeats`` forward passes after one warm-up.

    CPU time (all threads) is the steadier figure on a shared machine: other processes stretch wall time
    but not the work done. On an idle machine wall ~ CPU / threads.
    """
    inputs = _channels_last(inputs)
    wall, cpu = [], []
    with torch.inference_mode():
        model(*inputs)
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            model(*inputs)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["fast", "full"])
    parser.add_argument("--nets", nargs="+", default=list(NETS), help="subset of: " + " ".join(NETS))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-targets", action="store_true", help="skip the speed-target table")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    print(f"torch {torch.__version__}, {args.threads} threads, {args.size}x{args.size}, "
          f"median of {args.repeats} (load average at start {os.getloadavg()[0]:.1f})")
    header = (f"{'net':26s} {'config':8s} {'params':>10s} {'GFLOP/MP':>10s} {'s/MP med':>9s} "
              f"{'s/MP min':>9s} {'cpu-s/MP':>9s}  per")
    print(header)
    print("-" * len(header))
    for name in args.nets:
        family, net, make_inputs, unit = NETS[name]
        for config in args.configs:
            config = "quality" if family is deblurgan and config == "full" else config
            params = count_params(family.build(net, config))  # as stored in the weight file (BN unfolded)
            model = _prepare(family, net, config)
            # FLOPs per pixel do not depend on size (up to padding): count on a small image to save time.
            flops = count_flops(model, *make_inputs(64, 64)) / (64 * 64)
            wall, cpu = time_model(model, make_inputs(args.size, args.size), args.repeats)
            mp = args.size * args.size / 1e6
            print(f"{name:26s} {config:8s} {params:10,d} {flops / 1e3:10.1f} "
                  f"{statistics.median(wall) / mp:9.2f} {min(wall) / mp:9.2f} "
                  f"{statistics.median(cpu) / mp:9.2f}"
                  f"  {unit}", flush=True)

    if not args.no_targets:
        print("\nspeed targets (seconds per image, median of", args.repeats, "runs)")
        checks = [("deblurgan.generator fast, 1280x720 (<= 1.5 s)", _prepare(deblurgan, "generator", "fast"),
                   _signed_rgb(720, 1280)),
                  ("kind.adjustment fast, 1920x1080 map (tens of ms)", _prepare(kind, "adjustment", "fast"),
                   (torch.rand(1, 1, 1080, 1920) * 0.9 + 0.05, 2.0))]
        for label, model, inputs in checks:
            wall, cpu = time_model(model, inputs, max(args.repeats, 5))
            print(f"  {label:52s} median {statistics.median(wall):7.3f} s   min {min(wall):7.3f} s   "
                  f"cpu {statistics.median(cpu):7.3f} s")
    print(f"(load average at end {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
