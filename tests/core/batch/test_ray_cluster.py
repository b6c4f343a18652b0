"""A real two-node Ray cluster on this machine (``ray start --head`` + a second ``ray start --address``):
a worker process is killed in the middle of a 200-photo batch, and every output is still there once,
the same bytes as a local serial run, with a consistent manifest. Marked ``cluster`` (``pytest -m cluster``,
after ``pip install -e '.[cluster]'``); about a minute on two cores."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import psutil
import pytest
from PIL import Image as PILImage

from app.core.batch import DONE, MANIFEST_NAME, BatchRun, Manifest, expand_inputs, plan_batch
from app.core.batch.cluster import ClusterError, check_shared_paths, connect, plan_workers
from app.core.batch.local import SerialExecutor
from app.core.batch.ray_executor import RayExecutor
from app.core.batch.ray_local import LocalCluster
from app.core.pipeline import Step
from app.core.workflow.export import ExportOptions

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[3]
PHOTOS = 200
STEPS = [Step.make("exposure", ev=0.5, gamma=1.1)]  # cheap and deterministic: the test is about the batch


@pytest.fixture(scope="module")
def cluster():
    # the nodes' workers import this checkout (a studio's nodes have photorestore installed instead)
    env = {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    with LocalCluster(nodes=2, cpus=1, env=env) as c, pytest.MonkeyPatch.context() as mp:
        for key, value in c.client_env.items():  # this process is the batch's coordinator (the Ray driver)
            mp.setenv(key, value)
        yield c


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("in")
    rng = np.random.default_rng(28)
    for i in range(PHOTOS):
        h, w = rng.integers(64, 129, 2)
        PILImage.fromarray(rng.integers(0, 256, (h, w, 3), np.uint8)).save(folder / f"p{i:03d}.png")
    return folder


def _batch(photos: Path, out: Path, executor, during=None) -> tuple[BatchRun, object]:
    out.mkdir(exist_ok=True)
    sources, _ = expand_inputs([photos], outdir=out)
    manifest = Manifest.load(out)
    plan = plan_batch(sources, out, STEPS, ExportOptions(), manifest, format_choice="png")
    run = BatchRun(plan, manifest)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            executor.execute(plan.jobs, run, threading.Event())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    if during is not None:
        during(out)
    thread.join(240)
    assert not thread.is_alive(), "the batch did not finish"
    if errors:
        raise errors[0]
    return run, run.close()


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.suffix == ".png"}


def _kill_workers(cluster: LocalCluster, nodes: list[int], out: Path, after: int) -> list[int]:
    """Once ``after`` outputs exist, SIGKILL the batch worker of each of ``nodes`` (in turn) while it is
    inside a photo. Returns the pids killed."""
    killed: list[int] = []
    deadline = time.monotonic() + 120
    while len(list(out.glob("*.png"))) < after and time.monotonic() < deadline:
        time.sleep(0.01)
    for node in nodes:
        while time.monotonic() < deadline and len(killed) < nodes.index(node) + 1:
            for pid in cluster.node_pids(node):
                try:
                    title = " ".join(psutil.Process(pid).cmdline())
                except psutil.Error:
                    continue
                if title.startswith("ray::BatchWorker.process"):  # Ray's title while the method runs
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.005)
    return killed


def test_a_killed_worker_loses_nothing_and_writes_nothing_twice(cluster: LocalCluster, photos: Path,
                                                                 tmp_path: Path) -> None:
    _, local = _batch(photos, tmp_path / "local", SerialExecutor("cpu"))
    assert local.done == PHOTOS

    # the second node's worker, then the head's: for a while no worker is left, the replacements must start
    killed: list[int] = []
    executor = RayExecutor(cluster.address, device="cpu")
    _, summary = _batch(photos, tmp_path / "ray", executor,
                        during=lambda out: killed.extend(_kill_workers(cluster, [1, 0], out, after=20)))
    assert len(killed) == 2, "the workers were not caught inside a photo"
    assert executor.lost == 2 and len(executor.workers) == 4  # two at the start, two replacements
    assert {w.split(":")[0] for w in executor.workers} == {os.uname().nodename}
    assert (summary.done, summary.failed, summary.not_processed) == (PHOTOS, 0, 0)

    # every output once (no partial files, no second copies), the same bytes as the local run
    out = tmp_path / "ray"
    assert sorted(p.name for p in out.iterdir()) == sorted([*_digests(tmp_path / "local"), MANIFEST_NAME])
    assert _digests(out) == _digests(tmp_path / "local")

    # the manifest: one done entry per photo, each with its own output, all workers named
    entries = json.loads((out / MANIFEST_NAME).read_text())["jobs"]
    assert Counter(e["status"] for e in entries) == {DONE: PHOTOS}
    assert sorted(Path(e["output"]).name for e in entries) == sorted(_digests(out))
    pids = Counter(e["worker"].split(":")[1] for e in entries)
    assert str(killed[1]) in pids  # the head's killed worker had finished photos before (20 outputs)
    assert {w.split(":")[1] for w in executor.workers[2:]} <= set(pids)  # the replacements did the rest

    # the same command again: all skipped, nothing rewritten
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    _, again = _batch(photos, out, RayExecutor(cluster.address, device="cpu"))
    assert (again.done, again.skipped) == (0, PHOTOS)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == mtimes


def test_a_folder_a_node_cannot_see_is_named_before_anything_runs(cluster: LocalCluster, photos: Path,
                                                                    tmp_path: Path) -> None:
    ray = connect(cluster.address)
    try:
        plans = plan_workers(ray.nodes(), "cpu")
        assert len(plans) == 2
        check_shared_paths(ray, plans, [str(p) for p in sorted(photos.iterdir())], [str(tmp_path)])  # fine
        with pytest.raises(ClusterError) as err:
            check_shared_paths(ray, plans, [str(photos / "p000.png"), "/mnt/studio-nas/a.png"], [str(tmp_path)])
    finally:
        ray.shutdown()
    message = str(err.value)
    assert "same paths on every node" in message and "/mnt/studio-nas" in message
    assert all(p.node_id[:8] in message for p in plans)  # each node named


def _cli(*args: object) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}  # with the cluster's client_env
    return subprocess.run([sys.executable, "-m", "app", "run", *map(str, args)], capture_output=True, text=True,
                          timeout=240, env=env)


def test_cli_through_the_ray_client_port_matches_a_local_run(cluster: LocalCluster, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    for i in range(12):
        PILImage.fromarray(rng.integers(0, 256, (80, 112, 3), np.uint8)).save(tmp_path / f"c{i:02d}.jpg", quality=90)
    recipe = ("--op", "exposure:ev=-0.3", "--op", "unsharp:amount=0.5")
    local = _cli(tmp_path, "-o", tmp_path / "local", *recipe)
    assert local.returncode == 0, local.stderr
    remote = _cli(tmp_path, "-o", tmp_path / "ray", *recipe, "--cluster", cluster.client_address)
    assert remote.returncode == 0, remote.stderr
    assert "Traceback" not in remote.stderr
    assert "batch: 12 done, 0 skipped (done earlier), 0 failed" in remote.stdout
    made = {p.name: p.read_bytes() for p in (tmp_path / "ray").glob("*.jpg")}
    assert len(made) == 12 and made == {p.name: p.read_bytes() for p in (tmp_path / "local").glob("*.jpg")}


def test_sigterm_stops_a_cluster_run_cleanly_and_the_same_command_resumes(cluster: LocalCluster,
                                                                          tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    for i in range(60):
        PILImage.fromarray(rng.integers(0, 256, (96, 128, 3), np.uint8)).save(tmp_path / f"s{i:02d}.png")
    out = tmp_path / "out"
    args = [sys.executable, "-m", "app", "run", str(tmp_path), "-o", str(out), "--op", "unsharp", "--format", "png",
            "--cluster", cluster.address]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and len(list(out.glob("*.png"))) >= 5) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "cancelled" in stderr and "Traceback" not in stderr
    done = len(list(out.glob("*.png")))
    assert 5 <= done < 60
    assert [p.name for p in out.iterdir() if ".partial" in p.name] == []
    status = Counter(e["status"] for e in json.loads((out / MANIFEST_NAME).read_text())["jobs"])
    assert status[DONE] == done and sum(status.values()) == 60  # the rest pending: recorded, not lost

    again = subprocess.run(args, capture_output=True, text=True, env=env, timeout=240)
    assert again.returncode == 0, again.stderr
    assert f"batch: {60 - done} done, {done} skipped (done earlier), 0 failed" in again.stdout
    assert len(list(out.glob("*.png"))) == 60
