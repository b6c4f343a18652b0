"""Work-around for a Qt-binding reference-counting bug, detected at run time.

PySide6-Essentials 6.12.0 (abi3 wheel) on CPython 3.11 returns ``None`` from every void method
and ``True`` from ``Signal.emit`` *without* taking a reference. Each call therefore drops one
reference to the singleton, and after a few thousand calls (seconds of painting, a few hundred
emits) the interpreter aborts with "none_dealloc: deallocating None" or "bool_dealloc". CPython
3.12+ is immune because these singletons are immortal there.

:func:`protect_singletons` measures whether the installed binding loses references and, only if
it does, gives ``None``, ``True`` and ``False`` a reference count so large that no run can
exhaust it -- what CPython 3.12 does for every interpreter. They are static objects that are
never freed, so the only visible effect is in ``sys.getrefcount``. Imported by ``app.gui``
before any widget exists.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger("photorestore.gui")

#: reserve added to each singleton's reference count (~10^12 calls).
_RESERVE = 1 << 40
_protected = False


def _refcount_lost(fn: object, obj: object, n: int = 64) -> bool:
    before = sys.getrefcount(obj)
    for _ in range(n):
        fn()  # type: ignore[operator]
    return before - sys.getrefcount(obj) >= n


def binding_loses_references() -> bool:
    """True if this PySide6 build drops references to ``None`` (void calls) or ``True`` (emit)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        pinged = Signal()

    probe = _Probe()
    lost_none = _refcount_lost(lambda: probe.setObjectName("probe"), None)
    lost_true = _refcount_lost(probe.pinged.emit, True)
    return lost_none or lost_true


def protect_singletons() -> bool:
    """Apply the work-around if needed (idempotent). Returns True when it was applied."""
    global _protected
    if _protected or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _protected
    if not binding_loses_references():
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every PyObject in a release build of CPython 3.11.
        ctypes.c_ssize_t.from_address(id(obj)).value += _RESERVE
    _protected = True
    import PySide6

    log.info("PySide6 %s loses references to None/True on this Python; singletons protected",
             PySide6.__version__)
    return True


protect_singletons()
