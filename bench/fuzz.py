"""Fuzz every decoder and the recipe loader with seeded mutants (issue 22).

Usage::

    nice -n 10 python bench/fuzz.py --count 10000 --seed 1 [--timeout 60] [--work DIR]

Seeds are made in code (JPEG with EXIF+ICC, progressive and CMYK JPEG, PNG 8/16/grey, TIFF 8/16/float,
WebP, BMP, exported through our own writer so the metadata paths are exercised) plus small RAW files from
``../shared/datasets/raw`` (Kodak KDC, a DNG made in code, the Canon CR2 and DNGs, fewer of the big ones)
and a recipe JSON. Mutant ``i`` is a pure function of (seed, i): byte and bit flips, "interesting" values in
header integers, truncation, deleted/duplicated/inserted blocks, splices from another seed; 1 in 5 gets
another format's extension (content sniffing must cope). Recipes also get structural mutants (wrong types,
NaN, huge numbers, deep nesting).

Every image mutant goes through ``load_image(raw_as="auto")``, ``load_preview`` and ``read_metadata``;
whatever decodes is developed if needed and exported (JPEG) into the work folder. Recipe mutants go through
``Recipe.load``. Workers run in a subprocess (``--worker``) under a 4 GiB address-space limit, so:

* **clean**: the call returned or raised our ImageIOError / RecipeError;
* **traceback**: anything else raised (or a "Traceback" on the worker's stderr);
* **noisy**: the input made something appear on stderr (native library chatter);
* **crash**: the worker died (signal) on that input; **hang**: no answer within ``--timeout`` seconds;
* **leftovers**: files left in the output or temp folders (partials, temporaries) after the run.

Inputs that crash, hang or raise are copied to ``<work>/findings``. Target: 0 crashes, 0 hangs,
0 tracebacks, 0 noisy inputs, 0 leftovers. ``--selfcheck --count 14 --timeout 10`` injects one of each
(a SIGSEGV, a hang, stderr noise, a partial file, a traceback) to show the harness counts them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("PHOTORESTORE_DATASETS", REPO.parent / "shared" / "datasets"))
#: RAW seeds from the shared datasets, with their weight (big files decode slowly: fewer mutants).
RAW_SEEDS = {"bayer/rawpy-test_RAW_KODAK_DC50.KDC": 4.0,
             "bayer/tinydng_Canon_EOS_Kiss_X4_MagicLantern_colorchart.dng": 0.5,
             "bayer/debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2": 0.25,
             "unsupported/photoprism_Canon_EOS_6D_linearDNG.dng": 0.5}  # fmt: skip
EXTENSIONS = (".jpg", ".png", ".tif", ".webp", ".bmp", ".dng", ".KDC", ".CR2", ".json")
INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
RECIPE = {"format": "photorestore-recipe", "version": 1, "name": "fuzz", "steps": [
    {"op": "exposure", "op_version": 1, "enabled": True, "params": {"ev": 0.5, "gamma": 1.1}},
    {"op": "nlm_denoise", "op_version": 1, "enabled": True, "params": {"strength": 8.0, "search": 21}},
    {"op": "unsharp", "op_version": 1, "enabled": False, "params": {"amount": 0.8, "radius": 1.5}},
    {"op": "denoise", "op_version": 1, "enabled": True, "params": {"mode": "auto", "refine": False}}]}  # fmt: skip


# -- seeds -------------------------------------------------------------------------------------------
def _photo(h: int = 48, w: int = 64, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w, y / h, 0.5 + 0.4 * np.sin(x / 5) * np.cos(y / 7)], axis=2)
    return np.clip(img + rng.normal(0, 0.03, img.shape), 0, 1).astype(np.float32)


def seed_corpus(work: Path, with_raw: bool = True) -> dict[str, tuple[bytes, str, float]]:
    """name -> (bytes, extension, weight)."""
    import io

    import cv2
    import numpy as np
    import tifffile
    from PIL import Image as PILImage

    from app.core.image import Image, Metadata
    from app.core.io import save_image

    folder = work / "seeds"
    folder.mkdir(parents=True, exist_ok=True)
    img = _photo()
    meta = Metadata(camera_make="Fuzz", camera_model="Seed 1", iso=400.0, exposure_time=0.01, orientation=6)
    seeds: dict[str, tuple[bytes, str, float]] = {}
    for fmt, ext in (("jpg", ".jpg"), ("png", ".png"), ("png16", ".png"), ("tiff16", ".tif")):
        path = save_image(Image(img, meta=meta), folder / f"s_{fmt}{ext}", format=fmt, overwrite=True)
        seeds[f"ours_{fmt}"] = (path.read_bytes(), ext, 1.0)
    u8 = (img * 255 + 0.5).astype(np.uint8)
    seeds["jpeg_progressive"] = (cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes(), ".jpg", 1)
    seeds["png_grey"] = (cv2.imencode(".png", u8[:, :, 0])[1].tobytes(), ".png", 1.0)
    seeds["webp"] = (cv2.imencode(".webp", u8)[1].tobytes(), ".webp", 1.0)
    seeds["bmp"] = (cv2.imencode(".bmp", u8)[1].tobytes(), ".bmp", 0.5)
    buf = io.BytesIO()
    tifffile.imwrite(buf, img, photometric="rgb")
    seeds["tiff_float"] = (buf.getvalue(), ".tif", 0.5)
    buf = io.BytesIO()
    tifffile.imwrite(buf, u8, photometric="rgb", compression="zlib")
    seeds["tiff8_zlib"] = (buf.getvalue(), ".tif", 0.5)
    buf = io.BytesIO()
    PILImage.fromarray(u8).convert("CMYK").save(buf, "JPEG")
    seeds["jpeg_cmyk"] = (buf.getvalue(), ".jpg", 0.5)
    seeds["recipe"] = (json.dumps(RECIPE, indent=1).encode(), ".json", 1.5)
    if with_raw:
        try:
            seeds["dng_synthetic"] = (_synthetic_dng(), ".dng", 1.0)
        except Exception as exc:  # noqa: BLE001 - the other seeds still run
            print(f"no synthetic DNG seed: {exc}", file=sys.stderr)
        for rel, weight in RAW_SEEDS.items():
            path = DATASETS / "raw" / rel
            if path.is_file():
                seeds[path.stem[:24]] = (path.read_bytes(), path.suffix, weight)
    return seeds


def _synthetic_dng() -> bytes:
    """A 64x96 Bayer DNG made in code (tests/core/io/io_testdata.py's builder)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("io_testdata", REPO / "tests" / "core" / "io" / "io_testdata.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import tempfile

    import numpy as np

    rng = np.random.default_rng(0)
    mosaic = (512 + rng.random((64, 96)) * 12000).astype(np.uint16)
    with tempfile.TemporaryDirectory() as tmp:
        return module.write_dng(Path(tmp) / "s.dng", mosaic, orientation=6).read_bytes()


# -- mutation ----------------------------------------------------------------------------------------
def mutate(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """One seeded mutant of ``data`` (1-4 operations; offsets favour the first 512 bytes, where headers are)."""
    d = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not d:
            d = bytearray(b"\x00")
        n = len(d)
        pos = rng.randrange(min(n, 512)) if rng.random() < 0.6 else rng.randrange(n)
        op = rng.randrange(9)
        if op == 0:  # bit flips
            for _ in range(rng.randint(1, 16)):
                k = rng.randrange(n)
                d[k] ^= 1 << rng.randrange(8)
        elif op == 1:
            d[pos] = rng.choice((0, 0xFF, 0x7F, 0x80, 1))
        elif op == 2:  # an integer field set to an extreme, either byte order
            size = rng.choice((2, 4))
            value = rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)
            d[pos : pos + size] = value.to_bytes(size, rng.choice(("little", "big")))
        elif op == 3:
            del d[max(1, rng.randrange(n)) :]  # truncation
        elif op == 4:
            del d[pos : pos + rng.randint(1, 256)]
        elif op == 5:
            d[pos:pos] = d[pos : pos + rng.randint(1, 256)]  # duplicated block
        elif op == 6:
            d[pos:pos] = rng.randbytes(rng.randint(1, 64))
        elif op == 7 and donors:  # splice another file's tail
            other = rng.choice(donors)
            cut = rng.randrange(len(other))
            d[pos:] = other[cut : cut + rng.randint(1, 4096)]
        else:
            d[pos : pos + 8] = rng.randbytes(8)
    return bytes(d)


def _random_value(rng: random.Random, depth: int = 0) -> object:
    pick = rng.randrange(12)
    if pick == 0:
        return float("nan")
    if pick == 1:
        return rng.choice((float("inf"), float("-inf"), 1e308 * 10))
    if pick == 2:
        return rng.choice((-5, 0, 1, 2**70, -(2**63)))
    if pick == 3:
        return rng.choice(("", "x", "unsharp", "1e400", "nan", "Infinity", "\u00e9\x00"))
    if pick == 4:
        return None
    if pick == 5:
        return rng.choice((True, False))
    if pick == 6:
        return [] if depth > 2 else [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if pick == 7:
        return {} if depth > 2 else {rng.choice(("op", "params", "amount", "ev", "x")): _random_value(rng, depth + 1)}
    if pick == 8:
        return rng.uniform(-1e6, 1e6)
    if pick == 9:
        nested: object = 1
        for _ in range(rng.choice((10, 1000, 50_000))):
            nested = [nested]
        return nested
    return rng.choice((0.5, 7.9, 21, 3))


def mutate_recipe(rng: random.Random) -> bytes:
    """A structural mutant of :data:`RECIPE` (one node replaced by a value of the wrong kind)."""
    data = json.loads(json.dumps(RECIPE))
    for _ in range(rng.randint(1, 3)):
        node: object = data
        path: list = []
        while isinstance(node, (dict, list)) and node and rng.random() < 0.75:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            path.append((node, key))
            node = node[key]
        if path:
            parent, key = path[-1]
            parent[key] = _random_value(rng)
        else:
            data = _random_value(rng)
    try:
        return json.dumps(data).encode()
    except (RecursionError, ValueError):
        return b"[" * 50_000 + b"]" * 50_000


def make_mutant(seeds: dict[str, tuple[bytes, str, float]], seed: int, index: int) -> tuple[str, bytes, str]:
    """(seed name, bytes, extension) of mutant ``index``: a pure function of (seed, index)."""
    rng = random.Random(seed * 1_000_003 + index)
    names = sorted(seeds)
    name = rng.choices(names, weights=[seeds[n][2] for n in names])[0]
    data, ext, _ = seeds[name]
    if name == "recipe" and rng.random() < 0.6:
        return name, mutate_recipe(rng), ext
    donors = [seeds[n][0] for n in names if n != name and len(seeds[n][0]) < 1 << 20]
    mutant = mutate(data, rng, donors)
    if name != "recipe" and rng.random() < 0.2:
        ext = rng.choice(EXTENSIONS[:-1])
    return name, mutant, ext


# -- running one input -------------------------------------------------------------------------------
def run_one(path: Path, outdir: Path) -> list[tuple[str, str]]:
    """[(call, outcome)] with outcome "ok", "clean" or "traceback:<Type>: <message>"."""
    from app.core.image import ColorSpace
    from app.core.io import ImageIOError, develop, load_image, load_preview, read_metadata, save_image
    from app.core.pipeline import Recipe, RecipeError

    results = []

    def call(label: str, fn, expected) -> object:  # noqa: ANN001
        try:
            value = fn()
        except expected:
            results.append((label, "clean"))
            return None
        except Exception as exc:  # noqa: BLE001 - this is what we count
            results.append((label, f"traceback:{type(exc).__name__}: {str(exc)[:200]}"))
            return None
        results.append((label, "ok"))
        return value

    if path.suffix == ".json":
        call("recipe", lambda: Recipe.load(path), RecipeError)
        return results
    image = call("load_image", lambda: load_image(path, raw_as="auto"), ImageIOError)
    call("load_preview", lambda: load_preview(path, max_side=256), ImageIOError)
    call("read_metadata", lambda: read_metadata(path), ImageIOError)
    if image is not None:
        if image.space is ColorSpace.BAYER:
            image = call("develop", lambda: develop(image), ImageIOError)
        if image is not None:
            call("export", lambda: save_image(image, outdir / "out.jpg", overwrite=True), ImageIOError)
    return results


# -- worker and driver ---------------------------------------------------------------------------------
def worker(args: argparse.Namespace) -> int:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    work = Path(args.work)
    seeds = seed_corpus(work)
    indir, outdir = work / "in", work / "out"
    indir.mkdir(exist_ok=True)
    outdir.mkdir(exist_ok=True)
    for i in range(args.start, args.end):
        name, data, ext = make_mutant(seeds, args.seed, i)
        path = indir / f"m{ext}"
        path.write_bytes(data)
        print(f"S {i} {name}", flush=True)
        before = os.fstat(2).st_size
        if args.selfcheck and i in (3, 5, 7, 9):  # the harness must see each kind of failure
            leftover = outdir / ".photorestore-1-ab12cd34.partial.jpg"
            {3: lambda: os.kill(os.getpid(), signal.SIGSEGV), 5: lambda: time.sleep(3600),
             7: lambda: os.write(2, b"native noise\n"), 9: leftover.touch}[i]()
        results = run_one(path, outdir)
        if args.selfcheck and i == 11:
            results.append(("selfcheck", "traceback:ValueError: injected"))
        noisy = int(os.fstat(2).st_size > before)
        print("R " + json.dumps({"i": i, "seed": name, "ext": ext, "results": results, "noisy": noisy}), flush=True)
    return 0


def _spawn(args: argparse.Namespace, start: int, work: Path, log) -> subprocess.Popen:  # noqa: ANN001
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "TMPDIR": str(work / "tmp")}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--work", str(work), "--seed", str(args.seed),
           "--start", str(start), "--end", str(args.count)] + (["--selfcheck"] if args.selfcheck else [])
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env, text=True, start_new_session=True)


