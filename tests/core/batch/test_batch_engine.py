"""The batch engine without subprocesses: worker devices, the manifest's journal, planning decisions,
run_job's results. (End to end, killed and resumed: tests/cli/test_cli_batch.py.)"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.core.batch import (
    DONE,
    FAILED,
    MANIFEST_NAME,
    BatchRun,
    Manifest,
    ManifestError,
    WorkerSpec,
    expand_inputs,
    for_retry,
    plan_batch,
    plan_workers,
    recipe_hash,
)
from app.core.batch.local import SerialExecutor
from app.core.batch.manifest import JOURNAL_NAME
from app.core.pipeline import Step
from app.core.workflow import ExportOptions

EV = [Step.make("exposure", ev=0.3)]
JPG = ExportOptions("jpg")


def _photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        paths.append(folder / f"q{k}.png")
        cv2.imwrite(str(paths[-1]), np.full((24, 32, 3), 40 * k + 20, np.uint8))
    return paths


@pytest.mark.parametrize("jobs, device, gpus, cores, want", [
    (None, "cpu", 0, 8, [WorkerSpec("cpu", 8)]),
    (2, "auto", 0, 2, [WorkerSpec("cpu", 1)] * 2),
    (3, "cpu", 4, 2, [WorkerSpec("cpu", 1)] * 3),  # never fewer than one thread, never more in total than asked
    (None, "auto", 2, 16, [WorkerSpec("cuda:0", 8), WorkerSpec("cuda:1", 8)]),  # one worker per GPU
    (3, "cuda", 2, 12, [WorkerSpec("cuda:0", 4), WorkerSpec("cuda:1", 4), WorkerSpec("cuda:0", 4)]),
    (2, "cuda:1", 2, 4, [WorkerSpec("cuda:1", 2)] * 2),
    (2, "cuda", 0, 4, [WorkerSpec("cpu", 2)] * 2),  # no GPU: the CPU (each worker warns)
    (None, "auto", 0, 4, [WorkerSpec("cpu", 4)]),
])
def test_workers_get_devices_and_a_share_of_the_cores(jobs, device, gpus, cores, want, monkeypatch):
    monkeypatch.delenv("PHOTORESTORE_DEVICE", raising=False)
    assert plan_workers(jobs, device, gpus=gpus, cores=cores) == want


def test_photorestore_device_pins_auto_like_pick_device(monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_DEVICE", "cpu")
    assert plan_workers(None, "auto", gpus=2, cores=4) == [WorkerSpec("cpu", 4)]
    with pytest.raises(ValueError):
        plan_workers(0, "cpu", gpus=0, cores=4)


def test_recipe_hash_changes_with_params_and_options_not_with_overwrite():
    base = recipe_hash(EV, JPG)
    assert base == recipe_hash([Step.make("exposure", ev=0.3)], ExportOptions("jpg", overwrite=True))
    assert base != recipe_hash([Step.make("exposure", ev=0.4)], JPG)
    assert base != recipe_hash(EV, ExportOptions("jpg", quality=80))
    assert base != recipe_hash(EV, ExportOptions("png"))
    assert base != recipe_hash(EV, JPG, tile=256)
    assert base != recipe_hash(["auto", *EV], JPG)
    # compressing changes a TIFF's bytes, not a JPEG's; an uncompressed TIFF keeps the hash it always had
    tif = recipe_hash(EV, ExportOptions("tiff16"))
    assert tif != recipe_hash(EV, ExportOptions("tiff16", compress=True))
    assert base == recipe_hash(EV, ExportOptions("jpg", compress=True))


def test_manifest_journal_survives_a_crash_and_is_folded_in(tmp_path):
    m = Manifest(tmp_path)
    m.entries["a"] = {"id": "a", "status": "pending"}
    m.save()
    m.update("a", status="running")
    m.update("b", status="done", output="x.jpg")
    # the process dies here: the JSON still says pending, the journal holds both changes
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["jobs"][0]["status"] == "pending"
    with open(tmp_path / JOURNAL_NAME, "a") as fh:
        fh.write('{"id": "a", "status": "do')  # a line cut by a power loss is ignored
    back = Manifest.load(tmp_path)
    assert back.get("a")["status"] == "running" and back.get("b")["status"] == "done"
    back.close()
    assert not (tmp_path / JOURNAL_NAME).exists()
    assert {e["id"]: e["status"] for e in json.loads((tmp_path / MANIFEST_NAME).read_text())["jobs"]} == {
        "a": "running", "b": "done"}


def test_a_file_that_is_not_a_manifest_is_a_clear_error(tmp_path):
    (tmp_path / MANIFEST_NAME).write_text('{"some": "other json"}')
    with pytest.raises(ManifestError, match="not a PhotoRestore batch manifest"):
        Manifest.load(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text("{ half")
    with pytest.raises(ManifestError, match="cannot read"):
        Manifest.load(tmp_path)


def test_serial_run_records_results_and_a_replan_skips_them(tmp_path):
    _photos(tmp_path / "in", 3)
    (tmp_path / "in" / "bad.png").write_bytes(b"garbage")
    srcs, ours = expand_inputs([tmp_path / "in", tmp_path / "in" / "q0.png"], outdir=tmp_path / "out")
    assert [p.name for p in srcs] == ["bad.png", "q0.png", "q1.png", "q2.png"] and ours == []  # no duplicate
    out = tmp_path / "out"
    out.mkdir()
    manifest = Manifest.load(out)
    plan = plan_batch(srcs, out, EV, JPG, manifest)
    assert [Path(j.output).name for j in plan.jobs] == ["bad.jpg", "q0.jpg", "q1.jpg", "q2.jpg"]
    seen = []
    run = BatchRun(plan, manifest, on_result=lambda job, res: seen.append((job.name, res.status)))
    SerialExecutor("cpu").execute(plan.jobs, run, threading.Event())
    summary = run.close()
    assert seen == [("bad.png", FAILED), ("q0.png", DONE), ("q1.png", DONE), ("q2.png", DONE)]
    assert (summary.done, summary.failed, summary.skipped, summary.not_processed) == (3, 1, 0, 0)
    assert summary.megapixels == pytest.approx(3 * 24 * 32 / 1e6)
    # the results are ours now: a folder scan of out leaves them out, and a replan skips what is done
    assert expand_inputs([out])[1] and not expand_inputs([out])[0]
    again = plan_batch(srcs, out, EV, JPG, Manifest.load(out))
    assert [j.name for j in again.jobs] == ["bad.png"] and again.skipped == 3
    assert again.jobs[0].output == plan.jobs[0].output  # a redo keeps the name it claimed


def test_cancel_leaves_unstarted_jobs_pending(tmp_path):
    srcs = _photos(tmp_path / "in", 3)
    manifest = Manifest.load(tmp_path)
    plan = plan_batch(srcs, tmp_path, EV, JPG, manifest)
    cancel = threading.Event()
    run = BatchRun(plan, manifest, on_result=lambda job, res: cancel.set())  # stop after the first photo
    SerialExecutor("cpu").execute(plan.jobs, run, cancel)
    summary = run.close()
    assert (summary.done, summary.not_processed) == (1, 2)
    states = sorted(e["status"] for e in Manifest.load(tmp_path).entries.values())
    assert states == ["done", "pending", "pending"]


def test_a_result_written_just_before_a_kill_is_adopted_not_redone(tmp_path):
    srcs = _photos(tmp_path / "in", 1)
    manifest = Manifest.load(tmp_path)
    plan = plan_batch(srcs, tmp_path, EV, JPG, manifest)
    run = BatchRun(plan, manifest)
    SerialExecutor("cpu").execute(plan.jobs, run, threading.Event())
    run.close()
    m = Manifest.load(tmp_path)
    m.update(plan.jobs[0].id, status="running", updated=0)  # as if killed between the save and the record
    m.close()
    again = plan_batch(srcs, tmp_path, EV, JPG, Manifest.load(tmp_path))
    assert again.jobs == [] and again.skipped == 1
    m = Manifest.load(tmp_path)
    m.update(plan.jobs[0].id, status="running", updated=2e9)  # started after that file was written: redone
    redo = plan_batch(srcs, tmp_path, EV, JPG, m).jobs
    assert [j.output for j in redo] == [plan.jobs[0].output] and redo[0].options.overwrite  # replacing our own


def test_a_retry_may_replace_only_its_own_saved_result(tmp_path):
    srcs = _photos(tmp_path / "in", 2)
    manifest = Manifest.load(tmp_path)
    plan = plan_batch(srcs, tmp_path, EV, JPG, manifest)
    SerialExecutor("cpu").execute(plan.jobs[:1], BatchRun(plan, manifest), threading.Event())
    assert for_retry(plan.jobs[0]).options.overwrite  # saved by the lost attempt: ours to replace
    Path(plan.jobs[1].output).write_bytes(b"someone else's file")
    assert not for_retry(plan.jobs[1]).options.overwrite
