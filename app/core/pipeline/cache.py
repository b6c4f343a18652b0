"""Per-stage result cache keyed by a hash chain, with hit/miss counters.

A stage's key is ``hash(previous key, op id, op version, stage name, the params it reads,
weight hashes)``, so changing a parameter of stage k leaves every earlier key (and cached
result) valid. Entries are evicted least-recently-used under a byte budget; results larger
than half the budget are not stored at all (a full-resolution 100-MP intermediate would
otherwise push out every interactive preview result).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter, OrderedDict
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

from app.core.image import Image


def chain_key(previous: str, *parts: Any) -> str:
    h = hashlib.blake2b(previous.encode(), digest_size=16)
    for p in parts:
        h.update(b"\x00")
        h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()


def params_subset(params: Any, names: tuple[str, ...] | None) -> dict[str, Any]:
    if params is None or not is_dataclass(params):
        return {}
    return {f.name: getattr(params, f.name) for f in fields(params) if names is None or f.name in names}


def estimate_nbytes(value: Any) -> int:
    if isinstance(value, Image):
        return int(value.data.nbytes)
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, dict):
        return sum(estimate_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(estimate_nbytes(v) for v in value)
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return int(value.element_size() * value.nelement())
    except ImportError:  # pragma: no cover
        pass
    return 64


class StageCache:
    """Thread-safe LRU cache of stage results with per-stage hit/miss counters.

    Args:
        max_bytes: memory budget for stored results.
    """

    def __init__(self, max_bytes: int = 1_500_000_000) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()

    def get(self, key: str, label: str) -> tuple[bool, Any]:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses[label] += 1
                return False, None
            self._items.move_to_end(key)
            self.hits[label] += 1
            return True, item[0]

    def put(self, key: str, value: Any) -> bool:
        size = estimate_nbytes(value)
        if size > self.max_bytes // 2:
            return False
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _, (_, old) = self._items.popitem(last=False)
                self._bytes -= old
        return True

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    @property
    def nbytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def reset_counters(self) -> None:
        self.hits.clear()
        self.misses.clear()

    def ran(self) -> list[str]:
        """Stage labels computed (missed) since the last ``reset_counters``: what actually ran."""
        return sorted(k for k, v in self.misses.items() if v)
