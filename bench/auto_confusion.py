"""Confusion table of the photo analysis on a labelled set (clean / noisy / dark / blurred / JPEG).

    python bench/auto_confusion.py [--split val] [--per-class 40] [--out docs/auto_confusion.md]

Each sample of ``bench/auto_labelled.py`` is analysed as Auto analyses a photo
(:func:`app.core.workflow.auto.plan_auto`) and gets the class of
:meth:`~app.core.metrics.analysis.Analysis.primary_class`. The thresholds were set on the ``train``
split; ``val`` is the report. Prints the confusion matrix, precision and recall per class.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auto_labelled import CLASSES, labelled_set  # noqa: E402

TARGET = 0.85


def run(split: str = "val", per_class: int = 40) -> dict:
    """``{"split", "per_class", "samples": [(name, label, predicted, findings)], "matrix", "pr"}``."""
    from app.core.workflow.auto import plan_auto as auto_plan

    samples = []
    for s in labelled_set(split, per_class):
        a = auto_plan(s.image).analysis
        samples.append((s.name, s.label, a.primary_class, "; ".join(a.findings())))
    matrix = Counter((lab, pred) for _, lab, pred, _ in samples)
    pr = {}
    for c in CLASSES:
        tp = matrix[(c, c)]
        n_true = sum(v for (lab, _), v in matrix.items() if lab == c)
        n_pred = sum(v for (_, pred), v in matrix.items() if pred == c)
        pr[c] = (tp / n_pred if n_pred else float("nan"), tp / n_true if n_true else float("nan"), n_true)
    return {"split": split, "per_class": per_class, "samples": samples,
            "matrix": {f"{a}>{b}": v for (a, b), v in matrix.items()}, "pr": pr}


def markdown(res: dict) -> str:
    m = {tuple(k.split(">")): v for k, v in res["matrix"].items()}
    lines = [f"Split `{res['split']}`, up to {res['per_class']} samples per class (rows: true class, "
             "columns: the analysis' primary finding).", "",
             "| true \\ found | " + " | ".join(CLASSES) + " | n | precision | recall |",
             "|---|" + "---|" * (len(CLASSES) + 3)]
    for c in CLASSES:
        p, r, n = res["pr"][c]
        lines.append(f"| {c} | " + " | ".join(str(m.get((c, d), 0)) for d in CLASSES)
                     + f" | {n} | {p:.2f} | {r:.2f} |")
    wrong = [s for s in res["samples"] if s[1] != s[2]]
    if wrong:
        lines += ["", "Misclassified: " + "; ".join(f"{n} ({lab} -> {pred})" for n, lab, pred, _ in wrong)]
    return "\n".join(lines)


def targets_met(res: dict) -> list[tuple[str, float, float, bool]]:
    """``(class, precision, recall, both >= TARGET)`` per class."""
    return [(c, p, r, p >= TARGET and r >= TARGET) for c, (p, r, _) in res["pr"].items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="val", choices=("train", "val"))
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown table here")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    res = run(args.split, args.per_class)
    text = markdown(res) + f"\n\n({len(res['samples'])} samples, {time.monotonic() - t0:.0f} s)\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
