"""JPEG artefact removal against its targets, per quality, on the validation photos.

    python bench/dejpeg.py [--limit 15] [--qualities 10,20,30,40,60,95] [--checkpoint RUN/latest.pth]

For every quality: PSNR of the JPEG input, of ``spp`` (shifted-DCT requantisation, the strongest classical
deblocker we have, told the quality) and of the ``dejpeg`` op (told the quality, as a JPEG file's tables
would), all against the clean photo; plus the op's output against its *input* (the no-harm figure at q95).
Data: ``bench/quality_data.py:jpeg_pairs`` (validation split, no sunhays80, area-shrunk, 512-px crops,
libjpeg 4:2:0). ``--checkpoint`` scores a training checkpoint instead of the exported model (for
monitoring a run; report the exported model's figures). Targets (issue 26): >= +1.0 dB over the input at
q20-40, >= spp + 0.5 dB, and >= 40 dB against the input at q95.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality_data import jpeg_pairs  # noqa: E402

from app.core.metrics.baselines import spp_deblock  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402


def _net(checkpoint: str | None):
    """``run(x, quality) -> y``: the registry's exported model, or a checkpoint's weights."""
    from app.core.context import RunContext
    from app.core.models.registry import get_descriptor, load_model
    from app.core.ops.dejpeg import MODEL_ID, dejpeg_array

    if checkpoint is None:
        from app.core.models.registry import model_state

        state = model_state(MODEL_ID)
        if not state.ok:
            print(f"{MODEL_ID}: {state.name} ({state.message}); only the input and spp are scored")
            return None
        model = load_model(MODEL_ID, "cpu")
    else:
        import torch

        from app.core.models.registry import LoadedModel
        from app.core.nets.dejpeg import DeJpegNet

        d = get_descriptor(MODEL_ID)
        module = DeJpegNet(**d.config)
        module.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=False)["model"])
        model = LoadedModel(d, module.eval(), torch.device("cpu"), "checkpoint", torch.float32, Path("."))
    return lambda x, q: dejpeg_array(model, x, q, 1.0, RunContext(device="cpu"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=15, help="photos per quality (15 = all validation photos)")
    ap.add_argument("--qualities", default="10,20,30,40,60,95")
    ap.add_argument("--checkpoint", help="a training checkpoint (latest.pth) instead of the exported model")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    run = _net(args.checkpoint)
    print(f"{'q':>3} {'n':>3} {'input':>7} {'spp':>7} {'ours':>7} {'gain':>6} {'vs spp':>7} {'ours vs input':>14} "
          f"{'s/MP':>6}")
    for q in (int(v) for v in args.qualities.split(",")):
        rows = []
        secs = mp = 0.0
        for p in jpeg_pairs(args.limit, (q,)):
            t0 = time.perf_counter()
            y = run(p.degraded, float(q)) if run is not None else p.degraded * np.nan
            secs += time.perf_counter() - t0
            mp += p.degraded.shape[0] * p.degraded.shape[1] / 1e6
            rows.append((psnr(p.degraded, p.reference), psnr(spp_deblock(p.degraded, q), p.reference),
                         psnr(y, p.reference), psnr(y, p.degraded)))
        a = np.mean(np.array(rows), axis=0)
        print(f"{q:>3} {len(rows):>3} {a[0]:7.2f} {a[1]:7.2f} {a[2]:7.2f} {a[2] - a[0]:+6.2f} {a[2] - a[1]:+7.2f} "
              f"{a[3]:14.2f} {secs / max(mp, 1e-9):6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
