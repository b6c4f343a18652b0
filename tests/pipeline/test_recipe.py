from __future__ import annotations

import json

import pytest

from app.core.pipeline import Recipe, RecipeError, Step, parse_op_arg


def test_parse_op_arg_types_and_ranges():
    step = parse_op_arg("exposure:ev=1.5,gamma=1.2")
    assert step.params.ev == 1.5 and step.params.gamma == 1.2
    with pytest.raises(RecipeError, match="outside"):
        parse_op_arg("exposure:ev=99")
    with pytest.raises(RecipeError, match="unknown parameter"):
        parse_op_arg("exposure:colour=1")
    with pytest.raises(RecipeError, match="unknown op"):
        parse_op_arg("frobnicate")
    with pytest.raises(RecipeError, match="key=value"):
        parse_op_arg("exposure:ev")


def test_recipe_round_trip(tmp_path):
    recipe = Recipe([Step.make("exposure", ev=0.3), Step.make("unsharp", enabled=False, amount=2.0)], "mine")
    path = recipe.save(tmp_path / "r.json")
    loaded = Recipe.load(path)
    assert loaded.steps == recipe.steps and loaded.name == "mine"
    data = json.loads(path.read_text())
    assert data["format"] == "photorestore-recipe" and data["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp file left behind


def test_recipe_rejects_foreign_and_future_files(tmp_path):
    (tmp_path / "x.json").write_text('{"hello": 1}')
    with pytest.raises(RecipeError, match="not a PhotoRestore recipe"):
        Recipe.load(tmp_path / "x.json")
    (tmp_path / "y.json").write_text('{"format": "photorestore-recipe", "version": 99, "steps": []}')
    with pytest.raises(RecipeError, match="newer"):
        Recipe.load(tmp_path / "y.json")
    (tmp_path / "z.json").write_text("{not json")
    with pytest.raises(RecipeError, match="cannot read"):
        Recipe.load(tmp_path / "z.json")


def test_recipe_migrates_old_op_versions(monkeypatch):
    from app.core.ops.registry import get_op

    op = get_op("exposure")
    monkeypatch.setattr(type(op), "version", 2)
    monkeypatch.setattr(type(op), "migrate", lambda self, v, values: {"ev": values["stops"]})
    data = {"format": "photorestore-recipe", "version": 1,
            "steps": [{"op": "exposure", "op_version": 1, "params": {"stops": 1.0}}]}
    assert Recipe.from_dict(data).steps[0].params.ev == 1.0
