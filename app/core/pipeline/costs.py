"""Measured cost of each op on this machine: seconds per megapixel per (op, weights, device, threads).

The op cards' "s/MP" and preview times come from here, not from constants: every pipeline run records how
long each op's stages took on how many pixels, and the figure shown is the running average of those
measurements (the first run of an op in a process is its warm-up -- model load and weight check -- and is
not recorded). The key includes the weights' sha256, so new weights start unmeasured again. Until an op
has been measured here the card shows the op's shipped figure, labelled "estimated".

The book is a small JSON file in the user's cache (``$PHOTORESTORE_COST_BOOK`` overrides the path), written
atomically; a missing or unreadable file is an empty book.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from app.core.fsutil import atomic_write

#: weight of a new measurement in the running average (recent runs count most; load changes).
_ALPHA = 0.5
#: measurements on fewer pixels than this carry too much fixed overhead to extrapolate from.
MIN_MP = 0.05


def book_path() -> Path:
    env = os.environ.get("PHOTORESTORE_COST_BOOK")
    return Path(env) if env else Path.home() / ".cache" / "photorestore" / "costs.json"


@dataclass(frozen=True)
class Cost:
    """Seconds per megapixel and where the figure comes from: "measured" here or "estimated" (shipped)."""

    s_per_mp: float
    source: str
    runs: int = 0


class CostBook:
    """Thread-safe store of measured costs (the GUI records from its worker thread and reads from the UI)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or book_path()
        self._lock = threading.Lock()
        self._warm: set[str] = set()
        try:
            self._data: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._data = {}

    def record(self, key: str, megapixels: float, seconds: float) -> None:
        """One run of ``key``'s op on ``megapixels`` took ``seconds`` (the first per process is a warm-up)."""
        if key not in self._warm:
            self._warm.add(key)
            return
        if megapixels < MIN_MP or seconds <= 0:
            return
        with self._lock:
            rate = seconds / megapixels
            old = self._data.get(key)
            runs = old["runs"] + 1 if old else 1
            value = rate if not old else (1 - _ALPHA) * old["s_per_mp"] + _ALPHA * rate
            self._data[key] = {"s_per_mp": value, "runs": runs}
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # No fsync: this runs after every render on the worker thread, and a lost cache costs nothing.
                atomic_write(self.path, json.dumps(self._data, indent=1, sort_keys=True), fsync=False)
            except OSError:
                pass  # a read-only cache costs only the persistence

    def get(self, key: str) -> dict | None:
        with self._lock:
            return self._data.get(key)


_book: CostBook | None = None


def cost_book() -> CostBook:
    """The process's book (created on first use)."""
    global _book
    if _book is None:
        _book = CostBook()
    return _book


def weights_tokens(op, params: object) -> list[str]:  # noqa: ANN001 - an Op
    """``model_id:sha256`` of every model ``op`` runs with ``params`` (stage-cache and cost keys)."""
    ids = op.model_ids(params)
    if not ids:
        return []
    from app.core.models.registry import weights_sha256

    return [f"{mid}:{weights_sha256(mid)}" for mid in ids]


def cost_key(op_id: str, weights: list[str], device: str, threads: int | None = None) -> str:
    """``op|weights|device|threads``: a figure is only reused where it was measured."""
    if threads is None:
        threads = os.cpu_count() or 1
        try:
            import sys

            if "torch" in sys.modules:
                threads = sys.modules["torch"].get_num_threads()
        except Exception:  # noqa: BLE001 - the thread count only refines the key
            pass
    return f"{op_id}|{','.join(weights)}|{device}|{threads}"


def op_cost(op, params, device: str = "cpu") -> Cost | None:  # noqa: ANN001 - Op / Params (no import cycle)
    """What the card shows for ``op`` with ``params``: measured here if it has been, else the shipped figure."""
    try:
        key = cost_key(op.id, weights_tokens(op, params), device)
    except Exception:  # noqa: BLE001 - e.g. a missing model: no measurement can exist for it
        key = None
    found = cost_book().get(key) if key else None
    if found:
        return Cost(found["s_per_mp"], "measured", found["runs"])
    if op.cost_s_per_mp is None:
        return None
    return Cost(op.cost_s_per_mp, "estimated")
