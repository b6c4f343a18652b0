"""A real multi-node Ray cluster on this one machine: a head node and more node processes joining it.

For the cluster tests, ``bench/batch_scale.py`` and for trying ``--cluster`` before a studio's machines are
set up. Each node is a ``ray start --block`` process (so the nodes are separate raylets with their own
worker processes, as on separate machines); ports are free ones picked here and Ray's files go to a private
temporary folder, so a second cluster on the machine (another test session, a user's own) is not touched.
Stopping terminates the ``ray start`` processes this object started, by pid (``--block`` makes each stop the
processes of its node); ``ray stop`` is never used because it stops every Ray process on the machine.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

READY_TEXT = "Ray runtime started"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node_ip() -> str:
    """The address Ray gives this machine's nodes (its Ray Client server answers there, not on 127.0.0.1)."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


class LocalCluster:
    """``nodes`` Ray nodes on this machine, ``cpus`` CPUs each (a context manager). A driver connecting to
    it (the coordinator of a batch) needs :attr:`client_env` in its environment.

    Args:
        nodes: 1 = head only; 2 = head + one more node, ...
        cpus: ``--num-cpus`` of each node (what Ray schedules by, not a limit on the processes).
        env: extra environment for the node processes (and so their workers), e.g. ``PYTHONPATH``.
        timeout: seconds to wait for each node to start.
    """

    def __init__(self, nodes: int = 2, cpus: int = 1, *, env: dict[str, str] | None = None,
                 timeout: float = 90.0) -> None:
        if nodes < 1:
            raise ValueError("a cluster needs at least the head node")
        self.nodes, self.cpus, self.timeout = nodes, cpus, timeout
        # Ray's token authentication with a token of this cluster's own, given to the nodes and (client_env)
        # to the drivers in the environment: ~/.ray/auth_token is neither read nor written (Ray makes that
        # file for a new local instance and every later `ray start` on the machine then expects it)
        # (Ray reads the mode once per process, when it is first imported: a driver that imported ray before
        # setting client_env must have set a token already -- it is reused here)
        token = os.environ.get("RAY_AUTH_TOKEN") or secrets.token_hex(32)
        self.client_env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token, "RAY_USAGE_STATS_ENABLED": "0"}
        self.env = {**os.environ, **self.client_env, **(env or {})}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.port = self.client_port = 0
        self.host = _node_ip()
        # Ray puts unix sockets under it: keep the path short (the socket path limit is ~107 bytes)
        self.temp_dir = tempfile.mkdtemp(prefix="pr-ray-", dir="/tmp" if os.path.isdir("/tmp") else None)

    @property
    def address(self) -> str:
        """What ``--cluster`` / ``RAY_ADDRESS`` takes to reach this cluster from this machine."""
        return f"{self.host}:{self.port}"

    @property
    def client_address(self) -> str:
        """The head's Ray Client address (``ray://``), as a machine outside the cluster would use it."""
        return f"ray://{self.host}:{self.client_port}"

    def _start_node(self, args: list[str]) -> None:
        log = Path(self.temp_dir, f"node{len(self.procs)}.log")
        common = [f"--num-cpus={self.cpus}", "--num-gpus=0", "--disable-usage-stats", "--block",
                  f"--dashboard-agent-listen-port={_free_port()}", f"--dashboard-agent-grpc-port={_free_port()}",
                  f"--runtime-env-agent-port={_free_port()}", f"--metrics-export-port={_free_port()}"]
        with open(log, "wb") as fh:
            proc = subprocess.Popen([shutil.which("ray") or "ray", "start", *args, *common], stdout=fh,
                                    stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        self.procs.append(proc)
        self.logs.append(log)
        deadline = time.monotonic() + self.timeout
        while READY_TEXT not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"ray node {len(self.procs) - 1} did not start:\n{text}")
            time.sleep(0.3)

    def start(self) -> LocalCluster:
        """Start the head, then the other nodes; returns when each reported itself started."""
        self.port, self.client_port = _free_port(), _free_port()
        self._start_node(["--head", f"--port={self.port}", "--include-dashboard=false",
                          f"--ray-client-server-port={self.client_port}", f"--temp-dir={self.temp_dir}"])
        for _ in range(self.nodes - 1):
            self._start_node([f"--address={self.address}"])
        return self

    def node_pids(self, index: int) -> list[int]:
        """The processes of node ``index`` (its ``ray start``, raylet, workers...): for tests that kill one."""
        import psutil

        try:
            root = psutil.Process(self.procs[index].pid)
            return [root.pid] + [p.pid for p in root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        """Terminate the node processes (last joined first), wait for them, remove the temporary folder."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()  # --block: stops its raylet, workers (and on the head the GCS) first
        for proc in reversed(self.procs):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, 9)  # its own session (start_new_session): only this node's processes
                proc.wait(10)
        self.procs.clear()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
