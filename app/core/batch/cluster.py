"""Ray, the parts before any photo runs: which cluster, which workers on which node, and the shared paths.

Ray is an optional extra (``pip install 'photorestore[cluster]'``) and is imported only here and in
:mod:`.ray_executor`, when ``--cluster`` is used. ``--cluster`` takes:

* ``ray://HOST:PORT`` -- the Ray Client port of a cluster's head (10001 by default);
* ``HOST:PORT`` -- the head's GCS address, from a machine that is itself a node of the cluster;
* ``auto`` -- the address in ``RAY_ADDRESS``;
* ``local`` -- a Ray instance started for this run on this machine (one node: for trying it out).

One worker (a Ray actor) per device: one per GPU on nodes with GPUs (``num_gpus=1``), one per node on
CPU-only nodes, using all of that node's CPUs (``num_cpus=k``: one process with k threads uses a CPU better
than k processes with one thread each, and holds one copy of the models).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RAY_MISSING = "--cluster needs Ray, which is not installed: pip install 'photorestore[cluster]'"
RAY_NOT_FROZEN = ("--cluster needs Ray, which the installed app does not include: use the pip package, "
                  "pip install 'photorestore[cluster]' (docs/batch.md)")
#: how many input files the start-up check opens on every node (spread over the list; every folder is listed)
SAMPLE_FILES = 16


class ClusterError(RuntimeError):
    """The cluster cannot run this batch (no Ray, no address, a node without the shared folders...)."""


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`ClusterError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ClusterError(RAY_NOT_FROZEN if getattr(sys, "frozen", False) else RAY_MISSING) from None
    return ray


def resolve_address(cluster: str) -> str | None:
    """``--cluster``'s value -> the address for ``ray.init`` (None: start a local instance)."""
    value = (cluster or "").strip()
    if value == "local":
        return None
    if value == "auto":
        env = os.environ.get("RAY_ADDRESS", "").strip()
        if not env:
            raise ClusterError("--cluster auto: RAY_ADDRESS is not set (give ray://HOST:PORT or HOST:PORT)")
        return env
    if ":" not in value:
        raise ClusterError(f"--cluster {value!r}: expected ray://HOST:PORT, HOST:PORT, auto or local")
    return value


#: Ray Client: the head's message when the per-connection server process did not start (transient)
CLIENT_SERVER_FAILED = "Starting Ray client server failed"
CLIENT_ATTEMPTS = 3
CLIENT_RETRY_S = 2.0


def connect(cluster: str) -> Any:
    """Connect this process to the cluster (or start the local instance); returns the ``ray`` module."""
    ray = import_ray()
    address = resolve_address(cluster)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no telemetry from a photo app
    if address is None and not os.environ.get("RAY_AUTH_TOKEN"):
        # Ray secures a new local instance with a token it saves in ~/.ray/auth_token, and every later
        # `ray start` on the machine then expects that token. An instance that lives for one run gets a token
        # in this process's environment instead (inherited by its nodes): nothing left behind.
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    main = threading.current_thread() is threading.main_thread()
    sigterm = signal.getsignal(signal.SIGTERM) if main else None
    try:
        for attempt in range(CLIENT_ATTEMPTS):
            try:
                if address is None:
                    ray.init(include_dashboard=False, logging_level="WARNING", log_to_driver=False)
                else:
                    ray.init(address=address, logging_level="WARNING", log_to_driver=False)
                break
            except Exception as exc:  # noqa: BLE001 - ConnectionError, grpc errors, a missing ray[client]: one line
                if CLIENT_SERVER_FAILED not in str(exc) or attempt == CLIENT_ATTEMPTS - 1:
                    raise ClusterError(f"cannot connect to the Ray cluster at {address or 'local'}: {exc}") from exc
                # the head starts a server process per Ray Client connection; on a busy head that start
                # can fail once (seen in the cluster tests at load ~10): a new connection gets a new one
                with contextlib.suppress(Exception):
                    ray.shutdown()
                time.sleep(CLIENT_RETRY_S * (attempt + 1))
    finally:
        if main and sigterm is not None:
            # ray.init makes SIGTERM exit at once; `run` handles it like Ctrl-C (photos in hand end cleanly)
            signal.signal(signal.SIGTERM, sigterm)
    return ray


