"""Issue 22: every malformed recipe or --op value is a RecipeError with a reason, never a traceback."""

from __future__ import annotations

import json

import pytest

from app.core.pipeline import Recipe, RecipeError, parse_op_arg

GOOD_STEP = {"op": "unsharp", "op_version": 1, "enabled": True, "params": {"amount": 1.0}}


def _recipe(**over) -> dict:
    return {"format": "photorestore-recipe", "version": 1, "steps": [dict(GOOD_STEP)], **over}


def _step(**over) -> dict:
    return _recipe(steps=[{**GOOD_STEP, **over}])


MALFORMED = {
    "version text": (_recipe(version="abc"), "version"),
    "version fraction": (_recipe(version=0.5), "version"),
    "steps text": (_recipe(steps="unsharp"), "'steps' must be a list"),
    "step number": (_recipe(steps=[1]), "step 1"),
    "op list": (_step(op=["unsharp"]), "'op' must be an op name"),
    "op unknown": (_step(op="frobnicate"), "unknown op"),
    "params text": (_step(params="amount=1"), "'params' must be an object"),
    "params list": (_step(params=[1, 2]), "'params' must be an object"),
    "op_version text": (_step(op_version="x"), "op_version"),
    "op_version negative": (_step(op_version=-5), "op_version must be 1 or more"),
    "op_version zero": (_step(op_version=0), "op_version must be 1 or more"),
    "enabled text": (_step(enabled="no"), "'enabled' must be true or false"),
    "name number": (_recipe(name=3), "'name' must be text"),
    "amount nan": (_step(params={"amount": float("nan")}), "finite"),
    "amount inf": (_step(params={"amount": float("inf")}), "finite"),
    "int param 1e400": (_recipe(steps=[{"op": "nlm_denoise", "params": {"search": float("inf")}}]), "finite"),
    "int param fraction": (_recipe(steps=[{"op": "nlm_denoise", "params": {"search": 7.9}}]), "whole number"),
    "int param huge": (_recipe(steps=[{"op": "nlm_denoise", "params": {"search": 10**400}}]), "number"),
    "param list": (_step(params={"amount": [1]}), "single value"),
    "param null": (_step(params={"amount": None}), "single value"),
    "bool param text": (_recipe(steps=[{"op": "denoise", "params": {"refine": "maybe"}}]), "on/off"),
    "bool param 2": (_recipe(steps=[{"op": "denoise", "params": {"refine": 2}}]), "on/off"),
    "param named enabled": (_step(params={"enabled": True}), "unknown parameter"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_recipe_is_a_recipe_error(case, tmp_path):
    data, match = MALFORMED[case]
    with pytest.raises(RecipeError, match=match):
        Recipe.from_dict(data)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))  # Python's json writes NaN/Infinity, and reads them back
    with pytest.raises(RecipeError, match="r.json: "):
        Recipe.load(path)


@pytest.mark.parametrize("content, match", [
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", "binary data"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not valid JSON"),
    (b"{not json", "not valid JSON"),
    (b'{"format": "photorestore-recipe", "steps": [' + b"1," * 600_000 + b"1]}", "KB"),
])  # fmt: skip
def test_unreadable_recipe_files(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(RecipeError, match=match):
        Recipe.load(path)


@pytest.mark.parametrize("text, match", [
    ("unsharp:amount=nan", "finite"), ("unsharp:radius=nan", "finite"), ("exposure:ev=nan", "finite"),
    ("exposure:gamma=nan", "finite"), ("denoise:strength=nan", "finite"), ("lowlight:ratio=nan", "finite"),
    ("nlm_denoise:search=inf", "finite"), ("nlm_denoise:search=7.9", "whole number"),
    ("nlm_denoise:search=1e400", "finite"), ("unsharp:amount=-inf", "finite"), ("unsharp:enabled=1", "unknown"),
])  # fmt: skip
def test_op_values_that_are_not_finite_or_whole_are_refused(text, match):
    with pytest.raises(RecipeError, match=match):
        parse_op_arg(text)


def test_valid_values_still_pass():
    assert parse_op_arg("nlm_denoise:search=9").params.search == 9
    assert parse_op_arg("nlm_denoise:search=9.0").params.search == 9
    assert parse_op_arg("denoise:refine=on").params.refine is True
    assert Recipe.from_dict(_recipe()).steps[0].params.amount == 1.0
