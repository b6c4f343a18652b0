"""The desktop GUI (the only package that imports PySide6).

``app.gui.qt_compat`` runs first: it protects the interpreter from a reference-counting bug of
some PySide6 builds before any widget is created.
"""

from app.gui import qt_compat as _qt_compat  # noqa: F401 - imported for its side effect
