"""DNG round trip on every real RAW, with RAW denoising and with the RAW developers themselves (slow).

bench/dng_roundtrip.py runs the same checks on all files and prints the figures; these tests hold the
thresholds. darktable-cli / rawtherapee-cli tests skip when the program is not installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_dng import CR2, KDC, ML, bench

from app.core.io import develop, load_image, save_image
from app.core.pipeline import Pipeline, Step

pytestmark = pytest.mark.slow
ALL = [CR2, KDC, ML, "imageio-test_images_Blackmagic_Pocket_Cinema_4K.dng"]


@pytest.fixture(scope="module")
def bayer(raw_dir: Path) -> Path:
    return raw_dir / "bayer"


@pytest.mark.parametrize("name", ALL)
def test_every_raw_round_trips_through_libraw(bayer: Path, tmp_path: Path, name: str) -> None:
    src = bayer / name
    out = save_image(load_image(src), tmp_path / "x.dng", format="dng")
    assert all(bench.libraw_readback(src, out, mosaic=True).values())
    assert bench.psnr(bench.libraw_develop(src), bench.libraw_develop(out), 65535) >= 50


@pytest.mark.parametrize("name", [KDC, ML])
def test_raw_denoised_dng_develops_like_the_denoised_mosaic(bayer: Path, tmp_path: Path, name: str) -> None:
    from app.core.ops import get_op

    if not get_op("denoise").availability()[0]:
        pytest.skip("RAW denoise model not available")
    src = bayer / name
    den = Pipeline().run(load_image(src), [Step.make("denoise")], use_cache=False, develop=False)
    out = save_image(den, tmp_path / "x.dng", format="dng")
    checks = bench.libraw_readback(src, out, mosaic=False)
    assert all(checks.values()), checks
    inproc = np.rint(develop(den, auto_bright=False).data * 65535)
    assert bench.psnr(inproc, bench.libraw_develop(out), 65535) >= 45


@pytest.mark.parametrize("tool", ["darktable-cli", "rawtherapee-cli"])
def test_raw_developers_convert_the_dng_like_the_original(bayer: Path, tmp_path: Path, tool: str) -> None:
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed (Debian package {tool.split('-')[0]})")
    src = bayer / ML
    dng = save_image(load_image(src), tmp_path / "x.dng", format="dng")
    ok_src, _ = bench.run_client(tool, src, tmp_path / "src.png", tmp_path)
    ok, messages = bench.run_client(tool, dng, tmp_path / "dng.png", tmp_path)
    assert ok and messages == [], messages
    db, _ = bench.matched_psnr(tmp_path / "src.png", tmp_path / "dng.png")
    assert ok_src and db >= 30, db


@pytest.mark.parametrize("tool", ["darktable-cli", "rawtherapee-cli"])
def test_raw_developers_read_the_dng_of_a_raw_they_cannot_read(bayer: Path, tmp_path: Path, tool: str) -> None:
    """Neither reads the Kodak DC50 KDC itself; both convert our DNG of it without a message."""
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed")
    dng = save_image(load_image(bayer / KDC), tmp_path / "x.dng", format="dng")
    ok, messages = bench.run_client(tool, dng, tmp_path / "dng.png", tmp_path)
    assert ok and messages == [], messages
