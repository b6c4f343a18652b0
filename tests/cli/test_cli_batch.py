"""Resumable batches end to end (issue 28): ``python -m app run FOLDER`` killed and run again, ``--jobs``,
``--recursive``, a changed recipe, a corrupt file. Real processes, real files (small ones made here plus
photos from ../shared/datasets), a cheap op so the default suite stays fast."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from hardening_util import REPO, assert_clean_stderr, cli

from app.core.batch import MANIFEST_NAME, Manifest

OP = ("--op", "exposure:ev=0.4")


def photos(folder: Path, n: int, size=(64, 48), start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(start, start + n):
        rng = np.random.default_rng(k)
        arr = (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)
        path = folder / f"p{k:02d}.jpg"
        cv2.imwrite(str(path), arr)
        out.append(path)
    return out


def outputs(out: Path) -> dict[str, tuple[int, int]]:
    """name -> (inode, mtime_ns) of every image in ``out`` (a redone photo gets a new file)."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir() if p.suffix in (".jpg", ".png")}


def check_manifest(out: Path, inputs: list[Path]) -> dict:
    """Every input has exactly one entry, done, whose output exists; no output is claimed twice."""
    m = Manifest.load(out)
    entries = list(m.entries.values())
    assert sorted(e["input"] for e in entries) == sorted(str(p.resolve()) for p in inputs)
    assert all(e["status"] == "done" for e in entries), [(e["input"], e["status"]) for e in entries]
    assert len({e["output"] for e in entries}) == len(entries)
    assert all(Path(e["output"]).is_file() for e in entries)
    return {Path(e["input"]).name: e for e in entries}


def test_a_folder_runs_and_a_second_run_skips_everything(tmp_path):
    srcs = photos(tmp_path / "in", 3)
    out = tmp_path / "out"
    res = cli("run", tmp_path / "in", "-o", out, *OP)
    assert res.returncode == 0, res.stderr
    assert "batch: 3 done, 0 skipped" in res.stdout
    first = outputs(out)
    assert sorted(first) == ["p00.jpg", "p01.jpg", "p02.jpg"]
    entries = check_manifest(out, srcs)
    assert entries["p01.jpg"]["megapixels"] == pytest.approx(64 * 48 / 1e6, abs=1e-3)
    assert entries["p01.jpg"]["steps"] == ["exposure"] and entries["p01.jpg"]["seconds"] > 0
    again = cli("run", tmp_path / "in", "-o", out, *OP)
    assert again.returncode == 0 and " -> " not in again.stdout
    assert "batch: 0 done, 3 skipped (done earlier), 0 failed" in again.stdout
    assert outputs(out) == first


def test_changed_recipe_or_input_is_redone_under_a_new_name(tmp_path):
    srcs = photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    assert cli("run", tmp_path / "in", "-o", out, *OP).returncode == 0
    first = outputs(out)
    res = cli("run", tmp_path / "in", "-o", out, "--op", "exposure:ev=-0.4")  # another recipe
    assert res.returncode == 0 and "batch: 2 done, 0 skipped" in res.stdout, res.stdout
    now = outputs(out)
    assert {k: now[k] for k in first} == first  # the first results are untouched
    assert sorted(set(now) - set(first)) == ["p00-jpg.jpg", "p01-jpg.jpg"]
    time.sleep(0.01)
    photos(tmp_path / "in", 1, size=(80, 60))  # p00 changes (size, mtime): redone; p01 is done already
    res = cli("run", tmp_path / "in", "-o", out, "--op", "exposure:ev=-0.4")
    assert "batch: 1 done, 1 skipped" in res.stdout, res.stdout
    assert cv2.imread(str(out / "p00-jpg-2.jpg")).shape[:2] == (60, 80)
    assert len(Manifest.load(out).for_input(str(srcs[0].resolve()))) == 3  # older results stay on record


def test_recursive_takes_sub_folders_but_not_the_output_folder_or_its_own_exports(tmp_path):
    root = tmp_path / "in"
    photos(root, 2)
    photos(root / "day2", 2, start=2)
    photos(root / ".hidden", 1, start=9)
    out = root / "restored"  # inside the input folder: its results must not become inputs next time
    flat = cli("run", root, "-o", out, *OP)
    assert "batch: 2 done" in flat.stdout, flat.stdout
    res = cli("run", root, "-o", out, *OP, "--recursive")
    assert res.returncode == 0, res.stderr
    assert "batch: 2 done, 2 skipped" in res.stdout, res.stdout
    assert sorted(outputs(out)) == ["p00.jpg", "p01.jpg", "p02.jpg", "p03.jpg"]
    shutil.copy(out / "p00.jpg", root / "day2" / "copied-result.jpg")  # one of ours, renamed: still ours
    again = cli("run", root, "-o", tmp_path / "elsewhere", *OP, "-r")
    assert "batch: 4 done" in again.stdout, again.stdout


