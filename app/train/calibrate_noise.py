"""Calibrate the RAW noise model per camera: ``python -m app.train.calibrate_noise``.

Writes ``app/core/isp/noise_calibration.json`` (read by :mod:`app.core.isp.noise` and the denoise
op) and ``docs/noise_calibration.md``. Sources, all read in place from ``../shared/datasets``:

* ``raw/bayer/*`` -- real RAW mosaics: (shot, read) in normalised linear RAW units from the
  flattest blocks (:func:`app.train.noise_estimation.raw_noise_curve`). Physical sensor levels.
* ``noise/polyu/cropped_512`` -- camera JPEG pairs (one shot vs the mean of many). Their noise is
  measured in sRGB (reported as such), and matched by simulation through our own pipeline with a
  fixed average camera (:func:`app.train.noise_estimation.fit_pipeline_equivalent`). The result is
  the *pipeline-equivalent* RAW level: what :func:`app.core.isp.synthetic_camera.process` needs to
  reproduce that camera's JPEG noise. In-camera noise reduction makes it lower than the physical
  sensor level.

Both estimators are also run on synthetic data with known noise; the report shows how well they
recover it. Everything is deterministic (fixed seeds); about 3-5 minutes on a busy 2-core machine.
``--report-only`` rewrites the markdown from an existing JSON.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import rawpy
import torch

from app.core.isp.color import XYZ_TO_CAM, rgb_to_cam_matrix
from app.core.isp.mosaic import pack_rggb_np
from app.core.isp.noise import CALIBRATION_PATH, NoiseParams, add_noise_np, quantize_np
from app.core.isp.synthetic_camera import IspParams, process_np, sample_isp_params, unprocess_np
from app.train.calibration_report import write_report
from app.train.noise_estimation import (
    fit_pipeline_equivalent,
    fit_shot_read,
    pair_noise_curve,
    raw_noise_curve,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATASETS = REPO.parent / "shared" / "datasets"

# Physical scaling with ISO (analogue gain g): shot ~ g, read ~ g^2 when pre-amplifier read noise
# dominates -- the same law behind the ~2 slope of DND/SIDD's log(read)-vs-log(shot) relations.
SHOT_EXPONENT, READ_EXPONENT = 1.0, 2.0
MAX_REL_RESIDUAL = 0.2  # RAW fits worse than this are recorded but not sampled from
# sRGB-pair fits: rms of log10 variance residuals over all (image, channel, bin) points. Real pairs
# scatter ~0.2-0.35 decades around one (shot, read) because per-channel gains and in-camera
# processing differ from the average camera; worse than this means the fit failed.
MAX_RMS_LOG10 = 0.4
# file -> (camera name, aliases matched against EXIF make/model)
RAW_CAMERAS = {
    "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2": ("Canon EOS 30D", []),
    "tinydng_Canon_EOS_Kiss_X4_MagicLantern_colorchart.dng": (
        "Canon EOS 550D",
        ["Canon EOS Kiss X4", "Canon EOS Rebel T2i"],
    ),
    "imageio-test_images_Blackmagic_Pocket_Cinema_4K.dng": ("Blackmagic Pocket Cinema Camera 4K", []),
    "rawpy-test_RAW_KODAK_DC50.KDC": ("Kodak DC50", ["Kodak Digital Science DC50 Zoom Camera"]),
}
# The cameras' own ISO settings, for sampling "calibrated" noise across ISO (manufacturer specs).
ISO_RANGES = {"Canon EOS 30D": (100.0, 3200.0)}
POLYU_CAMERAS = {
    "Canon5D2": ("Canon EOS 5D Mark II", []),
    "Canon80D": ("Canon EOS 80D", []),
    "Canon600D": ("Canon EOS 600D", ["Canon EOS Rebel T3i", "Canon EOS Kiss X5"]),
    "NikonD800": ("Nikon D800", ["NIKON D800"]),
    "Sony": ("Sony A7 II", ["ILCE-7M2"]),
}
_POLYU_NAME = re.compile(
    r"^(?P<cam>[A-Za-z0-9]+)_(?P<f>[\d-]+)_(?P<shutter>\d+)_(?P<iso>\d+)_(?P<scene>.+?)_\d+_real\.JPG$"
)


def read_normalised_mosaic(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """RAW file -> ``(h, w, 4)`` packed RGGB in [0, 1] between black and white level, plus metadata.

    Read with rawpy directly (not ``app.core.io``) so the calibration has no dependency on the
    decoder's normalisation choices. Non-RGGB layouts are cropped to start on a red pixel.
    """
    with rawpy.imread(str(path)) as raw:
        mosaic = raw.raw_image_visible.astype(np.float32)
        black = np.asarray(raw.black_level_per_channel, np.float32)[raw.raw_colors_visible]
        white = float(raw.white_level)
        pattern = raw.raw_pattern
        iso = float(raw.other.iso_speed) if hasattr(raw, "other") else 0.0
    norm = (mosaic - black) / (white - black)
    dy, dx = next((y, x) for y in range(2) for x in range(2) if pattern[y, x] == 0)
    norm = norm[dy:, dx:]
    h, w = norm.shape[0] // 2 * 2, norm.shape[1] // 2 * 2
    meta = {
        "white_level": white,
        "black_level": float(black.mean()),
        "iso": iso or None,
        "cfa_offset": [int(dy), int(dx)],
    }
    return pack_rggb_np(norm[:h, :w]), meta


def calibrate_raw(bayer_dir: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for fname, (camera, aliases) in RAW_CAMERAS.items():
        path = bayer_dir / fname
        if not path.exists():
            continue
        packed, meta = read_normalised_mosaic(path)
        curve = raw_noise_curve(packed)
        shot, read, rel = fit_shot_read(curve.mean, curve.var, curve.count)
        per_plane = []
        for c in range(4):
            cc = raw_noise_curve(packed[..., c : c + 1])
            per_plane.append([float(f"{v:.4g}") for v in fit_shot_read(cc.mean, cc.var, cc.count)[:2]])
        out[camera] = {
            "domain": "raw",
            "source": f"raw/bayer/{fname}",
            "aliases": aliases,
            "iso": meta["iso"],
            "iso_range": list(ISO_RANGES[camera]) if meta["iso"] and camera in ISO_RANGES else None,
            "shot": shot,
            "read": read,
            "fit_rel_rms": round(rel, 4),
            "per_plane_shot_read": per_plane,
            "white_level": meta["white_level"],
            "black_level": meta["black_level"],
            "use_for_sampling": rel <= MAX_REL_RESIDUAL,
            "curve": curve.to_dict(),
        }
    return out


def _read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def average_camera() -> IspParams:
    """The fixed camera used to turn sRGB noise into pipeline-equivalent RAW levels."""
    ccm = rgb_to_cam_matrix(np.mean(list(XYZ_TO_CAM.values()), axis=0))
    return IspParams(ccm, red_gain=2.15, blue_gain=1.7, rgb_gain=1.0 / 0.8)


def _srgb_sigma(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """sRGB-domain noise std (all channels pooled) at a few clean levels: the camera-JPEG fact."""
    curves = [c for n, cl in pairs for c in pair_noise_curve(n, cl)]
    m = np.concatenate([c.mean for c in curves])
    v = np.concatenate([c.var for c in curves])
    w = np.concatenate([c.count for c in curves]).astype(np.float64)
    out = {}
    for level in (0.1, 0.3, 0.5, 0.7, 0.9):
        sel = np.isfinite(v) & (np.abs(m - level) < 0.05)
        out[f"{level:.1f}"] = (
            float(f"{math.sqrt(np.average(v[sel], weights=w[sel])):.4g}") if sel.any() else None
        )
    return out


def srgb_estimator_check(clean_dir: Path, n_images: int = 6, seed: int = 0) -> list[dict[str, float]]:
    """Recover known (shot, read) from pairs synthesised with *random* cameras, using the average one."""
    rng = np.random.default_rng(seed)
    files = sorted(clean_dir.glob("*.webp"))[:n_images]
    rows = []
    for shot in (3e-4, 1e-3, 3e-3):
        read = 10 ** (2.0 * math.log10(shot) + 0.75)  # between the DND and SIDD lines
        pairs = []
        for f in files:
            img = _read_rgb(f)[:512, :512]
            p = sample_isp_params(rng)
            raw = unprocess_np(img, p)
            noisy = quantize_np(add_noise_np(raw, NoiseParams(shot, read), rng), 12)
            pairs.append((_to8(process_np(noisy, p)), _to8(process_np(raw, p))))
        est_shot, est_read, rms = fit_pipeline_equivalent(pairs, average_camera())
        rows.append(
            {"shot": shot, "read": read, "est_shot": est_shot, "est_read": est_read, "rms_log10": rms}
        )
    return rows


def _to8(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, 0.0, 1.0) * 255.0) / 255.0


def calibrate_polyu(polyu_dir: Path) -> dict[str, dict[str, Any]]:
    groups: dict[tuple[str, int], list[Path]] = collections.defaultdict(list)
    for f in sorted(polyu_dir.glob("*_real.JPG")):
        m = _POLYU_NAME.match(f.name)
        if m and m["cam"] in POLYU_CAMERAS:
            groups[(m["cam"], int(m["iso"]))].append(f)
    by_camera: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    camera = average_camera()
    for (cam, iso), files in sorted(groups.items()):
        pairs = [(_read_rgb(f), _read_rgb(f.with_name(f.name.replace("_real", "_mean")))) for f in files]
        shot, read, rms = fit_pipeline_equivalent(pairs, camera)
        by_camera[cam].append(
            {
                "iso": iso,
                "pairs": len(files),
                "shot": shot,
                "read": read,
                "rms_log10": round(rms, 4),
                "srgb_sigma_at": _srgb_sigma(pairs),
            }
        )
    out = {}
    for cam, rows in by_camera.items():
        name, aliases = POLYU_CAMERAS[cam]
        # JPEG engines denoise harder at high ISO, so the physical ISO law does not hold between these
        # rows (see fit_polyu_iso_exponents); pool them as they are, at their (geometric) mean ISO.
        w = np.array([r["pairs"] for r in rows], np.float64)

        def gmean(key: str, rows=rows, w=w) -> float:
            return 10 ** float(np.average([math.log10(max(r[key], 1e-12)) for r in rows], weights=w))

        rms = float(np.average([r["rms_log10"] for r in rows], weights=w))
        out[name] = {
            "domain": "srgb_pipeline_equivalent",
            "source": f"noise/polyu/cropped_512 ({cam}_*)",
            "aliases": aliases,
            "iso": round(gmean("iso")),
            "shot": gmean("shot"),
            "read": gmean("read"),
            "fit_rms_log10": round(rms, 4),
            "iso_range": [min(r["iso"] for r in rows), max(r["iso"] for r in rows)],
            "use_for_sampling": rms <= MAX_RMS_LOG10,
            "by_iso": rows,
        }
    return out


def fit_polyu_iso_exponents(polyu: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Pooled slope of log(level) vs log(ISO) with one intercept per camera (reported, not used)."""
    out = {}
    for key in ("shot", "read"):
        xs, ys = [], []
        for entry in polyu.values():
            rows = entry["by_iso"]
            if len({r["iso"] for r in rows}) < 2:
                continue
            lx = np.log10([r["iso"] for r in rows])
            ly = np.log10([r[key] for r in rows])
            xs.append(lx - lx.mean())
            ys.append(ly - ly.mean())
        x, y = np.concatenate(xs), np.concatenate(ys)
        out[f"{key}_exponent"] = round(float((x * y).sum() / (x * x).sum()), 3)
    return out


