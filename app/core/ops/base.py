"""Op contract: a frozen ``Params`` dataclass with UI metadata, plus one or more cached stages.

An op is split into *stages* so the pipeline can cache intermediate results (darktable's
idea): each stage names the params it reads, and its cache key only changes when those, or
anything upstream, change. KinD's low-light op is decompose -> restore -> adjust -> fuse, so
moving the ratio slider reruns adjust + fuse only.

Stage functions receive the previous stage's *state* (the op's input :class:`Image` for the
first stage; any picklable-ish object afterwards) and must return the next state; the last
stage returns an :class:`Image`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from app.core.context import RunContext
from app.core.image import ColorSpace, Image


def param(
    default: Any,
    *,
    label: str = "",
    min: float | None = None,  # noqa: A002 - mirrors the UI vocabulary
    max: float | None = None,  # noqa: A002
    step: float | None = None,
    choices: Sequence[str] | None = None,
    help: str = "",  # noqa: A002
    advanced: bool = False,
) -> Any:
    """A dataclass field carrying the metadata panels, the CLI and recipes are built from."""
    meta = {"label": label, "min": min, "max": max, "step": step, "choices": tuple(choices or ()),
            "help": help, "advanced": advanced}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: type
    default: Any
    label: str
    min: float | None
    max: float | None
    step: float | None
    choices: tuple[str, ...]
    help: str
    advanced: bool


def param_specs(params_cls: type) -> list[ParamSpec]:
    """The UI/CLI description of every field of a Params dataclass, in declaration order."""
    specs = []
    for f in dataclasses.fields(params_cls):
        m = f.metadata
        typ = type(f.default)
        specs.append(ParamSpec(f.name, typ, f.default, m.get("label") or f.name.replace("_", " ").capitalize(),
                               m.get("min"), m.get("max"), m.get("step"), tuple(m.get("choices", ())),
                               m.get("help", ""), bool(m.get("advanced", False))))
    return specs


def coerce_param(spec: ParamSpec, value: Any) -> Any:
    """Convert a user value (CLI string, JSON number) to the field's type and check its range.

    NaN and infinities are refused for every number (``value < min`` is False for NaN, so a range check
    alone lets them through and they turn whole images black), and an int field refuses fractions
    instead of truncating them (``search=7.9`` is an error, not 7).
    """
    if isinstance(value, (list, tuple, dict, set)) or value is None:
        raise ValueError(f"{spec.name}: expected a single value, got {value!r}")
    if spec.type is bool:
        if isinstance(value, str):
            low = value.strip().lower()
            if low not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(f"{spec.name}: expected on/off, got {value!r}")
            return low in {"1", "true", "yes", "on"}
        if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
            return bool(value)
        raise ValueError(f"{spec.name}: expected on/off, got {value!r}")
    if spec.type in (int, float):
        if isinstance(value, bool):
            raise ValueError(f"{spec.name}: expected a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{spec.name}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{spec.name}: expected a finite number, got {value!r}")
        if spec.type is int:
            if not number.is_integer():
                raise ValueError(f"{spec.name}: expected a whole number, got {value!r}")
            number = int(number)
        if spec.min is not None and number < spec.min or spec.max is not None and number > spec.max:
            lo, hi = ("" if b is None else f"{b:g}" for b in (spec.min, spec.max))
            raise ValueError(f"{spec.name}: {number:g} is outside [{lo}, {hi}]")
        return number
    value = str(value)
    if spec.choices and value not in spec.choices:
        raise ValueError(f"{spec.name}: {value!r} is not one of {', '.join(spec.choices)}")
    return value


def make_params(params_cls: type, values: dict[str, Any]) -> Any:
    """Build a Params instance from loose values, rejecting unknown names with a clear message."""
    specs = {s.name: s for s in param_specs(params_cls)}
    unknown = set(values) - set(specs)
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(specs) or 'none'}")
    kwargs = {k: coerce_param(specs[k], v) for k, v in values.items()}
    # A value with an automatic switch (``auto_<name>``, e.g. lowlight's ratio) given on its own means
    # "use this value" (CLI ``--op lowlight:ratio=3``, Auto's proposals): the switch turns off.
    for name in list(kwargs):
        if f"auto_{name}" in specs and f"auto_{name}" not in kwargs:
            kwargs[f"auto_{name}"] = False
    return params_cls(**kwargs)


@dataclass(frozen=True)
class Stage:
    """One cacheable step of an op.

    Attributes:
        name: unique within the op ("decompose", "adjust", ...).
        fn: ``fn(state, params, ctx) -> state``.
        reads: names of the params this stage depends on (cache key); None means all of them.
        weight: rough share of the op's run time, for progress reporting.
    """

    name: str
    fn: Callable[[Any, Any, RunContext], Any]
    reads: tuple[str, ...] | None = None
    weight: float = 1.0


def model_status(model_id: str) -> tuple[bool, str]:
    """(verified?, "model <id>: <why not>") for one model id, as ops report it."""
    from app.core.models.registry import model_state  # late: keeps import graph light

    state = model_state(model_id)
    return state.ok, "" if state.ok else f"model {model_id}: {state.message}"


class Op:
    """Base class of user-facing operations. Subclasses set the class attributes and ``run``
    (single-stage ops) or override ``stages`` (multi-stage ops)."""

    id: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type]
    #: input spaces the op can work in; the pipeline develops RAW mosaics before ops without BAYER.
    accepts: ClassVar[frozenset[ColorSpace]] = frozenset({ColorSpace.SRGB})
    #: rough cost on this class of CPU, seconds per megapixel (shown in the UI; measured by bench/).
    cost_s_per_mp: ClassVar[float | None] = None

    def run(self, image: Image, params: Any, ctx: RunContext) -> Image:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def version(self) -> int:
        """The op's version is its Params' ``VERSION`` (one number: recipes, cache keys and ``migrate``)."""
        return int(getattr(self.Params, "VERSION", 1))

    def stages(self, params: Any) -> list[Stage]:
        return [Stage("run", self.run, None)]

    def model_ids(self, params: Any) -> list[str]:
        """Model ids this configuration uses; their weight hashes enter the cache key."""
        return []

    def availability(self, params: Any | None = None) -> tuple[bool, str]:
        """(usable, reason). Ops whose models are missing/untrained report why, never fake output."""
        ids = self.model_ids(params if params is not None else self.Params())
        if not ids:
            return True, ""
        from app.core.models.registry import model_state  # late: keeps import graph light

        for mid in ids:
            state = model_state(mid)
            if state.name != "verified":
                return False, f"model {mid}: {state.message}"
        return True, ""

    def default_params(self) -> Any:
        return self.Params()

    def migrate(self, version: int, values: dict[str, Any]) -> dict[str, Any]:
        """Upgrade params saved by an older op version (recipes). Default: unchanged."""
        return values
