"""DNG round trip checked by real clients: LibRaw (rawpy), darktable-cli, rawtherapee-cli, exiftool.

Usage: python bench/dng_roundtrip.py [--files GLOB] [--out DIR] [--no-denoise] [--skip-clients]

For every RAW in ../shared/datasets/raw/bayer it writes (with the app's own code) a no-op CFA DNG, a
RAW-denoised CFA DNG and a linear DNG (recipe: exposure +0.3 EV, an sRGB op), then reports:

* LibRaw: CFA pattern, black/white levels, as-shot WB, colour matrix read back vs the source; no-op
  mosaic == source visible mosaic; PSNR of LibRaw's development of the DNG vs of the source (no op,
  target >= 50 dB) and vs the in-process development of the denoised mosaic (target >= 45 dB);
* darktable-cli (default settings) / rawtherapee-cli (bundled "Standard Film Curve - ISO Low" profile):
  exit status, messages about the file, PSNR of their rendering of
  each DNG vs their rendering of the source after exposure matching (one gain in linear light, images
  aligned by phase correlation, because each client crops RAW and DNG borders its own way);
* exiftool: camera, lens, ISO, exposure, date of the DNG vs the source.

The helpers are also used by tests/core/io/test_dng_clients.py. Heavy on a CPU: RAW denoising of the
8-MP files takes minutes each; run with ``nice`` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import rawpy

REPO = Path(__file__).resolve().parents[1]
BAYER = REPO.parent / "shared" / "datasets" / "raw" / "bayer"
EXIF_FIELDS = ("Make", "Model", "LensModel", "ISO", "ExposureTime", "FNumber", "DateTimeOriginal")
#: RawTherapee's default profile matches its tone curve to the file's embedded JPEG preview, which a CFA
#: DNG of ours does not carry (so the default renders differ by design); a fixed-curve bundled profile
#: compares the RAW data itself.
RT_PROFILE = "/usr/share/rawtherapee/profiles/Standard Film Curve - ISO Low.pp3"
#: client stderr lines that say nothing about the file (environment chatter)
_CHATTER = re.compile(r"running darktable as root|^wait time [0-9.]+s$|^Merging (default raw processing profile|"
                      r"procparams #\d+)|^RawTherapee|^Output is|^Processing:|exported to|^\s*$", re.I)  # fmt: skip


def sources(pattern: str = "*") -> list[Path]:
    return sorted(p for p in BAYER.glob(pattern) if p.suffix.lower() in (".cr2", ".dng", ".kdc"))


def psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak**2 / mse)


def libraw_develop(path: str | Path) -> np.ndarray:
    """LibRaw's development with the app's settings, fixed exposure, uint16."""
    from app.core.io import DEVELOP_SETTINGS

    with rawpy.imread(str(path)) as raw:
        return raw.postprocess(**DEVELOP_SETTINGS, no_auto_bright=True)


def _rgb_cam(path: Path) -> np.ndarray:
    """The camera -> sRGB matrix LibRaw develops ``path`` with (exposed, or measured like dng_tags)."""
    from app.core.io.dng_tags import measured_rgb_cam

    with rawpy.imread(str(path)) as raw:
        cm = np.array(raw.color_matrix[:, :3], np.float64)
    if cm.any():
        return cm
    m = measured_rgb_cam(str(path))
    return np.eye(3) if m is None else np.reshape(m, (3, 3))


def libraw_readback(src: Path, dng: Path, *, mosaic: bool) -> dict:
    """What LibRaw reads from the DNG vs the source (booleans), plus the no-op mosaic check."""
    with rawpy.imread(str(src)) as a, rawpy.imread(str(dng)) as b:
        out = {
            "pattern": a.color_desc == b.color_desc and np.array_equal(a.raw_colors_visible[:2, :2],
                                                                       b.raw_colors_visible[:2, :2]),
            "black": list(a.black_level_per_channel) == list(b.black_level_per_channel),
            "white": a.white_level == b.white_level,
            "wb": bool(np.allclose(np.divide(a.camera_whitebalance[:3], a.camera_whitebalance[1]),
                                   np.divide(b.camera_whitebalance[:3], b.camera_whitebalance[1]), rtol=1e-3)),
        }  # fmt: skip
        xa, xb = np.array(a.rgb_xyz_matrix[:3]), np.array(b.rgb_xyz_matrix[:3])
        if mosaic:
            out["mosaic_equal"] = bool(np.array_equal(a.raw_image_visible, b.raw_image_visible))
    out["matrix"] = (
        bool(np.allclose(xa, xb, atol=1e-4)) if xa.any() else bool(np.allclose(_rgb_cam(src), _rgb_cam(dng), atol=2e-3))
    )
    return out


def run_client(tool: str, path: Path, out_png: Path, workdir: Path) -> tuple[bool, list[str]]:
    """Convert ``path`` with darktable-cli or rawtherapee-cli to ``out_png``; (ok, messages about it)."""
    out_png.unlink(missing_ok=True)
    env = dict(os.environ, HOME=str(workdir / "home"))
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    if tool == "darktable-cli":
        cmd = [tool, str(path), str(out_png), "--core", "--library", ":memory:", "--configdir",
               str(workdir / "dtconf")]  # fmt: skip
    else:
        cmd = [tool, "-o", str(out_png), "-n", "-Y", "-p", RT_PROFILE, "-c", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if not _CHATTER.search(ln.strip())]
    ok = proc.returncode == 0 and out_png.is_file() and out_png.stat().st_size > 10_000
    return ok, lines


def _linear(img8: np.ndarray) -> np.ndarray:
    from app.core.io.icc import srgb_decode

    return srgb_decode(img8.astype(np.float32) / 255.0)


def matched_psnr(ref_png: Path, test_png: Path) -> tuple[float, float]:
    """PSNR (8-bit sRGB) of ``test`` vs ``ref`` after alignment and one exposure gain; returns (dB, gain)."""
    from app.core.io.icc import srgb_encode

    ref, test = cv2.imread(str(ref_png))[:, :, ::-1], cv2.imread(str(test_png))[:, :, ::-1]
    ga = cv2.cvtColor(ref, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gb = cv2.cvtColor(test, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = min(ga.shape[0], gb.shape[0]), min(ga.shape[1], gb.shape[1])
    # Where the clients cropped differently: shift of test relative to ref, from the common top-left box.
    (sx, sy), _ = cv2.phaseCorrelate(ga[:h, :w], gb[:h, :w])
    dx, dy = int(round(sx)), int(round(sy))
    ya, xa, yb, xb = max(0, -dy), max(0, -dx), max(0, dy), max(0, dx)
    hh = min(ref.shape[0] - ya, test.shape[0] - yb)
    ww = min(ref.shape[1] - xa, test.shape[1] - xb)
    a = _linear(ref[ya : ya + hh, xa : xa + ww])
    b = _linear(test[yb : yb + hh, xb : xb + ww])
    ok = (a < 0.95) & (b < 0.95)  # clipped highlights carry no exposure information
    gain = float(np.sum(a[ok] * b[ok]) / max(np.sum(b[ok] ** 2), 1e-12))
    b8 = np.rint(srgb_encode(b * gain) * 255)
    return psnr(np.rint(srgb_encode(a) * 255), b8, 255.0), gain


def exif_fields(path: Path) -> dict[str, str]:
    proc = subprocess.run(["exiftool", "-j", "-s", *[f"-{k}" for k in EXIF_FIELDS], str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    data = json.loads(proc.stdout or "[{}]")[0]
    return {k: str(data[k]) for k in EXIF_FIELDS if k in data and str(data[k]).strip() not in ("", "0")}


def write_dngs(src: Path, outdir: Path, denoise: bool) -> dict:
    """No-op, RAW-denoised and linear DNGs of ``src`` through the app's pipeline; in-process developments."""
    from app.core.io import develop, load_image, save_image
    from app.core.pipeline import Pipeline, Step
    from app.core.workflow.export import with_measured_noise

    image = load_image(src, raw_as="bayer")
    made = {"noop": save_image(image, outdir / f"{src.stem}.noop.dng", format="dng", overwrite=True)}
    if denoise:
        t = time.time()
        den = Pipeline().run(image, [Step.make("denoise")], use_cache=False, develop=False)
        den = with_measured_noise(image, den)  # what the app's export does: NoiseProfile of the result
        made["denoise_s"] = time.time() - t
        made["denoise"] = save_image(den, outdir / f"{src.stem}.denoise.dng", format="dng", overwrite=True)
        dev = develop(den, auto_bright=False).data
        made["denoise_inproc"] = np.rint(dev * 65535).astype(np.uint16)
    # An sRGB op (exposure +0.3 EV) in the recipe: the pipeline develops, the DNG is a linear one.
    lin = Pipeline().run(image, [Step.make("exposure", ev=0.3)], use_cache=False, develop=False)
    made["linear"] = save_image(lin, outdir / f"{src.stem}.linear.dng", format="dng", overwrite=True)
    made["linear_inproc"] = np.rint(lin.data * 65535).astype(np.uint16)
    return made


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", default="*", help="glob inside the bayer folder")
    ap.add_argument("--out", default=str(Path.home() / ".cache/photorestore/dng_bench"))
    ap.add_argument("--no-denoise", action="store_true")
    ap.add_argument("--skip-clients", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="dngbench-"))
    clients = [] if args.skip_clients else [t for t in ("darktable-cli", "rawtherapee-cli") if shutil.which(t)]
    rows = []
    for src in sources(args.files):
        print(f"== {src.name}", flush=True)
        made = write_dngs(src, out, not args.no_denoise)
        ref = libraw_develop(src)
        row = {"file": src.name, "libraw_noop": libraw_readback(src, made["noop"], mosaic=True)}
        row["libraw_noop"]["psnr_dev"] = round(psnr(ref, libraw_develop(made["noop"]), 65535), 2)
        if "denoise" in made:
            row["libraw_denoise"] = libraw_readback(src, made["denoise"], mosaic=False)
            row["libraw_denoise"]["psnr_vs_inprocess"] = round(
                psnr(made["denoise_inproc"], libraw_develop(made["denoise"]), 65535), 2
            )
            row["denoise_s"] = round(made["denoise_s"], 1)
        with rawpy.imread(str(made["linear"])) as lin:
            row["libraw_linear"] = {"stack": lin.raw_type == rawpy.RawType.Stack}
        row["libraw_linear"]["psnr_vs_inprocess"] = round(
            psnr(made["linear_inproc"], libraw_develop(made["linear"]), 65535), 2
        )
        kinds = [k for k in ("noop", "denoise", "linear") if k in made]
        libraw_png = out / f"{src.stem}.libraw.src.png"
        cv2.imwrite(str(libraw_png), (ref[:, :, ::-1] >> 8).astype(np.uint8))
        for tool in clients:
            ok_src, msg_src = run_client(tool, src, out / f"{src.stem}.{tool}.src.png", work)
            res = {"source_ok": ok_src, "source_messages": msg_src[:3]}
            for kind in kinds:
                png = out / f"{src.stem}.{tool}.{kind}.png"
                ok, msgs = run_client(tool, made[kind], png, work)
                res[kind] = {"ok": ok, "messages": msgs[:5]}
                if ok and ok_src:
                    db, gain = matched_psnr(out / f"{src.stem}.{tool}.src.png", png)
                    res[kind].update(psnr=round(db, 2), gain=round(gain, 3))
                elif ok:  # the client cannot read the source itself: compare with LibRaw's rendering of it
                    db, gain = matched_psnr(libraw_png, png)
                    res[kind].update(psnr_vs_libraw_source=round(db, 2), gain=round(gain, 3))
            row[tool] = res
        if shutil.which("exiftool"):
            a, b = exif_fields(src), exif_fields(made["noop"])
            row["exiftool"] = {"source": a, "missing_or_different": {k: b.get(k) for k in a if a[k] != b.get(k)}}
        rows.append(row)
        print(json.dumps(row, indent=1, default=str), flush=True)
    (out / "results.json").write_text(json.dumps(rows, indent=1, default=str))
    shutil.rmtree(work, ignore_errors=True)
    print(f"results: {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
