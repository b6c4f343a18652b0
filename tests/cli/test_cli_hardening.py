"""Issue 22 regressions through the real entry point (``python -m app run ...`` in a subprocess)."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import tifffile
from hardening_util import REPO, assert_clean_stderr, cli, exif_with_empty_orientation, io_testdata, jpeg

from app.core.batch import MANIFEST_NAME


def test_jpeg_with_empty_orientation_tag_opens(tmp_path):
    src = jpeg(tmp_path / "orient0.jpg", exif_blob=exif_with_empty_orientation())
    out = tmp_path / "out"
    res = cli("run", src, "-o", out, "--op", "exposure:ev=0.3")
    assert res.returncode == 0, res.stderr
    assert (out / "orient0.jpg").is_file()
    assert_clean_stderr(res.stderr)
    res = cli("analyze", src)
    assert res.returncode == 0, res.stderr


BAD_OPS = ["unsharp:amount=nan", "unsharp:radius=nan", "exposure:ev=nan", "exposure:gamma=nan",
           "denoise:strength=nan", "lowlight:ratio=nan", "nlm_denoise:search=inf", "nlm_denoise:search=7.9"]
BAD_RECIPES = {
    "binary": b"\x00\xff\xfe\x89binary",
    "nested": b"[" * 100_000 + b"]" * 100_000,
    "version": b'{"format": "photorestore-recipe", "version": "abc", "steps": []}',
    "op_version": b'{"format": "photorestore-recipe", "steps": [{"op": "unsharp", "op_version": "x"}]}',
    "op_version_negative": b'{"format": "photorestore-recipe", "steps": [{"op": "unsharp", "op_version": -5}]}',
    "steps_text": b'{"format": "photorestore-recipe", "steps": "unsharp"}',
    "steps_number": b'{"format": "photorestore-recipe", "steps": [1]}',
    "op_list": b'{"format": "photorestore-recipe", "steps": [{"op": ["unsharp"]}]}',
    "params_text": b'{"format": "photorestore-recipe", "steps": [{"op": "unsharp", "params": "amount=1"}]}',
    "params_list": b'{"format": "photorestore-recipe", "steps": [{"op": "unsharp", "params": [1, 2]}]}',
    "int_1e400": b'{"format": "photorestore-recipe", "steps": [{"op": "nlm_denoise", "params": {"search": 1e400}}]}',
    "int_infinity": b'{"format": "photorestore-recipe", "steps": [{"op": "nlm_denoise", '
                    b'"params": {"search": Infinity}}]}',
    "nan": b'{"format": "photorestore-recipe", "steps": [{"op": "unsharp", "params": {"amount": NaN}}]}',
}  # fmt: skip


def _assert_refused(res, out) -> None:
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("photorestore: "), res.stderr
    assert_clean_stderr(res.stderr)
    assert not out.exists() or not any(out.iterdir())  # nothing written, not even a black image


@pytest.mark.parametrize("op", BAD_OPS)
def test_non_finite_or_fractional_op_values_are_refused(tmp_path, op):
    src = jpeg(tmp_path / "a.jpg")
    out = tmp_path / "out"
    _assert_refused(cli("run", src, "-o", out, "--op", op), out)


@pytest.mark.parametrize("name", sorted(BAD_RECIPES))
def test_malformed_recipes_are_refused_in_one_line(tmp_path, name):
    src = jpeg(tmp_path / "a.jpg")
    recipe = tmp_path / f"{name}.json"
    recipe.write_bytes(BAD_RECIPES[name])
    out = tmp_path / "out"
    res = cli("run", src, "-o", out, "--recipe", recipe)
    _assert_refused(res, out)
    assert f"{name}.json" in res.stderr


def test_overwrite_with_one_name_from_three_folders_keeps_every_result(tmp_path):
    srcs = []
    for k in range(3):
        (tmp_path / f"d{k}").mkdir()
        srcs.append(jpeg(tmp_path / f"d{k}" / "photo.jpg", value=60 + 60 * k))
    out = tmp_path / "out"
    (out).mkdir()
    jpeg(out / "photo.jpg", value=5)  # an older result: --overwrite may replace this one
    res = cli("run", *srcs, "-o", out, "--op", "exposure:ev=0", "--overwrite")
    assert res.returncode == 0, res.stderr
    targets = [line.split(" -> ")[1] for line in res.stdout.splitlines() if " -> " in line]
    assert len(set(targets)) == 3, res.stdout
    names = sorted(p.name for p in out.iterdir() if p.name != MANIFEST_NAME)
    assert names == ["photo-jpg-2.jpg", "photo-jpg.jpg", "photo.jpg"]
    means = [cv2.imread(str(out / n)).mean() for n in ("photo.jpg", "photo-jpg.jpg", "photo-jpg-2.jpg")]
    assert means[0] < means[1] < means[2]  # d0, d1, d2 in order: each input's own result


@pytest.mark.parametrize("flag, value", [("--tile", "0"), ("--tile", "-5"), ("--tile", "1"),
                                         ("--tile", str(2**63)), ("--quality", "0"), ("--quality", "101")])
def test_tile_and_quality_are_checked_before_any_file(tmp_path, flag, value):
    src = jpeg(tmp_path / "a.jpg")
    out = tmp_path / "out"
    res = cli("run", src, "-o", out, "--op", "exposure:ev=0.2", flag, value)
    assert res.returncode == 2 and f"argument {flag}" in res.stderr
    assert_clean_stderr(res.stderr)
    assert not out.exists()


def test_a_corrupt_model_shows_in_ops_and_fails_cleanly(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    weights = next(models.glob("cycleisp_srgb_denoise-*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    env = {"PHOTORESTORE_MODELS_DIR": str(models)}
    res = cli("ops", env=env)
    line = next(x for x in res.stdout.splitlines() if x.startswith("denoise "))
    assert "unavailable" in line and "cycleisp_srgb_denoise" in line and "corrupt" in line, line
    src = jpeg(tmp_path / "a.jpg")
    res = cli("run", src, "-o", tmp_path / "out", "--op", "denoise", env=env)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("a.jpg: error: model cycleisp_srgb_denoise is corrupt"), lines
    assert lines[0].count("cycleisp_srgb_denoise") == 1 + lines[0].count(".safetensors")
    assert_clean_stderr(res.stderr)


def test_stale_partials_of_dead_runs_are_removed_at_the_start(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = out / ".photorestore-999999999-0123456789ab.partial.jpg"  # no such pid
    old_style = out / ".photorestore-a5039ae476bb.partial.tif"
    live = out / f".photorestore-{os.getpid()}-0123456789ab.partial.jpg"  # a process still writing it
    fresh = out / ".photorestore-999999998-0123456789ab.partial.png"  # modified after the run started
    other = out / ".photorestore-notes.txt"
    for p in (dead, old_style, live, fresh, other):
        p.write_bytes(b"half a file")
    hour_ago = time.time() - 3600
    for p in (dead, old_style, live, other):
        os.utime(p, (hour_ago, hour_ago))
    os.utime(fresh, (time.time() + 3600, time.time() + 3600))
    res = cli("run", jpeg(tmp_path / "a.jpg"), "-o", out, "--op", "exposure:ev=0.1")
    assert res.returncode == 0, res.stderr
    left = {p.name for p in out.iterdir()}
    assert left == {live.name, fresh.name, other.name, "a.jpg", MANIFEST_NAME}
    assert res.stderr.count("left by an interrupted earlier run") == 2


def test_sigterm_stops_like_ctrl_c_and_leaves_no_partial(tmp_path):
    srcs = [jpeg(tmp_path / f"p{k}.jpg", value=40 + 10 * k, size=(900, 600)) for k in range(8)]
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "app", "run", *map(str, srcs), "-o", str(out),
                             "--op", "nlm_denoise", "--format", "tiff16"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = proc.stdout.readline()  # one file done: the next is being processed or written
    assert " -> " in first
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "cancelled" in err
    assert_clean_stderr(err)
    names = [p.name for p in out.iterdir() if p.name != MANIFEST_NAME]
    assert not [n for n in names if ".partial" in n], names
    assert 1 <= len(names) < len(srcs)
    for name in names:  # every output there is whole
        assert cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED).shape[:2] == (600, 900)


def test_raw_files_renamed_to_raster_names_are_decoded_as_raw(tmp_path, raw_dir):
    bayer = raw_dir / "bayer"
    kdc = shutil.copy(bayer / "rawpy-test_RAW_KODAK_DC50.KDC", tmp_path / "kdc.jpg")
    dng = shutil.copy(bayer / "tinydng_Canon_EOS_Kiss_X4_MagicLantern_colorchart.dng", tmp_path / "dng.tif")
    cr2 = shutil.copy(bayer / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2", tmp_path / "cr2.jpg")
    out = tmp_path / "out"
    res = cli("run", kdc, dng, cr2, "-o", out, "--op", "exposure:ev=0", "--format", "jpg", timeout=300)
    assert res.returncode == 0, res.stderr
    assert_clean_stderr(res.stderr)
    sizes = {p.name: cv2.imread(str(p)).shape[:2] for p in out.glob("*.jpg")}
    assert max(sizes["kdc.jpg"]) >= 500  # the photo, not the 96x64 thumbnail of a TIFF reading
    assert max(sizes["cr2.jpg"]) > 3000 and max(sizes["dng.jpg"]) > 1000


def test_oversized_image_is_refused_before_decoding_under_a_memory_limit(tmp_path):
    big = io_testdata().png_header_only(tmp_path / "big.png", 19000, 19000)  # 361 MP in 100 bytes

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a small machine: 3 GiB to work in

    res = cli("run", big, "-o", tmp_path / "out", "--op", "unsharp", preexec_fn=limit)
    assert res.returncode == 1
    line = res.stderr.strip()
    assert line.startswith("big.png: error: image too large for the memory available: 19000x19000") and "\n" not in line
    assert [p.name for p in (tmp_path / "out").iterdir()] == [MANIFEST_NAME]  # no image, the failure on record


def test_nan_tiff_is_refused_by_run_analyze_and_compare(tmp_path):
    nan = tmp_path / "nan.tif"
    tifffile.imwrite(nan, np.full((16, 16, 3), np.nan, np.float32), photometric="rgb")
    ok = jpeg(tmp_path / "ok.jpg", size=(16, 16))
    for args in (("run", nan, "-o", tmp_path / "out", "--op", "unsharp"), ("analyze", nan), ("compare", nan, ok)):
        res = cli(*args)
        assert res.returncode == 1, (args, res.stdout, res.stderr)
        assert "every sample is NaN or infinite" in res.stderr and "nan dB" not in res.stdout
        assert_clean_stderr(res.stderr)


def test_bad_files_give_one_clean_line_each(tmp_path, raw_dir):
    kdc = (raw_dir / "bayer" / "rawpy-test_RAW_KODAK_DC50.KDC").read_bytes()
    (tmp_path / "cut.KDC").write_bytes(kdc[: len(kdc) * 2 // 3])
    (tmp_path / "odd.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200) + b"\xff\xd9")
    (tmp_path / "text.png").write_text("not a picture")
    cr2 = (raw_dir / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2").read_bytes()
    (tmp_path / "cr2cut.tif").write_bytes(cr2[:20000])  # a damaged CR2 under a TIFF name
    names = ["cut.KDC", "odd.jpg", "text.png", "cr2cut.tif"]
    res = cli("run", *(tmp_path / n for n in names), "-o", tmp_path / "out", "--op", "unsharp")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == len(names), res.stderr
    for name, line in zip(names, lines):
        assert line.startswith(f"{name}: error: ") and line.count(name) == 1, line
    assert_clean_stderr(res.stderr)


def test_gui_closes_cleanly_on_sigterm(tmp_path):
    """`photorestore photo.jpg` (offscreen) ends with exit 0 on SIGTERM: the window closes, workers stop."""
    photo = jpeg(tmp_path / "p.jpg", size=(320, 240))
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen",
           "PHOTORESTORE_SETTINGS": str(tmp_path / "settings.ini"), "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "app", str(photo)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # start-up and the first decode
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