def generic_entry(cameras: dict[str, dict[str, Any]], ref_iso: float = 1600.0) -> dict[str, Any]:
    """Fallback for unknown cameras: geometric mean, scaled to ``ref_iso``, of the usable cameras with a
    known ISO -- physical RAW calibrations when there are any (the RAW denoiser's domain), else all."""
    usable = [c for c in cameras.values() if c["use_for_sampling"] and c.get("iso")]
    raw = [c for c in usable if c["domain"] == "raw"]
    pool = raw or usable
    shot = [math.log10(c["shot"] * (ref_iso / c["iso"]) ** SHOT_EXPONENT) for c in pool]
    read = [math.log10(c["read"] * (ref_iso / c["iso"]) ** READ_EXPONENT) for c in pool]
    names = [n for n, c in cameras.items() if any(c is p for p in pool)]
    return {
        "domain": "raw" if raw else "mixed",
        "source": "geometric mean of " + ", ".join(names),
        "aliases": [],
        "iso": ref_iso,
        "shot": 10 ** float(np.mean(shot)),
        "read": 10 ** float(np.mean(read)),
        "iso_range": [100.0, 12800.0],
        "use_for_sampling": False,
    }


def raw_estimator_check(seed: int = 0) -> list[dict[str, float]]:
    """Run the RAW estimator on a synthetic mosaic with known noise (a smooth, textured scene)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:1024, 0:1536].astype(np.float32) / 1024.0
    scene = 0.02 + 0.45 * (0.5 + 0.5 * np.sin(3 * xx + 2 * yy)) * (0.3 + 0.7 * yy)
    clean = np.repeat(scene[..., None], 4, axis=2) * np.array([0.5, 1.0, 1.0, 0.7], np.float32)
    rows = []
    for shot, read in ((1.2e-4, 3e-7), (1e-3, 1e-5), (1e-2, 5e-4)):
        noisy = add_noise_np(clean, NoiseParams(shot, read), rng)
        curve = raw_noise_curve(noisy)
        est_shot, est_read, _ = fit_shot_read(curve.mean, curve.var, curve.count)
        rows.append({"shot": shot, "read": read, "est_shot": est_shot, "est_read": est_read})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    ap.add_argument("--out", type=Path, default=CALIBRATION_PATH)
    ap.add_argument("--doc", type=Path, default=REPO / "docs" / "noise_calibration.md")
    ap.add_argument("--report-only", action="store_true", help="rewrite the markdown from --out")
    args = ap.parse_args(argv)
    if args.report_only:
        write_report(json.loads(args.out.read_text(encoding="utf-8")), args.doc)
        print(f"wrote {args.doc}")
        return 0
    ds = args.datasets
    torch.set_num_threads(1)  # many small tensors: threading only adds overhead on a shared CPU
    raw = calibrate_raw(ds / "raw" / "bayer")
    polyu = calibrate_polyu(ds / "noise" / "polyu" / "cropped_512")
    cameras = {**raw, **polyu}
    cameras["generic"] = generic_entry(cameras)
    result = {
        "version": 1,
        "generated_by": "python -m app.train.calibrate_noise",
        "model": "var = shot * x + read; x = linear RAW normalised to [0, 1] between black and white level",
        "iso_relation": {
            "shot_exponent": SHOT_EXPONENT,
            "read_exponent": READ_EXPONENT,
            "form": "shot(iso) = shot * (iso / entry.iso) ** shot_exponent; read likewise with read_exponent",
            "default_gain_range": [0.5, 4.0],
            "log10_jitter": 0.1,
            "fitted_on_polyu": fit_polyu_iso_exponents(polyu),
        },
        "srgb_camera": average_camera().to_dict(),
        "raw_estimator_check": raw_estimator_check(),
        "srgb_estimator_check": srgb_estimator_check(ds / "clean" / "sunhays80"),
        "cameras": cameras,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    write_report(result, args.doc)
    print(f"wrote {args.out} and {args.doc}")
    for name, c in cameras.items():
        print(f"  {name:38s} {c['domain']:26s} iso={c.get('iso')} shot={c['shot']:.3g} read={c['read']:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
