"""A labelled set for the photo analysis: clean / noisy / dark / blurred / JPEG photos, built in code.

Every sample is a centre crop (``SIDE`` px) of a photo of one split (``train`` to calibrate the
thresholds, ``val`` to report), with one label:

* ``clean``: the clean sources' photos as they are (urban100, live1, the wallpapers, ...) except
  sunhays80, whose photos carry visible JPEG history (block-boundary ratio up to 1.8, most high
  frequencies zeroed on the 8x8 grid): neither a clean sample nor a controlled JPEG one.
* ``noisy``: real PolyU noisy photos (ISO 1600-12800 camera JPEGs), clean photos through ``RawNoise``
  (SIDD-like shot/read noise in RAW, developed: the synthetic camera-noise task) and through
  ``PhoneNoise`` (sensor noise through a randomised phone ISP: its noise reduction, sharpening, JPEG).
* ``dark``: SICE sequences' darkest frame (mean luma < 50), the low-light task's inputs.
* ``blurred``: real GoPro blur (7/11/15 frames averaged in linear light) and clean photos through a
  random camera-shake kernel (``MotionBlur``, 8-32 px: 4 px of shake is within a sharp photo's own
  edge width, so the shortest kernels are not a visible degradation).
* ``jpeg``: clean photos re-encoded by libjpeg at quality 10, 20 or 30 (heavy blocking; q >= 50 is an
  ordinary camera/web JPEG that needs nothing).

Sources interleave so a small ``per_class`` still spans them.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from quality_data import centre_crop, read_srgb

CLASSES = ("clean", "noisy", "dark", "blurred", "jpeg")
SIDE = 512
JPEG_QUALITIES = (10, 20, 30)
#: clean sources left out of the labelled set (see the module docstring)
JPEG_HISTORY = ("sunhays80",)


@dataclass
class Sample:
    name: str
    label: str
    image: np.ndarray  # float32 (H, W, 3) sRGB


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def _splits():
    from app.train.splits import load_splits

    return load_splits()


def clean_photos(split: str, exclude: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """``(name, path)`` of the clean sources' photos in ``split``, sources interleaved."""
    from app.train.sources import SOURCES

    sp = _splits()
    per = [[(f"{n}/{it.key}", it.paths[0]) for it in sorted(sp.items(n, split), key=lambda i: i.key)]
           for n, s in SOURCES.items() if s.kind == "clean" and n in sp.data["sources"] and n not in exclude]
    return [x for x in itertools.chain(*itertools.zip_longest(*per)) if x is not None]


def _clean(split: str) -> Iterator[Sample]:
    for name, path in clean_photos(split, JPEG_HISTORY):
        yield Sample(name, "clean", centre_crop(read_srgb(path), SIDE))


def _polyu(split: str) -> Iterator[Sample]:
    for it in sorted(_splits().items("polyu", split), key=lambda i: i.key):
        yield Sample(f"polyu/{it.key}", "noisy", centre_crop(read_srgb(it.paths[0]), SIDE))


def _raw_noise(split: str) -> Iterator[Sample]:
    from app.train.degrade import RawNoise

    deg = RawNoise(noise_model="sidd")
    # every other photo: the clean class keeps its own look
    for name, path in clean_photos(split, JPEG_HISTORY)[1::2]:
        noisy, _, _ = deg(centre_crop(read_srgb(path), SIDE), _rng(name))
        yield Sample(f"rawnoise/{name}", "noisy", np.clip(noisy, 0, 1).astype(np.float32))


def _phone(split: str) -> Iterator[Sample]:
    from app.train.phone_isp import PhoneNoise

    deg = PhoneNoise()
    for name, path in clean_photos(split, JPEG_HISTORY)[::2]:
        noisy, _, _ = deg(centre_crop(read_srgb(path), SIDE), _rng("phone/" + name))
        yield Sample(f"phone/{name}", "noisy", np.clip(noisy, 0, 1).astype(np.float32))


def _sice(split: str) -> Iterator[Sample]:
    for it in sorted(_splits().items("sice", split), key=lambda i: i.key):
        if it.lumas and it.lumas[0] < 50:
            yield Sample(f"sice/{it.key}", "dark", centre_crop(read_srgb(it.paths[0]), SIDE))


def _gopro(split: str) -> Iterator[Sample]:
    from app.train.gopro import average_frames

    frames = _splits().gopro_frames(split)
    start, k = 0, 0
    while True:
        n = (7, 11, 15)[k % 3]
        if start + n > len(frames):
            return
        blurred, _ = average_frames([centre_crop(read_srgb(p), SIDE) for p in frames[start:start + n]])
        yield Sample(f"gopro/{frames[start].stem}+{n}", "blurred", blurred)
        start, k = start + n, k + 1


def _shake(split: str) -> Iterator[Sample]:
    from app.train.degrade import MotionBlur

    deg = MotionBlur(length_range=(8.0, 32.0))
    for name, path in clean_photos(split, JPEG_HISTORY)[::2]:
        blurred, _, _ = deg(centre_crop(read_srgb(path), SIDE), _rng(name))
        yield Sample(f"shake/{name}", "blurred", np.round(np.clip(blurred, 0, 1) * 255) / 255)


def _jpeg(split: str) -> Iterator[Sample]:
    for k, (name, path) in enumerate(clean_photos(split, JPEG_HISTORY)):
        q = JPEG_QUALITIES[k % len(JPEG_QUALITIES)]
        x = centre_crop(read_srgb(path), SIDE)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor((x * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, q])
        y = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        yield Sample(f"jpeg-q{q}/{name}", "jpeg", y.astype(np.float32) / 255)


SOURCES = {"clean": (_clean,), "noisy": (_polyu, _raw_noise, _phone), "dark": (_sice,),
           "blurred": (_gopro, _shake), "jpeg": (_jpeg,)}


def labelled_set(split: str = "val", per_class: int = 40) -> Iterator[Sample]:
    """Up to ``per_class`` samples of every class (their sources alternating), class by class."""
    for label in CLASSES:
        gens = [g(split) for g in SOURCES[label]]
        n = 0
        for s in itertools.chain(*itertools.zip_longest(*gens)):
            if s is None:
                continue
            yield s
            n += 1
            if n >= per_class:
                break
