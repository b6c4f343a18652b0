"""Regenerate the README screenshots by driving the real app on an X display.

    Xvfb :99 -screen 0 1600x1000x24 &
    DISPLAY=:99 PHOTORESTORE_COST_BOOK=/tmp/photorestore-screenshots/costs.json \
        python3 docs/screenshots/make_screenshots.py [--only-dng | --only histogram,choices,dejpeg,batch]

Each state is captured from the X server with ImageMagick (``import -window root``), so the
pictures show what a user sees, then reduced to a palette PNG under ~300 KB. The low-light
state uses the cheap 4-stage test op from ``tests/gui`` until the trained ``lowlight`` op is
available (then the real one is used).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
DATA = REPO.parent / "shared" / "datasets"
# Copies in a scratch folder: per-photo edits write a sidecar beside each photo opened, and the shared
# datasets must stay untouched.
SCRATCH = Path("/tmp/photorestore-screenshots/photos")
SCRATCH.mkdir(parents=True, exist_ok=True)
for _p in SCRATCH.glob("*.photorestore.json"):
    _p.unlink()
CR2 = DATA / "raw" / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
DARK = DATA / "demo" / "lowlight_sci_mit" / "difficult" / "2850.png"
BLURRY = DATA / "demo" / "srn_testing_set" / "4c6.png"
WEB_JPEG = DATA / "demo" / "nafnet_demo" / "blurry.jpg"  # a real JPEG at quality 25
sys.path[:0] = [str(REPO), str(REPO / "tests" / "gui")]

os.environ.setdefault("PHOTORESTORE_SETTINGS", "/tmp/photorestore-screenshots/settings.ini")

from PySide6.QtCore import QEventLoop, QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from app.gui.app import create_application  # noqa: E402

app = create_application()

from app.core.ops import get_op  # noqa: E402
from app.core.ops.registry import register_op  # noqa: E402
from app.gui.export_dialog import ExportDialog  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402


def spin(cond=lambda: False, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if cond():
            return
        time.sleep(0.01)


def shot(name: str) -> Path:
    spin(seconds=0.6)
    raw, out = Path(f"/tmp/{name}.raw.png"), OUT / f"{name}.png"
    subprocess.run(["import", "-window", "root", str(raw)], check=True)
    for size, colors in (("1400x", 256), ("1400x", 192), ("1400x", 128), ("1200x", 128), ("1000x", 128)):
        subprocess.run(["convert", str(raw), "-resize", size, "-dither", "FloydSteinberg", "-colors",
                        str(colors), f"PNG8:{out}"], check=True)
        if out.stat().st_size < 300_000:
            break
    print(f"{out.relative_to(REPO)}: {out.stat().st_size // 1024} KB")
    return out


def rendered(win: MainWindow, op_id: str | None = None):
    def ok() -> bool:
        r = win.last_render
        return (r is not None and not win.previews.is_busy() and win.doc is not None
                and win.doc.full is not None
                and (op_id is None or any(s.op_id == op_id for s in r.request.steps)))
    return ok


def dng_export_dialog(win: MainWindow) -> None:
    """The export dialog over the CR2 with DNG (RAW) chosen and RAW denoise on (issue 25)."""
    from app.gui.export_jobs import ExportOptions

    win.open_photo(scratch(CR2))
    spin(rendered(win), 60)
    for step in list(win.model.active_steps()):
        win.model.set_enabled(step.op_id, False)
    if get_op("denoise").availability()[0]:
        win.model.set_enabled("denoise", True)
        spin(rendered(win, "denoise"), 300)
    dlg = ExportDialog(win.doc.path, "/tmp", ExportOptions(format="dng"), win.doc.full_size, win)
    dlg.show()
    dlg.move(win.geometry().center() - dlg.rect().center())
    shot("export_dialog_dng")
    dlg.close()


def scratch(path: Path) -> Path:
    import shutil

    out = SCRATCH / path.name
    if not out.exists():
        shutil.copy(path, out)
    return out


def issue26_states(win: MainWindow, only: set[str]) -> None:
    """Histogram + clipping warning, an untrained model choice greyed out, batch with thumbnails."""
    from PySide6.QtCore import QTimer

    from app.gui.batch_dialog import BatchDialog

    if "histogram" in only:
        win.open_photo(scratch(CR2))
        spin(rendered(win), 60)
        win.histogram_dock.show()
        win.model.set_enabled("exposure", True)
        win.model.set_param("exposure", "ev", 1.3)
        spin(rendered(win, "exposure"), 30)
        win.actions_by_name["clipping"].trigger()  # J
        spin(seconds=1.5)
        shot("histogram_clipping")
        win.actions_by_name["clipping"].trigger()
    if "choices" in only:
        card = win.ops_panel.cards["denoise"]
        win.model.set_enabled("denoise", True)
        spin(seconds=0.5)
        win.ops_panel.ensureWidgetVisible(card) if hasattr(win.ops_panel, "ensureWidgetVisible") else None
        combo = card.controls["model"].combo
        QTimer.singleShot(300, combo.showPopup)
        spin(seconds=1.2)
        shot("honest_choices")
        combo.hidePopup()
        win.model.set_enabled("denoise", False)
    if "dejpeg" in only:  # a real web JPEG saved at quality 25, JPEG artefacts removed, split view at 200 %
        win.open_photo(scratch(WEB_JPEG))
        spin(rendered(win), 60)
        win.model.set_enabled("dejpeg", True)
        spin(rendered(win, "dejpeg"), 60)
        view = win.view
        view.set_zoom(2.0, QPoint(int(view.width() * 0.42), int(view.height() * 0.45)).toPointF())
        spin(lambda: win.detail is not None, 60)
        spin(seconds=3)
        shot("dejpeg_split")
        view.fit()
        win.model.set_enabled("dejpeg", False)
    if "batch" in only:
        folder = SCRATCH.parent / "batch"
        folder.mkdir(exist_ok=True)
        for p in (DARK, BLURRY, CR2):
            dest = folder / p.name
            if not dest.exists():
                import shutil

                shutil.copy(p, dest)
        from app.core.io import load_image
        from app.core.io.export import save_image

        save_image(load_image(str(BLURRY)), folder / "4c6_restored.png", overwrite=True)
        dlg = BatchDialog(win.compute, win.model.active_steps, win.export_options(), str(folder), parent=win)
        dlg.show()
        dlg.move(win.geometry().center() - dlg.rect().center())
        spin(lambda: dlg.strip.loaded >= len(dlg.files), 60)
        shot("batch_preview")
        dlg.close()


def main() -> int:
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else None
    win = MainWindow()
    win.setGeometry(0, 0, 1600, 1000)
    win.show()
    win.quality_dock.show()
    if "--only-dng" in sys.argv or only is not None:
        if "--only-dng" in sys.argv:  # regenerate just export_dialog_dng.png
            dng_export_dialog(win)
        if only is not None:
            issue26_states(win, only)
        win.close()
        return 0
    # 1. a RAW photo open, split view, two classical ops on
    win.open_photo(scratch(CR2))
    spin(rendered(win), 60)
    win.model.set_enabled("exposure", True)
    win.model.set_param("exposure", "ev", 0.4)
    win.model.set_param("exposure", "gamma", 1.15)
    win.model.set_enabled("unsharp", True)
    spin(rendered(win, "unsharp"), 30)
    win.measure_quality()
    spin(seconds=6)
    shot("photo_open")
    # 2. the divider being dragged (mouse still down) at 100 % zoom with the loupe
    view = win.view
    y = view.height() // 2
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(view, left, none, QPoint(view.width() // 2, y))
    for x in range(view.width() // 2, int(view.width() * 0.3), -25):
        QTest.mouseMove(view, QPoint(x, y))
        spin(seconds=0.02)
    shot("split_drag")
    QTest.mouseRelease(view, left, none, QPoint(int(view.width() * 0.3), y))
    view.set_zoom(1.0, QPoint(int(view.width() * 0.45), int(view.height() * 0.45)).toPointF())
    spin(lambda: win.detail is not None, 20)
    view.set_loupe(True)
    QTest.mouseMove(view, QPoint(int(view.width() * 0.62), int(view.height() * 0.4)))
    shot("zoom_loupe")
    view.set_loupe(False)
    view.fit()
    # 2b. RAW denoise on the CR2's mosaic: the preview runs the RAW denoiser on the reduced mosaic; the card
    # shows its cost as measured on this machine once the render has run
    if get_op("denoise").availability()[0]:
        win.model.set_enabled("exposure", False)
        win.model.set_enabled("unsharp", False)
        win.model.set_enabled("denoise", True)
        spin(rendered(win, "denoise"), 300)
        win.model.set_param("denoise", "strength", 0.95)  # a second render: the first one measured the op
        spin(rendered(win, "denoise"), 300)
        view.set_split(0.5)
        view.set_zoom(1.0, QPoint(int(view.width() * 0.5), int(view.height() * 0.5)).toPointF())
        spin(lambda: win.detail is not None, 300)
        win.measure_quality()
        spin(seconds=6)
        shot("raw_denoise")
        view.fit()
        win.model.set_enabled("denoise", False)
    # 3. low-light: the prominent illumination-ratio slider
    try:
        op_id = "lowlight"
        ok, _ = get_op(op_id).availability()
    except KeyError:
        ok = False
    if not ok:
        from gui_fake_ops import TestLowlightOp

        register_op(TestLowlightOp())
        op_id = "test_lowlight"
    win.model.sync_ops()
    win.model.set_enabled("exposure", False)
    win.model.set_enabled("unsharp", False)
    win.open_photo(scratch(DARK))
    spin(rendered(win), 30)
    slider = win.ops_panel.prominent
    slider.slider.setSliderDown(True)
    for v in (1.5, 2.0, 2.6, 3.2, 3.8):
        slider.set_value(v)
        slider.slider.valueChanged.emit(slider.slider.value())
        spin(seconds=0.1)
    slider.slider.setSliderDown(False)
    spin(rendered(win, op_id), 30)
    view.set_split(0.42)
    win.measure_quality()
    spin(seconds=4)
    shot("lowlight_slider")
    # 4. deblur on a real motion-blurred photo, before/after split
    if get_op("deblur").availability()[0]:
        win.model.set_enabled(op_id, False)
        win.open_photo(scratch(BLURRY))
        spin(rendered(win), 30)
        win.model.set_enabled("deblur", True)
        spin(rendered(win, "deblur"), 120)
        view.set_split(0.5)
        view.set_zoom(1.0, QPoint(int(view.width() * 0.5), int(view.height() * 0.5)).toPointF())
        spin(lambda: win.detail is not None, 60)
        win.measure_quality()
        spin(seconds=6)
        shot("deblur_split")
        view.fit()
    # 5. the export dialog over the window
    dlg = ExportDialog(win.doc.path, "/tmp", win.export_options(), win.doc.full_size, win)
    dlg.show()
    dlg.move(win.geometry().center() - dlg.rect().center())
    shot("export_dialog")
    dlg.close()
    dng_export_dialog(win)
    issue26_states(win, {"histogram", "choices", "batch"})
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
