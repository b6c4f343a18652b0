"""Named presets: recipe JSON files in the user's data folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.core.pipeline import Recipe, RecipeError


def default_presets_dir() -> Path:
    """``$PHOTORESTORE_SETTINGS``'s folder/presets in tests, else the platform data folder."""
    custom = os.environ.get("PHOTORESTORE_SETTINGS")
    if custom:
        return Path(custom).parent / "presets"
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".photorestore") / "presets"


def _file_name(name: str) -> str:
    safe = re.sub(r"[^\w\- ]+", "_", name).strip() or "preset"
    return f"{safe}.json"


class Presets:
    """A folder of recipe files, one per preset.

    Args:
        folder: where presets live (created on first save).
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder else default_presets_dir()

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted((p.stem for p in self.folder.glob("*.json")), key=str.lower)

    def path(self, name: str) -> Path:
        return self.folder / _file_name(name)

    def save(self, name: str, recipe: Recipe) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        recipe.name = name
        return recipe.save(self.path(name))

    def load(self, name: str) -> Recipe:
        path = self.path(name)
        if not path.is_file():
            raise RecipeError(f"no preset named {name!r}")
        return Recipe.load(path)

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
