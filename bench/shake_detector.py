"""Which readings tell a wrong shake kernel from a right one? Detector ROC on TRAINING photos.

Usage: python bench/shake_detector.py collect [--limit 40] [--sharp 12] [--size 45] [--iters 10] [--out F]
       python bench/shake_detector.py report [--out F[,F2]]
       python bench/shake_detector.py op [--limit 40] [--sharp 12]

``collect``: the shaken training pairs of bench/shake_ablation.py (half mild 4-32 px, half big 9-45 px with
noise and JPEG) plus ``--sharp`` unblurred training photos. For each photo the kernel is estimated blind
(no gate) and every candidate failure reading is recorded with the outcome: kernel error (1 - peak NCC
with the true kernel) and the PSNR gain of deconvolving with the estimate. Results go to a JSON file
(~/.cache/photorestore/shake_detector.json by default).

``report``: per reading, the ROC AUC for "failure" (kernel error >= 0.3, sharp photos counted as
failures: any change there is harm) and for "harm" (gain < 0), and what the op's detector would decide.
``op``: the shake op itself at its defaults (pre-search gate + detector) on the same photos.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from quality_data import centre_crop, read_srgb  # noqa: E402
from shake_ablation import pairs, photos  # noqa: E402

from app.core.color import srgb_to_linear  # noqa: E402
from app.core.deconv.kernel import estimate_kernel  # noqa: E402
from app.core.deconv.nonblind import deconvolve_srgb, noise_sigma, noise_to_lambda  # noqa: E402
from app.core.deconv.shake import (  # noqa: E402
    DETECT_SMOOTHING,
    MAX_BORDER,
    MAX_SPARSITY,
    MIN_SPREAD,
    blur_reading,
    judge,
    kernel_agreement,
    luminance,
)
from app.core.deconv.trust import kernel_readings  # noqa: E402
from app.core.metrics.psnr import finite_psnr, psnr  # noqa: E402
from app.core.ops.shake import ShakeParams  # noqa: E402

DEFAULT_OUT = Path.home() / ".cache" / "photorestore" / "shake_detector.json"


def sharp_photos(n: int):
    # the last n of a different draw than the shaken pairs use, so the photos differ
    chosen = photos("train", 193)[-n:] if n else []
    for name, path in chosen:
        x = centre_crop(read_srgb(path))
        yield "sharp/" + name, x, x, None


def collect(a) -> None:
    rows = []
    src = list(pairs("train", a.limit)) + list(sharp_photos(a.sharp))
    for name, x, ref, k in src:
        t = time.perf_counter()
        sigma = noise_sigma(x)
        lam = noise_to_lambda(sigma) / DETECT_SMOOTHING
        gray = luminance(x)
        width, streak, auto = blur_reading(gray, sigma)
        lin = srgb_to_linear(np.clip(gray, 0, 1).astype(np.float32))
        est = estimate_kernel(lin, a.size, iters=a.iters)
        est2 = estimate_kernel(lin, a.size2, iters=a.iters, region=est.region)
        out = deconvolve_srgb(x, est.kernel, lam)
        base = finite_psnr(psnr(x, ref))
        gain = finite_psnr(psnr(out, ref)) - base if k is not None else finite_psnr(psnr(out, x)) - 100
        op = deconvolve_srgb(x, est.kernel, noise_to_lambda(sigma) / ShakeParams.smoothing)
        gain_op = finite_psnr(psnr(op, ref)) - base if k is not None else finite_psnr(psnr(op, x)) - 100
        kerr = 1 - kernel_agreement(k, est.kernel) if k is not None else 1.0
        feats = {"edge": width, "streak": streak, "auto_size": auto, "confidence": est.confidence,
                 "agree_size": kernel_agreement(est.kernel, est2.kernel), **judge(x, est, lam, sigma)[1]}
        rows.append({"name": name, "kerr": float(kerr), "gain": float(gain), "gain_op": float(gain_op),
                     "sharp": k is None,
                     "true_size": 0 if k is None else int(k.shape[0]), **{f: float(v) for f, v in feats.items()},
                     "kernel": np.round(est.kernel, 5).tolist()})
        print(f"  {name[:38]:<38} kerr {kerr:.2f} gain {gain:+6.2f}  " +
              " ".join(f"{f} {v:.3g}" for f, v in feats.items()) + f"  {time.perf_counter() - t:.0f} s", flush=True)
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(rows))


def through_op(a) -> None:
    """The shake op at its defaults (gate + detector) on the same training pairs and sharp photos."""
    from deblur_classic import run_op

    gains, sharp = [], []
    for name, x, ref, k in list(pairs("train", a.limit)) + list(sharp_photos(a.sharp)):
        out, info = run_op("shake", x)
        if k is None:
            sharp.append(finite_psnr(psnr(out, x)))
            print(f"  {name[:40]:<40} {sharp[-1]:6.2f} dB vs input  applied {info['applied']}", flush=True)
            continue
        gains.append(finite_psnr(psnr(out, ref)) - finite_psnr(psnr(x, ref)))
        print(f"  {name[:40]:<40} gain {gains[-1]:+6.2f} dB  applied {info['applied']}  {info['reason']}", flush=True)
    g = np.array(gains)
    print(f"op at defaults, {len(g)} shaken training pairs: {g.mean():+.2f} dB (worst {g.min():+.2f}), applied "
          f"{int((g != 0).sum())}, harmed {int((g < 0).sum())}" +
          (f"; {len(sharp)} sharp photos: worst {min(sharp):.2f} dB vs input" if sharp else ""))


def auc(score: np.ndarray, bad: np.ndarray) -> float:
    """P(score of a failure > score of a success), ties half (Mann-Whitney)."""
    b, g = score[bad], score[~bad]
    if not len(b) or not len(g):
        return float("nan")
    return float((b[:, None] > g[None, :]).mean() + 0.5 * (b[:, None] == g[None, :]).mean())


def report(a) -> None:
    rows = [r for f in a.out.split(",") for r in json.loads(Path(f).expanduser().read_text())]
    for r in rows:  # kernel readings from the stored kernel: files written by older code agree with today's
        r.update(kernel_readings(np.array(r["kernel"], np.float32)))
    feats = [f for f in rows[0] if f not in ("name", "kerr", "gain", "gain_op", "sharp", "true_size", "kernel")]
    sharp = np.array([r["sharp"] for r in rows])
    sh = [r for r in rows if not r["sharp"]]
    kerr = np.array([r["kerr"] for r in sh])
    gain = np.array([r["gain"] for r in sh])
    print(f"{len(sh)} shaken pairs: {(kerr >= 0.3).sum()} with kernel err >= 0.3, {(gain < 0).sum()} harmed, mean "
          f"gain if all applied {gain.mean():+.2f} dB; {sharp.sum()} sharp photos")
    print(f"{'reading':<12} {'AUC err>=0.3':>12} {'AUC harm':>9} {'AUC sharp':>9}   sharp range     shaken median")
    for f in feats:
        s = np.array([r[f] for r in sh], float)
        al = np.array([r[f] for r in rows], float)
        print(f"{f:<12} {auc(s, kerr >= 0.3):12.3f} {auc(s, gain < 0):9.3f} {auc(al, sharp):9.3f}   "
              f"{al[sharp].min():.3g}-{al[sharp].max():.3g}   {np.median(s):.3g}")
    ok = [r for r in rows if not judge_row(r)]
    g = np.array([r["gain"] if not judge_row(r) else 0.0 for r in sh])
    print(f"detector (spread >= {MIN_SPREAD}, border <= {MAX_BORDER}, sparsity <= {MAX_SPARSITY}), trial at "
          f"smoothing {DETECT_SMOOTHING}: shaken {g.mean():+.2f} dB (worst {g.min():+.2f}), applied "
          f"{sum(1 for r in ok if not r['sharp'])}/{len(sh)}, harmed {(g < 0).sum()}; sharp accepted "
          f"{sum(1 for r in ok if r['sharp'])}/{sharp.sum()}")


def judge_row(r: dict) -> str:
    """The op's verdict on a recorded row ('' = trusted), as :func:`app.core.deconv.shake.judge` decides."""
    if r["spread"] < MIN_SPREAD:
        return "point"
    if r["border"] > MAX_BORDER:
        return "border"
    return "sparsity" if r["sparsity"] > MAX_SPARSITY else ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("collect", "report", "op"))
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--sharp", type=int, default=12)
    ap.add_argument("--size", type=int, default=45)
    ap.add_argument("--size2", type=int, default=31)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    a = ap.parse_args()
    cv2.setNumThreads(1)
    {"collect": collect, "report": report, "op": through_op}[a.mode](a)


if __name__ == "__main__":
    main()
