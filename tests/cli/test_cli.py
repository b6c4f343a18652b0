"""The headless CLI end to end: real files in, real files out, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from app import __version__
from app.cli import main
from app.core.batch import MANIFEST_NAME

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "sample.jpg"


def _jpeg(path: Path, seed: int = 0, size=(96, 64)) -> Path:
    rng = np.random.default_rng(seed)
    arr = (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)
    PILImage.fromarray(arr).save(path, quality=95)
    return path


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_ops_lists_parameters_from_metadata(capsys):
    assert main(["ops"]) == 0
    out = capsys.readouterr().out
    assert "exposure" in out and "ev=0.0 [-4..4]" in out and "nlm_denoise" in out


def test_models_lists_states(capsys):
    assert main(["models"]) == 0
    assert capsys.readouterr().out.strip()


def test_run_processes_good_files_and_reports_bad_ones(tmp_path, capsys):
    good = _jpeg(tmp_path / "good.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_text("this is not an image")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    code = main(["run", str(bad), str(good), str(empty), "-o", str(out), "--op", "exposure:ev=0.5",
                 "--format", "png16"])
    captured = capsys.readouterr()
    assert code == 1
    assert (out / "good.png").is_file()
    # no partial files for the bad ones; the batch manifest records all three
    assert sorted(p.name for p in out.iterdir()) == ["good.png", MANIFEST_NAME]
    errors = [line for line in captured.err.splitlines() if "error" in line]
    assert len(errors) == 2 and all("Traceback" not in e for e in errors)
    assert any(e.startswith("bad.jpg: error:") for e in errors)


def test_run_never_replaces_an_existing_output_unless_overwrite(tmp_path):
    src = _jpeg(tmp_path / "a.jpg")
    out = tmp_path / "out"
    assert main(["run", str(src), "-o", str(out)]) == 0
    first = (out / "a.jpg").read_bytes()
    assert main(["run", str(src), "-o", str(out)]) == 0  # the same recipe again: done already, skipped
    assert (out / "a.jpg").read_bytes() == first
    (out / "a-jpg.jpg").write_bytes(b"a file of the user's")  # not ours: not replaced either
    assert main(["run", str(src), "-o", str(out), "--op", "exposure:ev=1"]) == 0  # a new recipe: a new name
    assert (out / "a.jpg").read_bytes() == first and (out / "a-jpg.jpg").read_bytes() == b"a file of the user's"
    assert (out / "a-jpg-2.jpg").read_bytes() != first
    assert main(["run", str(src), "-o", str(out), "--op", "exposure:ev=2", "--overwrite"]) == 0
    assert (out / "a-jpg-2.jpg").read_bytes() != first  # --overwrite replaces this input's last result
    assert sorted(p.name for p in out.iterdir()) == ["a-jpg-2.jpg", "a-jpg.jpg", "a.jpg", MANIFEST_NAME]


def test_run_never_overwrites_its_input(tmp_path):
    src = _jpeg(tmp_path / "a.jpg")
    before = src.read_bytes()
    assert main(["run", str(src), "-o", str(tmp_path), "--format", "jpg", "--overwrite"]) == 1
    assert src.read_bytes() == before


def test_run_with_recipe_and_bad_op(tmp_path, capsys):
    from app.core.pipeline import Recipe, Step

    src = _jpeg(tmp_path / "a.jpg")
    recipe = Recipe([Step.make("unsharp", amount=1.0)]).save(tmp_path / "r.json")
    assert main(["run", str(src), "-o", str(tmp_path / "o"), "--recipe", str(recipe)]) == 0
    assert main(["run", str(src), "-o", str(tmp_path / "o2"), "--op", "exposure:ev=nope"]) == 2
    assert "expected a number" in capsys.readouterr().err


def test_two_inputs_with_same_stem_get_distinct_outputs(tmp_path):
    a = _jpeg(tmp_path / "x.jpg")
    b = tmp_path / "x.png"
    PILImage.open(a).save(b)
    assert main(["run", str(a), str(b), "-o", str(tmp_path / "o")]) == 0
    assert len(list((tmp_path / "o").glob("x*.jpg"))) == 2


def test_raw_files_become_16bit_tiffs_with_camera_exif(raw_dir, tmp_path):
    import tifffile

    cr2 = raw_dir / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
    out = tmp_path / "o"
    assert main(["run", str(cr2), "-o", str(out)]) == 0
    tif = out / (cr2.stem + ".tif")
    with tifffile.TiffFile(tif) as tf:
        page = tf.pages[0]
        assert page.dtype == np.uint16 and page.shape[2] == 3
        make = page.tags.get("Make")
        exif = page.tags.get("ExifTag")
        assert (make is not None and "Canon" in str(make.value)) or exif is not None


def test_tiff_exports_are_uncompressed_unless_compress(tmp_path):
    import tifffile

    src = _jpeg(tmp_path / "p.jpg")
    for flag, want in (([], tifffile.COMPRESSION.NONE), (["--compress"], tifffile.COMPRESSION.ADOBE_DEFLATE)):
        out = tmp_path / f"o{len(flag)}"
        assert main(["run", str(src), "-o", str(out), "--format", "tiff16", *flag]) == 0
        with tifffile.TiffFile(out / "p.tif") as tf:
            assert tf.pages[0].compression == want


def test_entry_point_runs_as_module():
    res = subprocess.run([sys.executable, "-m", "app", "--version"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and __version__ in res.stdout


def test_op_auto_plans_from_the_photo_and_runs(tmp_path, capsys):
    # A dark, noisy photo: the analysis must propose brightening and denoising, and the run must apply them.
    rng = np.random.default_rng(0)
    base = cv2.imread(str(SAMPLE))
    dark = np.clip(base.astype(np.float32) * 0.15 + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
    src = tmp_path / "dark.png"
    cv2.imwrite(str(src), dark)
    code = main(["run", str(src), "-o", str(tmp_path / "out"), "--op", "auto", "--format", "png"])
    err = capsys.readouterr().err
    assert code == 0
    auto_lines = [line for line in err.splitlines() if ": auto: " in line]
    assert auto_lines and "nothing to restore" not in err
    out = cv2.imread(str(tmp_path / "out" / "dark.png"))
    assert out.mean() > dark.mean() * 1.5  # brightened


def test_analyze_reports_each_file_and_fails_on_a_bad_one(tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really")
    code = main(["analyze", str(SAMPLE), str(bad)])
    cap = capsys.readouterr()
    assert code == 1
    assert "Auto recipe" in cap.out and "Noise" in cap.out
    assert cap.err.startswith("bad.jpg: error:")


def test_refine_switch_from_the_command_line_and_a_recipe(tmp_path):
    """``--op denoise:refine=true`` and a saved recipe both run the shipped PTG refiner after the denoiser."""
    from app.core.models.registry import model_state
    from app.core.pipeline import Recipe, Step

    if not (model_state("ptg_refine_denoise").ok and model_state("cycleisp_srgb_denoise").ok):
        pytest.skip("the sRGB denoiser or its refiner is not exported")
    src = _jpeg(tmp_path / "n.jpg", size=(128, 96))
    outs = {}
    for name, args in (("plain", ["--op", "denoise:mode=srgb"]), ("cli", ["--op", "denoise:mode=srgb,refine=true"]),
                       ("recipe", ["--recipe", str(Recipe([Step.make("denoise", mode="srgb", refine=True)]).save(
                           tmp_path / "r.json"))])):
        assert main(["run", str(src), "-o", str(tmp_path / name), "--format", "png", *args]) == 0
        outs[name] = cv2.imread(str(tmp_path / name / "n.png")).astype(int)
    assert np.array_equal(outs["cli"], outs["recipe"])
    assert np.abs(outs["cli"] - outs["plain"]).mean() > 0.1  # the refiner changed the result
