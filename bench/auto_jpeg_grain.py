"""Calibration of the "grain under a JPEG" rule on the train split (docs/auto.md, analysis.JPEG_METHOD255).

    python bench/auto_jpeg_grain.py [--split train] [--cv 20]

Noisy: PolyU's noisy crops of the split (ISO 1600-12800 camera JPEGs, re-saved at q75). Clean: their own
500-shot mean references (same scenes, same q75 encoding) and the split's clean photos whose pixels carry
a JPEG quantisation lattice (mostly wallpapers), 512-px centre crops as in ``bench/auto_labelled.py``.
For each: the NLM method noise and its block-edge ratio (``NoiseInfo.method255`` / ``method_grid``). Prints
a logistic fit of (log method noise, ratio) -- the boundary the rule's constants round -- and how many noisy
and clean samples the shipped rule (``Analysis.jpeg_grain``) and the old method-noise threshold flag.

``--cv N`` compares, by N repeats of 5-fold cross-validation grouped by scene (a PolyU pair stays in one
fold), the shipped constants with the same fit refitted on the training folds only; the fit and the rule
see what ``jpeg_grain`` sees: samples with JPEG history that are not blocky, the ratio clipped to
``JPEG_GRID_RANGE``. Errors count whole-analysis ``is_noisy`` (the flat-block rule still finds some).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auto_labelled import JPEG_HISTORY, SIDE, clean_photos  # noqa: E402
from quality_data import centre_crop, read_srgb  # noqa: E402

from app.core.metrics.analysis import (  # noqa: E402
    JPEG_GRID_RANGE,
    JPEG_GRID_REF,
    JPEG_GRID_SLOPE,
    JPEG_METHOD255,
    NOISY_METHOD255,
    analyze_array,
)


def _logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """Newton's method on the L2-regularised log-loss; weights for [features..., 1]."""
    x = np.c_[x, np.ones(len(x))]
    w = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, x.T @ (p - y) + l2 * w)
    return w


def samples(split: str) -> list[tuple[str, int, object]]:
    """``(name, label 1 = noisy, Analysis)`` of the split's PolyU pairs and clean JPEG-lattice photos."""
    from app.train.splits import load_splits

    out = []
    for it in sorted(load_splits().items("polyu", split), key=lambda i: i.key):
        for path, label in zip(it.paths, (1, 0)):
            out.append((f"polyu/{it.key}" + ("" if label else " (mean)"), label,
                        analyze_array(centre_crop(read_srgb(path), SIDE))))
    for name, path in clean_photos(split, JPEG_HISTORY):
        a = analyze_array(centre_crop(read_srgb(path), SIDE))
        if a.jpeg.estimated_quality is not None:
            out.append((name, 0, a))
    return out


def _features(rows: list[tuple[str, int, object]]) -> dict[str, np.ndarray]:
    """What the grain rule sees per sample: eligible (JPEG history, not blocky, finite), the rest of
    ``is_noisy`` (flat-block rule), log method noise, clipped block-edge ratio."""
    out: dict[str, list] = {k: [] for k in ("group", "y", "eligible", "other", "logm", "ratio")}
    for name, lab, a in rows:
        n = a.noise
        other = a.is_noisy and not a.jpeg_grain
        out["group"].append(name.replace(" (mean)", ""))
        out["y"].append(lab)
        out["eligible"].append(a.has_jpeg_history and not a.is_blocky and bool(np.isfinite(n.method255)))
        out["other"].append(bool(other))
        out["logm"].append(float(np.log(max(n.method255, 1e-2))) if np.isfinite(n.method255) else -9.0)
        r = n.method_grid if np.isfinite(n.method_grid) else 1.0
        out["ratio"].append(float(np.clip(r, *JPEG_GRID_RANGE)))
    return {k: np.array(v) for k, v in out.items()}


