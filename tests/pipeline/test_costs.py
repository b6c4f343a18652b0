"""Cost estimates come from measurements on this machine (issue 21): the engine records each op's time,
the card shows "measured" once it has, and new weights (another sha) start unmeasured."""

from __future__ import annotations

import numpy as np

from app.core.context import RunContext
from app.core.image import Image
from app.core.ops.registry import get_op
from app.core.pipeline import Pipeline, StageCache, Step
from app.core.pipeline.costs import CostBook, cost_book, cost_key, op_cost


def test_book_averages_skips_warmup_and_persists(tmp_path):
    book = CostBook(tmp_path / "c.json")
    book.record("k", 1.0, 9.0)  # warm-up (model load): not recorded
    assert book.get("k") is None
    book.record("k", 2.0, 2.0)
    book.record("k", 2.0, 4.0)
    assert book.get("k") == {"s_per_mp": 1.5, "runs": 2}  # running average of 1.0 and 2.0 s/MP
    book.record("k", 0.001, 5.0)  # too few pixels to extrapolate from
    assert CostBook(tmp_path / "c.json").get("k") == {"s_per_mp": 1.5, "runs": 2}


def test_pipeline_runs_make_the_card_figure_measured():
    op = get_op("unsharp")
    params = op.default_params()
    assert op_cost(op, params, "cpu").source == "estimated"
    img = Image(np.random.default_rng(0).random((600, 500, 3), dtype=np.float32))
    pipe = Pipeline(StageCache(0))
    for _ in range(3):
        pipe.run(img, [Step("unsharp", params)], RunContext(device="cpu"), use_cache=False)
    cost = op_cost(op, params, "cpu")
    assert cost.source == "measured" and cost.runs == 2 and cost.s_per_mp > 0
    assert cost_book().get(cost_key("unsharp", [], "cpu")) is not None
    assert op_cost(op, params, "cuda").source == "estimated"  # measured per device


def test_weights_are_part_of_the_key():
    assert cost_key("denoise", ["m:aaa"], "cpu", 2) != cost_key("denoise", ["m:bbb"], "cpu", 2)
