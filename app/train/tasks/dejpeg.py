"""``dejpeg``: the small quality-conditioned JPEG artefact remover (:mod:`app.core.nets.dejpeg`).

Clean photos (shrunk on decode, which also washes out their own JPEG history) are JPEG-compressed with
libjpeg through OpenCV at a random quality, mostly 10-60 (the range the op is for) and sometimes 60-98
(so the net learns to leave good JPEGs alone), with random chroma subsampling and, sometimes, an earlier
compression at another quality (re-saved web photos). The net is told the *final* quality, as the op
reads it from the file's quantisation table, jittered a little because the op may have to estimate it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from app.train.splits import Splits
from app.train.tasks.base import Task, build_mixture, like_catalog

#: OpenCV sampling-factor codes: 4:2:0 (libjpeg's default), 4:2:2, 4:4:4.
SUBSAMPLING = (cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
               cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444)


def jpeg_roundtrip(u8: np.ndarray, quality: int, subsampling: int = SUBSAMPLING[0]) -> np.ndarray:
    """Encode and decode an RGB uint8 image with libjpeg (OpenCV)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_SAMPLING_FACTOR, int(subsampling)]
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@dataclass
class JpegArtifacts:
    """Degradation: JPEG at a random quality; ``info["quality"]`` = the hint given to the net (q / 100).

    Attributes:
        low: inclusive quality range drawn with probability ``1 - high_p``.
        high: inclusive quality range drawn with probability ``high_p``.
        subsampling_p: probabilities of 4:2:0, 4:2:2, 4:4:4.
        recompress_p: probability of an earlier compression (quality drawn from ``[q - 15, 95]``).
        jitter: the hint is off by up to this many quality points (uniform), half of the time.
    """

    low: tuple[int, int] = (10, 60)
    high: tuple[int, int] = (60, 98)
    high_p: float = 0.2
    subsampling_p: tuple[float, float, float] = (0.7, 0.1, 0.2)
    recompress_p: float = 0.25
    jitter: float = 5.0

    def __call__(self, clean: np.ndarray, rng: np.random.Generator):
        lo, hi = self.high if rng.uniform() < self.high_p else self.low
        q = int(rng.integers(lo, hi + 1))
        sub = SUBSAMPLING[int(rng.choice(3, p=np.asarray(self.subsampling_p) / sum(self.subsampling_p)))]
        x = np.round(np.clip(clean, 0.0, 1.0) * 255.0).astype(np.uint8)
        first = None
        if rng.uniform() < self.recompress_p:
            first = int(rng.integers(max(5, q - 15), 96))
            x = jpeg_roundtrip(x, first, SUBSAMPLING[int(rng.integers(0, 3))])
        out = jpeg_roundtrip(x, q, sub).astype(np.float32) / np.float32(255.0)
        hint = q + (rng.uniform(-self.jitter, self.jitter) if rng.uniform() < 0.5 else 0.0)
        info = {"quality": float(np.clip(hint, 1, 100)) / 100.0, "q": q, "first": first, "subsampling": sub}
        return out, np.asarray(clean, np.float32), info


def degradation(cfg: dict[str, Any]) -> JpegArtifacts:
    d = cfg["degrade"]
    return JpegArtifacts(low=tuple(d.get("low", (10, 60))), high=tuple(d.get("high", (60, 98))),
                         high_p=float(d.get("high_p", 0.25)), recompress_p=float(d.get("recompress_p", 0.25)),
                         jitter=float(d.get("jitter", 5.0)))


def _model_kwargs(cfg: dict) -> dict[str, Any]:
    m = cfg["model"]
    return {"channels": int(m.get("channels", 96)), "depth": int(m.get("depth", 3)), "fine": int(m.get("fine", 16))}


def build_model(cfg: dict[str, Any]) -> nn.Module:
    from app.core.nets.dejpeg import DeJpegNet

    return DeJpegNet(**_model_kwargs(cfg))


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The net's single input: sRGB then the constant quality map (what the op and the registry feed)."""
    lq = batch["lq"]
    q = batch["quality"].to(lq).view(-1, 1, 1, 1).expand(-1, 1, *lq.shape[2:])
    return model(torch.cat([lq, q], dim=1))


def _build_data(cfg: dict, splits: Splits, split: str):
    return build_mixture(cfg, splits, split, degrade=degradation(cfg), keep_info=("quality",))


TASK = Task(
    name="dejpeg",
    build_model=build_model,
    arch=lambda cfg: ("dejpeg", _model_kwargs(cfg)),
    build_data=_build_data,
    default_loss=[{"type": "charbonnier", "eps": 1e-3}],
    forward=forward,
    descriptor=like_catalog("dejpeg_fast", _model_kwargs),
)
