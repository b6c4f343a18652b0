"""The cluster executor's logic that needs no Ray: addresses, workers per node, the shared-path check and
the retry rule (a photo committed by a lost worker is kept, not written again). The real cluster is in
test_ray_cluster.py (marked ``cluster``)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from app.core.batch import DONE, FAILED, Manifest, plan_batch
from app.core.batch.cluster import ClusterError, check_paths, import_ray, plan_workers, resolve_address, sample_inputs
from app.core.batch.ray_executor import BatchWorker, remove_partials_of
from app.core.pipeline import Step
from app.core.workflow.export import ExportOptions


def _node(node_id: str, cpus: int, gpus: int = 0, alive: bool = True) -> dict:
    res = {"CPU": float(cpus), **({"GPU": float(gpus)} if gpus else {})}
    return {"NodeID": node_id * 8, "Alive": alive, "NodeManagerHostname": f"host-{node_id}", "Resources": res}


def test_one_worker_per_gpu_and_one_per_cpu_node() -> None:
    nodes = [_node("a", 16, 2), _node("b", 8), _node("c", 4, alive=False)]
    plans = plan_workers(nodes, "auto")
    assert [(p.node, p.device, p.num_cpus, p.num_gpus) for p in plans] == [
        ("host-a", "cuda", 8, 1), ("host-a", "cuda", 8, 1), ("host-b", "cpu", 8, 0)]
    assert [(p.node, p.device) for p in plan_workers(nodes, "cuda")] == [("host-a", "cuda")] * 2
    assert [(p.node, p.device, p.num_cpus) for p in plan_workers(nodes, "cpu")] == [
        ("host-a", "cpu", 16), ("host-b", "cpu", 8)]


def test_no_usable_node_is_a_clear_error() -> None:
    with pytest.raises(ClusterError, match="offers a GPU"):
        plan_workers([_node("b", 8)], "cuda")
    with pytest.raises(ClusterError, match="cannot be used with --cluster"):
        plan_workers([_node("b", 8)], "mps")


def test_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_address("local") is None
    assert resolve_address("ray://head:10001") == "ray://head:10001"
    assert resolve_address("10.0.0.5:6379") == "10.0.0.5:6379"
    monkeypatch.setenv("RAY_ADDRESS", "ray://studio:10001")
    assert resolve_address("auto") == "ray://studio:10001"
    monkeypatch.delenv("RAY_ADDRESS")
    with pytest.raises(ClusterError, match="RAY_ADDRESS is not set"):
        resolve_address("auto")
    with pytest.raises(ClusterError, match="expected ray://HOST:PORT"):
        resolve_address("studio")


def test_missing_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ClusterError, match=r"not installed: pip install 'photorestore\[cluster\]'"):
        import_ray()
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # the installers leave Ray out
    with pytest.raises(ClusterError, match="the installed app does not include: use the pip package"):
        import_ray()


def test_path_check_names_what_a_node_cannot_see(tmp_path: Path) -> None:
    photo = tmp_path / "in" / "a.png"
    photo.parent.mkdir()
    photo.write_bytes(b"x")
    out = tmp_path / "out"
    out.mkdir()
    assert check_paths([str(photo)], [str(out)]) == []
    assert list(out.iterdir()) == []  # the probe file is removed
    problems = check_paths([str(photo), "/mnt/not-mounted/b.png"], [str(tmp_path / "missing")])
    assert "cannot read the input folder /mnt/not-mounted" in problems[0]
    assert any("cannot read /mnt/not-mounted/b.png" in p for p in problems)
    assert any(f"cannot write in the output folder {tmp_path / 'missing'}" in p for p in problems)


def test_sample_spreads_over_the_list() -> None:
    paths = [f"p{i}" for i in range(100)]
    sample = sample_inputs(paths, 5)
    assert sample == ["p0", "p25", "p50", "p74", "p99"]
    assert sample_inputs(paths[:3], 5) == paths[:3]


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> BatchWorker:
    monkeypatch.setenv("PHOTORESTORE_THREADS", os.environ.get("PHOTORESTORE_THREADS", "1"))  # restored after
    monkeypatch.setattr("app.core.infer.device.configure_cpu_threads", lambda threads=None: threads)
    return BatchWorker("cpu", 1, "auto")


def test_a_retried_photo_already_committed_is_not_written_again(tmp_path: Path, worker: BatchWorker) -> None:
    src = tmp_path / "a.png"
    PILImage.fromarray(np.random.default_rng(1).integers(0, 255, (40, 56, 3), np.uint8)).save(src)
    out = tmp_path / "out"
    out.mkdir()
    plan = plan_batch([src], out, [Step.make("exposure", ev=0.5)], ExportOptions(), Manifest(out), format_choice="png")
    job = plan.jobs[0]
    handed = time.time()
    first = worker.process(job)  # the lost worker's attempt: committed, then (say) killed before answering
    assert first.status == DONE and first.worker.endswith(":cpu")
    before = os.stat(job.output)
    again = worker.process(job, retry_since=handed)
    assert again.status == DONE and "not written again" in again.messages[0]
    assert again.megapixels == pytest.approx(40 * 56 / 1e6)
    after = os.stat(job.output)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # without the retry mark an existing output is never replaced (the commit refuses): the photo fails
    assert worker.process(job).status == FAILED
    # a file older than the hand-out is not this attempt's result: not taken as done
    assert worker.process(job, retry_since=handed + 3600).status == FAILED


def test_stop_cancels_the_photo_in_hand(tmp_path: Path, worker: BatchWorker) -> None:
    src = tmp_path / "a.png"
    PILImage.fromarray(np.zeros((16, 16, 3), np.uint8)).save(src)
    plan = plan_batch([src], tmp_path, [Step.make("exposure", ev=0.5)], ExportOptions(), Manifest(tmp_path),
                      format_choice="png")
    worker.stop()
    assert isinstance(worker.cancel, threading.Event) and worker.process(plan.jobs[0]).status == "cancelled"
    assert not Path(plan.jobs[0].output).exists()


def test_cli_refuses_jobs_with_cluster_before_writing_anything(tmp_path: Path) -> None:
    PILImage.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "a.png")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]), "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-m", "app", "run", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"),
                          "--op", "exposure", "--cluster", "head:6379", "--jobs", "2"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 2
    assert res.stderr.strip() == ("photorestore: --jobs is for one machine; with --cluster every node gets one "
                                  "worker per device")
    assert not (tmp_path / "out").exists()


def test_partial_files_of_lost_workers_are_removed_and_no_others(tmp_path: Path) -> None:
    names = [".photorestore-4242-0123456789ab.partial.png", ".photorestore-777-0123456789ab.partial.png",
             "p000.png", ".photorestore-4242-notapartial.png"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = remove_partials_of([str(tmp_path)], {4242})
    assert [p.name for p in removed] == [names[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])
    assert remove_partials_of([str(tmp_path)], set()) == []


def test_a_ray_client_server_that_fails_to_start_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.batch import cluster

    calls = []

    class FakeRay:
        def init(self, **kw):
            calls.append(kw["address"])
            if calls.count(kw["address"]) < 3:
                raise ConnectionError("Initialization failure from server: RuntimeError: Starting Ray client "
                                      "server failed. See ray_client_server_23000.err for detailed logs.")

        def shutdown(self):
            calls.append("shutdown")

    monkeypatch.setattr(cluster, "import_ray", FakeRay)
    monkeypatch.setattr(cluster, "CLIENT_RETRY_S", 0.0)
    assert isinstance(cluster.connect("ray://studio:10001"), FakeRay)
    assert calls == ["ray://studio:10001", "shutdown"] * 2 + ["ray://studio:10001"]


def test_a_refused_connection_is_one_clear_error_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.batch import cluster

    calls = []

    class FakeRay:
        def init(self, **kw):
            calls.append(kw["address"])
            raise ConnectionError("Failed to connect to GCS at studio:6379")

    monkeypatch.setattr(cluster, "import_ray", FakeRay)
    with pytest.raises(ClusterError, match="cannot connect to the Ray cluster at studio:6379: Failed to connect"):
        cluster.connect("studio:6379")
    assert calls == ["studio:6379"]
