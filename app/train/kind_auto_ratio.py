"""Fit and check the low-light op's automatic ratio rule on SICE (``python -m app.train.kind_auto_ratio``).

The rule (``app.core.ops.lowlight_stages.auto_ratio``): ``alpha = (K / gmean(L)) ** p``, clamped to the
slider's range, where ``gmean(L)`` is the geometric mean of the decomposed illumination of the photo.
It is the least-squares fit, in log space, of KinD's ``alpha = mean(L_ref / L_dark)`` (as the adjustment
net was trained, :func:`app.train.tasks.kind_adjust.alpha_of`) over the *training* scenes' pairs (every
frame at least 2x darker than the luma-115 reference). The validation scenes (the quality benchmark's
pairs: darkest frame vs luma-115 frame) then report how far the rule lands from the reference:

- ratio error: ``|log2(alpha_auto / alpha_ref)|`` in stops, next to the Auto recipe's key rule
  (``2 ** ev_to_mid``, ``app.core.metrics.recipe_auto``) for comparison;
- exposure error (when all three nets are trained): the op's output mean luma vs the reference's, in stops.

The op's rule then bends the fit with a knee (``lowlight_stages.AUTO_KNEE``: a photo within a stop of the
key keeps ratio 1, from two stops under it gets the fit): the last lines check it on normal photos, the
clean validation photos and the wallpapers (centre 512 px), where the ratio should be 1.

Needs the exported ``kind_decomposition`` weights. ``--write`` stores the fitted constants in
``lowlight_stages.py``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import cv2
import numpy as np
import torch

from app.core.ops import lowlight_stages as st
from app.train.splits import load_splits
from app.train.tasks.kind_adjust import alpha_of


def _read(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def _luma(x: np.ndarray) -> float:
    return float((x @ np.array([0.299, 0.587, 0.114], np.float32)).mean())


class Illumination:
    def __init__(self) -> None:
        from app.core.models.registry import load_model

        self.net = load_model(st.DECOMPOSITION_ID, "cpu", backend="torch").module

    @torch.inference_mode()
    def __call__(self, img: np.ndarray) -> torch.Tensor:
        return self.net(torch.from_numpy(img.transpose(2, 0, 1).copy())[None])[:, 3:]


def _gmean(light: torch.Tensor) -> float:
    return float(torch.exp(torch.log(light.clamp(min=1e-3)).mean()))


def train_pairs(items):
    """(dark, ref) frame indices as the training sampler pairs them (ExposurePairs defaults)."""
    for it in items:
        refs = [i for i, v in enumerate(it.lumas) if 90 <= v <= 140]
        if not refs:
            continue
        ref = min(refs, key=lambda i: abs(it.lumas[i] - 115))
        for d in (i for i, v in enumerate(it.lumas) if 2 * v <= it.lumas[ref]):
            yield it, d, ref


def val_pairs(items):
    """The quality benchmark's lowlight pairs (bench/quality_data.py): darkest frame < 50 vs luma ~115."""
    for it in sorted(items, key=lambda it: it.key):
        mid = [i for i, v in enumerate(it.lumas) if 90 <= v <= 140]
        if len(it.lumas) >= 2 and it.lumas[0] < 50 and mid:
            yield it, 0, min(mid, key=lambda i: abs(it.lumas[i] - 115))


def measure(illum: Illumination, pairs) -> list[dict]:
    rows, refs = [], {}
    for it, d, r in pairs:
        dark = _read(it.paths[d])
        if (it.key, r) not in refs:
            refs[(it.key, r)] = _read(it.paths[r])
        ref = refs[(it.key, r)]
        if dark.shape != ref.shape:
            continue
        l_dark, l_ref = illum(dark), illum(ref)
        rows.append({"key": it.key, "dark": dark, "ref": ref, "g": _gmean(l_dark),
                     "alpha": float(alpha_of(l_dark, l_ref)[0])})
    return rows


def fit(rows: list[dict]) -> tuple[float, float]:
    """``(K, p)`` of ``log alpha = p log K - p log g`` by least squares."""
    x = np.log([r["g"] for r in rows])
    y = np.log([r["alpha"] for r in rows])
    b, a = np.polyfit(x, y, 1)
    p = -b
    return float(np.exp(a / p)), float(p)


