"""Where the deblur error lies: squared error of input and output by spatial-frequency band.

Usage: python bench/deblur_bands.py [--limit 24] [--side 512] [--models-dir DIR ...]

For the validation pairs of ``bench/quality.py``'s deblur tasks (real GoPro frame averages and synthetic
camera shake), centre-cropped to ``--side``: the error power (sum over pairs and channels of the mean
squared error that falls in each radial band of cycles per pixel) of the blurry input and of each model's
output, and the fraction that is left. A band where the output keeps ~100 % of the input's error is one
the generator does not restore. Each ``--models-dir`` is a folder holding a ``deblurgan_fast`` export (its
manifest verified like the app's); without one, the repo's ``models/``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from quality_data import centre_crop, validation_pairs  # noqa: E402

BANDS = ((0.0, 1 / 32), (1 / 32, 1 / 16), (1 / 16, 1 / 8), (1 / 8, 1 / 4), (1 / 4, 1.0))
BAND_NAMES = ("<1/32", "1/32-1/16", "1/16-1/8", "1/8-1/4", ">1/4")


def band_power(err: np.ndarray) -> np.ndarray:
    """Mean squared error of an ``(H, W, C)`` difference split by radial frequency (Parseval, summed over C)."""
    h, w = err.shape[:2]
    power = (np.abs(np.fft.fft2(err, axes=(0, 1))) ** 2).sum(axis=2) / float(h * w) ** 2
    radius = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :])
    return np.array([power[(radius >= lo) & (radius < hi)].sum() for lo, hi in BANDS])


def _generator(models_dir: str | None, model_id: str):
    from app.core.models.registry import clear_loaded, load_model

    if models_dir:
        os.environ["PHOTORESTORE_MODELS_DIR"] = models_dir
    else:
        os.environ.pop("PHOTORESTORE_MODELS_DIR", None)
    clear_loaded()
    return load_model(model_id, "cpu").module.eval()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=24)
    ap.add_argument("--side", type=int, default=512)
    ap.add_argument("--models-dir", action="append", default=None)
    ap.add_argument("--model-id", default="deblurgan_fast")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    dirs = a.models_dir or [None]
    nets = [(d or "models/", _generator(d, a.model_id)) for d in dirs]
    for task in ("deblur", "deblur-shake"):
        pairs = list(validation_pairs(task, a.limit, 0))
        inp = np.zeros(len(BANDS))
        out = {name: np.zeros(len(BANDS)) for name, _ in nets}
        for p in pairs:
            x, ref = centre_crop(p.degraded, a.side), centre_crop(p.reference, a.side)
            inp += band_power(x - ref)
            t = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].float()
            for name, net in nets:
                with torch.no_grad():
                    y = net(t)[0].permute(1, 2, 0).numpy()
                out[name] += band_power(y - ref)
        print(f"\n{task}: {len(pairs)} pairs, {a.side}-px centre crops; error power x 1e6 by band "
              f"(cycles/px), and the share the output keeps")
        print(f"{'':>28}" + "".join(f"{b:>16}" for b in BAND_NAMES))
        print(f"{'blurry input':>28}" + "".join(f"{v * 1e6:16.1f}" for v in inp))
        for name, v in out.items():
            print(f"{name[-28:]:>28}" + "".join(f"{o * 1e6:11.1f} {o / i:4.0%}" for o, i in zip(v, inp)))


if __name__ == "__main__":
    main()
