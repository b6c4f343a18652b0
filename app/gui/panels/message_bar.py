"""A non-modal message banner over the top of the photo (errors stay until dismissed).

It floats over the photo (:meth:`MessageBar.float_over`) instead of taking a row of the layout, so
showing or hiding a message never moves the image.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class MessageBar(QWidget):
    """Shows one message at a time; ``level`` is "error" or "info" (info hides itself)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the theme's background, as an overlay
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setObjectName("messageText")
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.level = ""
        self.source = ""
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str, level: str = "info", timeout_ms: int = 6000, source: str = "") -> None:
        """Show ``text``; ``source`` names its cause (e.g. "preview") so :meth:`clear` can retract it."""
        self.level, self.source = level, source
        self.label.setText(text)
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self._place()
        self.show()
        self.raise_()
        if level == "error":
            self._timer.stop()
        else:
            self._timer.start(timeout_ms)

    def clear(self, source: str) -> None:
        """Hide the banner if ``source`` put it there: its cause has gone (the preview renders again)."""
        if self.source == source and self.isVisible():
            self.hide()

    def float_over(self, host: QWidget) -> None:
        """Lie over the top edge of ``host`` (full width), outside its layout."""
        self.setParent(host)
        host.installEventFilter(self)
        self._place()

    def _place(self) -> None:
        host = self.parentWidget()
        if host is not None:
            w = host.width()
            h = self.layout().heightForWidth(w) if self.layout().hasHeightForWidth() else self.sizeHint().height()
            self.setGeometry(0, 0, w, max(h, self.sizeHint().height()))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._place()
        return False
