"""Validation pairs for ``bench/quality.py``: one small adapter per task, validation split only.

The split is the project's recorded one (``app/train/splits.json``, by scene; GoPro by a
contiguous frame range with a gap before it), so nothing reported here was trained on.

* ``denoise-srgb``: real PolyU noisy/clean pairs (512-px crops and full-resolution scenes) of the
  validation scenes; full-resolution ones are centre-cropped.
* ``denoise-raw``: validation clean photos through ``app.train.degrade.RawNoise`` (unprocess to RAW,
  SIDD-like shot/read noise, 12/14-bit quantisation, develop): the sRGB input of the baselines and
  the packed noisy RAW for ops that accept Bayer data, with the same synthetic camera.
* ``denoise-phone``: validation clean photos through ``app.train.phone_isp.PhoneNoise`` (phone-pipeline
  noise, issue 27).
* ``denoise-clean``: no harm, the acceptance bench's clean validation photos (``clean-val``) as they are:
  the reference is the input, so PSNR is against the input (issue 27's no-harm row).
* ``lowlight``: real SICE validation sequences: the darkest frame (mean luma < 50) against the frame
  whose luma is closest to 115 within 90-140 (the dataset README's pairing).
* ``dejpeg`` / ``dejpeg-q95``: validation clean photos except sunhays80 (JPEG history), shrunk (area) to
  1024 px to wash out any older compression, centre 512 px, through libjpeg 4:2:0 (``bench/dejpeg.py``).
* ``deblur``: real GoPro blur: ``n`` (7, 11, 15 in turn) consecutive validation frames averaged in
  linear light against the middle frame, non-overlapping windows.

Everything is centre-cropped to ``MAX_SIDE`` so per-pair cost is that of a 512x512 image.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

TASKS = ("denoise-srgb", "denoise-raw", "denoise-phone", "denoise-clean", "lowlight", "deblur", "deblur-shake",
         "dejpeg", "dejpeg-q95")
MAX_SIDE = 512
SOURCE_NOTES = {
    "denoise-srgb": "real PolyU pairs, validation scenes",
    "denoise-raw": "validation clean photos + RawNoise (SIDD-like shot/read in RAW, developed)",
    "denoise-phone": "validation clean photos + PhoneNoise (sensor noise through a phone-like ISP: NR, sharpening, "
                     "local tone map, 4:2:0 JPEG, resize)",
    "denoise-clean": "no harm: the acceptance bench's clean validation photos as they are; the reference is the "
                     "input (PSNR vs input)",
    "lowlight": "real SICE pairs (darkest frame vs luma~115 frame), validation scenes",
    "deblur": "real GoPro frame averages (n=7/11/15, linear light), validation frames 181-220",
    "deblur-shake": "validation clean photos + random camera-shake kernel (4-32 px, linear light), mild noise, 8-bit",
    "dejpeg": "validation clean photos without JPEG history (area-shrunk to 1024 px), libjpeg 4:2:0 at q20/30/40 "
              "in turn; the op and spp are told the quality (as a JPEG file's tables would)",
    "dejpeg-q95": "the same photos at libjpeg q95 4:2:0: nothing to fix, the op must not harm them",
}


@dataclass
class ValPair:
    name: str
    degraded: np.ndarray  # float32 (H, W, 3) sRGB
    reference: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. "raw": packed noisy RAW + "isp"


def read_srgb(path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        from PIL import Image as PILImage

        with PILImage.open(path) as im:
            return np.asarray(im.convert("RGB"), np.float32) / 255.0
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def centre_crop(img: np.ndarray, side: int = MAX_SIDE, even: bool = True) -> np.ndarray:
    h, w = img.shape[:2]
    ch, cw = min(h, side), min(w, side)
    if even:
        ch, cw = ch - ch % 2, cw - cw % 2
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return img[y0:y0 + ch, x0:x0 + cw]


def _seed(name: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(name.encode()), seed])


def _splits():
    from app.train.splits import load_splits

    return load_splits()


def _polyu(limit: int) -> Iterator[ValPair]:
    items = sorted(_splits().items("polyu", "val"), key=lambda it: it.key)
    # Alternate scenes so a small limit still spans several of them.
    by_scene: dict[str, list] = {}
    for it in items:
        by_scene.setdefault(it.scene, []).append(it)
    order = [lst[i] for i in range(max(map(len, by_scene.values()), default=0))
             for lst in by_scene.values() if i < len(lst)]
    for it in order[:limit]:
        noisy, clean = (centre_crop(read_srgb(p)) for p in it.paths)
        yield ValPair(f"polyu/{it.key}", noisy, clean, {"scene": it.scene})


def _clean_val(split: str = "val") -> list[tuple[str, Any]]:
    from app.train.sources import SOURCES

    out = []
    sp = _splits()
    for name, src in SOURCES.items():
        if src.kind == "clean" and name in sp.data["sources"]:
            out += [(f"{name}/{it.key}", it.paths[0]) for it in sp.items(name, split)]
    return sorted(out)


def _raw_noise(limit: int, seed: int) -> Iterator[ValPair]:
    from app.train.degrade import RawNoise
    from app.train.raw_pairs import make_raw_pair

    deg = RawNoise(noise_model="sidd")
    for name, path in _clean_val()[:limit]:
        clean = centre_crop(read_srgb(path))  # even-sized, so RawNoise does not pad
        s = int(_seed(name, seed).integers(2**63))
        noisy, target, info = deg(clean, np.random.default_rng(s))
        # RawNoise draws make_raw_pair first from its rng: the same seed gives the same RAW pair,
        # which Bayer-capable ops consume (and the same synthetic camera develops).
        pair = make_raw_pair(clean, np.random.default_rng(s), noise_model=deg.noise_model, bits=deg.bits)
        yield ValPair(f"raw/{name}", noisy, target, {"raw_pair": pair, "noise": info.get("noise")})


def _phone(limit: int, seed: int) -> Iterator[ValPair]:
    from app.train.phone_isp import PhoneNoise

    deg = PhoneNoise()
    for name, path in _clean_val()[:limit]:
        noisy, target, info = deg(centre_crop(read_srgb(path)), _seed(name, seed))
        yield ValPair(f"phone/{name}", noisy, target, {"noise": info["noise"], "jpeg": info["jpeg"]})


def _clean(limit: int) -> Iterator[ValPair]:
    from auto_labelled import clean_photos  # the acceptance bench's clean-val set

    for name, path in clean_photos("val")[:limit]:
        x = centre_crop(read_srgb(path))
        yield ValPair(f"clean/{name}", x, x.copy())


def _sice(limit: int) -> Iterator[ValPair]:
    n = 0
    for it in sorted(_splits().items("sice", "val"), key=lambda it: it.key):
        lumas = np.array(it.lumas)
        if len(lumas) < 2 or lumas[0] >= 50:
            continue
        mid = [i for i, v in enumerate(lumas) if 90 <= v <= 140]
        if not mid:
            continue
        ref = min(mid, key=lambda i: abs(lumas[i] - 115))
        dark, bright = read_srgb(it.paths[0]), read_srgb(it.paths[ref])
        if dark.shape != bright.shape:
            continue
        yield ValPair(f"sice/{it.key}", centre_crop(dark), centre_crop(bright),
                      {"luma": (float(lumas[0]), float(lumas[ref]))})
        n += 1
        if n >= limit:
            return


def _gopro(limit: int) -> Iterator[ValPair]:
    from app.train.gopro import average_frames

    frames = _splits().gopro_frames("val")
    start, k = 0, 0
    while k < limit:
        n = (7, 11, 15)[k % 3]
        if start + n > len(frames):
            return
        blurred, sharp = average_frames([centre_crop(read_srgb(p)) for p in frames[start:start + n]])
        yield ValPair(f"gopro/{frames[start].stem}+{n}", blurred, sharp, {"n": n})
        start, k = start + n, k + 1


def _shake(limit: int, seed: int) -> Iterator[ValPair]:
    from app.train.degrade import MotionBlur

    deg = MotionBlur(length_range=(4.0, 32.0))
    for name, path in _clean_val()[:limit]:
        clean = centre_crop(read_srgb(path))
        rng = _seed(name, seed)
        blurred, target, info = deg(clean, rng)
        # the training recipe's mild noise (sigma up to 4 levels at mid grey), then 8-bit like a JPEG
        sigma = rng.uniform(0.0, 4.0) / 255.0
        noisy = blurred + rng.normal(0.0, 1.0, blurred.shape).astype(np.float32) * sigma * np.sqrt(
            np.clip(blurred, 1e-3, 1.0) / 0.5)
        noisy = np.round(np.clip(noisy, 0.0, 1.0) * 255.0).astype(np.float32) / 255.0
        yield ValPair(f"shake/{name}", noisy, target, {"length": info["length"], "kernel": info["kernel"]})


def jpeg_pairs(limit: int, qualities: tuple[int, ...], split: str = "val") -> Iterator[ValPair]:
    """Validation photos (no sunhays80) compressed at ``qualities`` in turn (``extra["quality"]``).

    ``split="train"`` takes training photos instead (evenly spread over the sorted list), for tuning
    anything the validation figures must not see.
    """
    from app.core.io.jpeg_tables import JpegTables
    from app.train.tasks.dejpeg import jpeg_roundtrip

    photos = [(n, p) for n, p in _clean_val(split) if not n.startswith("sunhays80/")]
    if split != "val" and len(photos) > limit:
        photos = [photos[i] for i in np.linspace(0, len(photos) - 1, limit).astype(int)]
    for k, (name, path) in enumerate(photos[:limit]):
        x = read_srgb(path)
        s = 1024 / max(x.shape[:2])
        if s < 1:
            x = cv2.resize(x, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        clean = np.round(centre_crop(x) * 255.0).astype(np.uint8)
        q = qualities[k % len(qualities)]
        lq = jpeg_roundtrip(clean, q).astype(np.float32) / 255.0
        # what the loader records for a JPEG file: libjpeg's tables at q, 4:2:0 (jpeg_roundtrip's default)
        tables = JpegTables.ijg(q).to_meta()
        yield ValPair(f"q{q}/{name}", lq, clean.astype(np.float32) / 255.0, {"quality": q, "jpeg_tables": tables})


def validation_pairs(task: str, limit: int, seed: int = 0) -> Iterator[ValPair]:
    """Up to ``limit`` validation pairs of ``task`` (deterministic for a given ``seed``).

    Raises:
        ValueError: unknown task.
        ImportError / FileNotFoundError: the split or the synthesis code is missing.
    """
    if task == "denoise-srgb":
        return _polyu(limit)
    if task == "denoise-raw":
        return _raw_noise(limit, seed)
    if task == "denoise-phone":
        return _phone(limit, seed)
    if task == "denoise-clean":
        return _clean(limit)
    if task == "lowlight":
        return _sice(limit)
    if task == "deblur":
        return _gopro(limit)
    if task == "deblur-shake":
        return _shake(limit, seed)
    if task == "dejpeg":
        return jpeg_pairs(limit, (20, 30, 40))
    if task == "dejpeg-q95":
        return jpeg_pairs(limit, (95,))
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
