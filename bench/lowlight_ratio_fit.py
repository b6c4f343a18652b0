"""Low light's automatic ratio, fitted for the output: PSNR against the reference on SICE *training* pairs.

    python bench/lowlight_ratio_fit.py [--split train] [--limit 0] [--keys 0.50,0.52,0.54,0.56]
                                       [--powers 0.95,0.975,1.0]

``python -m app.train.kind_auto_ratio`` fits ``alpha = (K / gmean(L)) ** p`` to KinD's own ratio
``mean(L_ref / L_dark)``; this scores the op's *output* instead. Pairs: every SICE sequence of the split
whose darkest frame has luma < 50, against its luma~115 frame (``bench/lowlight_colour.sice``, centre
512 px). The nets run once per pair (the op's decompose + restore); each rule then reruns adjust + fuse.
Prints, per pair, the PSNR-optimal ratio on a 17-step grid (1-16) against the rule's, the mean signed
error in stops by exposure band, and mean PSNR / SSIM / chroma for the shipped constants and each
(K, p) of the grid, with the knee (``AUTO_KNEE``) and clamp of :func:`~app.core.ops.lowlight_stages.auto_ratio`.
Only ``--split train`` is for choosing; ``--split val`` reports what a choice gives on validation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lowlight_colour import sice  # noqa: E402

from app.core.context import RunContext  # noqa: E402
from app.core.image import Image  # noqa: E402
from app.core.metrics.colour import colour_stats  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402
from app.core.metrics.ssim import ssim  # noqa: E402
from app.core.ops import lowlight_stages as st  # noqa: E402
from app.core.ops.lowlight import LowlightParams  # noqa: E402


def output(state: dict, ratio: float) -> np.ndarray:
    import torch

    with torch.inference_mode():
        adj = {**state, "L_adj": st._adjusted(state, ratio), "ratio": ratio}
    return st.fuse(adj, LowlightParams(), RunContext()).data


def rule(key: float, power: float):
    """``auto_ratio`` with other constants (same knee and clamp)."""
    def ratio(g: float) -> float:
        old = st.AUTO_KEY, st.AUTO_POWER
        st.AUTO_KEY, st.AUTO_POWER = key, power
        try:
            return st.auto_ratio(g)
        finally:
            st.AUTO_KEY, st.AUTO_POWER = old
    return ratio


def score(states: list[dict], refs: list[np.ndarray], ratio_of, full: bool) -> tuple[float, ...]:
    rows = []
    for s, ref in zip(states, refs):
        y = output(s, ratio_of(s["L_gmean"]))
        rows.append((psnr(y, ref), ssim(y, ref) if full else np.nan,
                     colour_stats(y, ref)["chroma_ratio"] if full else np.nan))
    return tuple(np.mean(rows, axis=0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="train", choices=("train", "val"))
    ap.add_argument("--limit", type=int, default=0, help="pairs (0: all)")
    ap.add_argument("--keys", default="0.50,0.52,0.54,0.56")
    ap.add_argument("--powers", default="0.95,0.975,1.0")
    a = ap.parse_args(argv)
    pairs = sice(a.split, a.limit or 10 ** 6, 512)
    ctx, p = RunContext(device="cpu"), LowlightParams()
    states, refs = [], []
    for _name, dark, ref in pairs:
        states.append(st.restore(st.decompose(Image(dark), p, ctx), p, ctx))
        refs.append(ref)
    grid = np.geomspace(1.0, 16.0, 17)
    best, ruled, g = [], [], []
    for (name, _, _), s, ref in zip(pairs, states, refs):
        ps = [psnr(output(s, float(r)), ref) for r in grid]
        best.append(float(grid[int(np.argmax(ps))]))
        ruled.append(st.auto_ratio(s["L_gmean"]))
        g.append(s["L_gmean"])
        print(f"{name:16s} gmean(L) {s['L_gmean']:.3f}  rule x{ruled[-1]:5.2f}  best x{best[-1]:5.2f} "
              f"({max(ps):.2f} dB)", flush=True)
    err, g = np.log2(np.array(best) / np.array(ruled)), np.array(g)
    for lo, hi in ((0, 0.04), (0.04, 0.08), (0.08, 0.12), (0.12, 1.0)):
        m = (g >= lo) & (g < hi)
        if m.any():
            print(f"gmean(L) in [{lo}, {hi}): {m.sum():3d} pairs, best - rule {err[m].mean():+.2f} stops")
    print(f"{len(states)} {a.split} pairs; shipped K {st.AUTO_KEY} p {st.AUTO_POWER}: "
          "PSNR %.3f / SSIM %.4f / chroma %.3f" % score(states, refs, st.auto_ratio, True), flush=True)
    for key in map(float, a.keys.split(",")):
        for power in map(float, a.powers.split(",")):
            print(f"K {key:.3f} p {power:.3f}: PSNR %.3f" % score(states, refs, rule(key, power), False)[0],
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
