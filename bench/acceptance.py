"""Acceptance bench: does every op (default params) and Auto never harm, and help where claimed?

    python bench/acceptance.py                # full run (~30-40 min on a shared 2-core CPU)
    python bench/acceptance.py --quick        # a few photos per set (~5 min), same table
    python bench/acceptance.py --limit 8 --side 512 --no-sheets --out DIR

One run, one table (issue 20):

* **No harm** on clean, well-exposed, sharp photos (clean sources' validation split; the wallpaper
  photos): PSNR / SSIM of the output against the input, CIELAB chroma ratio output/input, mean
  linear-luminance change in stops, and the share of photos Auto leaves alone. Ops run on a centre
  crop (``--side``); Auto decides on the whole photo, as the app does, and its recipe runs on the crop.
* **Help where claimed** on each task's validation pairs (``bench/quality_data.py``: PolyU real noise,
  synthetic camera noise, SICE, GoPro frame averages, synthetic shake): PSNR / SSIM / chroma ratio
  against the reference for the input, the task's op, Auto (its whole recipe, nothing dropped) and the
  best classical baseline (``app.core.metrics.baselines``; BM3D left out for time).
* **Analysis confusion** of the labelled validation set (``bench/auto_confusion.py``).
* **Real photos without reference**: contact sheets (``bench/acceptance_sheets.py``).

It ends with every target of issue 20's table and ``met`` / ``NOT met``. Everything runs on the CPU at
the ops' default parameters; no per-image tuning.
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

from acceptance_data import OPS, TASK_OPS, load_photo, no_harm_sets, op_available, run_method  # noqa: E402
from acceptance_targets import BELOW_TOL  # noqa: E402
from quality_data import TASKS, centre_crop, validation_pairs  # noqa: E402

from app.core.metrics.baselines import baselines_for  # noqa: E402
from app.core.metrics.colour import colour_stats  # noqa: E402
from app.core.metrics.niqe import niqe  # noqa: E402
from app.core.metrics.psnr import finite_psnr, psnr  # noqa: E402
from app.core.metrics.ssim import ssim  # noqa: E402

#: BM3D runs on a 256-px crop of two pairs only: not comparable with full-pair rows, and slow
SKIP_BASELINES = ("identity", "bm3d")
_W = np.array([0.2126, 0.7152, 0.0722])


def stops(y: np.ndarray, x: np.ndarray) -> float:
    from app.core.metrics.estimators import srgb_to_linear

    return float(np.log2(max((srgb_to_linear(y) @ _W).mean(), 1e-6) / max((srgb_to_linear(x) @ _W).mean(), 1e-6)))


def _score(y: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    return {"psnr": finite_psnr(psnr(y, ref)), "ssim": float(ssim(y, ref)),
            "chroma": colour_stats(y, ref)["chroma_ratio"]}


def _mean(v) -> float:
    v = [x for x in v if x is not None and np.isfinite(x)]
    return float(np.mean(v)) if v else float("nan")


def no_harm(side: int, limit: int | None, log) -> dict:
    """Per set and method: lists of psnr / ssim / chroma (vs input), stops, and Auto's recipes."""
    out = {}
    methods = [m for m in OPS if not op_available(m)] + ["auto"]
    for set_name, photos in no_harm_sets(side, limit).items():
        rows = {m: {"psnr": [], "ssim": [], "chroma": [], "stops": [], "notes": []} for m in methods}
        for name, path in photos:
            full, x = load_photo(path, side)
            cache: dict = {}
            for m in methods:
                y, note = run_method(m, x, cache, plan_on=full)
                s = _score(y, x)
                r = rows[m]
                for k in ("psnr", "ssim", "chroma"):
                    r[k].append(s[k])
                r["stops"].append(stops(y, x))
                r["notes"].append(f"{name}: {note}")
            log(f"no-harm {set_name} {name}: auto {rows['auto']['notes'][-1].split(': ')[-1]}, "
                f"psnr " + ", ".join(f"{m} {rows[m]['psnr'][-1]:.1f}" for m in methods))
        out[set_name] = {"photos": [n for n, _ in photos], "rows": rows}
    return out


def _niqe(img: np.ndarray) -> float:
    try:
        return float(niqe(img))
    except ValueError:
        return float("nan")


def help_tasks(tasks: list[str], limit: int, side: int, log) -> dict:
    """Per task: per method lists of psnr / ssim / chroma vs the reference (and NIQE for low light)."""
    out = {}
    for task in tasks:
        pairs = list(validation_pairs(task, limit))
        if side < 512:
            pairs = [type(p)(p.name, centre_crop(p.degraded, side), centre_crop(p.reference, side), p.extra)
                     for p in pairs]
        # a task added to quality_data later is still scored (input, Auto, baselines) until it is listed
        ops = [o for o in TASK_OPS.get(task, ()) if not op_available(o)]
        base = [b for b in baselines_for(task) if b.name not in SKIP_BASELINES]
        names = ["input", *[f"op:{o}" for o in ops], "auto", *[f"baseline:{b.name}" for b in base]]
        rows = {n: {"psnr": [], "ssim": [], "chroma": [], "niqe": [], "notes": []} for n in names}
        for p in pairs:
            x, cache = p.degraded, {}
            outs = {"input": (x, "")}
            for o in ops:
                outs[f"op:{o}"] = run_method(o, x, cache)
            outs["auto"] = run_method("auto", x, cache)
            for b in base:
                outs[f"baseline:{b.name}"] = (b.fn(x), "")
            for n, (y, note) in outs.items():
                s = _score(y, p.reference)
                for k in ("psnr", "ssim", "chroma"):
                    rows[n][k].append(s[k])
                rows[n]["niqe"].append(_niqe(y) if task == "lowlight" else float("nan"))
                rows[n]["notes"].append(note)
            log(f"{task} {p.name}: " + ", ".join(f"{n} {rows[n]['psnr'][-1]:.2f}" for n in names)
                + f" (auto: {outs['auto'][1]})")
        lumas = [p.extra.get("luma", (np.nan,))[0] for p in pairs]
        out[task] = {"pairs": [p.name for p in pairs], "rows": rows, "dark_luma": lumas}
    return out