def _stops(a: np.ndarray) -> str:
    a = np.abs(a)
    return (f"median {np.median(a):.2f}, mean {a.mean():.2f}, within 0.5 stop {np.mean(a <= 0.5) * 100:.0f} %, "
            f"within 1 stop {np.mean(a <= 1.0) * 100:.0f} %")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="store the fitted K and p in lowlight_stages.py")
    ap.add_argument("--check", action="store_true",
                    help="no fit (it takes ~10 min on one thread): score the constants in lowlight_stages.py")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    splits = load_splits()
    illum = Illumination()
    k, p = st.AUTO_KEY, st.AUTO_POWER
    if not args.check:
        train = measure(illum, train_pairs(splits.items("sice", "train")))
        k, p = fit(train)
        print(f"fit on {len(train)} training pairs: K = {k:.4f}, p = {p:.4f}")
        st.AUTO_KEY, st.AUTO_POWER = k, p
    else:
        print(f"checking K = {k:.4f}, p = {p:.4f} from lowlight_stages.py")
    val = measure(illum, val_pairs(splits.items("sice", "val")))
    auto = np.array([st.auto_ratio(r["g"]) for r in val])
    ref = np.array([r["alpha"] for r in val])
    fitted = np.array([min(st.fitted_ratio(r["g"]), st.RATIO_RANGE[1]) for r in val])
    print(f"validation ({len(val)} scenes), |log2(alpha_auto / alpha_ref)| in stops: {_stops(np.log2(auto / ref))}")
    print(f"  the fit without the knee: {_stops(np.log2(fitted / ref))}")
    from app.core.metrics.analysis import analyze_array
    from app.core.metrics.recipe_auto import MAX_LOWLIGHT_RATIO

    key = np.array([min(2.0 ** analyze_array(r["dark"]).exposure.ev_to_mid, MAX_LOWLIGHT_RATIO) for r in val])
    print(f"  Auto recipe's key rule (2 ** ev_to_mid) for comparison: {_stops(np.log2(key / ref))}")
    from app.core.context import RunContext
    from app.core.ops.registry import get_op

    op = get_op("lowlight")
    ok, why = op.availability()
    if ok:
        params = op.Params(auto_ratio=True)
        errs = [np.log2(_luma(op.run(_img(r["dark"]), params, RunContext(device="cpu")).data) / _luma(r["ref"]))
                for r in val]
        print(f"  op output mean luma vs reference (auto ratio), stops: {_stops(np.array(errs))}; "
              f"signed mean {np.mean(errs):+.2f}")
    else:
        print(f"  (op output exposure not measured: {why})")
    normal = _normal_photos()
    ratios = np.array([st.auto_ratio(_gmean(illum(x))) for _, x in normal])
    print(f"normal photos ({len(normal)}): ratio 1 on {np.mean(ratios == 1.0) * 100:.0f} %, "
          f"above 1: " + (", ".join(f"{n} x{r:.2f}" for (n, _), r in zip(normal, ratios) if r > 1) or "none"))
    if args.write and not args.check:
        path = Path(st.__file__)
        text = path.read_text()
        text = re.sub(r"^AUTO_KEY = .*$", f"AUTO_KEY = {k:.4f}", text, flags=re.M)
        text = re.sub(r"^AUTO_POWER = .*$", f"AUTO_POWER = {p:.4f}", text, flags=re.M)
        path.write_text(text)
        print(f"wrote K, p to {path}")
    return 0


def _normal_photos() -> list[tuple[str, np.ndarray]]:
    """Clean validation photos (no wallpapers) and all wallpaper photos, centre 512 px."""
    from app.train.sources import SOURCES, wallpaper_root

    sp = load_splits()
    paths = [(f"{n}/{it.key}", it.paths[0]) for n, src in SOURCES.items()
             if src.kind == "clean" and n != "wallpapers" and n in sp.data["sources"] for it in sp.items(n, "val")]
    paths += [(f"wallpapers/{p.parent.name}/{p.stem}", p) for p in sorted(wallpaper_root().glob("*/*.jpg"))]
    out = []
    for name, path in paths:
        x = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if x is None:  # e.g. a WebP this OpenCV cannot read
            from PIL import Image as PILImage

            with PILImage.open(path) as im:
                x = np.asarray(im.convert("RGB"))[..., ::-1]
        h, w = x.shape[:2]
        y0, x0 = max(0, (h - 512) // 2), max(0, (w - 512) // 2)
        crop = cv2.cvtColor(x[y0:y0 + 512, x0:x0 + 512], cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        out.append((name, np.ascontiguousarray(crop)))
    return out


def _img(x: np.ndarray):
    from app.core.image import Image

    return Image(x)


if __name__ == "__main__":
    raise SystemExit(main())
