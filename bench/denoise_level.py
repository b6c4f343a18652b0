"""The sRGB denoiser's noise-level reading (``app/core/measure/denoise_level.py``): does it tell processed (phone-like)
noise from plainly developed sensor noise, and does *Luminance* leave the grain it says it leaves?

    python bench/denoise_level.py [--split train] [--limit 12] [--side 512] [--model-dir DIR]

Per source (real PolyU pairs; clean photos of the split through ``RawNoise``, synthetic camera noise
developed plainly; and through ``PhoneNoise``; clean photos as they are), the shipped (or ``--model-dir``)
sRGB network runs on a centre crop and ``measure_change`` reads its change. Printed: the reading's level,
neighbour correlation, colour/grain ratio and the share called processed
(phone-like); for the pairs with a reference, the luma RMS of
``output - reference`` in the same flat blocks at *Luminance* 0, 0.5 and 1 next to the prediction
``sqrt(((1 - k) * level)^2 + floor^2)`` (``floor``: the network's own error at 1). ``--split train``
chooses the constants; ``--split val`` reports them.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality_data import _clean_val, _seed, _splits, centre_crop, read_srgb  # noqa: E402

from app.core.measure.denoise_level import PROCESSED_COLOUR_RATIO, SRGB_LUMA, measure_change  # noqa: E402
from app.core.ops.denoise_blend import strength_gain  # noqa: E402

STRENGTHS = (0.0, 0.5, 1.0)


def pairs(source: str, split: str, limit: int, side: int):
    """``(name, noisy, reference or None)`` of one source on ``split``."""
    if source == "polyu":
        for it in sorted(_splits().items("polyu", split), key=lambda it: it.key)[:limit]:
            noisy, clean = (centre_crop(read_srgb(p), side) for p in it.paths)
            yield f"polyu/{it.key}", noisy, clean
        return
    photos = [p for p in _clean_val(split) if not p[0].startswith("sunhays80")]
    if source == "clean":
        for name, path in photos[1::3][:limit]:
            yield name, centre_crop(read_srgb(path), side), None
        return
    from app.train.degrade import RawNoise
    from app.train.phone_isp import PhoneNoise

    deg = {"raw": RawNoise(noise_model="sidd"), "phone": PhoneNoise()}[source]
    for name, path in photos[{"raw": 0, "phone": 2}[source]::3][:limit]:
        noisy, target, _ = deg(centre_crop(read_srgb(path), side), _seed(f"{source}/{name}", 0))
        yield name, np.clip(noisy, 0, 1).astype(np.float32), target


def flat_residual(out: np.ndarray, ref: np.ndarray, den: np.ndarray) -> float:
    """Luma RMS (0-255) of ``out - ref`` in the flattest quarter of ``den``'s 8x8 blocks, offsets removed."""
    from app.core.measure.denoise_level import FLAT_QUANTILE, _blocks

    cb = _blocks(den @ SRGB_LUMA)
    tex = cb.reshape(len(cb), -1).std(axis=1)
    flat = tex <= np.quantile(tex, FLAT_QUANTILE)
    rb = _blocks((out - ref) @ SRGB_LUMA)[flat]
    rb = rb - rb.mean(axis=(1, 2), keepdims=True)
    return float(np.sqrt(np.mean(rb * rb))) * 255


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="train", choices=("train", "val"))
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--side", type=int, default=512)
    ap.add_argument("--sources", default="polyu,raw,phone,clean")
    ap.add_argument("--model-dir", default=None, help="models directory (default: the shipped models)")
    args = ap.parse_args()
    import torch

    from app.core.models.registry import load_model

    model = load_model("cycleisp_srgb_denoise", "cpu", directory=Path(args.model_dir) if args.model_dir else None)
    print(f"split {args.split}, {args.limit} per source, {args.side}-px centre crops; processed if colour/grain "
          f"< {PROCESSED_COLOUR_RATIO}")
    for source in args.sources.split(","):
        rows = []
        for name, noisy, ref in itertools.islice(pairs(source, args.split, args.limit, args.side), args.limit):
            x = torch.from_numpy(np.ascontiguousarray(noisy.transpose(2, 0, 1)))[None]
            den = model.run_tensor(x)[0].permute(1, 2, 0).numpy()
            lv = measure_change(noisy, den)
            if lv is None:
                continue
            row = {"level": lv.luma255, "colour": lv.colour255, "lag1": lv.lag1, "ratio": lv.colour_ratio,
                   "processed": lv.processed}
            line = (f"  {source:6s} {name:40s} level {lv.luma255:5.2f} colour {lv.colour255:5.2f} "
                    f"lag1 {lv.lag1:5.2f} colour/grain {lv.colour_ratio:4.2f}")
            if ref is not None:
                meas = {s: flat_residual(noisy + strength_gain(s) * (den - noisy), ref, den) for s in STRENGTHS}
                for s in STRENGTHS:
                    row[f"m{s}"] = meas[s]
                    row[f"p{s}"] = float(np.hypot((1 - strength_gain(s)) * lv.luma255, meas[1.0]))
                    line += f"  s{s}: {meas[s]:5.2f} (pred {row[f'p{s}']:5.2f})"
            rows.append(row)
            print(line, flush=True)
        if rows:
            summarise(source, rows)


def _spread(rows: list[dict], key: str) -> str:
    v = [r[key] for r in rows]
    return f"{np.median(v):.2f} (10-90 %: {np.percentile(v, 10):.2f}-{np.percentile(v, 90):.2f})"


def summarise(source: str, rows: list[dict]) -> None:
    processed = sum(r["processed"] for r in rows)
    print(f"{source}: n {len(rows)}, level {_spread(rows, 'level')}/255, colour {_spread(rows, 'colour')}, "
          f"lag1 {_spread(rows, 'lag1')}, colour/grain {_spread(rows, 'ratio')}, processed {processed}/{len(rows)}",
          flush=True)
    if "m0.5" in rows[0]:
        med = {k: float(np.median([r[k] for r in rows])) for k in ("m0.0", "m0.5", "m1.0", "p0.0", "p0.5")}
        err = [abs(r["m0.5"] - r["p0.5"]) / max(r["m0.5"], 1e-6) for r in rows]
        print(f"{source}: residual at Luminance 0 / 0.5 / 1: {med['m0.0']:.2f} / {med['m0.5']:.2f} / "
              f"{med['m1.0']:.2f}; predicted {med['p0.0']:.2f} / {med['p0.5']:.2f} (median |error| at 0.5 "
              f"{np.median(err):.0%})", flush=True)


if __name__ == "__main__":
    main()
