from __future__ import annotations

import numpy as np
import pytest

from app.core.context import Cancelled, RunContext
from app.core.pipeline import Pipeline, StageCache, Step


def test_ratio_change_reruns_only_adjust_and_fuse(fake_lowlight, small_image):
    pipe = Pipeline()
    step = Step.make("fake_lowlight", ratio=2.0)
    first = pipe.run(small_image, [step], source_key="img")
    assert pipe.cache.ran() == ["fake_lowlight.adjust", "fake_lowlight.decompose", "fake_lowlight.fuse",
                                "fake_lowlight.restore"]
    pipe.cache.reset_counters()
    second = pipe.run(small_image, [step.replace(ratio=4.0)], source_key="img")
    assert pipe.cache.ran() == ["fake_lowlight.adjust", "fake_lowlight.fuse"]
    assert pipe.cache.hits["fake_lowlight.restore"] == 1
    assert second.data.mean() > first.data.mean()


def test_earlier_param_change_invalidates_later_stages(fake_lowlight, small_image):
    pipe = Pipeline()
    pipe.run(small_image, [Step.make("fake_lowlight")], source_key="img")
    pipe.cache.reset_counters()
    pipe.run(small_image, [Step.make("fake_lowlight", denoise=False)], source_key="img")
    assert pipe.cache.ran() == ["fake_lowlight.adjust", "fake_lowlight.fuse", "fake_lowlight.restore"]


def test_unchanged_recipe_is_a_pure_cache_hit(fake_lowlight, small_image):
    pipe = Pipeline()
    steps = [Step.make("exposure", ev=0.5), Step.make("fake_lowlight")]
    a = pipe.run(small_image, steps, source_key="img")
    pipe.cache.reset_counters()
    b = pipe.run(small_image, steps, source_key="img")
    assert pipe.cache.ran() == []
    assert np.array_equal(a.data, b.data)


def test_change_in_first_op_reruns_everything_after(fake_lowlight, small_image):
    pipe = Pipeline()
    pipe.run(small_image, [Step.make("exposure", ev=0.5), Step.make("fake_lowlight")], source_key="img")
    pipe.cache.reset_counters()
    pipe.run(small_image, [Step.make("exposure", ev=0.7), Step.make("fake_lowlight")], source_key="img")
    assert len(pipe.cache.ran()) == 5


def test_different_source_keys_do_not_share_results(small_image):
    pipe = Pipeline()
    pipe.run(small_image, [Step.make("exposure", ev=1.0)], source_key="preview")
    pipe.cache.reset_counters()
    pipe.run(small_image, [Step.make("exposure", ev=1.0)], source_key="full")
    assert pipe.cache.ran() == ["exposure.run"]


def test_disabled_steps_are_skipped(small_image):
    pipe = Pipeline()
    out = pipe.run(small_image, [Step.make("exposure", enabled=False, ev=2.0)])
    assert np.array_equal(out.data, small_image.data)


def test_progress_is_monotonic_and_reaches_one(fake_lowlight, small_image):
    seen: list[float] = []
    ctx = RunContext(lambda f, t: seen.append(f))
    Pipeline().run(small_image, [Step.make("exposure"), Step.make("fake_lowlight")], ctx)
    assert seen[-1] == pytest.approx(1.0)
    assert all(b >= a for a, b in zip(seen, seen[1:]))


def test_cancellation_stops_the_run(small_image):
    ctx = RunContext()
    ctx.cancel()
    with pytest.raises(Cancelled):
        Pipeline().run(small_image, [Step.make("exposure")], ctx)


def test_cache_evicts_under_budget(small_image):
    cache = StageCache(max_bytes=small_image.data.nbytes * 3)
    pipe = Pipeline(cache)
    for ev in (0.1, 0.2, 0.3, 0.4, 0.5):
        pipe.run(small_image, [Step.make("exposure", ev=ev)], source_key="img")
    assert cache.nbytes <= cache.max_bytes


def test_huge_results_are_not_cached():
    cache = StageCache(max_bytes=1000)
    assert not cache.put("k", np.zeros(1000, np.float32))
    assert "k" not in cache