def _save_finding(work: Path, seeds: dict, seed: int, index: int, what: str) -> None:
    name, data, ext = make_mutant(seeds, seed, index)
    (work / "findings" / f"{what}-{index}-{name}{ext}").write_bytes(data)


def drive(args: argparse.Namespace) -> int:
    work = Path(args.work)
    if work.exists():
        shutil.rmtree(work)
    for sub in ("tmp", "findings", "out", "in"):
        (work / sub).mkdir(parents=True)
    seeds = seed_corpus(work / "driver")
    shutil.rmtree(work / "driver")
    counts: Counter = Counter()
    per_seed: Counter = Counter()
    examples: dict[str, str] = {}
    started = time.monotonic()
    log = open(work / "worker-stderr.log", "ab")  # noqa: SIM115 - lives as long as the run
    i = failures = 0
    while i < args.count:
        proc = _spawn(args, i, work, log)
        current = None
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], args.timeout)
            if not ready:  # no line within the timeout: the current input hangs
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                index = current if current is not None else i
                counts["hangs"] += 1
                _save_finding(work, seeds, args.seed, index, "hang")
                i = index + 1
                break
            line = proc.stdout.readline()
            if not line:  # the worker ended
                code = proc.wait()
                if current is not None:  # ...in the middle of an input: a crash
                    counts["crashes"] += 1
                    examples.setdefault("crash", f"input {current}: exit {code}")
                    _save_finding(work, seeds, args.seed, current, "crash")
                    i = current + 1
                elif code == 0:
                    i = args.count
                else:  # died before its first input (seeds, imports): not an input's fault
                    failures += 1
                    if failures > 3:
                        print("the worker fails to start; see worker-stderr.log", file=sys.stderr)
                        return 2
                break
            if line.startswith("S "):
                current = int(line.split()[1])
            elif line.startswith("R "):
                rec = json.loads(line[2:])
                current = None
                i = rec["i"] + 1
                counts["inputs"] += 1
                per_seed[rec["seed"]] += 1
                counts["noisy"] += rec["noisy"]
                for label, outcome in rec["results"]:
                    kind = "traceback" if outcome.startswith("traceback") else outcome
                    counts[f"calls_{kind}"] += 1
                    if kind == "traceback":
                        counts["tracebacks"] += 1
                        where = f"input {rec['i']} ({rec['seed']}{rec['ext']})"
                        examples.setdefault(f"{label} {outcome[10:60]}", where)
                        _save_finding(work, seeds, args.seed, rec["i"], "traceback")
                if rec["noisy"]:
                    _save_finding(work, seeds, args.seed, rec["i"], "noisy")
                if counts["inputs"] % 500 == 0:
                    print(f"{counts['inputs']} inputs, {time.monotonic() - started:.0f} s: {dict(counts)}", flush=True)
    log.close()
    stderr_text = (work / "worker-stderr.log").read_text(errors="replace")
    counts["tracebacks"] += stderr_text.count("Traceback")
    leftovers = [p for p in (work / "out").iterdir() if p.name != "out.jpg"] + list((work / "tmp").rglob("*"))
    leftovers += [p for p in (work / "in").iterdir() if p.name.startswith(".photorestore")]
    counts["leftovers"] = len(leftovers)
    summary = {
        "inputs": counts["inputs"], "calls": sum(v for k, v in counts.items() if k.startswith("calls_")),
        "decoded_ok": counts["calls_ok"], "clean_errors": counts["calls_clean"], "crashes": counts["crashes"],
        "hangs": counts["hangs"], "tracebacks": counts["tracebacks"], "noisy_inputs": counts["noisy"],
        "leftovers": counts["leftovers"], "seconds": round(time.monotonic() - started),
        "per_seed": dict(sorted(per_seed.items())), "examples": examples,
        "leftover_files": [str(p) for p in leftovers[:10]],
    }  # fmt: skip
    print(json.dumps(summary, indent=1))
    (work / "summary.json").write_text(json.dumps(summary, indent=1))
    bad = summary["crashes"] + summary["hangs"] + summary["tracebacks"] + summary["leftovers"] + summary["noisy_inputs"]
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=10_000, help="number of mutants")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds one input may take before it is a hang")
    p.add_argument("--work", default=str(Path.home() / ".cache" / "photorestore" / "fuzz"))
    p.add_argument("--selfcheck", action="store_true",
                   help="inject a crash (input 3), a hang (5), stderr noise (7), a leftover (9) and a traceback (11)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--end", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        sys.path.insert(0, str(REPO))
        return worker(args)
    return drive(args)


if __name__ == "__main__":
    raise SystemExit(main())
