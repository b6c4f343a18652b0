"""Quality benchmark: PhotoRestore ops vs classical baselines on the validation splits, in one run.

    python bench/quality.py [--tasks denoise-srgb,lowlight] [--limit 4] [--methods nlm,auto] [--out DIR]

Per task (see ``bench/quality_data.py`` for the data): PSNR / SSIM against the reference, NIQE
(no-reference, our model; lower = more natural) of every output and of the reference, and seconds
per megapixel, for every baseline of :mod:`app.core.metrics.baselines`, every registered op that fits
the task (classical app ops get the parameters Auto would choose for the input), ``auto`` (the
whole Auto recipe, end to end) and the model ops the task expects, which are listed as
``untrained/missing: reason`` when they cannot run. Writes ``quality.md``, ``quality.json`` and a
contact sheet per task (centre 256x256 of input | best ours | best baseline | reference).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality_data import SOURCE_NOTES, TASKS, ValPair, centre_crop, validation_pairs  # noqa: E402
from quality_ours import Method, methods_for, sheet  # noqa: E402

from app.core.metrics.colour import colour_stats  # noqa: E402
from app.core.metrics.niqe import niqe  # noqa: E402
from app.core.metrics.psnr import finite_psnr, psnr  # noqa: E402
from app.core.metrics.ssim import ssim  # noqa: E402

DEFAULT_LIMIT = 4


def _niqe(img: np.ndarray) -> float:
    try:
        return niqe(img) if min(img.shape[:2]) >= 192 else float("nan")
    except ValueError:
        return float("nan")


def with_candidate(methods: list[Method], directory: Path) -> list[Method]:
    """``methods`` plus, after each op row, the same op with the models of ``directory`` (``NAME@candidate``):
    candidate weights scored on the same pairs, in the same run as the shipped ones and the baselines."""
    from app.core.models.testing import models_dir_env

    def wrapped(fn):
        def run(x, pair):
            with models_dir_env(directory):
                return fn(x, pair)
        return run

    out = []
    for m in methods:
        out.append(m)
        if m.kind == "ours" and m.name.startswith("op:") and not m.unavailable:
            out.append(Method(f"{m.name}@candidate", "ours", wrapped(m.run), f"{m.note}; models of {directory}",
                              m.crop, m.max_pairs))
    return out


def run_task(task: str, limit: int, wanted: set[str] | None, seed: int, side: int | None = None,
             all_pairs: bool = False, candidate: Path | None = None) -> dict:
    """Score every method on ``limit`` validation pairs of ``task``.

    ``side``: centre-crop every pair to this edge first, so that methods capped to a crop (BM3D) and the
    others score the same pixels (not for denoise-raw, whose pairs carry a RAW mosaic). ``all_pairs``:
    lift the baselines' pair caps. ``candidate``: a models directory whose weights are scored too
    (:func:`with_candidate`).
    """
    pairs: list[ValPair] = list(validation_pairs(task, limit, seed))
    if side and task != "denoise-raw":
        pairs = [ValPair(p.name, centre_crop(p.degraded, side), centre_crop(p.reference, side), p.extra)
                 for p in pairs]
    methods: list[Method] = methods_for(task)
    if candidate is not None:
        methods = with_candidate(methods, candidate)
    methods = [m for m in methods if wanted is None or m.name in wanted]
    if all_pairs:
        for m in methods:
            m.max_pairs = None
    rows: dict[str, dict] = {}
    outputs: dict[str, list[np.ndarray | None]] = {}
    for m in methods:
        r = {"kind": m.kind, "note": m.note, "psnr": [], "gain": [], "ssim": [], "niqe": [], "s_per_mp": [],
             "chroma": [], "dab": [], "unavailable": m.unavailable}
        outs: list[np.ndarray | None] = []
        if not m.unavailable:
            for p in pairs:
                x, ref = p.degraded, p.reference
                if m.max_pairs is not None and len(r["psnr"]) >= m.max_pairs:
                    outs.append(None)
                    continue
                if m.crop:
                    x, ref = centre_crop(x, m.crop), centre_crop(ref, m.crop)
                t0 = time.perf_counter()
                try:
                    y = m.run(x, p)
                except Exception as exc:  # noqa: BLE001 - one failing op must not sink the table
                    r["unavailable"] = f"failed: {type(exc).__name__}: {exc}"
                    break
                dt = time.perf_counter() - t0
                r["psnr"].append(finite_psnr(psnr(y, ref)))
                # Gain over the input on the same pixels: comparable across full-size and crop methods.
                r["gain"].append(r["psnr"][-1] - finite_psnr(psnr(x, ref)))
                r["ssim"].append(ssim(y, ref))
                r["niqe"].append(_niqe(y) if not m.crop else float("nan"))
                colour = colour_stats(y, ref)
                r["chroma"].append(colour["chroma_ratio"])
                r["dab"].append(colour["delta_ab"])
                r["s_per_mp"].append(dt / (x.shape[0] * x.shape[1] / 1e6))
                outs.append(y if not m.crop else None)
        r["note"] = m.describe()
        rows[m.name] = r
        outputs[m.name] = outs
    ref_niqe = [_niqe(p.reference) for p in pairs]
    return {"task": task, "pairs": [p.name for p in pairs], "rows": rows, "ref_niqe": ref_niqe,
            "_outputs": outputs, "_pairs": pairs}


def _mean(v: list[float]) -> float:
    v = [x for x in v if np.isfinite(x)]
    return float(np.mean(v)) if v else float("nan")


def _fmt(v: float, f: str) -> str:
    return "-" if not np.isfinite(v) else format(v, f)


def best(res: dict, kind: str) -> str | None:
    """Method of ``kind`` ("baseline" / "ours") with the best mean PSNR (identity and crops excluded)."""
    cands = [(np.mean(r["psnr"]), n) for n, r in res["rows"].items()
             if r["kind"] == kind and r["psnr"] and n != "identity"
             and all(o is not None for o in res["_outputs"][n])]
    return max(cands)[1] if cands else None


def _refine_gain(res: dict) -> list[str]:
    """Table rows: what PTG refinement adds to its op, paired per image (issue 7's "gain it adds")."""
    out = []
    for name, r in res["rows"].items():
        base = res["rows"].get(name.replace(" +refine", "")) if name.endswith(" +refine") else None
        if base is None or r["unavailable"] or base["unavailable"] or not r["psnr"]:
            continue
        n = min(len(r["psnr"]), len(base["psnr"]))
        dp = _mean([a - b for a, b in zip(r["psnr"][:n], base["psnr"][:n])])
        ds = _mean([a - b for a, b in zip(r["ssim"][:n], base["ssim"][:n])])
        out.append(f"| {name} vs {name.replace(' +refine', '')} | gain | {_fmt(dp, '+.2f')} | - | "
                   f"{_fmt(ds, '+.4f')} | - | - | - | - | PTG refinement's gain on the same {n} pairs |")
    return out


def markdown(results: list[dict], limit: int) -> str:
    lines = [f"# Quality benchmark (validation splits, up to {limit} pairs per task, centre crops <= 512 px)",
             "", "PSNR/SSIM (RGB, [0, 1]) against the reference; NIQE: no-reference, our model fitted on "
             "train-split clean photos, lower = more natural; gain: PSNR minus the input's PSNR on the same "
             "pixels; chroma: mean Lab chroma of the output over the reference's (< 1 washed out); dab: mean "
             "a*b* distance to the reference (colour casts, hue shifts; lightness ignored); s/MP: wall time "
             "per megapixel on this machine (a 2-core CPU shared with other jobs: "
             "expect noise of 2-5x). Methods with a crop note ran on the 256x256 centre crop (metrics on "
             "that crop; no NIQE).", ""]
    for res in results:
        task = res["task"]
        lines += [f"## {task}: {len(res['pairs'])} pairs ({SOURCE_NOTES[task]})", "",
                  "| method | kind | PSNR dB | gain dB | SSIM | chroma | dab | NIQE | s/MP | note |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in res["rows"].items():
            head = f"| {name} | {r['kind']} |"
            if r["unavailable"]:
                lines.append(f"{head} - | - | - | - | - | - | - | untrained/missing: {r['unavailable']} |")
                continue
            vals = [_fmt(_mean(r[k]), f) for k, f in (("psnr", ".2f"), ("gain", "+.2f"), ("ssim", ".4f"),
                                                       ("chroma", ".3f"), ("dab", ".2f"), ("niqe", ".2f"),
                                                       ("s_per_mp", ".2f"))]
            lines.append(f"{head} {' | '.join(vals)} | {r['note']} |")
        lines += _refine_gain(res)
        ref = _fmt(_mean(res["ref_niqe"]), ".2f")
        lines.append(f"| reference | - | - | - | - | - | - | {ref} | - | NIQE of the targets |")
        lines += ["", f"Pairs: {', '.join(res['pairs'])}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, from {', '.join(TASKS)}")
    ap.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="pairs per task")
    ap.add_argument("--methods", default="", help="comma-separated method names (default: all)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic (denoise-raw) pairs")
    ap.add_argument("--side", type=int, default=0,
                    help="centre-crop every pair to this edge (e.g. 256: BM3D's crop, so all methods score the "
                         "same pixels)")
    ap.add_argument("--all-pairs", action="store_true", help="run capped baselines (BM3D) on every pair")
    ap.add_argument("--candidate", type=Path, default=None, metavar="DIR",
                    help="a models directory (a copy of models/ with new weights): every op row is also scored "
                         "with its models, as NAME@candidate")
    ap.add_argument("--estimators", type=int, default=0, metavar="N",
                    help="also print the analysis-estimator error table on N held-out photos (~15 s each)")
    args = ap.parse_args(argv)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        ap.error(f"unknown task(s) {', '.join(bad)}; choose from {', '.join(TASKS)}")
    wanted = {m.strip() for m in args.methods.split(",") if m.strip()} or None
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    results = []
    for task in tasks:
        res = run_task(task, args.limit, wanted, args.seed, args.side or None, args.all_pairs, args.candidate)
        results.append(res)
        png = sheet(res, best(res, "ours"), best(res, "baseline"), args.out / f"quality_{task}.png")
        print(f"{task}: {len(res['pairs'])} pairs, sheet {png}", file=sys.stderr)
    text = markdown(results, args.limit)
    if args.estimators:
        import estimators

        imgs = estimators.holdout_images(args.estimators)
        text += "\n## Photo-analysis estimators\n\n" + estimators.markdown(
            estimators.run([im for _, im in imgs]), len(imgs)) + "\n"
    text += f"\nTotal run time {time.monotonic() - t0:.0f} s.\n"
    print(text)
    (args.out / "quality.md").write_text(text)
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
    (args.out / "quality.json").write_text(json.dumps(clean, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
