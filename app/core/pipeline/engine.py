"""The pipeline engine: runs an ordered list of ops, stage by stage, through the cache.

RAW photos enter as BAYER mosaics; ops that can work on the mosaic (RAW denoise) run before
development, and the engine inserts the ``develop`` stage just before the first op that
cannot (or at the end). The same recipe runs at preview size (interactive) and at full
resolution (export); only the source key differs.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.ops.base import Op, Stage
from app.core.ops.registry import get_op
from app.core.pipeline.cache import StageCache, chain_key, params_subset
from app.core.pipeline.costs import cost_book, cost_key, weights_tokens
from app.core.pipeline.recipe import Step


class OpUnavailableError(RuntimeError):
    """An op in the recipe cannot run (e.g. its model is missing or untrained)."""


@dataclass(frozen=True)
class PlannedStage:
    op: Op
    step: Step
    stage: Stage
    key: str

    @property
    def label(self) -> str:
        return f"{self.op.id}.{self.stage.name}"


def image_key(image: Image, hint: str = "") -> str:
    """A content key for a source image. Callers pass a cheap ``hint`` (path+mtime+scale) when
    they have one; otherwise the pixels are hashed with a stride so a 100-MP image costs ~ms."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{hint}|{image.data.shape}|{image.space.value}".encode())
    if not hint:
        flat = image.data.reshape(-1)
        step = max(1, flat.size // 2_000_000)
        h.update(np.ascontiguousarray(flat[::step]).tobytes())
    return h.hexdigest()


class Pipeline:
    """Runs recipes with a shared :class:`StageCache`.

    Args:
        cache: shared cache; a new one (1.5 GB budget) if None.
    """

    def __init__(self, cache: StageCache | None = None) -> None:
        self.cache = cache if cache is not None else StageCache()

    def plan(self, source: Image, steps: Sequence[Step], source_key: str, *,
             develop: bool = True) -> list[PlannedStage]:  # fmt: skip
        """The stages to run; ``develop=False`` leaves a mosaic undeveloped after the last RAW-domain op."""
        planned: list[PlannedStage] = []
        key = source_key
        space = source.space
        for step in [s for s in steps if s.enabled] + [None]:
            op = get_op(step.op_id) if step is not None else None
            if op is None and not develop:
                break
            if space is ColorSpace.BAYER and (op is None or ColorSpace.BAYER not in op.accepts):
                dev = get_op("develop")
                dev_step = Step("develop", dev.default_params())
                for stage in dev.stages(dev_step.params):
                    key = chain_key(key, dev.id, dev.version, stage.name, {})
                    planned.append(PlannedStage(dev, dev_step, stage, key))
                space = ColorSpace.SRGB
            if op is None:
                break
            weights = weights_tokens(op, step.params)
            for stage in op.stages(step.params):
                key = chain_key(key, op.id, op.version, stage.name,
                                params_subset(step.params, stage.reads), weights)
                planned.append(PlannedStage(op, step, stage, key))
        return planned

    def run(
        self,
        source: Image,
        steps: Sequence[Step],
        ctx: RunContext | None = None,
        *,
        source_key: str | None = None,
        use_cache: bool = True,
        develop: bool = True,
    ) -> Image:
        """Run ``steps`` on ``source`` and return an sRGB image.

        ``develop=False`` (DNG export): a RAW whose ops all work on the mosaic comes back as the
        processed BAYER mosaic; an op that needs sRGB still develops it first.

        Raises:
            OpUnavailableError: an enabled op cannot run (message says why).
            Cancelled: the context was cancelled.
        """
        ctx = ctx or RunContext()
        for step in steps:
            if step.enabled:
                ok, why = get_op(step.op_id).availability(step.params)
                if not ok:
                    raise OpUnavailableError(f"{get_op(step.op_id).label} is unavailable: {why}")
        planned = self.plan(source, steps, source_key or image_key(source), develop=develop)
        # Look up from the end: the last cached stage means nothing before it runs. Every stage
        # looked up and missed is exactly a stage that will run, so the miss counters say what ran.
        start, state = 0, source
        if use_cache:
            for i in range(len(planned) - 1, -1, -1):
                found, value = self.cache.get(planned[i].key, planned[i].label)
                if found:
                    start, state = i + 1, value
                    break
        todo = planned[start:]
        total = sum(p.stage.weight for p in todo) or 1.0
        done = 0.0
        spent: dict[str, tuple[PlannedStage, float, float, int]] = {}  # op -> (stage, MP in, seconds, stages)
        for p in todo:
            ctx.check_cancelled()
            sub = ctx.sub(done / total, (done + p.stage.weight) / total)
            sub.progress(0.0, p.op.label)
            mp = state.data.shape[0] * state.data.shape[1] / 1e6 if isinstance(state, Image) else 0.0
            t0 = time.perf_counter()
            state = p.stage.fn(state, p.step.params, sub)
            first, mp0, sec, n = spent.get(p.op.id, (p, mp, 0.0, 0))
            spent[p.op.id] = (first, mp0, sec + time.perf_counter() - t0, n + 1)
            if use_cache:
                self.cache.put(p.key, state)
            done += p.stage.weight
        self._record_costs(spent, ctx)
        ctx.progress(1.0, "done")
        if not isinstance(state, Image):
            raise TypeError(f"pipeline ended with {type(state).__name__}, expected Image")
        return state

    @staticmethod
    def _record_costs(spent: dict, ctx: RunContext) -> None:
        """Feed the cost book: an op measured only when all its stages ran (a partial rerun from the cache
        would read as cheap)."""
        for op_id, (first, mp, seconds, ran) in spent.items():
            if op_id == "develop" or ran != len(first.op.stages(first.step.params)):
                continue
            try:
                key = cost_key(op_id, weights_tokens(first.op, first.step.params), str(ctx.device))
            except Exception:  # noqa: BLE001 - costs are a nicety; never fail a render over them
                continue
            cost_book().record(key, mp, seconds)
