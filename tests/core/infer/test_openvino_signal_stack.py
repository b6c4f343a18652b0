"""Regression test for issue 23's whole-suite segfault with OpenVINO as the CPU default.

Each ``openvino.Core`` loads its own CPU plugin, which swaps the loading thread's alternate signal stack for
a buffer of its own and puts back the one it found when it is destroyed. With one Core per model, models
dropped by the cache in creation order left the main thread's signal stack pointing at freed memory, and the
next signal handled on it (Python's handlers use ``SA_ONSTACK``; here a SIGCHLD handler like the one a torch
DataLoader with workers installs) killed the process with SIGSEGV and no traceback. The runners now share one
process-lifetime Core (:func:`app.core.infer.backends.openvino_core`).

The check runs in a child process: on a regression it dies with SIGSEGV, which must not take pytest with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.core.infer.backends import backend_available

pytestmark = pytest.mark.skipif(not backend_available("openvino"), reason="OpenVINO not installed")
REPO = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent("""
    import ctypes, faulthandler, gc, io, signal, subprocess
    import numpy as np, torch
    from app.core.infer.backends import OpenVinoRunner

    class Stack(ctypes.Structure):
        _fields_ = [("sp", ctypes.c_void_p), ("flags", ctypes.c_int), ("size", ctypes.c_size_t)]

    def alt_stack_mapped():
        s = Stack()
        assert ctypes.CDLL(None).sigaltstack(None, ctypes.byref(s)) == 0
        if not s.sp or s.flags & 2:  # none, or SS_DISABLE
            return True
        for line in open("/proc/self/maps"):
            lo, hi = (int(v, 16) for v in line.split()[0].split("-"))
            if lo <= s.sp < hi:
                return True
        return False

    faulthandler.enable()  # as under pytest: the main thread starts with Python's own alternate stack
    def onnx(cout):
        buf = io.BytesIO()
        torch.onnx.export(torch.nn.Conv2d(3, cout, 3, padding=1), (torch.rand(1, 3, 16, 16),), buf, dynamo=False)
        return buf.getvalue()
    runners = [OpenVinoRunner(onnx(c), 1) for c in (3, 4, 5)]
    for runner in runners:
        runner(torch.rand(1, 3, 16, 16))
    del runner  # the cache's list is the only reference left
    while runners:  # dropped in creation order, as the model cache drops them
        del runners[0]
        gc.collect()
    assert alt_stack_mapped(), "the main thread's alternate signal stack points at freed memory"
    signal.signal(signal.SIGCHLD, lambda *_: None)  # handled on the alternate stack (SA_ONSTACK)
    for _ in range(3):
        subprocess.run(["true"], check=True)
    print("survived")
""")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/maps")
def test_runners_dropped_in_any_order_leave_a_valid_signal_stack():
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=REPO,
                         timeout=300)
    assert res.returncode == 0 and "survived" in res.stdout, (res.returncode, res.stderr[-2000:])
