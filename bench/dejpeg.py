"""JPEG artefact removal against its targets, per quality, on the validation photos.

    python bench/dejpeg.py [--limit 15] [--qualities 10,20,30,40,60,95] [--checkpoint RUN/latest.pth]
                           [--split val|train]

For every quality: PSNR of the JPEG input, of ``spp`` (shifted-DCT requantisation, the strongest classical
deblocker we have, told the quality), of the net alone and of the ``dejpeg`` op as it runs on a JPEG file
(the net, then the quantisation-constraint projection onto the file's tables, :mod:`app.core.ops.dejpeg_qcs`;
the pairs are compressed here by libjpeg, so their tables are the IJG tables of the quality), all against
the clean photo; plus the op's output against its *input* (the no-harm figure at q95). ``spp+qcs`` is the
classical filter with the same projection (the fair classical rival of the op on a file).
``--split train`` scores training photos instead (for tuning; never report those as validation).
Data: ``bench/quality_data.py:jpeg_pairs`` (validation split, no sunhays80, area-shrunk, 512-px crops,
libjpeg 4:2:0). ``--checkpoint`` scores a training checkpoint instead of the exported model (for
monitoring a run; report the exported model's figures). Targets (issue 26): >= +1.0 dB over the input at
q20-40, >= spp + 0.5 dB, and >= 40 dB against the input at q95.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality_data import jpeg_pairs  # noqa: E402

from app.core.io.jpeg_tables import JpegTables  # noqa: E402
from app.core.metrics.baselines import spp_deblock  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402
from app.core.ops.dejpeg_qcs import consistent, project  # noqa: E402


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
        from app.core.nets.dejpeg import DeJpegNet, config_of

        if checkpoint.endswith(".safetensors"):  # a committed resume point (float16 weights)
            from safetensors.torch import load_file

            state = {k: v.float() for k, v in load_file(checkpoint).items()}
        else:
            state = torch.load(checkpoint, map_location="cpu", weights_only=False)["model"]
        # the checkpoint's own width and depth (a dejpeg_wide run), not necessarily the catalog's
        d = dataclasses.replace(get_descriptor(MODEL_ID), config=config_of(state))
        module = DeJpegNet(**d.config)
        module.load_state_dict(state)
        model = LoadedModel(d, module.eval(), torch.device("cpu"), "checkpoint", torch.float32, Path("."))
    return lambda x, q: dejpeg_array(model, x, q, 1.0, RunContext(device="cpu"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=15, help="photos per quality (15 = all validation photos)")
    ap.add_argument("--qualities", default="10,20,30,40,60,95")
    ap.add_argument("--checkpoint", help="a training checkpoint (latest.pth, or a resume point's "
                    ".safetensors) instead of the exported model")
    ap.add_argument("--split", default="val", choices=("val", "train"),
                    help="val (the figures to report) or train (for tuning)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    run = _net(args.checkpoint)
    print(f"{args.split} split; 'op' = net + projection onto the file's tables (what a JPEG file gets)")
    print(f"{'q':>3} {'n':>3} {'input':>7} {'spp':>7} {'spp+qcs':>7} {'net':>7} {'op':>7} {'gain':>6} "
          f"{'vs spp':>7} {'op vs input':>12} {'s/MP':>6} {'qcs s/MP':>8}")
    for q in (int(v) for v in args.qualities.split(",")):
        rows = []
        secs = qsecs = mp = 0.0
        tables = JpegTables.ijg(q)  # jpeg_pairs: libjpeg at quality q, 4:2:0
        for p in jpeg_pairs(args.limit, (q,), args.split):
            lq, ref = p.degraded, p.reference
            t0 = time.perf_counter()
            y = run(lq, float(q)) if run is not None else lq * np.nan
            t1 = time.perf_counter()
            # the op projects only pixels that read as the file's own decoding; these always should
            yq = project(y, lq, tables) if consistent(lq, tables) and run is not None else y
            qsecs += time.perf_counter() - t1
            secs += t1 - t0
            mp += lq.shape[0] * lq.shape[1] / 1e6
            spp = spp_deblock(lq, q)
            rows.append((psnr(lq, ref), psnr(spp, ref), psnr(project(spp, lq, tables), ref),
                         psnr(y, ref), psnr(yq, ref), psnr(yq, lq)))
        a = np.mean(np.array(rows), axis=0)
        best = max(a[1], a[2])  # the better classical rival
        print(f"{q:>3} {len(rows):>3} {a[0]:7.2f} {a[1]:7.2f} {a[2]:7.2f} {a[3]:7.2f} {a[4]:7.2f} {a[4] - a[0]:+6.2f} "
              f"{a[4] - best:+7.2f} {a[5]:12.2f} {secs / max(mp, 1e-9):6.2f} {qsecs / max(mp, 1e-9):8.2f}")
    print("gain = op - input; vs spp = op - max(spp, spp+qcs). Targets (q20-40): gain >= +1.0, vs spp >= +0.5; "
          "q95: op vs input >= 40 dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
