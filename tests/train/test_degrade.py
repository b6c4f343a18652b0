"""Degradations: seeded, composable, and physically what they claim to be."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.isp.synthetic_camera import IspParams, unprocess_np
from app.core.isp.tone import srgb_to_linear_np
from app.train.blur_kernels import random_motion_kernel, random_trajectory, trajectory_to_kernel
from app.train.degrade import Compose, Degradation, Jpeg, LowLight, MotionBlur, OneOf, RandomApply, RawNoise
from app.train.gopro import GoProFrames, average_frames
from app.train.raw_pairs import make_raw_pair


def _photo(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth, moderately saturated test image with some edges (in gamut for every camera)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    base = 0.35 + 0.2 * np.sin(6 * xx + 3 * yy) + 0.1 * (xx > 0.5)
    tint = rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    img = np.stack([base * tint[0], base * tint[1], base * tint[2]], -1)
    return np.clip(img, 0.05, 0.85).astype(np.float32)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------------ blur kernels


def test_kernels_are_normalised_nonnegative_and_seeded():
    kernels = [random_motion_kernel(_rng(s))[0] for s in range(20)]
    for k in kernels:
        assert k.dtype == np.float32 and k.ndim == 2 and k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
        assert k.min() >= 0 and k.sum() == pytest.approx(1.0, abs=1e-5)
        # Centred on the centre of mass: blurring does not shift the image.
        yy, xx = np.mgrid[0 : k.shape[0], 0 : k.shape[1]]
        c = (k.shape[0] - 1) / 2
        assert (k * yy).sum() == pytest.approx(c, abs=0.05) and (k * xx).sum() == pytest.approx(c, abs=0.05)
    assert np.array_equal(random_motion_kernel(_rng(3))[0], random_motion_kernel(_rng(3))[0])
    assert len({k.tobytes() for k in kernels}) == len(kernels)


def test_kernel_length_and_curvature_vary():
    def spread(points: np.ndarray) -> tuple[float, float]:
        ev = np.linalg.eigvalsh(np.cov(points.T))
        return float(np.sqrt(ev[-1])), float(ev[0] / max(ev[-1], 1e-12))

    short, _ = spread(random_trajectory(_rng(0), 5.0, curvature=0.0))
    long_, flat = spread(random_trajectory(_rng(0), 30.0, curvature=0.0))
    assert long_ > 4 * short
    assert flat < 1e-6  # curvature 0: a straight line
    bent = [spread(random_trajectory(_rng(s), 30.0, curvature=1.0))[1] for s in range(10)]
    assert max(bent) > 0.05  # curved paths have real width
    infos = [random_motion_kernel(_rng(s))[1] for s in range(30)]
    assert np.ptp([i["length"] for i in infos]) > 10 and np.ptp([i["curvature"] for i in infos]) > 0.5


def test_trajectory_to_kernel_rejects_even_size():
    with pytest.raises(ValueError):
        trajectory_to_kernel(np.zeros((4, 2)), size=4)


def test_motion_blur_blurs_in_linear_light_and_is_seeded():
    img = _photo()
    out, target, info = MotionBlur()(img, _rng(1))
    assert out.shape == img.shape and out.dtype == np.float32
    assert np.array_equal(target, img)
    assert np.abs(out - img).max() > 0.01
    again, _, _ = MotionBlur()(img, _rng(1))
    assert np.array_equal(out, again)
    assert info["kernel"].sum() == pytest.approx(1.0, abs=1e-5)
    # A normalised kernel with reflected borders keeps the mean linear light (to border effects).
    assert srgb_to_linear_np(out).mean() == pytest.approx(srgb_to_linear_np(img).mean(), rel=0.03)


# ------------------------------------------------------------------------------ GoPro averaging


def test_average_frames_is_a_linear_light_mean_with_middle_target():
    frames = [np.full((4, 4, 3), v, np.float32) for v in (0.1, 0.3, 0.5, 0.7, 0.9)]
    blurred, sharp = average_frames(frames)
    expected = srgb_to_linear_np(np.array([0.1, 0.3, 0.5, 0.7, 0.9], np.float32)).mean()
    assert srgb_to_linear_np(blurred) == pytest.approx(np.full((4, 4, 3), expected), abs=1e-6)
    assert np.array_equal(sharp, frames[2])
    with pytest.raises(ValueError):
        average_frames(frames[:4])


@pytest.fixture(scope="module")
def gopro(datasets_dir):
    folder = datasets_dir / "blur" / "gopro_GOPR0477_frames"
    if not folder.is_dir():
        pytest.skip("GoPro frames not available")
    return GoProFrames(folder, indices=range(0, 40))


def test_gopro_pair_uses_n_frames_and_the_middle_one(gopro):
    blurred, sharp, info = gopro.sample(_rng(0), n=5, start=10)
    assert info["n"] == 5 and len(info["frames"]) == 5
    assert info["frames"] == [gopro.files[i].name for i in range(10, 15)]
    assert info["sharp_frame"] == gopro.files[12].name
    from app.train.gopro import _read

    assert np.array_equal(sharp, _read(gopro.files[12]))
    expected, _ = average_frames([_read(gopro.files[i]) for i in range(10, 15)])
    np.testing.assert_allclose(blurred, expected, atol=1e-6)
    assert blurred.shape == sharp.shape == (720, 1280, 3)


def test_gopro_sampling_is_seeded_odd_and_inside_the_split(gopro):
    draws = [gopro.draw(_rng(s)) for s in range(50)]
    assert draws == [gopro.draw(_rng(s)) for s in range(50)]
    assert all(n % 2 == 1 and 5 <= n <= 15 for n, _ in draws)
    assert all(start + n <= 40 for n, start in draws)  # windows never leave the given indices
    assert len({n for n, _ in draws}) > 3 and len({s for _, s in draws}) > 10
    with pytest.raises(ValueError):
        gopro.sample(_rng(0), n=5, start=38)


# ------------------------------------------------------------------------------ noise / low light / JPEG


def test_raw_pair_shapes_variance_and_noise_level():
    img = _photo(64, 64)
    pair = make_raw_pair(img, _rng(2), noise_model="sidd", bits=())
    assert pair.noisy.shape == pair.clean.shape == pair.variance.shape == (32, 32, 4)
    assert pair.noisy.max() <= 1.0 and 0.0 <= pair.clean.min()
    s, r = pair.noise.shot, pair.noise.read
    np.testing.assert_allclose(pair.variance, s * np.maximum(pair.noisy, 0) + r, rtol=1e-5)
    # Normalised residuals have unit variance when the variance map is right.
    z = (pair.noisy - pair.clean) / np.sqrt(s * pair.clean + r)
    assert z.var() == pytest.approx(1.0, rel=0.1)
    meta = pair.metadata()
    assert meta["noise"]["shot"] == s and IspParams.from_dict(meta["isp"]).red_gain == pair.isp.red_gain


def test_raw_noise_is_seeded_and_its_target_is_the_clean_render():
    img = _photo(33, 47)  # odd sizes are padded internally and cropped back
    out, target, info = RawNoise()(img, _rng(4))
    assert out.shape == target.shape == img.shape
    np.testing.assert_allclose(target, img, atol=1e-4)  # in gamut: render of the clean RAW is the input
    assert np.abs(out - img).mean() > 1e-3
    again, _, info2 = RawNoise()(img, _rng(4))
    assert np.array_equal(out, again) and info == info2
    other, _, _ = RawNoise()(img, _rng(5))
    assert not np.array_equal(out, other)


def test_low_light_darkens_by_the_ratio_in_linear_space():
    img = np.zeros((32, 32, 3), np.float32) + np.array([0.5, 0.4, 0.3], np.float32)
    img[:, 16:] = [0.25, 0.3, 0.35]
    deg = LowLight(ratio_range=(4.0, 4.0), noise_model=None, bits=())
    out, target, info = deg(img, _rng(0))
    assert info["ratio"] == pytest.approx(4.0)
    np.testing.assert_allclose(target, img, atol=1e-4)
    isp = IspParams.from_dict(info["isp"])
    raw_out = unprocess_np(out, isp, mosaic=False)
    raw_clean = unprocess_np(target, isp, mosaic=False)
    flat = (slice(2, 30), np.r_[2:14, 18:30])  # away from the colour edge (demosaic mixes there)
    np.testing.assert_allclose(raw_out[flat], raw_clean[flat] / 4.0, rtol=2e-3, atol=1e-5)
    assert out.mean() < 0.6 * img.mean()


def test_low_light_with_noise_is_darker_noisier_and_seeded():
    img = _photo()
    deg = LowLight(ratio_range=(5.0, 10.0))
    out, _, info = deg(img, _rng(1))
    assert 5.0 <= info["ratio"] <= 10.0 and info["noise"]["shot"] > 0 and info["bits"] in (10, 12, 14)
    assert out.mean() < img.mean()
    assert np.array_equal(out, deg(img, _rng(1))[0])


def test_jpeg_changes_the_image_and_is_seeded():
    img = _photo()
    out, target, info = Jpeg(quality_range=(20, 40))(img, _rng(0))
    assert 20 <= info["quality"] <= 40 and out.dtype == np.float32 and out.shape == img.shape
    assert np.abs(out - img).mean() > 1e-3 and np.array_equal(target, img)
    assert np.array_equal(out, Jpeg(quality_range=(20, 40))(img, _rng(0))[0])
    qualities = {Jpeg()(img, _rng(s))[2]["quality"] for s in range(10)}
    assert len(qualities) > 3


# ------------------------------------------------------------------------------ composition


def test_compose_is_deterministic_and_keeps_the_first_target():
    img = _photo()
    chain = Compose([MotionBlur(length_range=(4, 8)), RawNoise(noise_model="dnd"), Jpeg()])
    out, target, info = chain(img, _rng(9))
    out2, target2, info2 = chain(img, _rng(9))
    assert np.array_equal(out, out2) and np.array_equal(target, target2)
    assert [s["name"] for s in info["stages"]] == ["MotionBlur", "RawNoise", "Jpeg"]
    assert np.array_equal(target, img)  # MotionBlur's target: the sharp input
    assert not np.array_equal(out, chain(img, _rng(10))[0])
    assert isinstance(chain, Degradation)


def test_random_apply_and_one_of_are_seeded():
    img = _photo()
    maybe = RandomApply(Jpeg(), p=0.5)
    applied = [maybe(img, _rng(s))[2]["applied"] for s in range(20)]
    assert any(applied) and not all(applied)
    assert applied == [maybe(img, _rng(s))[2]["applied"] for s in range(20)]
    skipped = next(s for s, a in enumerate(applied) if not a)
    assert np.array_equal(maybe(img, _rng(skipped))[0], img)
    pick = OneOf([Jpeg(), MotionBlur()], weights=[1, 3])
    choices = [pick(img, _rng(s))[2]["choice"] for s in range(20)]
    assert set(choices) == {0, 1} and choices == [pick(img, _rng(s))[2]["choice"] for s in range(20)]
