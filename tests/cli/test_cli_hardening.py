"""Issue 22 regressions through the real entry point (``python -m app run ...`` in a subprocess)."""

from __future__ import annotations

from hardening_util import assert_clean_stderr, cli, exif_with_empty_orientation, jpeg


def test_jpeg_with_empty_orientation_tag_opens(tmp_path):
    src = jpeg(tmp_path / "orient0.jpg", exif_blob=exif_with_empty_orientation())
    out = tmp_path / "out"
    res = cli("run", src, "-o", out, "--op", "exposure:ev=0.3")
    assert res.returncode == 0, res.stderr
    assert (out / "orient0.jpg").is_file()
    assert_clean_stderr(res.stderr)
    res = cli("analyze", src)
    assert res.returncode == 0, res.stderr
