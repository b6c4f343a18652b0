"""Status-bar job display: what runs, per-tile progress, time remaining, and Cancel."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.gui.workers import Job


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return "< 1 s left"
    if seconds < 90:
        return f"{seconds:.0f} s left"
    return f"{seconds / 60:.0f} min left"


class JobBar(QWidget):
    """Shows the most recently started job that is still running; Cancel cancels it.

    Quick jobs (interactive preview renders) only show once they run longer than ``show_after_ms``,
    so dragging a slider does not make the bar flicker.

    Signals:
        cancelled_by_user(str): a job the user cancelled (Cancel / Esc) has stopped; its name.
    """

    cancelled_by_user = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, show_after_ms: int = 250) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setObjectName("jobLabel")
        self.label.setMinimumWidth(220)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(200)
        self.bar.setTextVisible(False)
        self.eta = QLabel()
        self.eta.setObjectName("dimLabel")
        self.eta.setMinimumWidth(80)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setToolTip("Stop the running job (Esc)")
        self.cancel_button.clicked.connect(self.cancel_current)
        for w in (self.label, self.bar, self.eta, self.cancel_button):
            lay.addWidget(w)
        self._jobs: list[Job] = []
        self._show_after_ms = show_after_ms
        self._tick = QTimer(self)
        self._tick.setInterval(200)
        self._tick.timeout.connect(self._refresh)
        self.setVisible(False)

    @property
    def current(self) -> Job | None:
        return self._jobs[-1] if self._jobs else None

    def track(self, job: Job) -> None:
        """Follow ``job`` until it finishes."""
        if job.done or job in self._jobs:
            return
        self._jobs.append(job)
        job.progressed.connect(lambda *_: self._refresh())
        job.finished.connect(lambda j=job: self._drop(j))
        self._tick.start()
        self._refresh()

    def cancel_current(self) -> None:
        job = self.current
        if job is not None:
            job.cancelled.connect(lambda name=job.name: self.cancelled_by_user.emit(name))
            job.cancel()
            self.label.setText(f"{job.name}: cancelling…")

    def _drop(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        self._refresh()

    def _refresh(self) -> None:
        job = self.current
        if job is None:
            self._tick.stop()
            self.setVisible(False)
            return
        if job.state == "pending" or job.elapsed * 1000 < self._show_after_ms:
            return
        self.setVisible(True)
        text = f"{job.name}: {job.text}" if job.text else job.name
        self.label.setText(text if not job.cancel_event.is_set() else f"{job.name}: cancelling…")
        self.bar.setValue(round(job.fraction * 1000))
        self.eta.setText(format_eta(job.eta()))
