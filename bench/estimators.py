"""Accuracy of the photo-analysis estimators on degradations of known level.

    python bench/estimators.py [--images N] [--out DIR]

Images: the clean photos held out from the NIQE fit (``niqe_params.npz`` ``holdout``; the blur
calibration constant was set on the *fitted* ones), so nothing here was tuned on these images.
Every degradation comes from :mod:`app.core.metrics.synthetic` and is quantised to 8 bits.

What "truth" means per row:
* noise: the added sigma. Clean photos carry their own noise/texture floor (the sigma=0 row shows
  it), so small sigmas read high by about that floor.
* Gaussian blur: sqrt(s^2 + b0^2), b0 = the estimate on the untouched photo (photos are not
  perfectly sharp, and blur composes in quadrature).
* motion: the kernel length (the estimator reports a Gaussian-equivalent length from the
  difference between the most and least blurred edge directions).
* exposure: the change in ``ev_to_mid`` between the photo and its darkened copy vs log2(1/k).
* JPEG: no numeric truth; the blockiness ratio and the detection rate (``Analysis.is_blocky``: the
  quantisation lattice's quality < 50).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.metrics import synthetic as syn  # noqa: E402
from app.core.metrics.analysis import BLOCKY_NO_LATTICE_RATIO, BLOCKY_QUALITY, analyze_array  # noqa: E402
from app.core.metrics.niqe import PARAMS_PATH  # noqa: E402
from app.train.fit_niqe import datasets_root, is_blocky, load_srgb  # noqa: E402


def holdout_images(n: int, max_side: int = 640) -> list[tuple[str, np.ndarray]]:
    """The first ``n`` NIQE hold-out photos without JPEG history, centre-cropped to ``max_side``.

    Photos with visible blocking (most of sunhays80 was JPEG once) are skipped like in the NIQE fit:
    the JPEG rows need a blocking-free starting point.
    """
    with np.load(PARAMS_PATH) as z:
        names = [str(s) for s in z["holdout"]]
    out = []
    for rel in names:
        img = load_srgb(datasets_root() / rel)
        if img.shape[2] != 3 or min(img.shape[:2]) < 192 or np.ptp(img, axis=2).max() == 0 or is_blocky(img):
            continue  # grey package samples: skip, colour noise estimation needs colour
        h, w = img.shape[:2]
        y0, x0 = max(0, (h - max_side) // 2), max(0, (w - max_side) // 2)
        out.append((rel, img[y0:y0 + max_side, x0:x0 + max_side]))
        if len(out) >= n:
            break
    return out


def _row(name: str, level: str, truth: float, ests: list[float], unit: str = "") -> dict:
    e = np.asarray(ests, np.float64)
    missing = int(np.sum(~np.isfinite(e)))
    e = e[np.isfinite(e)]
    err = e - truth
    return {"estimator": name, "level": level, "truth": truth, "median": float(np.median(e)),
            "bias": float(np.median(err)), "mae": float(np.mean(np.abs(err))),
            "p90": float(np.quantile(np.abs(err), 0.9)), "unit": unit, "missing": missing}


def run(images: list[np.ndarray], seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    base = [analyze_array(im) for im in images]
    rows = [_row("noise sigma", "clean", 0.0, [a.noise.sigma255 for a in base], "/255")]
    for s in (2, 5, 10, 15, 25, 40):
        ests = [analyze_array(syn.add_gaussian_noise(im, s / 255, rng)).noise.sigma255 for im in images]
        rows.append(_row("noise sigma", f"AWGN {s}", float(s), ests, "/255"))
    b0 = np.array([a.blur.sigma for a in base])
    rows.append(_row("blur sigma", "clean", 0.0, list(b0), "px"))
    for s in (1.0, 1.5, 2.0, 3.0, 4.0, 6.0):
        ests = np.array([analyze_array(syn.gaussian_blur(im, s)).blur.sigma for im in images])
        rows.append(_row("blur sigma", f"gauss {s:g}", s, list(np.sqrt(np.maximum(ests**2 - b0**2, 0))),
                         "px"))
    for s, n in ((2.0, 5), (2.0, 10)):
        ests = [analyze_array(syn.add_gaussian_noise(syn.gaussian_blur(im, s), n / 255, rng)).blur.sigma
                for im in images]
        rows.append(_row("blur sigma", f"gauss {s:g} + AWGN {n}", s,
                         list(np.sqrt(np.maximum(np.array(ests) ** 2 - b0**2, 0))), "px"))
    rows.append(_row("motion flagged", "clean", 0.0, [float(a.is_motion_blurred) for a in base]))
    rows.append(_row("motion flagged", "gauss 3", 0.0,
                     [float(analyze_array(syn.gaussian_blur(im, 3.0)).is_motion_blurred) for im in images]))
    for length in (7, 11, 17, 25):
        ests, angs, flags = [], [], []
        for k, im in enumerate(images):
            angle = 45.0 * (k % 4)
            a = analyze_array(syn.motion_blur(im, length, angle))
            ests.append(a.blur.motion_length)
            angs.append(min(abs(a.blur.motion_angle - angle), 180 - abs(a.blur.motion_angle - angle)))
            flags.append(float(a.is_motion_blurred))
        rows.append(_row("motion length", f"line {length}, angles 0/45/90/135", float(length), ests, "px"))
        rows.append(_row("motion angle error", f"line {length}", 0.0, angs, "deg"))
        rows.append(_row("motion flagged", f"line {length}", 1.0, flags))
    ev0 = np.array([a.exposure.ev_to_mid for a in base])
    for k in (2, 4, 8, 16, 32):
        ev = np.array([analyze_array(syn.underexpose(im, 1 / k)).exposure.ev_to_mid for im in images])
        rows.append(_row("exposure EV", f"x1/{k}", float(np.log2(k)), list(ev - ev0), "EV"))
    rows += raw_noise_rows(images[:4], seed)
    rows.append(_row("JPEG blockiness", "clean", 1.0, [a.jpeg.blockiness for a in base]))
    rows[-1]["detect"] = float(np.mean([a.is_blocky for a in base]))
    for q in (90, 70, 50, 30, 10):
        an = [analyze_array(syn.jpeg(im, q)) for im in images]
        rows.append(_row("JPEG blockiness", f"q{q}", 1.0, [a.jpeg.blockiness for a in an]))
        rows[-1]["detect"] = float(np.mean([a.is_blocky for a in an]))
    return rows


def raw_noise_rows(images: list[np.ndarray], seed: int) -> list[dict]:
    """Realistic camera noise (app.train.degrade.RawNoise): demosaicing correlates it spatially."""
    try:
        from app.train.degrade import RawNoise
    except ImportError:
        return []
    fine, coarse, truth = [], [], []
    for k, im in enumerate(images):
        h, w = (im.shape[0] // 2) * 2, (im.shape[1] // 2) * 2
        noisy, target, _ = RawNoise()(im[:h, :w], np.random.default_rng(seed + k))
        a = analyze_array(noisy)
        truth.append(float(np.sqrt(np.mean((noisy - target) ** 2))) * 255)
        fine.append(a.noise.sigma255)
        coarse.append(float(np.mean(a.noise.coarse)) * 255)
    t = float(np.median(truth))
    return [_row("noise sigma", f"RawNoise (true RMS median {t:.1f})", t, fine, "/255"),
            _row("noise coarse", f"RawNoise (true RMS median {t:.1f})", t, coarse, "/255")]


def markdown(rows: list[dict], n_images: int) -> str:
    lines = [f"Estimator accuracy on {n_images} held-out clean photos (synthetic degradations, 8-bit)", "",
             "| estimator | degradation | truth | median estimate | bias | mean abs err | p90 abs err |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        u = r["unit"]
        if r["estimator"] == "motion flagged":
            lines.append(f"| {r['estimator']} | {r['level']} | {'yes' if r['truth'] else 'no'} | - | - | - | "
                         f"wrong on {r['mae']:.0%} of photos |")
            continue
        if r["estimator"] == "JPEG blockiness":
            lines.append(f"| {r['estimator']} | {r['level']} | - | {r['median']:.2f} | - | - | "
                         f"flagged {r['detect']:.0%} (lattice quality < {BLOCKY_QUALITY:.0f}, "
                         f"or ratio >= {BLOCKY_NO_LATTICE_RATIO} without a lattice) |")
            continue
        miss = f" ({r['missing']} n/a)" if r["missing"] else ""
        lines.append(f"| {r['estimator']} | {r['level']} | {r['truth']:.3g} {u} | {r['median']:.2f}{miss} | "
                     f"{r['bias']:+.2f} | {r['mae']:.2f} | {r['p90']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="estimator error table")
    ap.add_argument("--images", type=int, default=12, help="held-out photos to use")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    imgs = holdout_images(args.images)
    text = markdown(run([im for _, im in imgs]), len(imgs))
    text += f"\n\nImages: {', '.join(n for n, _ in imgs)}. Run time {time.monotonic() - t0:.0f} s."
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "estimators.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
