"""Issue 22 #1: output names are distinct within a run, checked against the names already claimed."""

from __future__ import annotations

from pathlib import Path

from app.core.io.naming import NAME_MAX, claim_name


def test_same_name_three_times_gives_three_names(tmp_path):
    taken: set[str] = set()
    got = [claim_name(tmp_path / "photo.jpg", "jpg", taken) for _ in range(4)]
    assert [p.name for p in got] == ["photo.jpg", "photo-jpg.jpg", "photo-jpg-2.jpg", "photo-jpg-3.jpg"]


def test_existing_files_are_avoided_only_when_asked(tmp_path):
    (tmp_path / "a_restored.jpg").write_bytes(b"older export")
    assert claim_name(tmp_path / "a_restored.jpg", "png", set()).name == "a_restored.jpg"  # overwrite
    taken: set[str] = set()
    first = claim_name(tmp_path / "a_restored.jpg", "jpg", taken, avoid_existing=True)
    second = claim_name(tmp_path / "a_restored.jpg", "png", taken, avoid_existing=True)
    assert (first.name, second.name) == ("a_restored-jpg.jpg", "a_restored-png.jpg")


def test_long_names_still_fit(tmp_path):
    taken: set[str] = set()
    wanted = tmp_path / ("x" * 251 + ".jpg")
    names = [claim_name(wanted, "png", taken).name for _ in range(12)]
    assert len(set(names)) == 12 and all(len(n.encode()) <= NAME_MAX for n in names)
    assert isinstance(names[0], str) and Path(names[0]).suffix == ".jpg"
