"""Shake and defocus reduction (app/core/deconv/) on synthetic pairs made from validation photos.

Usage: python bench/deblur_classic.py [--limit 12] [--sets shake-val,shake-big,defocus,defocus-depth,sharp]
       [--speed] [--threads 1]

Sets (all from the validation split's clean photos, 512-px centre crops, never tuned on):
  shake-val      bench/quality.py's deblur-shake pairs (4-32 px trajectories, mild noise, 8-bit)
  shake-big      trajectories of 9-45 px in linear light, noise sigma 2/255, JPEG q90
  defocus        disk or lens-like ring PSF, radius 2-10 px, linear light, sigma 1/255, 8-bit
  defocus-depth  radius ramps across the frame (0 at one side to 3-10 px at the other)
  sharp          the clean photos themselves through shake and defocus: PSNR vs the input (no harm)
For each pair: PSNR/SSIM gain over the blurry input of the op at default settings (blind); for shake the
kernel error (1 - peak normalised cross-correlation with the true kernel, 0 = same shape); how often the
op declined (left the photo alone). ``--speed`` times one 12-MP photo per op on the CPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from deblur_oracle import point_spread  # noqa: E402
from quality_data import _clean_val, _seed, centre_crop, read_srgb, validation_pairs  # noqa: E402

from app.core.context import RunContext  # noqa: E402
from app.core.deconv.defocus import psf  # noqa: E402
from app.core.deconv.shake import kernel_agreement  # noqa: E402
from app.core.image import Image  # noqa: E402
from app.core.isp.tone import linear_to_srgb_np, srgb_to_linear_np  # noqa: E402
from app.core.metrics.psnr import finite_psnr, psnr  # noqa: E402
from app.core.metrics.ssim import ssim  # noqa: E402
from app.core.ops import get_op, make_params  # noqa: E402

SETS = ("shake-val", "shake-big", "defocus", "defocus-depth", "sharp")
TARGETS = {"shake-val": 2.5, "shake-big": 1.5, "defocus": 2.5, "defocus-depth": 1.5}


def run_op(op_id: str, x: np.ndarray, **params) -> tuple[np.ndarray, dict]:
    op = get_op(op_id)
    out = op.run(Image(x), make_params(op.Params, params), RunContext(device="cpu"))
    return out.data, out.meta.extra.get(op_id, {})


def to8(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, 0, 1) * 255).astype(np.float32) / 255


def jpeg(x: np.ndarray, q: int) -> np.ndarray:
    u8 = (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255


def blur_linear(clean: np.ndarray, k: np.ndarray) -> np.ndarray:
    lin = srgb_to_linear_np(np.ascontiguousarray(clean, np.float32))
    return linear_to_srgb_np(cv2.filter2D(lin, -1, k[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT))


def shake_big(limit: int, seed: int = 7):
    from app.train.degrade import MotionBlur

    deg = MotionBlur(length_range=(9.0, 45.0))
    for name, path in _clean_val()[:limit]:
        clean = centre_crop(read_srgb(path))
        rng = _seed(name, seed)
        blurred, _, info = deg(clean, rng)
        noisy = blurred + rng.normal(0, 2 / 255, blurred.shape).astype(np.float32)
        yield name, jpeg(noisy, 90), clean, point_spread(info["kernel"])


def defocus_pairs(limit: int, depth: bool, seed: int = 11):
    for i, (name, path) in enumerate(_clean_val()[:limit]):
        clean = centre_crop(read_srgb(path))
        rng = _seed(name, seed)
        shape = ("disk", "ring")[i % 2]
        r = float(rng.uniform(2.0, 10.0)) if not depth else float(rng.uniform(3.0, 10.0))
        lin = srgb_to_linear_np(np.ascontiguousarray(clean))
        if not depth:
            b = cv2.filter2D(lin, -1, psf(shape, r), borderType=cv2.BORDER_REFLECT)
        else:
            # radius ramps from 0 (left, in focus) to r (right): layered blur, per-column weights
            ramp = np.linspace(0.0, r, clean.shape[1])[None, :, None]
            levels = np.linspace(0.0, r, 8)
            layers = [lin if lv < 0.5 else cv2.filter2D(lin, -1, psf(shape, lv), borderType=cv2.BORDER_REFLECT)
                      for lv in levels]
            step = levels[1] - levels[0]
            b = sum(np.clip(1 - np.abs(ramp - lv) / step, 0, 1) * layer for lv, layer in zip(levels, layers,
                                                                                                strict=True))
        noisy = linear_to_srgb_np(b.astype(np.float32)) + rng.normal(0, 1 / 255, b.shape).astype(np.float32)
        yield name, to8(noisy), clean, (shape, r)


def kernel_error(true_psf: np.ndarray, info: dict) -> float | str:
    """1 - peak normalised cross-correlation (shape only, any shift); "" where no kernel was estimated
    (the op declined before searching: edges already sharp)."""
    k = np.array(info["kernel"], np.float32)
    return float(1 - kernel_agreement(true_psf, k)) if k.shape[0] > 1 else "no kernel searched"


def score(rows: list, name: str, x, ref, out, info, extra=""):
    base = finite_psnr(psnr(x, ref))
    g = finite_psnr(psnr(out, ref)) - base
    gs = ssim(out, ref) - ssim(x, ref)
    rows.append({"gain": g, "ssim": gs, "applied": bool(info.get("applied")), **({"kerr": extra} if
                                                                                  isinstance(extra, float) else {})})
    ke = f" kernel err {extra:.2f}" if isinstance(extra, float) else f" {extra}"
    print(f"  {name:<42} in {base:5.2f} dB  gain {g:+6.2f} dB  SSIM {gs:+.3f}  applied {info.get('applied')}"
          f"{ke}  {info.get('reason', '')}", flush=True)


def summary(label: str, rows: list) -> None:
    if not rows:
        return
    g = np.mean([r["gain"] for r in rows])
    ke = [r["kerr"] for r in rows if "kerr" in r]
    tgt = TARGETS.get(label)
    verdict = "" if tgt is None else (" MET" if g >= tgt else f" NOT MET (target >= +{tgt} dB)")
    kt = f", kernel err {np.mean(ke):.2f}" if ke else ""
    print(f"{label:<14} {len(rows):3d} pairs  PSNR gain {g:+.2f} dB  SSIM {np.mean([r['ssim'] for r in rows]):+.3f}"
          f"  applied {sum(r['applied'] for r in rows)}/{len(rows)}{kt}{verdict}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    cv2.setNumThreads(a.threads)
    results: dict[str, list] = {}
    sets = a.sets.split(",")
    if "shake-val" in sets:
        print("shake-val (bench/quality.py deblur-shake pairs)")
        rows = results["shake-val"] = []
        for p in validation_pairs("deblur-shake", a.limit, 0):
            out, info = run_op("shake", p.degraded)
            score(rows, p.name, p.degraded, p.reference, out, info, kernel_error(point_spread(p.extra["kernel"]), info))
    if "shake-big" in sets:
        print("shake-big (9-45 px, sigma 2/255, JPEG q90)")
        rows = results["shake-big"] = []
        for name, x, ref, k in shake_big(a.limit):
            out, info = run_op("shake", x)
            score(rows, name, x, ref, out, info, kernel_error(k, info))
    for label, depth in (("defocus", False), ("defocus-depth", True)):
        if label in sets:
            print(f"{label} (disk/ring radius 2-10 px{', ramped across the frame' if depth else ''})")
            rows = results[label] = []
            for name, x, ref, (shape, r) in defocus_pairs(a.limit, depth):
                out, info = run_op("defocus", x, varying=depth)
                score(rows, name, x, ref, out, info, f"{shape} r={r:.1f} est {info.get('radius')}")
    if "sharp" in sets:
        print("sharp (clean validation photos; PSNR of the output vs the input, target >= 35 dB)")
        for op_id in ("shake", "defocus"):
            vals = []
            for name, path in _clean_val()[:a.limit]:
                x = centre_crop(read_srgb(path))
                out, info = run_op(op_id, x)
                vals.append(finite_psnr(psnr(out, x)))
                print(f"  {op_id:<8} {name:<42} {vals[-1]:6.2f} dB  applied {info.get('applied')}", flush=True)
            results[f"sharp-{op_id}"] = vals
    print("\nsummary (defaults, blind)")
    for label in ("shake-val", "shake-big", "defocus", "defocus-depth"):
        summary(label, results.get(label, []))
    for op_id in ("shake", "defocus"):
        vals = results.get(f"sharp-{op_id}")
        if vals:
            worst = min(vals)
            print(f"sharp/{op_id:<8} {len(vals):3d} photos  mean {np.mean(np.minimum(vals, 99)):.2f} dB, "
                  f"worst {worst:.2f} dB"
                  f" vs input{' MET' if worst >= 35 else ' NOT MET (target >= 35 dB)'}")
    if a.speed:
        rng = np.random.default_rng(0)
        base = centre_crop(read_srgb(_clean_val()[0][1]))
        big = cv2.resize(base, (4000, 3000), interpolation=cv2.INTER_CUBIC)
        big = blur_linear(big, psf("disk", 3.0)) + rng.normal(0, 1 / 255, big.shape).astype(np.float32)
        for op_id, params in (("shake", {"force": True}), ("defocus", {"radius": 3.0})):
            t = time.perf_counter()
            run_op(op_id, to8(big), **params)
            dt = time.perf_counter() - t
            print(f"speed {op_id:<8} 12.0 MP: {dt:.1f} s ({dt / 12:.2f} s/MP; target <= 30 s;"
                  f" {a.threads} OpenCV thread(s), shared machine)")


if __name__ == "__main__":
    main()
