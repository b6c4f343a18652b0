"""The noise level the sRGB denoiser finds in a photo, and whether that noise is fine grain or blotchy.

A blind sRGB network is not told a noise level, but what it removes from *flat* areas is the noise: on a
smooth wall or sky there is nothing else to remove. So the level is read from the network's change
``delta = denoised - input`` in the flattest 8x8 blocks of the *denoised* image (its texture, not the
noise's, picks them; a low quantile of the change would pick the quietest noise instead):

* ``luma255``: RMS of the grey part of the change there (0-255 scale): the grain the *Luminance*
  slider removes;
* ``colour255``: RMS of the colour part (``delta - luma``, per channel): what *Colour* removes;
* ``lag1``: the change's correlation between neighbouring pixels (0 = independent pixels; real PolyU
  camera JPEGs read 0.6, plainly developed synthetic camera noise 0.55 after its bilinear demosaic);
* whether the noise is *processed* (phone-like): a phone's or camera's image processor reduces colour
  noise far more than grain, so what is left is mostly grey and blotchy; noise developed without that
  step is a strong colour speckle (``docs/noise_spectra.md``: colour/grey variance 0.68 for PhoneNoise,
  0.69 for real PolyU, 9.9 for the plain synthesis). The reading: colour level below
  ``PROCESSED_COLOUR_RATIO`` times the grain (fitted on the train split, ``bench/denoise_level.py``).
  Neighbour correlation does not tell them apart (the plain demosaic correlates sensor noise too);
* ``shadow_ratio``: the level in dark areas over the level in bright ones: phone tone maps lift the
  shadows and their noise with them.

The op's blend is linear, so its sliders map onto this level directly: at *Luminance* gain ``k``
(``app.core.ops.denoise_blend.strength_gain``) about ``(1 - k) * luma255`` of the grain is left in flat
areas (:meth:`NoiseLevel.left255`), on top of what the network itself leaves. The level is what the network
*removes*, not all the noise there is: on phone noise the shipped network leaves most of it (train split:
2.4/255 removed, 6.3/255 left against the reference). ``bench/denoise_level.py`` checks the prediction
against the residual measured on pairs with a reference (train split: median error 4-9 % at 0.5).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from app.core.color import REC601_LUMA

SRGB_LUMA = REC601_LUMA  # as the op's luma/colour blend

__all__ = ["PROCESSED_COLOUR_RATIO", "NoiseLevel", "measure_change"]

BLOCK = 8
FLAT_QUANTILE = 0.25  # the flattest quarter of the denoised image's blocks measure the noise
MIN_BLOCKS = 16
DARK, BRIGHT = 0.3, 0.6  # denoised luma of "shadow" and "bright" blocks (sRGB, 0-1)
#: colour level over grain level below which the noise counts as processed (phone-like); see the docstring
PROCESSED_COLOUR_RATIO = 2.2
#: below this luma level (0-255) the photo has no noise worth naming (a clean photo's change in flat areas)
CLEAN_LEVEL255 = 0.5


@dataclass(frozen=True)
class NoiseLevel:
    luma255: float
    colour255: float
    lag1: float
    shadow_ratio: float | None
    blocks: int

    @property
    def colour_ratio(self) -> float:
        return self.colour255 / self.luma255 if self.luma255 > 0 else float("inf")

    @property
    def processed(self) -> bool:
        return self.colour_ratio < PROCESSED_COLOUR_RATIO

    @property
    def kind(self) -> str:
        if self.luma255 < CLEAN_LEVEL255:
            return "none to speak of"
        return ("processed, phone-like: mostly grey, blotchy grain (colour noise already reduced in the device)"
                if self.processed else "colour speckle: sensor noise developed without noise reduction")

    def left255(self, gain: float) -> float:
        """The share of this grain left in flat areas at *Luminance* gain ``gain`` (above 1: none)."""
        return max(0.0, 1.0 - gain) * self.luma255

    def to_dict(self) -> dict:
        return {**asdict(self), "processed": self.processed, "kind": self.kind}


def _blocks(x: np.ndarray) -> np.ndarray:
    """``(H, W[, C])`` -> ``(n, BLOCK, BLOCK[, C])`` whole blocks."""
    b = BLOCK
    h, w = (x.shape[0] // b) * b, (x.shape[1] // b) * b
    y = x[:h, :w].reshape(h // b, b, w // b, b, *x.shape[2:]).swapaxes(1, 2)
    return y.reshape(-1, b, b, *x.shape[2:])


def measure_change(noisy: np.ndarray, denoised: np.ndarray) -> NoiseLevel | None:
    """The :class:`NoiseLevel` of sRGB ``(H, W, 3)`` float arrays; None when too small to measure."""
    delta = np.asarray(denoised, np.float32) - np.asarray(noisy, np.float32)
    luma = delta @ SRGB_LUMA
    colour = delta - luma[..., None]
    clean_y = np.asarray(denoised, np.float32) @ SRGB_LUMA
    cb = _blocks(clean_y)
    if cb.shape[0] < MIN_BLOCKS:
        return None
    texture = cb.reshape(len(cb), -1).std(axis=1)
    flat = texture <= np.quantile(texture, FLAT_QUANTILE)
    lb, ob, mean = _blocks(luma)[flat], _blocks(colour)[flat], cb[flat].mean(axis=(1, 2))
    lb = lb - lb.mean(axis=(1, 2), keepdims=True)  # a block's offset is tone, not grain
    power = float(np.mean(lb * lb))
    if power <= 0.0:
        return NoiseLevel(0.0, float(np.sqrt(np.mean(ob * ob))) * 255, 0.0, None, int(flat.sum()))
    lag = 0.5 * (np.mean(lb[:, 1:, :] * lb[:, :-1, :]) + np.mean(lb[:, :, 1:] * lb[:, :, :-1]))
    rms = np.sqrt(np.mean(lb * lb, axis=(1, 2)))
    dark, bright = rms[mean < DARK], rms[mean > BRIGHT]
    ratio = (float(np.median(dark) / np.median(bright))
             if len(dark) >= MIN_BLOCKS and len(bright) >= MIN_BLOCKS and np.median(bright) > 0 else None)
    return NoiseLevel(float(np.sqrt(power)) * 255, float(np.sqrt(np.mean(ob * ob))) * 255,
                      float(lag / power), ratio, int(flat.sum()))
