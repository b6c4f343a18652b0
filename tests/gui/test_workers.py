"""The Worker: signals in the GUI thread, supersede, cancel latency, failures, a live event loop."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread, QTimer

from app.core.context import RunContext
from app.gui.workers import Worker


@pytest.fixture
def worker():
    w = Worker("test")
    yield w
    assert w.shutdown(3000)


def _slow(seconds: float):
    def fn(ctx: RunContext) -> str:
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            ctx.check_cancelled()
            time.sleep(0.01)
            i += 1
            ctx.progress(1 - (end - time.monotonic()) / seconds, f"step {i}")
        return "done"
    return fn


def test_result_progress_and_finished_arrive_in_gui_thread(qtbot, worker):
    seen: dict[str, object] = {}
    gui = QThread.currentThread()

    def fn(ctx: RunContext) -> int:
        seen["worker_thread"] = threading.current_thread().name
        for i in range(5):
            ctx.progress((i + 1) / 5, f"tile {i + 1}/5")
            time.sleep(0.04)
        return 42

    job = worker.submit(fn, name="answer")
    progress: list[float] = []
    results: list[object] = []
    job.progressed.connect(lambda f, t: (progress.append(f), seen.setdefault("gui", QThread.currentThread())))
    job.resulted.connect(results.append)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert results == [42]
    assert job.state == "done" and job.result == 42
    assert progress and progress[-1] == pytest.approx(1.0)
    assert seen["gui"] is gui
    assert seen["worker_thread"] != threading.main_thread().name


def test_failure_becomes_one_line_message(qtbot, worker):
    def boom(ctx: RunContext) -> None:
        raise ValueError("bad pixels\nsecond line with details")

    job = worker.submit(boom)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        pass
    assert blocker.args == ["bad pixels"]
    qtbot.waitUntil(lambda: job.done)
    assert job.state == "failed"


def test_cancel_takes_effect_within_a_second(qtbot, worker):
    job = worker.submit(_slow(10.0), name="slow")
    qtbot.waitUntil(lambda: job.state == "running" and job.fraction > 0, timeout=5000)
    t0 = time.perf_counter()
    with qtbot.waitSignals([job.cancelled, job.finished], timeout=1000):
        job.cancel()
    latency = time.perf_counter() - t0
    assert job.state == "cancelled"
    assert latency < 1.0, f"cancel took {latency:.2f} s"


def test_new_request_supersedes_pending_and_cancels_running(qtbot, worker):
    first = worker.submit(_slow(10.0), group="preview")
    qtbot.waitUntil(lambda: first.state == "running", timeout=5000)
    second = worker.submit(_slow(10.0), group="preview")
    third = worker.submit(lambda ctx: "latest", group="preview")
    other = worker.submit(lambda ctx: "other group", group="export", supersede=False)
    with qtbot.waitSignal(third.resulted, timeout=5000):
        pass
    assert first.state == "cancelled"
    assert second.state == "cancelled"  # dropped while pending, never ran
    assert second.started_at is None
    qtbot.waitUntil(lambda: other.done, timeout=5000)
    assert other.result == "other group"


def test_higher_priority_jumps_the_queue(qtbot, worker):
    order: list[str] = []
    blocker = worker.submit(_slow(0.3), group="a")
    low = [worker.submit(lambda ctx, i=i: order.append(f"batch{i}"), group="batch", supersede=False)
           for i in range(3)]
    high = worker.submit(lambda ctx: order.append("preview"), group="preview", priority=10)
    qtbot.waitUntil(lambda: all(j.done for j in [blocker, *low, high]), timeout=5000)
    assert order[0] == "preview"


def test_event_loop_keeps_turning_while_a_job_runs(qtbot, worker):
    ticks = [0]
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    job = worker.submit(_slow(1.0))
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    timer.stop()
    assert ticks[0] >= 15, f"only {ticks[0]} timer ticks in 1 s of background work"


def test_shutdown_cancels_and_stops_thread(qtbot):
    w = Worker("shutdown")
    job = w.submit(_slow(10.0))
    qtbot.waitUntil(lambda: job.state == "running", timeout=5000)
    t0 = time.perf_counter()
    assert w.shutdown(3000)
    assert time.perf_counter() - t0 < 1.0
    assert not w.thread.isRunning()
    with pytest.raises(RuntimeError):
        w.submit(lambda ctx: None)
