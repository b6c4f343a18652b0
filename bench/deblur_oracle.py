"""How much deblurring the synthetic camera-shake pairs allow: non-blind Wiener with the TRUE blur kernel.

Usage: python bench/deblur_oracle.py [--limit 24] [--threads 2] [--ensemble]

For ``bench/quality.py``'s ``deblur-shake`` pairs (validation photos, a random 4-32 px trajectory applied in
linear light, mild noise, 8-bit), in the same run: the blurry input, the shipped ``deblurgan_fast`` (blind,
the app's generator), and Wiener deconvolution in linear light given the kernel that made the blur. The
Wiener noise-to-signal ratio is either one value for the whole set (the best of the grid) or chosen per
image with the reference (an upper bound no real method has). Neither is an app method: they say whether
a gain target is within what the data allow, and how far the blind generator is from a method that knows
the blur. ``--ensemble`` adds the generator averaged over the 8 flips and quarter turns of its input (8x
the time; not an app option).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from quality_data import validation_pairs  # noqa: E402

from app.core.isp.tone import linear_to_srgb_np, srgb_to_linear_np  # noqa: E402
from app.core.metrics.psnr import finite_psnr, psnr  # noqa: E402

NSR_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def point_spread(kernel: np.ndarray) -> np.ndarray:
    """The blur's impulse response, centred, made by the same ``cv2.filter2D`` call as
    ``app.train.degrade.MotionBlur`` (so an even-sized kernel's anchor is reproduced, not assumed)."""
    r = max(kernel.shape)
    delta = np.zeros((2 * r + 1, 2 * r + 1), np.float32)
    delta[r, r] = 1.0
    return cv2.filter2D(delta, -1, kernel[::-1, ::-1].copy(), borderType=cv2.BORDER_CONSTANT)


def wiener(img: np.ndarray, psf: np.ndarray, nsr: float) -> np.ndarray:
    """Wiener deconvolution of an ``(H, W, C)`` image by a centred PSF (reflect-padded against wrap-around)."""
    h, w = img.shape[:2]
    pad = psf.shape[0]
    padded = np.pad(img, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    otf_src = np.zeros(padded.shape[:2], np.float64)
    otf_src[: psf.shape[0], : psf.shape[1]] = psf
    otf = np.fft.fft2(np.roll(otf_src, (-(psf.shape[0] // 2), -(psf.shape[1] // 2)), axis=(0, 1)))
    gain = np.conj(otf) / (np.abs(otf) ** 2 + nsr)
    out = np.real(np.fft.ifft2(np.fft.fft2(padded, axes=(0, 1)) * gain[..., None], axes=(0, 1)))
    return out[pad : pad + h, pad : pad + w].astype(np.float32)


def wiener_srgb(noisy: np.ndarray, psf: np.ndarray, nsr: float) -> np.ndarray:
    lin = wiener(srgb_to_linear_np(noisy), psf, nsr)
    return linear_to_srgb_np(np.clip(lin, 0.0, 1.0))


def self_ensemble(net, x):
    """Mean of the generator's outputs over the 8 dihedral transforms of ``x`` (B, C, H, W), each undone."""
    import torch

    outs = []
    for k in range(8):
        t = torch.rot90(x, k % 4, (-2, -1))
        t = t.flip(-1) if k >= 4 else t
        y = net(t)
        y = y.flip(-1) if k >= 4 else y
        outs.append(torch.rot90(y, -(k % 4), (-2, -1)))
    return torch.stack(outs).mean(0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ensemble", action="store_true")
    a = ap.parse_args()
    import torch

    from app.core.models.registry import load_model

    torch.set_num_threads(a.threads)
    net = load_model("deblurgan_fast", "cpu").module.eval()
    rows = []
    for p in validation_pairs("deblur-shake", a.limit, 0):
        ref, x = p.reference, p.degraded
        base = finite_psnr(psnr(x, ref))
        t = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].float()
        with torch.no_grad():
            y = net(t)
            ens = self_ensemble(net, t)[0].permute(1, 2, 0).numpy() if a.ensemble else None
        blind = finite_psnr(psnr(y[0].permute(1, 2, 0).numpy(), ref)) - base
        ensembled = finite_psnr(psnr(ens, ref)) - base if ens is not None else float("nan")
        psf = point_spread(p.extra["kernel"])
        per_nsr = [finite_psnr(psnr(wiener_srgb(x, psf, n), ref)) - base for n in NSR_GRID]
        rows.append((p.extra["length"], base, blind, per_nsr, ensembled))
        print(f"{p.name:<40} {p.extra['length']:5.1f} px  input {base:5.2f} dB  deblurgan_fast {blind:+.2f}  "
              f"Wiener (true kernel, best NSR) {max(per_nsr):+.2f}", flush=True)
    grid = np.array([r[3] for r in rows])
    k = int(grid.mean(axis=0).argmax())
    print(f"\n{len(rows)} pairs; mean PSNR gain over the blurry input (dB):")
    print(f"  deblurgan_fast (blind)                          {np.mean([r[2] for r in rows]):+.2f}")
    if a.ensemble:
        print(f"  deblurgan_fast, 8-fold self-ensemble            {np.mean([r[4] for r in rows]):+.2f}")
    print(f"  Wiener, true kernel, one NSR for all ({NSR_GRID[k]:g})      {grid[:, k].mean():+.2f}")
    print(f"  Wiener, true kernel, NSR per image (oracle)     {grid.max(axis=1).mean():+.2f}")
    for lo, hi in ((4, 8), (8, 16), (16, 33)):
        sel = [i for i, r in enumerate(rows) if lo <= r[0] < hi]
        if sel:
            print(f"  {lo:>2}-{hi - 1} px ({len(sel):2d} pairs): blind {np.mean([rows[i][2] for i in sel]):+.2f}, "
                  f"Wiener one NSR {grid[sel, k].mean():+.2f}, per image {grid[sel].max(axis=1).mean():+.2f}")


if __name__ == "__main__":
    main()
