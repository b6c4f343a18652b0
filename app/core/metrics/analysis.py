"""Photo analysis: how noisy, blurred, dark and blocky an image is (feeds "Auto" and ``analyze``).

``analyze_array(rgb)`` measures an sRGB float image; ``analyze_image(Image)`` also accepts linear and
RAW (Bayer) images: for RAW it fits the camera's noise model ``var = shot * x + read`` per CFA plane
in linear data and measures the rest on a quick half-resolution development. Thresholds that turn
figures into findings are module constants so the recipe rules and the UI agree on them.
Estimator accuracy on synthesised degradations is printed by ``bench/estimators.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.core.measure.jpeg_grid import jpeg_quality_estimate
from app.core.measure.noise_texture import chroma_noise, method_noise_figures
from app.core.metrics import estimators as est

#: Noise (std on the 0-255 scale, average over channels) above which denoising is worth it.
NOISY_SIGMA255 = 3.5
#: ... or per-pixel noise including its blotchy part (``NoiseInfo.coarse255``) from this level: demosaiced
#: camera noise reads 2-5x low pixel to pixel (synthetic RAW noise at 14-26 dB PSNR read 1.5-3.4/255
#: and Auto skipped it) but 6-34/255 here; sharp clean photos read <= 5 (their texture).
NOISY_COARSE255 = 6.0
#: Those two flat-block figures are upper bounds that busy texture also reaches (8 of 40 clean train
#: photos: grass, gravel, cities read 2.4-8/255), so in a colour photo they count only with colour noise
#: behind them (``NoiseInfo.chroma255``, :func:`app.core.measure.noise_texture.chroma_noise`): those 8
#: read <= 6.0, 20 of the 26 synthetic-noise train photos 6.9-41 ...
NOISY_CHROMA255 = 6.5
#: ... or when they are beyond any texture's reading (grey photos have no colour noise to confirm).
NOISY_SURE_SIGMA255 = 10.0
#: Mild noise that a camera's JPEG smoothed out of the flat blocks (PolyU, ISO 1600-6400): the method
#: noise of a gentle NLM (``NoiseInfo.method255``) from this level. Train split: every PolyU noisy crop
#: reads above its own 500-shot mean (noisy 0.84-2.31, means 0-1.31), but clean JPEG content also reads
#: up to ~1.4 (JPEG quantisation error is removed too: q85 artworks 0.6-1.40, one clean crop 1.99).
#: From this level it backs a flat-block reading (a daylight ISO 100 CR2 developed without noise
#: reduction reads 2.3 of fine grain that nobody wants removed, but 1.7/255 in the flat blocks: not
#: noisy). Alone, as the only evidence, it decided in any photo with JPEG history until the block-edge
#: weighting below replaced that (1.25 flagged 5 of 95 clean train photos, friends and Kleiber among them).
NOISY_METHOD255 = 1.25
#: In a photo with JPEG history that is not blocky (a camera or web JPEG), the NLM figure alone decides
#: (quantisation hid the noise from the flat blocks) from a level that falls as more of it sits on the 8x8
#: block edges (``NoiseInfo.method_grid``): noise under the quantisation survives as random steps between
#: blocks, clean content at the same quality changes smoothly from block to block. The level is
#: ``JPEG_METHOD255 * exp(JPEG_GRID_SLOPE * (JPEG_GRID_REF - ratio))``, the ratio clipped to
#: ``JPEG_GRID_RANGE``: 1.05/255 at ratio 1.6, 1.37 at 1.5, 1.82 at 1.4, 2.4 at 1.3 (the boundary of a
#: logistic fit of log(method) and ratio on the train split: 41 of its 82 PolyU noisy crops against their
#: mean references and 26 clean photos with a JPEG lattice; 5-fold: 95 % found at 2 false alarms; on all
#: 82: 70 found, 4 of 108 clean flagged, bench/auto_jpeg_grain.py; refitted on all 82 it did no better in
#: grouped cross-validation on train, 17.85 vs 17.00 errors: ``--cv 20``). The range is the one the fit saw:
#: heavy blocking (q10-30) puts the ratio at 2-4 by itself.
JPEG_METHOD255, JPEG_GRID_SLOPE, JPEG_GRID_REF = 1.05, 2.8, 1.6
JPEG_GRID_RANGE = (1.3, 1.7)
# The thresholds below were set on the labelled *train* split of bench/auto_labelled.py (clean photos,
# real and synthetic noise, SICE dark frames, GoPro and shake blur, libjpeg q10-30) and are reported
# on the validation split by ``bench/auto_confusion.py`` (docs/auto.md).
#: Gaussian-equivalent edge blur (px) above which deblurring is proposed. Sharp photos read 0.3-1.1
#: (one defocused-background macro 2.0); GoPro averages 1.9-2.6, 8-32 px shake 0.9-2.8.
#: (Train split after the noise and JPEG rules changed: sharp photos <= 1.03 px but two soft artworks 1.5
#: and 2.0, 8-32 px shake 0.85-1.4. 1.1 would catch four more shaken train photos, none on validation,
#: and made Auto deblur two full-size PolyU camera JPEGs at ISO 3200-6400 reading 1.1 px, whose wide
#: edges are the camera's noise reduction: kept at 1.2.)
BLURRED_SIGMA_PX = 1.2
#: ... but on a photo with JPEG block history (camera JPEGs, whose noise reduction also widens edges)
#: only from this width: on 3 PolyU camera JPEGs reading 1.2-1.7 px the deblur op lost 0.6-9 dB
#: (it sharpens block edges and the smear), while on GoPro blur (1.9-2.6 px) it gains 0.4-0.7 dB.
BLURRED_JPEG_SIGMA_PX = 1.8
#: Camera shake: a directional blur this long (px) whose edges along one direction are this much wider
#: than across it (Gaussian blur: ~1.2) counts even when the all-direction edge figure is small ...
MOTION_LENGTH_PX = 6.0
MOTION_ANISOTROPY = 1.6
#: ... and a shorter, less directional one (4 px, 1.4) counts when the edges are also wider than a sharp
#: photo's on average: the long straight structures of a sharp scene (a horizon, water: the 0.89 px
#: Blackmagic DNG) read as ~5 px of "motion" at anisotropy 1.7.
SHORT_MOTION = (4.0, 1.4, 0.95)  # (length px, anisotropy, min edge sigma px)
#: Mild camera shake (8-12 px on a 512-px crop) widens the all-direction edge figure only to 0.85-1.2 px,
#: where sharp photos also sit (<= 1.03). The degradation prior (PTG's encoder, ``app.core.metrics.prior``,
#: 96-px crops of the measured window at full resolution) tells them apart: blurred also when its
#: blur_short + blur_long probability reaches PRIOR_BLUR and the edges are at least PRIOR_BLUR_SIGMA_PX wide,
#: without 8x8 block edges (camera JPEGs' noise reduction, as for SHORT_MOTION) and without grain (NLM method
#: noise below NOISY_METHOD255: the prior learnt blur on noise-free crops, and on noisy ISO 3200 camera
#: JPEGs, PolyU's full-size bicyc and circu at 1.1-1.2 px, p 0.53-0.55, it said blur where deblur lost 2.2-2.3
#: dB against their 500-shot means). Train split (200 labelled samples; the prior was trained on crops of the
#: same train photos): blurred recall 0.72 -> 0.93, one more clean photo called blurred (skimage brick,
#: 1.03 px, p 0.58); 0.35-0.45 and 0.85 px gave the same shaken samples. Validation: docs/auto.md.
PRIOR_BLUR, PRIOR_BLUR_SIGMA_PX = 0.45, 0.85
#: An image whose log-average key needs this many stops of gain, and whose median luma is at most
#: DARK_MEDIAN, is a low-light photo. Auto's no-harm rule for brightening: no well-exposed photo of
#: the labelled sets reaches it (the darkest, a low-key wallpaper, needs 3.3 stops with median 0.14;
#: dim indoor PolyU scenes 2.1-3.4), while SICE's under-exposed frames need 3.1-7.9 (median <= 0.15).
DARK_EV = 3.5
DARK_MEDIAN = 0.15
#: JPEG blocking is reported when the file's quality, or the one its pixels' quantisation lattice gives
#: (:func:`app.core.measure.jpeg_grid.jpeg_quality_estimate`), is below this: the labelled JPEG class is
#: q10-30, camera and web JPEGs (the wallpapers: 70-89, PolyU crops: 75) need nothing. On the train
#: split the lattice estimate read q10/20/30 samples as 9-30 (39 of 40) and no clean photo below 70.
BLOCKY_QUALITY = 50.0
#: Without a lattice (resampled after compression, or q >= ~90) only a strong 8x8 ratio counts: the one
#: train JPEG sample without a lattice (a flat gradient at q20) reads 550; clean photos <= 1.29 but
#: two artworks with JPEG history (q70/q89 lattices) 1.9-2.5.
BLOCKY_NO_LATTICE_RATIO = 1.5
#: 8x8 boundary discontinuity ratio from which JPEG blocking was reported before the lattice estimate;
#: still the "has block history" signal of the blur rules. On 20 train-split photos
#: (no sunhays80, whose photos carry JPEG history): uncompressed 1.01-1.26 (median 1.04), libjpeg
#: q70 median 1.16, q50 1.32 (70 % flagged), q30 1.50 (85 %); 1.3 best separated the labelled train
#: split (q10-30 vs clean). Validation: bench/estimators.py, bench/auto_confusion.py.
BLOCKY_RATIO = 1.3
#: Larger images are measured on a central CROP x CROP window (exposure: on the whole, subsampled).
MAX_ANALYSIS_PIXELS = 4_200_000
CROP = 2048
#: A photo at least twice this size in a dimension has its blur measured on up to 3 x 3 windows of this
#: size spread over the frame, and the sharpest window counts: camera shake and a moving camera blur the
#: whole frame, while a photo with sharp detail somewhere is in focus where it matters (a shallow depth of
#: field, a soft background) and deblurring would only sharpen its bokeh. Train-split wallpapers (issue 20):
#: see docs/auto.md, "Blur of a large photo".
BLUR_WINDOW = 1024


@dataclass(frozen=True)
class NoiseInfo:
    """Noise per channel (std, [0, 1] scale of the data measured) and its intensity dependence."""

    sigma: tuple[float, ...]
    channels: tuple[str, ...]
    #: per channel, block-RMS figure that also counts blotchy (spatially correlated) noise, and
    #: more texture: an upper bound; well above ``sigma`` in a flat photo = blotchy camera noise
    coarse: tuple[float, ...]
    #: per channel: ((mean intensity of bin, sigma), ...) for bins with enough flat blocks
    curves: tuple[tuple[tuple[float, float], ...], ...]
    #: (a, b) of var = a * x + b pooled over channels; shot/read noise when ``domain`` is linear RAW
    model: tuple[float, float] | None
    domain: str = "srgb"
    #: colour-difference noise (:func:`~app.core.measure.noise_texture.chroma_noise`), NaN for grey
    chroma: float = float("nan")
    #: what a gentle NLM removes (:func:`~app.core.measure.noise_texture.method_noise`)
    method: float = float("nan")
    #: how much more of it sits either side of the 8x8 block edges than elsewhere (~1: no JPEG grid;
    #: :func:`~app.core.measure.noise_texture.method_noise_figures`)
    method_grid: float = float("nan")

    @property
    def sigma255(self) -> float:
        """Pixel-to-pixel noise, 0-255 scale, mean over channels (the figure decisions use)."""
        vals = [s for s in self.sigma if np.isfinite(s)]
        return float(np.mean(vals) * 255.0) if vals else float("nan")

    @property
    def coarse255(self) -> float:
        """Per-pixel noise including its blotchy part, 0-255 (what a denoiser's strength refers to)."""
        vals = [s for s in self.coarse if np.isfinite(s)]
        return float(np.mean(vals) * 255.0) if vals else float("nan")

    @property
    def chroma255(self) -> float:
        return float(self.chroma * 255.0)

    @property
    def method255(self) -> float:
        return float(self.method * 255.0)


@dataclass(frozen=True)
class BlurInfo:
    sigma: float  # Gaussian-equivalent edge blur, px at full resolution
    widths: tuple[float, float, float, float]  # derivative autocorrelation half-widths, 0/45/90/135 deg
    anisotropy: float  # widest / perpendicular width: ~1 for focus blur, >= 1.6 for straight motion
    motion_length: float  # px, meaningful when anisotropic
    motion_angle: float  # deg counter-clockwise from horizontal
    laplacian_var: float  # raw variance of the Laplacian (content dependent; for reference)
    edges: int
    windows: int = 1  # > 1: a large photo, measured on this many windows; the figures are its sharpest's
    prior: float = float("nan")  # the degradation prior's blur probability on that window (nan: not run)


@dataclass(frozen=True)
class ExposureInfo:
    mean_luma: float
    p01: float
    p50: float
    p99: float
    clipped_dark: float
    clipped_bright: float
    key: float
    ev_to_mid: float


@dataclass(frozen=True)
class JpegInfo:
    blockiness: float
    grid: tuple[int, int]
    quality: float | None = None  # from the file's quantisation tables when known (compare.analyze)
    #: from the pixels' 8x8 DCT quantisation lattice; None: no lattice (no JPEG history, or q >= ~90)
    estimated_quality: float | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything measured about one image, plus the findings the recipe rules use."""

    width: int
    height: int
    noise: NoiseInfo
    blur: BlurInfo
    exposure: ExposureInfo
    jpeg: JpegInfo
    raw_noise: NoiseInfo | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def has_jpeg_history(self) -> bool:
        """A quantisation lattice in the pixels (quality <= ~90) or 8x8 block edges: JPEG zeroed its flattest blocks.

        Not the file's tables alone: a q95 file keeps its flat blocks' noise, and the same photo must get
        the same plan with or without its file (the GUI's preview, a crop, ``analyze``)."""
        return bool(self.jpeg.estimated_quality is not None or self.jpeg.blockiness >= BLOCKY_RATIO)

    @property
    def jpeg_grain(self) -> bool:
        """Grain under a camera or web JPEG: what a gentle NLM removes, weighed by how much of it sits on
        the 8x8 block edges (see ``JPEG_METHOD255``); only with JPEG history and without heavy blocking."""
        n = self.noise
        if not self.has_jpeg_history or self.is_blocky or not np.isfinite(n.method255):
            return False
        ratio = float(np.clip(n.method_grid if np.isfinite(n.method_grid) else 1.0, *JPEG_GRID_RANGE))
        return bool(n.method255 >= JPEG_METHOD255 * np.exp(JPEG_GRID_SLOPE * (JPEG_GRID_REF - ratio)))

    @property
    def is_noisy(self) -> bool:
        """Flat-block noise backed by colour noise or by what a gentle NLM removes (texture has neither),
        or, in a JPEG, whose quantisation hides noise from the flat blocks, the NLM figure alone."""
        n = self.noise
        flat = n.sigma255 >= NOISY_SIGMA255 or n.coarse255 >= NOISY_COARSE255
        grain = n.method255 >= NOISY_METHOD255
        backed = n.chroma255 >= NOISY_CHROMA255 or n.sigma255 >= NOISY_SURE_SIGMA255 or grain
        return bool((flat and backed) or self.jpeg_grain)

    @property
    def is_motion_blurred(self) -> bool:
        b = self.blur
        length, aniso, min_sigma = SHORT_MOTION
        short = (b.motion_length >= length and b.anisotropy >= aniso and np.isfinite(b.sigma)
                 and b.sigma >= min_sigma and self.jpeg.blockiness < BLOCKY_RATIO)
        return bool((b.motion_length >= MOTION_LENGTH_PX and b.anisotropy >= MOTION_ANISOTROPY) or short)

    @property
    def _blur_floor(self) -> float:
        """The edge width (px) above which the photo reads blurred by that figure alone."""
        return BLURRED_JPEG_SIGMA_PX if self.jpeg.blockiness >= BLOCKY_RATIO else BLURRED_SIGMA_PX

    @property
    def is_blurred(self) -> bool:
        b = self.blur
        prior = (np.isfinite(b.prior) and b.prior >= PRIOR_BLUR and np.isfinite(b.sigma)
                 and b.sigma >= PRIOR_BLUR_SIGMA_PX and self.jpeg.blockiness < BLOCKY_RATIO
                 and self.noise.method255 < NOISY_METHOD255)
        return bool(b.sigma >= self._blur_floor or self.is_motion_blurred or prior)

    @property
    def is_dark(self) -> bool:
        return bool(self.exposure.ev_to_mid >= DARK_EV and self.exposure.p50 <= DARK_MEDIAN)

    @property
    def jpeg_quality(self) -> float | None:
        """The file's quality when known, else the one estimated from the pixels (None: no lattice)."""
        return self.jpeg.quality if self.jpeg.quality is not None else self.jpeg.estimated_quality

    @property
    def is_blocky(self) -> bool:
        q = self.jpeg_quality
        if q is not None:
            return bool(q < BLOCKY_QUALITY)
        return bool(self.jpeg.blockiness >= BLOCKY_NO_LATTICE_RATIO)

    @property
    def primary_class(self) -> str:
        """One label for the confusion table: ``dark``, ``noisy``, ``blurred``, ``jpeg`` or ``clean``.

        In the order Auto's recipe treats them: a dark photo's noise and blur are the low-light step's.
        """
        for cls, hit in (("dark", self.is_dark), ("noisy", self.is_noisy), ("blurred", self.is_blurred),
                         ("jpeg", self.is_blocky)):
            if hit:
                return cls
        return "clean"

    def findings(self) -> list[str]:
        """Short human-readable verdicts, empty for a clean, well-exposed photo."""
        out = []
        if self.is_dark:
            out.append(f"low light: needs about {self.exposure.ev_to_mid:.1f} stops")
        if self.is_noisy:
            n = self.noise
            if not (n.sigma255 >= NOISY_SIGMA255 or n.coarse255 >= NOISY_COARSE255):
                out.append(f"noisy: mild grain under the JPEG, {n.method255:.1f}/255 that a gentle NLM removes "
                           f"({n.method_grid:.2f}x as much on the 8x8 block edges)")
            else:
                out.append(f"noisy: sigma {n.sigma255:.1f}/255"
                           + (f", {n.coarse255:.1f} with its blotchy part" if n.sigma255 < NOISY_SIGMA255 else "")
                           + (f", colour noise {n.chroma255:.1f}" if np.isfinite(n.chroma255) else ""))
        if self.is_motion_blurred:
            b = self.blur
            out.append(f"motion blur: about {b.motion_length:.0f} px at {b.motion_angle:.0f} deg")
        elif self.is_blurred:
            b = self.blur
            out.append(f"blurred: edge width sigma {b.sigma:.1f} px" + (
                f", the degradation prior says blur ({b.prior:.2f})" if b.sigma < self._blur_floor else ""))
        if self.is_blocky:
            q = self.jpeg_quality
            out.append(f"JPEG blocking: quality ~{q:.0f}" if q is not None else
                       f"JPEG blocking: ratio {self.jpeg.blockiness:.2f}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (NaN becomes None), findings included."""
        d = _clean(dataclasses.asdict(self))
        d["findings"] = self.findings()
        return d


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else round(float(v), 6)
    if isinstance(v, np.integer):
        return int(v)
    return v


def _noise_info(planes: list[np.ndarray], names: tuple[str, ...], domain: str,
                lo: float = 0.0) -> NoiseInfo:
    sig, coarse, curves, points = [], [], [], []
    for p in planes:
        s, curve, c = est.noise_level(p, lo=lo)
        sig.append(s)
        coarse.append(c)
        curves.append(tuple((c, v) for c, v, _ in curve))
        points.extend(curve)
    return NoiseInfo(tuple(sig), names, tuple(coarse), tuple(curves), est.fit_noise_model(points), domain)


def analyze_array(rgb: np.ndarray, *, blur_scale: float = 1.0,
                  blur_prior: Callable[[np.ndarray], float | None] | None = None) -> Analysis:
    """Analyse an sRGB image.

    Args:
        rgb: float ``(H, W, 3)`` (or ``(H, W)`` grey) sRGB in [0, 1]; 8-bit input is rescaled.
        blur_scale: multiply blur figures by this (2 when ``rgb`` is a half-resolution preview).
        blur_prior: ``window -> blur probability`` run on the window the blur figures come from (Auto
            passes the degradation prior's, :func:`app.core.metrics.prior.blur_probability`; this module
            stays numpy-only); see ``PRIOR_BLUR``.

    Returns:
        :class:`Analysis`.
    """
    x = np.asarray(rgb)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    if x.ndim == 2:
        x = x[..., None]
    x = np.clip(x.astype(np.float64), 0.0, 1.0)
    full = x
    if x.shape[0] * x.shape[1] > MAX_ANALYSIS_PIXELS:
        # Noise, blur and blocking are local: a central crop (8-aligned, keeping the JPEG grid
        # phase) measures them in a bounded time; exposure still sees the whole frame, subsampled.
        y0, x0 = (max(0, x.shape[0] - CROP) // 16) * 8, (max(0, x.shape[1] - CROP) // 16) * 8
        x = x[y0:y0 + CROP, x0:x0 + CROP]
    names = ("R", "G", "B") if x.shape[2] == 3 else ("Y",)
    noise = _noise_info([x[..., c] for c in range(x.shape[2])], names, "srgb")
    y = est.luma(x)
    # Gradients see the pixel-to-pixel noise; luma mixes the channels' (largely independent) noise.
    weights = np.array([0.299, 0.587, 0.114][: x.shape[2]]) if x.shape[2] == 3 else np.ones(1)
    luma_noise = float(np.sqrt(np.nansum((weights * np.array(noise.sigma)) ** 2)))
    b = _sharpest_blur(full, y, luma_noise)
    prior = float("nan")
    if blur_prior is not None:
        r, c = b.get("corner", (0, 0))
        win = x if "corner" not in b else full[r:r + BLUR_WINDOW, c:c + BLUR_WINDOW]
        p = blur_prior(win.astype(np.float32))
        prior = float(p) if p is not None else prior
    blur = BlurInfo(b["sigma"] * blur_scale, tuple(v * blur_scale for v in b["widths"]), b["anisotropy"],
                    b["motion_length"] * blur_scale, b["motion_angle"], b["laplacian_var"], b["edges"],
                    b.get("windows", 1), prior)
    step = 1 if full is x else int(np.sqrt(full.shape[0] * full.shape[1] / MAX_ANALYSIS_PIXELS)) + 1
    exposure = ExposureInfo(**est.exposure_stats(full[::step, ::step]))
    ratio, grid = est.jpeg_blockiness(y)
    quality, _ = jpeg_quality_estimate(x)
    method, method_grid = method_noise_figures(x, grid)
    noise = dataclasses.replace(noise, chroma=chroma_noise(x), method=method, method_grid=method_grid)
    return Analysis(full.shape[1], full.shape[0], noise, blur, exposure, JpegInfo(ratio, grid, None, quality))


def _blur_score(b: dict[str, float]) -> float:
    """How strongly one window's figures say "blurred" (ranks windows; NaN: too few edges to tell)."""
    if not np.isfinite(b["sigma"]):
        return float("nan")
    motion = b["motion_length"] / MOTION_LENGTH_PX if b["anisotropy"] >= SHORT_MOTION[1] else 0.0
    return float(max(b["sigma"] / BLURRED_SIGMA_PX, motion))


def blur_windows(shape: tuple[int, ...], side: int = BLUR_WINDOW) -> list[tuple[int, int]]:
    """Top-left corners of the blur windows of a ``shape`` photo: ``n x m`` windows of ``side`` px centred
    on an even grid (``n = min(3, height // side)``, likewise ``m``); ``[]`` below two windows."""
    h, w = shape[:2]
    ny, nx = min(3, h // side), min(3, w // side)
    if ny * nx < 2:
        return []
    return [(int(np.clip((i + 0.5) * h / ny - side / 2, 0, h - side)) // 8 * 8,
             int(np.clip((j + 0.5) * w / nx - side / 2, 0, w - side)) // 8 * 8)
            for i in range(ny) for j in range(nx)]


def _sharpest_blur(full: np.ndarray, y: np.ndarray, noise_sigma: float) -> dict[str, float]:
    """Blur figures of ``y`` (the analysed window) or, for a large photo, of its sharpest window."""
    corners = blur_windows(full.shape)
    if not corners:
        return est.blur_level(y, noise_sigma=noise_sigma)
    found = [{**est.blur_level(est.luma(full[r:r + BLUR_WINDOW, c:c + BLUR_WINDOW]), noise_sigma=noise_sigma),
              "corner": (r, c)} for r, c in corners]
    scored = [b for b in found if np.isfinite(_blur_score(b))]
    best = min(scored, key=_blur_score) if scored else found[len(found) // 2]
    return {**best, "windows": len(found)}


def analyze_image(image: Any, *, blur_prior: Callable[[np.ndarray], float | None] | None = None) -> Analysis:
    """Analyse what the user sees of an :class:`app.core.image.Image` (or a plain sRGB array).

    A RAW (BAYER) image is judged as its development: the mosaic is developed exactly as the app shows
    and exports it (:func:`app.core.io.develop`, full size: a half-size development has no demosaic
    smoothing and reads noisier and, scaled back, blurrier) and that sRGB image is analysed; the linear
    per-CFA-plane noise model goes to ``raw_noise`` (``model`` = (shot, read)). Judging the linear
    mosaic itself made a well-exposed daylight CR2 look 2 stops dark and blurred (issue 20). Without
    its source file (a synthetic or reduced mosaic) a quick half-resolution development stands in
    (camera white balance, no colour matrix, no auto-brightness) and ``notes`` says so.
    """
    from app.core.image import ColorSpace

    data = getattr(image, "data", image)
    space = getattr(image, "space", ColorSpace.SRGB)
    if space is ColorSpace.LINEAR:
        return analyze_array(est.linear_to_srgb(data), blur_prior=blur_prior)
    if space is not ColorSpace.BAYER:
        return analyze_array(data, blur_prior=blur_prior)
    m = np.asarray(data, dtype=np.float64)[..., 0]
    h, w = (m.shape[0] // 2) * 2, (m.shape[1] // 2) * 2
    r, g1, g2, b = m[0:h:2, 0:w:2], m[0:h:2, 1:w:2], m[1:h:2, 0:w:2], m[1:h:2, 1:w:2]
    # Normalised RAW may keep negative noise around black: only clamped data must skip zero blocks.
    lo = 0.0 if m.min() >= 0 else -np.inf
    raw_noise = _noise_info([r, g1, g2, b], ("R", "G1", "G2", "B"), "linear-raw", lo=lo)
    developed = _develop_as_shown(image)
    if developed is not None:
        res = analyze_array(developed, blur_prior=blur_prior)
        return dataclasses.replace(res, raw_noise=raw_noise,
                                   notes=("measured on the developed image (as shown and exported)",))
    wb = getattr(getattr(image, "raw", None), "camera_wb", None) or (1.0, 1.0, 1.0, 1.0)
    gains = np.array([wb[0], wb[1], wb[2]], np.float64) / (wb[1] or 1.0)
    lin = np.stack([r, 0.5 * (g1 + g2), b], axis=2) * gains
    res = analyze_array(est.linear_to_srgb(lin), blur_scale=2.0, blur_prior=blur_prior)
    return dataclasses.replace(res, width=w, height=h, raw_noise=raw_noise,
                               notes=("RAW source not available: blur, exposure and sRGB noise measured on "
                                      "a quick half-size development",))


def _develop_as_shown(image: Any) -> np.ndarray | None:
    """The sRGB development the app shows for a BAYER image, or None without its source RAW file."""
    raw = getattr(image, "raw", None)
    if raw is None or not getattr(raw, "path", ""):
        return None
    from app.core.io import develop
    from app.core.io.errors import ImageIOError

    try:
        return develop(image).data
    except (ValueError, OSError, ImageIOError):  # reduced preview mosaic, or the file is gone: caller falls back
        return None
