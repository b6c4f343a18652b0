"""The recorded split: disjoint by scene, complete, and reproducible from the data on disk."""

from __future__ import annotations

import json

import pytest

from app.train.sources import SOURCES, list_gopro, list_items, list_polyu, list_sice
from app.train.splits import GOPRO_GAP, SPLITS_FILE, compute_splits, load_splits, split_scenes

# Reads ../shared/datasets (skipped where it is absent).
pytestmark = pytest.mark.usefixtures("datasets_dir")

SCENE_SOURCES = [n for n, s in SOURCES.items() if s.kind != "blur_frames"]


def test_recorded_split_matches_the_data_on_disk():
    recorded = json.loads(SPLITS_FILE.read_text())
    # Regenerating gives the same file: assignments depend only on scene names (absent sources keep theirs).
    assert compute_splits(recorded) == recorded


@pytest.mark.parametrize("source", SCENE_SOURCES)
def test_train_and_val_scenes_are_disjoint_and_cover_every_item(source):
    splits = load_splits()
    train, val = splits.scenes(source, "train"), splits.scenes(source, "val")
    assert not train & val
    on_disk = {it.scene for it in list_items(source)}
    if not on_disk:
        pytest.skip(f"{source} not on this machine")
    assert on_disk <= train | val, f"scenes missing from splits.json: {sorted(on_disk - train - val)}"
    assert val, f"{source} has no validation scene"
    keys_train = {it.key for it in splits.items(source, "train")}
    keys_val = {it.key for it in splits.items(source, "val")}
    assert not keys_train & keys_val
    assert len(keys_train) + len(keys_val) == len(list_items(source))


def test_split_is_stable_and_by_hash_not_by_order():
    scenes = [f"scene{i}" for i in range(40)]
    a = split_scenes("x", scenes, 0.2)
    b = split_scenes("x", list(reversed(scenes)) + scenes[:5], 0.2)
    assert a == b and len(a["val"]) == 8
    assert split_scenes("y", scenes, 0.2)["val"] != a["val"]  # sources are salted independently


def test_polyu_full_resolution_scenes_join_their_crops():
    items = list_polyu()
    crops = {it.scene for it in items if it.key.startswith("crop/")}
    full = {it.key: it.scene for it in items if it.key.startswith("full/")}
    assert full["full/Canon5D2_bicyc_Real"] == "bicycle" and full["full/Nikon800_bulle_Real"] == "bulletin"
    assert {"bicycle", "chair", "circuit", "go", "bulletin"} <= crops
    # Two cameras' "classroom" crops are one scene: never on both sides.
    classroom = {it.key.split("_")[0] for it in items if it.scene == "classroom"}
    assert classroom == {"crop/NikonD800", "crop/Sony"}


def test_sice_neighbouring_rows_share_a_scene_block():
    by_key = {it.key: it.scene for it in list_sice()}
    assert by_key["seq145"] == by_key["seq146"]  # one tripod sequence split by the grouping heuristic
    assert by_key["seq000"] != by_key["seq004"]  # separated by the dataset's held-out id 3


def test_gopro_ranges_are_contiguous_with_a_gap():
    splits = load_splits()
    train, val = splits.gopro_frames("train"), splits.gopro_frames("val")
    if not list_gopro():
        pytest.skip("GoPro frames not on this machine")
    last_train, first_val = int(train[-1].stem), int(val[0].stem)
    assert first_val - last_train - 1 == GOPRO_GAP
    assert [int(p.stem) for p in train] == list(range(1, last_train + 1))
    assert [int(p.stem) for p in val] == list(range(first_val, first_val + len(val)))


def test_clean_series_and_stereo_pairs_stay_together():
    scenes = {it.key: it.scene for it in list_items("package_samples")}
    assert scenes["skimage/motorcycle_left"] == scenes["skimage/motorcycle_right"]
    live1 = {it.key: it.scene for it in list_items("live1")}
    assert len({live1[f"sailing{i}"] for i in range(1, 5)}) == 1


@pytest.mark.parametrize("source", ["sunhays80", "urban100"])
def test_a_training_holdout_is_disjoint_stable_and_never_validation(source):
    """``val.holdout`` (issue 26): a run watches training scenes it does not fit, not the validation split."""
    splits = load_splits()
    fit = splits.items_holdout(source, "train-fit", 0.05)
    held = splits.items_holdout(source, "train-holdout", 0.05)
    if not fit and not held:
        pytest.skip(f"{source} is not on this machine")
    assert held and not {it.scene for it in fit} & {it.scene for it in held}
    assert {it.key for it in fit} | {it.key for it in held} == {it.key for it in splits.items(source, "train")}
    assert not {it.scene for it in held} & splits.scenes(source, "val")
    assert [it.key for it in held] == [it.key for it in splits.items_holdout(source, "train-holdout", 0.05)]
    assert splits.items_holdout(source, "val", 0.05) == splits.items(source, "val")
