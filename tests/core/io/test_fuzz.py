"""Seeded fuzzing of every decoder and the recipe loader (issue 22); bench/fuzz.py is the long run.

Each format gets a few hundred mutants of its seeds (bench/fuzz.py's corpus and mutators, in process):
every call must return or raise our own ImageIOError / RecipeError, print nothing on stderr (native
libraries included), and leave no file behind but the one export.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("fuzz_bench", REPO / "bench" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

#: format -> (seed names in bench/fuzz.py's corpus, mutants)
FORMATS = {
    "jpeg": (("ours_jpg", "jpeg_progressive", "jpeg_cmyk"), 300),
    "png": (("ours_png", "ours_png16", "png_grey"), 300),
    "tiff": (("ours_tiff16", "tiff_float", "tiff8_zlib"), 200),
    "webp_bmp": (("webp", "bmp"), 200),
    "raw": (("dng_synthetic", "rawpy-test_RAW_KODAK_DC5"), 200),
    "recipe": (("recipe",), 400),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, datasets_dir):
    return fuzz.seed_corpus(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_mutants_fail_cleanly_and_quietly(fmt, corpus, tmp_path, capfd):
    names, count = FORMATS[fmt]
    seeds = [corpus[n] for n in names if n in corpus]
    assert seeds, f"no seeds for {fmt}"
    donors = [data for data, _, _ in corpus.values() if len(data) < 1 << 20]
    rng = random.Random(22)
    outdir = tmp_path / "out"
    outdir.mkdir()
    problems, outcomes = [], {"ok": 0, "clean": 0}
    for i in range(count):
        data, ext, _ = rng.choice(seeds)
        if fmt == "recipe" and i % 2:
            mutant = fuzz.mutate_recipe(rng)
        else:
            mutant = fuzz.mutate(data, rng, donors)
        path = tmp_path / f"m{ext if rng.random() < 0.85 else rng.choice(fuzz.EXTENSIONS[:-1])}"
        path.write_bytes(mutant)
        for call, outcome in fuzz.run_one(path, outdir):
            if outcome.startswith("traceback"):
                problems.append(f"mutant {i} ({call}): {outcome}")
            else:
                outcomes[outcome] += 1
        path.unlink()
        err = capfd.readouterr().err
        if err:
            problems.append(f"mutant {i}: stderr {err[:200]!r}")
    assert not problems, "\n".join(problems[:10])
    assert outcomes["clean"] > count // 4  # the mutants really were broken, mostly
    assert [p.name for p in outdir.iterdir()] in ([], ["out.jpg"])  # no partial files
    assert list(tmp_path.iterdir()) == [outdir]