def _f(v: float, fmt: str = ".2f") -> str:
    return "-" if v is None or not np.isfinite(v) else format(v, fmt)


def tables(nh: dict, hp: dict, conf: dict | None) -> str:
    lines = ["## No harm: clean, well-exposed, sharp photos (output vs input)", "",
             "| set | method | n | PSNR dB (mean / min) | SSIM | chroma out/in | luma change (stops) | note |",
             "|---|---|---|---|---|---|---|---|"]
    for set_name, res in nh.items():
        for m, r in res["rows"].items():
            n = len(r["psnr"])
            note = ""
            if m == "auto" and n:
                empty = sum(x.endswith(": nothing") for x in r["notes"])
                acted = [x for x in r["notes"] if not x.endswith(": nothing")]
                note = f"empty recipe on {empty}/{n}; " + "; ".join(acted)
            lines.append(f"| {set_name} | {m} | {n} | {_f(_mean(r['psnr']))} / {_f(min(r['psnr'], default=np.nan))}"
                         f" | {_f(_mean(r['ssim']), '.4f')} | {_f(_mean(r['chroma']), '.3f')} | "
                         f"{_f(_mean(r['stops']), '+.2f')} | {note} |")
    lines += ["", "## Help where claimed: validation pairs (output vs reference)", "",
              f"| task | method | n | PSNR dB | SSIM | chroma out/ref | pairs > {BELOW_TOL} dB below input | note |",
              "|---|---|---|---|---|---|---|---|"]
    for task, res in hp.items():
        inp = res["rows"]["input"]["psnr"]
        for m, r in res["rows"].items():
            below = sum(a < b - BELOW_TOL for a, b in zip(r["psnr"], inp)) if m != "input" else 0
            note = ""
            if m == "auto":
                from collections import Counter

                note = ", ".join(f"{k} x{v}" for k, v in Counter(r["notes"]).most_common())
            lines.append(f"| {task} | {m} | {len(r['psnr'])} | {_f(_mean(r['psnr']))} | {_f(_mean(r['ssim']), '.4f')}"
                         f" | {_f(_mean(r['chroma']), '.3f')} | {below} | {note} |")
    if conf is not None:
        from auto_confusion import markdown as conf_md

        lines += ["", "## Analysis confusion (labelled validation set)", "", conf_md(conf)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 photos/pairs per set, 256-px crops, 2 sheets a kind")
    ap.add_argument("--limit", type=int, default=None, help="photos per no-harm set and pairs per task")
    ap.add_argument("--side", type=int, default=512, help="centre-crop edge for scored photos and pairs")
    # denoise-clean is quality.py's copy of the no-harm clean-val set, which no_harm() already scores
    ap.add_argument("--tasks", default=",".join(t for t in TASKS if t != "denoise-clean"))
    ap.add_argument("--confusion", type=int, default=40, help="labelled samples per class (0: skip)")
    ap.add_argument("--no-sheets", action="store_true")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "acceptance")
    args = ap.parse_args(argv)
    if args.quick:
        args.limit = args.limit or 3
        args.side = min(args.side, 256)
        args.confusion = min(args.confusion, 6)
    task_limit = args.limit or 8
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - t0:6.0f} s] {msg}", file=sys.stderr, flush=True)

    tasks = [t for t in args.tasks.split(",") if t]
    nh = no_harm(args.side, args.limit, log)
    hp = help_tasks(tasks, task_limit, args.side, log)
    conf = None
    if args.confusion:
        import auto_confusion

        conf = auto_confusion.run("val", args.confusion)
    from acceptance_targets import check

    text = f"# Acceptance bench ({'quick' if args.quick else 'full'}: limit {args.limit or 'all'} photos per " \
           f"no-harm set, {task_limit} pairs per task, centre crops <= {args.side} px)\n\n"
    text += tables(nh, hp, conf) + "\n\n## Targets (issue 20)\n\n" + check(nh, hp, conf)
    if not args.no_sheets:
        from acceptance_sheets import write_sheets

        text += "\n\n## Contact sheets (real photos, no reference)\n\n" + write_sheets(
            args.out, per_kind=2 if args.quick else 4, log=log)
    text += f"\n\nTotal run time {time.monotonic() - t0:.0f} s (shared 2-core CPU).\n"
    print(text)
    (args.out / "acceptance.md").write_text(text)
    (args.out / "acceptance.json").write_text(json.dumps({"no_harm": nh, "help": hp, "confusion": conf},
                                                         default=float, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
