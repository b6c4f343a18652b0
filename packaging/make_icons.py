"""Make the installer icons (.png sizes for Linux, .ico for Windows, .icns for macOS) from the app icon.

    python3 packaging/make_icons.py [--out packaging/build/icons] [--source FILE]

The source is the GUI's app icon, the first of ``resources/icons/photorestore.{svg,png}``,
``resources/icons/app.{svg,png}``, ``resources/icons/icon.{svg,png}`` that exists (a PNG should be
square and at least 256 px; an SVG is rendered with Qt). Without one, a placeholder is drawn so the
installers still build; it says so on stdout.

Outputs (in --out): ``hicolor/<N>x<N>/apps/photorestore.png`` for N in PNG_SIZES,
``photorestore.png`` (256 px), ``photorestore.ico``, ``photorestore.icns``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = [
    f"resources/icons/{stem}.{ext}" for stem in ("photorestore", "app", "icon") for ext in ("svg", "png")
]
PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512]
ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]
MASTER = 1024


def find_source(root: Path = ROOT) -> Path | None:
    for rel in CANDIDATES:
        if (root / rel).is_file():
            return root / rel
    return None


def render_svg(path: Path, size: int) -> Image.Image:
    """Rasterise an SVG with Qt (PySide6 is in the build environment; no cairo needed)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - fonts need an app
    renderer = QSvgRenderer(str(path))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: cannot render {path}")
    qimg = QImage(size, size, QImage.Format.Format_RGBA8888)
    qimg.fill(Qt.GlobalColor.transparent)
    painter = QPainter(qimg)
    renderer.render(painter)
    painter.end()
    return Image.frombytes("RGBA", (size, size), bytes(qimg.constBits()))


def placeholder(size: int = MASTER) -> Image.Image:
    """A stand-in icon: a rounded tile with a lens aperture and a restoration sparkle."""
    scale = 2  # draw large, then downsample: cheap antialiasing
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    # Vertical gradient from deep blue to teal, clipped to a rounded square.
    grad = Image.new("RGBA", (1, s))
    for y in range(s):
        t = y / (s - 1)
        grad.putpixel((0, y), (int(24 + 10 * t), int(52 + 110 * t), int(110 + 50 * t), 255))
    grad = grad.resize((s, s))
    mask = Image.new("L", (s, s), 0)
    margin = int(s * 0.06)
    ImageDraw.Draw(mask).rounded_rectangle(
        (margin, margin, s - margin, s - margin), radius=int(s * 0.2), fill=255
    )
    img.paste(grad, (0, 0), mask)
    draw = ImageDraw.Draw(img)
    cx, cy, r = s * 0.46, s * 0.54, s * 0.27
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(240, 246, 250, 255), width=int(s * 0.045))
    # Six aperture blades as lines from the ring towards a hexagonal opening.
    inner = r * 0.45
    for k in range(6):
        a0 = math.radians(60 * k + 15)
        a1 = math.radians(60 * k + 75)
        p0 = (cx + r * math.cos(a0), cy + r * math.sin(a0))
        p1 = (cx + inner * math.cos(a1), cy + inner * math.sin(a1))
        draw.line((p0, p1), fill=(240, 246, 250, 255), width=int(s * 0.025))
    # A four-pointed sparkle at the top right: "restored".
    sx, sy, big, small = s * 0.74, s * 0.26, s * 0.13, s * 0.035
    star = [
        (sx, sy - big),
        (sx + small, sy - small),
        (sx + big, sy),
        (sx + small, sy + small),
        (sx, sy + big),
        (sx - small, sy + small),
        (sx - big, sy),
        (sx - small, sy - small),
    ]
    glow = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    ImageDraw.Draw(glow).polygon(star, fill=(255, 214, 102, 200))
    img.alpha_composite(glow.filter(ImageFilter.GaussianBlur(s * 0.012)))
    draw.polygon(star, fill=(255, 226, 140, 255))
    return img.resize((size, size), Image.Resampling.LANCZOS)


def master_image(source: Path | None, size: int = MASTER) -> Image.Image:
    if source is None:
        return placeholder(size)
    if source.suffix.lower() == ".svg":
        return render_svg(source, size)
    img = Image.open(source).convert("RGBA")
    if img.width != img.height:
        raise SystemExit(f"make_icons: {source} is {img.width}x{img.height}; the app icon must be square")
    if img.width < 256:
        raise SystemExit(f"make_icons: {source} is {img.width} px; need at least 256 px")
    return img.resize((size, size), Image.Resampling.LANCZOS)


def make_icons(out: Path, source: Path | None, *, master_size: int = MASTER) -> list[Path]:
    """Write every icon file into ``out``; ``master_size`` below 1024 only to keep tests fast."""
    out.mkdir(parents=True, exist_ok=True)
    master = master_image(source, master_size)
    written = []
    for n in PNG_SIZES:
        dest = out / "hicolor" / f"{n}x{n}" / "apps" / "photorestore.png"
        dest.parent.mkdir(parents=True, exist_ok=True)
        master.resize((n, n), Image.Resampling.LANCZOS).save(dest, optimize=True)
        written.append(dest)
    master.resize((256, 256), Image.Resampling.LANCZOS).save(out / "photorestore.png", optimize=True)
    master.save(out / "photorestore.ico", sizes=[(n, n) for n in ICO_SIZES])
    master.save(out / "photorestore.icns")  # Pillow writes every ICNS size from the 1024 px master
    written += [out / "photorestore.png", out / "photorestore.ico", out / "photorestore.icns"]
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "packaging" / "build" / "icons")
    p.add_argument("--source", type=Path, default=None, help=f"app icon (default: the first of {CANDIDATES})")
    args = p.parse_args(argv)
    source = args.source or find_source()
    written = make_icons(args.out, source)
    if source is None:
        origin = "a placeholder (no app icon yet)"
    else:
        origin = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
    print(f"make_icons: {len(written)} files in {args.out} from {origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