def _fit_rule(f: dict[str, np.ndarray], idx: np.ndarray) -> tuple[float, float]:
    """(level at JPEG_GRID_REF, slope) of the logistic boundary fitted on the eligible samples in ``idx``."""
    m = idx[f["eligible"][idx]]
    w = _logistic(np.c_[f["logm"][m], f["ratio"][m]], f["y"][m].astype(float))
    return float(np.exp(-(w[2] + JPEG_GRID_REF * w[1]) / w[0])), float(w[1] / w[0])


def _predict(f: dict[str, np.ndarray], idx: np.ndarray, level: float, slope: float) -> np.ndarray:
    grain = f["eligible"][idx] & (f["logm"][idx] >= np.log(level) + slope * (JPEG_GRID_REF - f["ratio"][idx]))
    return f["other"][idx] | grain


def cross_validate(f: dict[str, np.ndarray], repeats: int, folds: int = 5) -> None:
    """Missed noisy / flagged clean over held-out folds: shipped constants vs a refit per training fold."""
    groups = sorted(set(f["group"]))
    y = f["y"].astype(bool)
    tally = {"shipped": np.zeros(2), "refit": np.zeros(2)}
    for rep in range(repeats):
        order = np.random.default_rng(rep).permutation(len(groups))
        fold_of = {groups[g]: i % folds for i, g in enumerate(order)}
        fold = np.array([fold_of[g] for g in f["group"]])
        for k in range(folds):
            test, train = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
            for name, (lvl, sl) in (("shipped", (JPEG_METHOD255, JPEG_GRID_SLOPE)), ("refit", _fit_rule(f, train))):
                pred = _predict(f, test, lvl, sl)
                tally[name] += [(~pred & y[test]).sum(), (pred & ~y[test]).sum()]
    for name, (miss, false) in tally.items():
        print(f"cv {name:8s} per repeat: missed {miss / repeats:.2f}/{int(y.sum())} noisy, "
              f"flagged {false / repeats:.2f}/{int((~y).sum())} clean, errors {(miss + false) / repeats:.2f}")
    lvl, sl = _fit_rule(f, np.arange(len(y)))
    pred = _predict(f, np.arange(len(y)), lvl, sl)
    print(f"refit on all: level {lvl:.3f}/255 at ratio {JPEG_GRID_REF}, slope {sl:.3f}; on all (training data): "
          f"found {int((pred & y).sum())}/{int(y.sum())}, flagged {int((pred & ~y).sum())}/{int((~y).sum())}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="train", choices=("train", "val"))
    ap.add_argument("--cv", type=int, default=0, help="repeats of grouped 5-fold cross-validation (train only)")
    args = ap.parse_args(argv)
    rows = samples(args.split)
    if args.cv:
        cross_validate(_features(rows), args.cv)
    y = np.array([lab for _, lab, _ in rows], float)
    method = np.array([a.noise.method255 for _, _, a in rows])
    ratio = np.array([a.noise.method_grid for _, _, a in rows])
    ok = np.isfinite(method) & np.isfinite(ratio)
    w = _logistic(np.c_[np.log(np.maximum(method[ok], 1e-2)), ratio[ok]], y[ok])
    print(f"{args.split}: {int(y.sum())} noisy, {int(len(y) - y.sum())} clean (PolyU means + JPEG-lattice photos)")
    print(f"logistic boundary: log(method) = {-w[2] / w[0]:.3f} - {w[1] / w[0]:.3f} * ratio "
          f"(method level {np.exp(-(w[2] + 1.6 * w[1]) / w[0]):.2f}/255 at ratio 1.6)")
    for label, flag in (("shipped rule (jpeg_grain)", [a.jpeg_grain for _, _, a in rows]),
                        (f"method >= {NOISY_METHOD255}", [a.noise.method255 >= NOISY_METHOD255 for _, _, a in rows])):
        flag = np.array(flag)
        print(f"{label:28s} noisy found {int(flag[y == 1].sum())}/{int(y.sum())}, "
              f"clean flagged {int(flag[y == 0].sum())}/{int(len(y) - y.sum())}: "
              + ", ".join(n for (n, lab, _), f in zip(rows, flag) if f and not lab))
    return 0


if __name__ == "__main__":
    sys.exit(main())
