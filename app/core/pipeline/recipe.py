"""Recipes: an ordered list of (op, params) saved as a versioned JSON sidecar."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import __version__
from app.core.fsutil import atomic_write
from app.core.ops.base import make_params
from app.core.ops.registry import get_op

FORMAT = "photorestore-recipe"
VERSION = 1


class RecipeError(ValueError):
    """A recipe file or --op string that cannot be understood (message says why)."""


@dataclass(frozen=True)
class Step:
    op_id: str
    params: Any
    enabled: bool = True

    @classmethod
    def make(cls, op_id: str, enabled: bool = True, **values: Any) -> Step:
        op = get_op(op_id)
        try:
            return cls(op_id, make_params(op.Params, values), enabled)
        except ValueError as exc:
            raise RecipeError(f"{op_id}: {exc}") from None

    def replace(self, **values: Any) -> Step:
        return Step(self.op_id, dataclasses.replace(self.params, **values), self.enabled)


@dataclass
class Recipe:
    steps: list[Step] = field(default_factory=list)
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "app_version": __version__,
            "name": self.name,
            "steps": [
                {"op": s.op_id, "op_version": get_op(s.op_id).version, "enabled": s.enabled,
                 "params": dataclasses.asdict(s.params)}
                for s in self.steps
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise RecipeError("not a PhotoRestore recipe (missing format tag)")
        if int(data.get("version", 0)) > VERSION:
            raise RecipeError(f"recipe version {data.get('version')} is newer than this app understands")
        steps = []
        for raw in data.get("steps", []):
            try:
                op = get_op(raw["op"])
            except KeyError as exc:
                raise RecipeError(f"recipe names an unknown op {exc}") from None
            values = dict(raw.get("params", {}))
            saved = int(raw.get("op_version", op.version))
            if saved > op.version:
                raise RecipeError(f"{op.id}: saved by a newer op version ({saved} > {op.version})")
            if saved < op.version:
                values = op.migrate(saved, values)
            steps.append(Step.make(op.id, bool(raw.get("enabled", True)), **values))
        return cls(steps, str(data.get("name", "")))

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        atomic_write(path, json.dumps(self.to_dict(), indent=2))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Recipe:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RecipeError(f"{Path(path).name}: cannot read recipe ({exc})") from None
        return cls.from_dict(data)


def parse_op_arg(text: str) -> Step:
    """Parse the CLI form ``NAME[:key=value,key=value]`` into a Step."""
    name, _, rest = text.partition(":")
    values: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise RecipeError(f"--op {text}: expected key=value, got {item!r}")
        values[key.strip()] = value.strip()
    try:
        get_op(name.strip())
    except KeyError as exc:
        raise RecipeError(str(exc.args[0])) from None
    return Step.make(name.strip(), **values)
