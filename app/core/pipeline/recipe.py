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
#: A recipe is a few hundred bytes; anything far bigger is not one (and is not read whole).
MAX_BYTES = 1 << 20


class RecipeError(ValueError):
    """A recipe file or --op string that cannot be understood (message says why)."""


@dataclass(frozen=True)
class Step:
    op_id: str
    params: Any
    enabled: bool = True

    @classmethod
    def make(cls, op_id: str, enabled: bool = True, **values: Any) -> Step:
        return cls.from_values(op_id, values, enabled)

    @classmethod
    def from_values(cls, op_id: str, values: dict[str, Any], enabled: bool = True) -> Step:
        """Like :meth:`make`, for names that come from users (a param called ``enabled`` is just unknown)."""
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
    def from_dict(cls, data: Any) -> Recipe:
        """Validate and build; every malformed case is a :class:`RecipeError` that says what is wrong."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise RecipeError("not a PhotoRestore recipe (missing format tag)")
        version = _whole(data.get("version", VERSION), "version")
        if version > VERSION:
            raise RecipeError(f"recipe version {version} is newer than this app understands")
        steps = data.get("steps", [])
        if not isinstance(steps, list):
            raise RecipeError(f"'steps' must be a list of steps, got {_kind(steps)}")
        name = data.get("name", "")
        if not isinstance(name, str):
            raise RecipeError(f"'name' must be text, got {_kind(name)}")
        return cls([_step_from_dict(raw, i) for i, raw in enumerate(steps, 1)], name)

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        atomic_write(path, json.dumps(self.to_dict(), indent=2))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Recipe:
        name = Path(path).name
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise RecipeError(f"{name}: cannot read recipe: {exc.strerror or exc}") from None
        if len(raw) > MAX_BYTES:
            raise RecipeError(f"{name}: cannot read recipe: over {MAX_BYTES // 1024} KB, not a recipe")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise RecipeError(f"{name}: cannot read recipe: binary data, not JSON text") from None
        except json.JSONDecodeError as exc:
            raise RecipeError(f"{name}: cannot read recipe: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise RecipeError(f"{name}: cannot read recipe: JSON nested too deeply") from None
        try:
            return cls.from_dict(data)
        except RecipeError as exc:
            raise RecipeError(f"{name}: {exc}") from None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number")


def _whole(value: Any, what: str) -> int:
    """A JSON whole number (not text, not true/false, not 1.5)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise RecipeError(f"'{what}' must be a whole number, got {value!r}"[:200])
    return int(value)


def _step_from_dict(raw: Any, index: int) -> Step:
    where = f"step {index}"
    if not isinstance(raw, dict):
        raise RecipeError(f"{where}: expected an object with 'op' and 'params', got {_kind(raw)}")
    op_id = raw.get("op")
    if not isinstance(op_id, str):
        raise RecipeError(f"{where}: 'op' must be an op name, got {_kind(op_id)}")
    try:
        op = get_op(op_id)
    except KeyError as exc:
        raise RecipeError(f"{where}: {exc.args[0]}") from None
    values = raw.get("params", {})
    if not isinstance(values, dict):
        raise RecipeError(f"{where} ({op_id}): 'params' must be an object of name: value, got {_kind(values)}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RecipeError(f"{where} ({op_id}): 'enabled' must be true or false, got {_kind(enabled)}")
    saved = _whole(raw.get("op_version", op.version), f"{op_id} op_version")
    if saved < 1:
        raise RecipeError(f"{where} ({op_id}): op_version must be 1 or more, got {saved}")
    if saved > op.version:
        raise RecipeError(f"{op.id}: saved by a newer op version ({saved} > {op.version})")
    values = dict(values)
    if saved < op.version:
        try:
            values = op.migrate(saved, values)
        except Exception as exc:  # noqa: BLE001 - an old recipe with odd values: say so, no traceback
            raise RecipeError(f"{where} ({op_id}): cannot upgrade version {saved} params ({exc})") from None
    return Step.from_values(op.id, values, enabled)


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
    return Step.from_values(name.strip(), values)
