"""Calibration of the "grain under a JPEG" rule on the train split (docs/auto.md, analysis.JPEG_METHOD255).

    python bench/auto_jpeg_grain.py [--split train]

Noisy: PolyU's noisy crops of the split (ISO 1600-12800 camera JPEGs, re-saved at q75). Clean: their own
500-shot mean references (same scenes, same q75 encoding) and the split's clean photos whose pixels carry
a JPEG quantisation lattice (mostly wallpapers), 512-px centre crops as in ``bench/auto_labelled.py``.
For each: the NLM method noise and its block-edge ratio (``NoiseInfo.method255`` / ``method_grid``). Prints
a logistic fit of (log method noise, ratio) -- the boundary the rule's constants round -- and how many noisy
and clean samples the shipped rule (``Analysis.jpeg_grain``) and the old method-noise threshold flag.
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

from app.core.metrics.analysis import NOISY_METHOD255, analyze_array  # noqa: E402


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="train", choices=("train", "val"))
    args = ap.parse_args(argv)
    rows = samples(args.split)
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