@dataclass(frozen=True)
class WorkerPlan:
    """One actor: where it goes and what it asks Ray for."""

    node_id: str
    node: str  # host name / IP, for messages
    device: str  # the torch device inside the actor ("cuda" = the GPU Ray gave it)
    num_cpus: int
    num_gpus: int

    @property
    def label(self) -> str:
        return f"{self.node}:{self.device}"


def plan_workers(nodes: Sequence[dict[str, Any]], device: str = "auto") -> list[WorkerPlan]:
    """Actors for the live ``nodes`` (``ray.nodes()`` entries) on ``device`` ("auto", "cpu" or "cuda").

    ``cuda`` uses only nodes with GPUs; ``cpu`` only CPUs (a GPU node gets one CPU actor); ``auto`` both.
    """
    dev = (device or "auto").split(":")[0].lower()
    if dev not in ("auto", "cpu", "cuda"):
        raise ClusterError(f"--device {device!r} cannot be used with --cluster (auto, cpu or cuda)")
    plans: list[WorkerPlan] = []
    for n in nodes:
        if not n.get("Alive", True):
            continue
        res = n.get("Resources", {})
        cpus, gpus = int(res.get("CPU", 0)), int(res.get("GPU", 0))
        name = n.get("NodeManagerHostname") or n.get("NodeManagerAddress") or n["NodeID"][:8]
        if gpus and dev != "cpu":
            per_gpu = max(1, cpus // gpus) if cpus else 0
            plans += [WorkerPlan(n["NodeID"], name, "cuda", per_gpu, 1) for _ in range(gpus)]
        elif cpus and dev != "cuda":
            plans.append(WorkerPlan(n["NodeID"], name, "cpu", cpus, 0))
    if not plans:
        what = "a GPU" if dev == "cuda" else "a CPU"
        raise ClusterError(f"no node of the Ray cluster offers {what} to run on")
    return plans


def sample_inputs(paths: Sequence[str], n: int = SAMPLE_FILES) -> list[str]:
    """Up to ``n`` paths spread over ``paths`` (the first and the last included)."""
    if len(paths) <= n:
        return list(paths)
    step = (len(paths) - 1) / (n - 1)
    return [paths[round(i * step)] for i in range(n)]


def check_paths(inputs: Sequence[str], outdirs: Sequence[str]) -> list[str]:
    """Run on a node: can it read the inputs and write in ``outdirs``? Returns the problems (empty: fine).

    Every input folder must be listable and a sample of the files readable (a share that is not mounted
    usually misses whole folders); a probe file is created and removed in each output folder.
    """
    problems: list[str] = []
    for folder in sorted({str(Path(p).parent) for p in inputs}):
        if not os.path.isdir(folder) or not os.access(folder, os.R_OK | os.X_OK):
            problems.append(f"cannot read the input folder {folder}")
    for path in sample_inputs(inputs):
        try:
            with open(path, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            problems.append(f"cannot read {path}: {exc.strerror or exc}")
    for outdir in outdirs:
        probe = Path(outdir, f".photorestore-probe-{os.uname().nodename}-{os.getpid()}")
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            problems.append(f"cannot write in the output folder {outdir}: {exc.strerror or exc}")
    return problems


def last_line(exc: BaseException) -> str:
    """A remote exception's own message (Ray prefixes the remote traceback, with colour codes)."""
    lines = [ln for ln in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines() if ln.strip()]
    return (lines[-1].strip() if lines else type(exc).__name__)[:300]


def check_shared_paths(ray: Any, plans: Sequence[WorkerPlan], inputs: Sequence[str],
                       outdirs: Sequence[str]) -> None:
    """Run :func:`check_paths` on every node that gets a worker; :class:`ClusterError` naming the nodes
    that cannot see the shared folders (checked before anything is written)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    task = ray.remote(check_paths)
    nodes = {p.node_id: p.node for p in plans}
    refs = {node_id: task.options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False))
            .remote(list(inputs), list(outdirs)) for node_id in nodes}
    bad = []
    for node_id, ref in refs.items():
        try:
            problems = ray.get(ref, timeout=120)
        except Exception as exc:  # noqa: BLE001 - a node that cannot even import photorestore says so here
            problems = [f"the check could not run there ({last_line(exc)})"]
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            bad.append(f"node {nodes[node_id]} ({node_id[:8]}): {problems[0]}{more}")
    if bad:
        raise ClusterError("the inputs and the output folder must be at the same paths on every node "
                           "(a shared NFS/SMB mount): " + "; ".join(bad))
