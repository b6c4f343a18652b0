"""Per-photo sidecars: beside the photo, in the data folder when the folder is read-only, removed when
the photo has no edits left."""

from __future__ import annotations

import os

import pytest

from app.core.pipeline import Recipe, RecipeError, Step
from app.core.pipeline import sidecar as sc


def _recipe(ev: float = 0.5) -> Recipe:
    return Recipe([Step.make("exposure", ev=ev)])


def test_sidecar_beside_the_photo_round_trips(tmp_path):
    photo = tmp_path / "IMG_0001.CR2"
    photo.write_bytes(b"raw")
    data = tmp_path / "data"
    assert sc.load_sidecar(photo, data) is None
    written = sc.save_sidecar(photo, _recipe(0.7), data)
    assert written == tmp_path / "IMG_0001.CR2.photorestore.json"
    loaded = sc.load_sidecar(photo, data)
    assert [(s.op_id, s.params.ev) for s in loaded.steps] == [("exposure", 0.7)]
    assert not (data / "sidecars").exists()


def test_no_edits_removes_the_sidecar(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    sc.save_sidecar(photo, _recipe(), None)
    off = Recipe([Step.make("exposure", enabled=False, ev=0.5)])
    assert sc.save_sidecar(photo, off, None) is None
    assert sc.find_sidecar(photo, None) is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_uses_the_data_folder(tmp_path):
    folder = tmp_path / "card"
    folder.mkdir()
    photo = folder / "b.jpg"
    photo.write_bytes(b"x")
    folder.chmod(0o555)
    try:
        written = sc.save_sidecar(photo, _recipe(0.3), tmp_path / "data")
    finally:
        folder.chmod(0o755)
    assert written.parent == tmp_path / "data" / "sidecars"
    assert sc.load_sidecar(photo, tmp_path / "data").steps[0].params.ev == 0.3


def test_data_folder_fallback_when_the_folder_write_fails(tmp_path, monkeypatch):
    """The same fallback, forced (the test may run as root, where chmod does not stop writes)."""
    photo = tmp_path / "c.jpg"
    photo.write_bytes(b"x")
    monkeypatch.setattr(sc.os, "access", lambda p, mode: False)
    written = sc.save_sidecar(photo, _recipe(0.2), tmp_path / "data")
    assert written == sc.in_data_dir(photo, tmp_path / "data") and written.is_file()
    assert not sc.beside(photo).exists()
    assert sc.load_sidecar(photo, tmp_path / "data").steps[0].params.ev == 0.2
    with pytest.raises(OSError, match="read-only"):
        sc.save_sidecar(photo, _recipe(), None)


def test_unreadable_sidecar_is_a_recipe_error(tmp_path):
    photo = tmp_path / "d.jpg"
    photo.write_bytes(b"x")
    sc.beside(photo).write_text("{not json")
    with pytest.raises(RecipeError, match="d.jpg.photorestore.json"):
        sc.load_sidecar(photo, None)