def test_corrupt_file_is_recorded_failed_and_the_others_done(tmp_path):
    srcs = photos(tmp_path / "in", 2)
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    res = cli("run", tmp_path / "in", "-o", tmp_path / "out", *OP)
    assert res.returncode == 1
    assert "batch: 2 done, 0 skipped (done earlier), 1 failed" in res.stdout
    assert [ln for ln in res.stderr.splitlines() if "error" in ln] == [
        ln for ln in res.stderr.splitlines() if ln.startswith("broken.jpg: error: ")]
    assert_clean_stderr(res.stderr)
    m = Manifest.load(tmp_path / "out")
    (bad,) = [e for e in m.entries.values() if e["status"] == "failed"]
    assert bad["input"].endswith("broken.jpg") and bad["error"] and not Path(bad["output"]).exists()
    assert sum(e["status"] == "done" for e in m.entries.values()) == len(srcs)
    again = cli("run", tmp_path / "in", "-o", tmp_path / "out", *OP)  # a failed photo is tried again
    assert "batch: 0 done, 2 skipped (done earlier), 1 failed" in again.stdout


def test_jobs_2_gives_the_same_bytes_as_one_process(tmp_path, datasets_dir):
    srcs = photos(tmp_path / "in", 4)
    real = sorted((datasets_dir / "noise" / "polyu" / "cropped_512").glob("*.JPG"))[:2]
    srcs += [Path(shutil.copy(p, tmp_path / "in" / p.name)) for p in real]
    serial = cli("run", tmp_path / "in", "-o", tmp_path / "one", *OP, timeout=300)
    jobs = cli("run", tmp_path / "in", "-o", tmp_path / "two", *OP, "--jobs", "2", timeout=300)
    assert serial.returncode == 0 and jobs.returncode == 0, jobs.stderr
    assert "batch: 6 done" in jobs.stdout
    names = sorted(outputs(tmp_path / "one"))
    assert names == sorted(outputs(tmp_path / "two")) and len(names) == 6
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    workers = {e["worker"] for e in check_manifest(tmp_path / "two", srcs).values()}
    assert all(w.endswith(":cpu") for w in workers) and len(workers) <= 2


def _start(args: list, env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "app", "run", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _first_done(proc: subprocess.Popen, n: int = 1) -> list[str]:
    lines = []
    while len(lines) < n:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if " -> " in line:
            lines.append(line)
    return lines


@pytest.mark.parametrize("sig, jobs", [(signal.SIGKILL, None), (signal.SIGTERM, None),
                                       pytest.param(signal.SIGKILL, "2", marks=pytest.mark.slow)])
def test_killed_batch_resumes_without_redoing_finished_photos(tmp_path, sig, jobs):
    srcs = photos(tmp_path / "in", 10, size=(1600, 1200))
    out = tmp_path / "out"
    extra = ["--jobs", jobs] if jobs else []
    proc = _start([tmp_path / "in", "-o", out, *OP, "--format", "png", *extra])
    _first_done(proc, 2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM and "to resume" in err, err
        states = {e["status"] for e in Manifest.load(out).entries.values()}
        assert states <= {"done", "pending"} and "done" in states  # nothing left "running" after a clean stop
    else:
        assert proc.returncode == -signal.SIGKILL
    time.sleep(1.5 if jobs else 0)  # orphaned workers notice the coordinator is gone and stop
    before = outputs(out)
    done_before = [e["output"] for e in Manifest.load(out).entries.values() if e["status"] == "done"]
    assert len(done_before) >= 2
    res = cli("run", tmp_path / "in", "-o", out, *OP, "--format", "png", timeout=300)
    assert res.returncode == 0, res.stderr
    assert_clean_stderr(res.stderr)
    after = outputs(out)
    for path in done_before:  # finished photos were not redone: same file, same inode and mtime
        assert after[Path(path).name] == before[Path(path).name]
    assert sorted(after) == [f"p{k:02d}.png" for k in range(10)]  # every output exactly once
    assert not [p for p in out.iterdir() if ".partial" in p.name or p.name.endswith(".journal")]
    check_manifest(out, srcs)
    data = json.loads((out / MANIFEST_NAME).read_text())
    assert len(data["jobs"]) == 10


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing(tmp_path):
    """--jobs 2 and one worker process SIGKILLed: its photo is retried in fresh workers, every output once."""
    import psutil

    srcs = photos(tmp_path / "in", 10, size=(1600, 1200))
    out = tmp_path / "out"
    proc = _start([tmp_path / "in", "-o", out, *OP, "--format", "png", "--jobs", "2"])
    _first_done(proc, 1)
    workers = [c for c in psutil.Process(proc.pid).children() if "multiprocessing.spawn" in " ".join(c.cmdline())]
    assert workers
    workers[0].kill()
    stdout, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert_clean_stderr(err)
    assert sorted(outputs(out)) == [f"p{k:02d}.png" for k in range(10)]
    check_manifest(out, srcs)
    assert "batch: 10 done" in stdout
