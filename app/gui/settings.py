"""Persistent user settings (``QSettings``): last folder, device, window layout, recent files.

Set ``PHOTORESTORE_SETTINGS=/path/file.ini`` to keep settings in one INI file (tests do this so
they never read or write the user's real settings).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "PhotoRestore"
APPLICATION = "PhotoRestore"
MAX_RECENT = 10
DEVICES = ("auto", "cpu", "cuda")
BACKENDS = ("auto", "torch", "openvino", "onnxruntime")  # = app.core.infer.backends.BACKEND_CHOICES (no torch here)


class Settings:
    """Typed accessors over ``QSettings``.

    Args:
        path: INI file to use instead of the platform default (also read from ``PHOTORESTORE_SETTINGS``).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        path = path or os.environ.get("PHOTORESTORE_SETTINGS")
        if path:
            self._qs = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._qs = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                 ORGANIZATION, APPLICATION)

    @property
    def file_name(self) -> str:
        return self._qs.fileName()

    def sync(self) -> None:
        self._qs.sync()

    # -- folders and files --------------------------------------------------------------------
    @property
    def last_folder(self) -> str:
        folder = str(self._qs.value("paths/last_folder", "") or "")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    @last_folder.setter
    def last_folder(self, folder: str) -> None:
        self._qs.setValue("paths/last_folder", str(folder))

    def recent_files(self) -> list[str]:
        value = self._qs.value("paths/recent", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or []) if v]

    def add_recent(self, path: str) -> list[str]:
        """Move ``path`` to the top of the recent list; returns the new list."""
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self._qs.setValue("paths/recent", files)
        self.last_folder = str(Path(path).parent)
        return files

    def clear_recent(self) -> None:
        self._qs.setValue("paths/recent", [])

    # -- processing ---------------------------------------------------------------------------
    @property
    def device(self) -> str:
        value = str(self._qs.value("processing/device", "auto"))
        return value if value in DEVICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self._qs.setValue("processing/device", value if value in DEVICES else "auto")

    @property
    def backend(self) -> str:
        """The CPU inference runtime chosen in the device menu (app/core/infer/backends.py)."""
        value = str(self._qs.value("processing/backend", "auto"))
        return value if value in BACKENDS else "auto"

    @backend.setter
    def backend(self, value: str) -> None:
        self._qs.setValue("processing/backend", value if value in BACKENDS else "auto")

    @property
    def export_format(self) -> str:
        return str(self._qs.value("export/format", "jpg"))

    @export_format.setter
    def export_format(self, value: str) -> None:
        self._qs.setValue("export/format", value)

    @property
    def export_quality(self) -> int:
        try:
            return int(self._qs.value("export/quality", 92))
        except (TypeError, ValueError):
            return 92

    @export_quality.setter
    def export_quality(self, value: int) -> None:
        self._qs.setValue("export/quality", int(value))

    @property
    def export_keep_metadata(self) -> bool:
        return str(self._qs.value("export/keep_metadata", "true")).lower() in ("true", "1")

    @export_keep_metadata.setter
    def export_keep_metadata(self, value: bool) -> None:
        self._qs.setValue("export/keep_metadata", bool(value))

    @property
    def export_folder(self) -> str:
        return str(self._qs.value("export/folder", "") or "")

    @export_folder.setter
    def export_folder(self, folder: str) -> None:
        self._qs.setValue("export/folder", str(folder))

    # -- window layout ------------------------------------------------------------------------
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geo = self._qs.value("window/geometry")
        state = self._qs.value("window/state")
        return (geo if isinstance(geo, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)

    def value(self, key: str, default: object = None) -> object:
        return self._qs.value(key, default)

    def set_value(self, key: str, value: object) -> None:
        self._qs.setValue(key, value)
